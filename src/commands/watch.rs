//! `kubectl capt watch`: live write, reconcile and event rates per object; flags hot loops.
//!
//! fetch (sources in `k8s::watch`, each a task sending updates) → compute (the detector, a fold)
//! → render (a table, change lines or NDJSON) → emit.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::commands::{emit, note};
use crate::detect::{Detector, Finding, Summary, VerdictChange};
use crate::error::{Error, ExitStatus, Result};
use crate::k8s::watch::{self as sources, Update, now_ms};
use crate::observe::{SourceState, rfc3339};
use crate::render::OutputFormat;
use crate::render::watch::{change_line, header, table};
use crate::render::{self, Palette, sanitize};
use crate::settings::{LogSource, Settings, WatchSettings};

/// How long `--once` samples.
/// How often `--metrics-url` is scraped.
const METRICS_EVERY: Duration = Duration::from_secs(5);
/// Rows of the live table.
const LIVE_ROWS: usize = 40;

/// Whether an observation is about the watched namespace (cluster-scoped objects always are).
fn in_scope(o: &crate::observe::Observation, namespace: Option<&str>) -> bool {
    match (namespace, o.object().and_then(|k| k.namespace.as_deref())) {
        (Some(ns), Some(object_ns)) => ns == object_ns,
        _ => true,
    }
}

pub async fn run(args: &WatchSettings, settings: &Settings) -> Result<ExitStatus> {
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
    // A controller's log covers every namespace: keep what `-n` asked for.
    let scope = kube.list_namespace().map(str::to_string);

    let (tx, mut rx) = mpsc::channel::<Update>(16_384);
    let mut tasks = tokio::task::JoinSet::new();
    let mut states: BTreeMap<String, SourceState> = BTreeMap::new();
    let kinds = sources::kinds_of(&targets);
    // The object sources: without one of them watching, the run has seen nothing.
    let objects: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let mut watched = std::collections::BTreeSet::new();
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
    let mut view = View::new(settings, deadline.is_some());
    let mut detector = Detector::new(args.detector.clone());
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
                Some(Update::Observe(o)) => {
                    if !in_scope(&o, scope.as_deref()) {
                        continue;
                    }
                    if let (Some(t), crate::observe::Signal::Write { write, .. }) = (trace.as_mut(), &o.signal) {
                        use std::io::Write as _;
                        writeln!(t, "{} {}", now_ms(), write.state.resource_version.as_deref().unwrap_or("-"))?;
                    }
                    if let Some(change) = detector.observe(&o) {
                        view.changed(&detector, &change)?;
                    }
                }
                Some(Update::Source { name, state }) => {
                    view.source(&name, &state);
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
                view.refresh(&detector, &states)?;
            }
        }
    }
    tasks.abort_all();
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
    view.finish(&findings, &summary, &states)?;
    Ok(if interrupted {
        ExitStatus::Interrupted
    } else if summary.detector.ever_hot > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
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

/// The last NDJSON line of `-o json`: `{"summary": {...}}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    #[serde(flatten)]
    pub detector: Summary,
    /// The sources that could not be read (403, CRD missing, …) and why: blind spots.
    pub blind: BTreeMap<String, String>,
    /// Each source's final state.
    pub sources: BTreeMap<String, String>,
    pub started_at: String,
    pub duration_seconds: f64,
    pub interrupted: bool,
}

/// How results are shown while running and at the end.
struct View {
    format: OutputFormat,
    palette: Palette,
    /// Redraw a table in place (terminal).
    live: bool,
    /// Print each verdict change as it happens (not a terminal, or NDJSON without a deadline).
    stream_changes: bool,
    drawn_lines: usize,
}

impl View {
    fn new(settings: &Settings, bounded: bool) -> Self {
        let tabular = matches!(settings.output, OutputFormat::Table | OutputFormat::Wide);
        View {
            format: settings.output,
            palette: Palette::new(settings.color),
            live: settings.live && tabular,
            stream_changes: (tabular && !settings.live)
                || (settings.output == OutputFormat::Json && !bounded),
            drawn_lines: 0,
        }
    }

    fn changed(&mut self, detector: &Detector, change: &VerdictChange) -> Result<()> {
        if !self.stream_changes {
            return Ok(());
        }
        match self.format {
            OutputFormat::Json => {
                if let Some(f) = detector.finding(&change.object, change.at) {
                    emit(&render::to_json_line(&f).map_err(anyhow::Error::from)?)?;
                }
            }
            _ => emit(&change_line(detector, change, self.palette))?,
        }
        Ok(())
    }

