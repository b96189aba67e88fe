//! `kubectl capt watch`: live write, reconcile and event rates per object; flags hot loops.
//!
//! fetch (sources in `k8s::watch`, each a task sending updates) → compute (the detector, a fold)
//! → render (the live screen on a terminal, else change lines or NDJSON) → emit.

mod live;
mod output;
mod scope;
mod sync;
mod terminal;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::commands::note;
use crate::detect::Detector;
use crate::error::{Error, ExitStatus, Result};
use crate::k8s::watch::{self as sources, Update, now_ms};
use crate::observe::{SourceState, rfc3339};
use crate::render::{OutputFormat, sanitize};
use crate::settings::{LogSource, Settings, WatchSettings};
use live::{End, Live};
use output::{RunSummary, View};

/// How often `--metrics-url` is scraped.
const METRICS_EVERY: Duration = Duration::from_secs(5);

pub async fn run(args: &WatchSettings, settings: &Settings) -> Result<ExitStatus> {
    let began = std::time::Instant::now();
    let kube = crate::k8s::connect(&settings.target).await?;
    // One request first: an unreachable server or rejected credentials end the run with the
    // usual one-line error instead of sources that retry forever and a run that ends "OK".
    let op = crate::k8s::Op::core("get", "/version", "version", None, None);
    kube.client.apiserver_version().await.map_err(|e| kube.error(&op, e))?;
    let targets = if args.kinds.is_empty() {
        sources::capt_targets(args.selector.as_deref())
    } else {
        sources::resolve_targets(&kube, &args.kinds, args.selector.as_deref()).await?
    };
    let deadline = args.deadline;
    // `-n`: the namespace and the Workspaces its applies name (logs cover every namespace).
    let mut scope = scope::NamespaceFilter::new(kube.list_namespace().map(str::to_string));

    let (tx, mut rx) = mpsc::channel::<Update>(16_384);
    let mut tasks = tokio::task::JoinSet::new();
    let mut states: BTreeMap<String, SourceState> = BTreeMap::new();
    let kinds = sources::kinds_of(&targets);
    // The object sources: without one of them watching, the run has seen nothing.
    let objects: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let mut watched = std::collections::BTreeSet::new();
    let mut sync = sync::InitialSync::new(&objects);
    for t in targets {
        states.insert(t.name.clone(), SourceState::Starting);
        tasks.spawn(sources::watch_objects(kube.clone(), t, settings.target.request_timeout, tx.clone()));
    }
    if args.events {
        tasks.spawn(sources::watch_events(kube.clone(), kinds, settings.target.request_timeout, tx.clone()));
    } else {
        states.insert("events".into(), SourceState::Off("--no-events".into()));
    }
    match &args.logs {
        LogSource::Off => {
            states.insert("logs".into(), SourceState::Off("--no-logs".into()));
        }
        LogSource::File(path) => {
            tasks.spawn(sources::read_log_file(path.clone(), true, tx.clone()));
        }
        LogSource::Pods { namespace, selector } => {
            tasks.spawn(sources::follow_pod_logs(
                kube.clone(),
                namespace.clone(),
                selector.clone(),
                tx.clone(),
            ));
        }
    }
    match &args.metrics_url {
        None => {
            states.insert("metrics".into(), SourceState::Off("no --metrics-url".into()));
        }
        Some(url) => {
            states.insert("metrics".into(), SourceState::Starting);
            tasks.spawn(sources::scrape_metrics(kube.clone(), url.clone(), METRICS_EVERY, tx.clone()));
        }
    }
    drop(tx);

    let mut trace = match &args.trace_writes {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    let tabular = matches!(settings.output, OutputFormat::Table | OutputFormat::Wide);
    // Without a usable terminal (no raw mode), the lines a pipe gets.
    let mut screen = match settings.live && tabular {
        true => Live::start(kube.clone(), settings.color, args.show_all, title(&kube, args))
            .inspect_err(|e| {
                note(&sanitize(&format!("warning: no live screen ({e}): printing changes instead")))
            })
            .ok(),
        false => None,
    };
    let mut view = View::new(settings, deadline.is_some(), screen.is_some());
    let mut detector = Detector::new(args.detector.clone());
    live::draw(&mut screen, &detector, &states)?;
    let started = now_ms();
    let stop_at = deadline.map(|d| tokio::time::Instant::now() + d);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    let mut open = true;
    loop {
        tokio::select! {
            _ = &mut ctrl_c => {
                interrupted = true;
                break;
            }
            _ = sleep_until(stop_at) => break,
            update = rx.recv(), if open => match update {
                Some(Update::Observe(batch)) => for o in batch.into_iter().flat_map(|o| scope.admit(o)) {
                    if let crate::observe::Signal::Baseline { .. } = o.signal {
                        sync.listed_object();
                    }
                    if let (Some(t), crate::observe::Signal::Write { write, .. }) = (trace.as_mut(), &o.signal) {
                        use std::io::Write as _;
                        writeln!(t, "{} {}", now_ms(), write.state.resource_version.as_deref().unwrap_or("-"))?;
                    }
                    if let Some(l) = screen.as_mut() {
                        l.observe(&o);
                    }
                    if let Some(change) = detector.observe(&o) {
                        view.changed(&detector, &change)?;
                    }
                },
                Some(Update::Source { name, state }) => {
                    view.source(&name, &state);
                    if let Some(n) = sync.source(&name, &state)
                        && settings.verbose > 0
                        && screen.is_none()
                    {
                        note(&format!(
                            "watch: initial sync: {} objects listed in {:.2}s",
                            crate::render::screen::thousands(n as usize),
                            began.elapsed().as_secs_f64()
                        ));
                    }
                    if state == SourceState::Watching {
                        watched.insert(name.clone());
                    }
                    states.insert(name, state);
                    if blind_to_all(&objects, &states) {
                        break;
                    }
                }
                None => {
                    open = false;
                    if stop_at.is_none() {
                        break;
                    }
                }
            },
            _ = ticker.tick() => {
                for change in detector.tick(now_ms()) {
                    view.changed(&detector, &change)?;
                }
                live::draw(&mut screen, &detector, &states)?;
            }
            wake = live::next(&mut screen) => {
                let Some(l) = screen.as_mut() else { continue };
                match l.wake(wake, detector.findings(now_ms()), &states)? {
                    Some(End::Quit) => break,
                    Some(End::Interrupt) => {
                        interrupted = true;
                        break;
                    }
                    None => {}
                }
            }
        }
    }
    tasks.abort_all();
    let show_all = screen.as_ref().is_some_and(|l| l.ui.show_all);
    if let Some(mut l) = screen.take() {
        l.leave();
    }
    if let Some(mut t) = trace {
        use std::io::Write as _;
        t.flush()?;
    }

    if !interrupted && watched.is_empty() {
        return Err(Error::NothingWatched(
            objects
                .iter()
                .map(|o| format!("{o}: {}", states.get(o).map(ToString::to_string).unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let now = now_ms();
    detector.tick(now);
    let findings = detector.findings(now);
    let blind: BTreeMap<String, String> = states
        .iter()
        .filter_map(|(k, v)| match v {
            SourceState::Unavailable(why) => Some((k.clone(), why.clone())),
            _ => None,
        })
        .collect();
    if !blind.is_empty() {
        let list: Vec<String> = blind.iter().map(|(k, v)| format!("{k} ({v})")).collect();
        note(&sanitize(&format!(
            "warning: blind to {}: what they would show is not counted",
            list.join(", ")
        )));
    }
    let summary = RunSummary {
        detector: detector.summary(now),
        blind,
        sources: states.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
        started_at: rfc3339(started),
        duration_seconds: (now - started) as f64 / 1000.0,
        interrupted,
    };
    view.finish(&findings, &summary, &states, show_all)?;
    Ok(if interrupted {
        ExitStatus::Interrupted
    } else if summary.detector.ever_hot > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}

/// The screen's title: what is watched, where.
fn title(kube: &crate::k8s::Kube, args: &WatchSettings) -> String {
    let scope = match kube.list_namespace() {
        Some(ns) => format!("namespace {}", sanitize(ns)),
        None => "all namespaces".into(),
    };
    let kinds = if args.kinds.is_empty() {
        String::new()
    } else {
        format!(" · {}", sanitize(&args.kinds.join(", ")))
    };
    format!("kubectl capt watch · {scope}{kinds}")
}

/// Whether every object source has become unavailable (401, 403, CRD missing): nothing left
/// that could be watched.
fn blind_to_all(objects: &[String], states: &BTreeMap<String, SourceState>) -> bool {
    !objects.is_empty() && objects.iter().all(|o| matches!(states.get(o), Some(SourceState::Unavailable(_))))
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blind_to_all_only_when_every_object_source_is_unavailable() {
        use super::{BTreeMap, SourceState, blind_to_all};
        let objects = vec!["a".to_string(), "b".to_string()];
        let mut states = BTreeMap::new();
        states.insert("a".to_string(), SourceState::Unavailable("CRD a is not installed".into()));
        states.insert("events".to_string(), SourceState::Watching);
        assert!(!blind_to_all(&objects, &states), "b has not reported yet");
        states.insert("b".to_string(), SourceState::Reconnecting { attempt: 1, reason: "x".into() });
        assert!(!blind_to_all(&objects, &states));
        states.insert("b".to_string(), SourceState::Unavailable("403 on list/watch b".into()));
        assert!(blind_to_all(&objects, &states));
        assert!(!blind_to_all(&[], &states));
    }
}