    fn source(&mut self, name: &str, state: &SourceState) {
        if self.live
            || matches!(
                state,
                SourceState::Starting | SourceState::Listing { relist: false } | SourceState::Reading(_)
            )
        {
            return;
        }
        note(&format!("watch: {name}: {}", sanitize(&state.to_string())));
    }

    fn refresh(&mut self, detector: &Detector, states: &BTreeMap<String, SourceState>) -> Result<()> {
        if !self.live {
            return Ok(());
        }
        let now = now_ms();
        let mut findings = detector.findings(now);
        let hidden = findings.len().saturating_sub(LIVE_ROWS);
        findings.truncate(LIVE_ROWS);
        let mut text = header(states, self.palette);
        text.push_str(&format!("{}\n", self.palette.dim(&format!("{}   (Ctrl-C to stop)", rfc3339(now)))));
        if findings.is_empty() {
            text.push_str("waiting for writes, reconcile passes and events…\n");
        } else {
            text.push_str(&table(&findings, self.format == OutputFormat::Wide, self.palette));
        }
        if hidden > 0 {
            text.push_str(&format!("… and {hidden} more objects\n"));
        }
        self.redraw(&text)
    }

    fn redraw(&mut self, text: &str) -> Result<()> {
        let mut out = String::new();
        if self.drawn_lines > 0 {
            // Back to the first line drawn last time, and clear everything below.
            out.push_str(&format!("\x1b[{}F\x1b[J", self.drawn_lines));
        }
        out.push_str(text);
        self.drawn_lines = text.lines().count();
        emit(&out)
    }

    fn finish(
        &mut self,
        findings: &[Finding],
        summary: &RunSummary,
        states: &BTreeMap<String, SourceState>,
    ) -> Result<()> {
        match self.format {
            OutputFormat::Json => {
                let mut out = String::new();
                for f in findings {
                    out.push_str(&render::to_json_line(f).map_err(anyhow::Error::from)?);
                }
                out.push_str(
                    &render::to_json_line(&serde_json::json!({ "summary": summary }))
                        .map_err(anyhow::Error::from)?,
                );
                emit(&out)
            }
            OutputFormat::Yaml => {
                let doc = serde_json::json!({"findings": findings, "summary": summary});
                emit(&render::to_yaml(&doc).map_err(anyhow::Error::from)?)
            }
            OutputFormat::Table | OutputFormat::Wide => {
                let wide = self.format == OutputFormat::Wide;
                let mut text = String::new();
                if self.live {
                    text.push_str(&header(states, self.palette));
                } else {
                    note(&strip_newline(&header(states, Palette::new(false))));
                }
                if findings.is_empty() {
                    note("No objects were written, reconciled or evented while watching.");
                } else {
                    text.push_str(&table(findings, wide, self.palette));
                }
                let s = &summary.detector;
                let line = format!(
                    "{} objects: {} HOT ({} at some point), {} ELEVATED, {} OK; {} writes, {} reconcile passes, {} events, {} relisted objects in {:.0}s",
                    s.objects,
                    s.hot,
                    s.ever_hot,
                    s.elevated,
                    s.ok,
                    s.writes,
                    s.reconciles,
                    s.events,
                    s.baselines,
                    summary.duration_seconds
                );
                let line = if summary.blind.is_empty() {
                    line
                } else {
                    let names: Vec<&str> = summary.blind.keys().map(String::as_str).collect();
                    format!("{line}; blind: {}", sanitize(&names.join(", ")))
                };
                if self.live {
                    text.push_str(&format!("{line}\n"));
                    self.redraw(&text)
                } else {
                    emit(&text)?;
                    note(&line);
                    Ok(())
                }
            }
        }
    }
}

fn strip_newline(s: &str) -> String {
    s.trim_end_matches('\n').to_string()
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

    use super::*;
    use crate::observe::{ObjectKey, Observation};

    #[test]
    fn a_namespaced_watch_keeps_only_its_namespace_and_cluster_scoped_objects() {
        let pass = |ns: Option<&str>| {
            Observation::reconcile(
                0,
                ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", ns, "a"),
                None,
            )
        };
        assert!(in_scope(&pass(Some("demo")), Some("demo")));
        assert!(!in_scope(&pass(Some("other")), Some("demo")), "a log line about another namespace");
        assert!(in_scope(&pass(None), Some("demo")), "cluster-scoped");
        assert!(in_scope(&pass(Some("other")), None), "-A");
    }
}
