//! `kubectl capt watch`: live write, reconcile and event rates per object; flags hot loops.
//!
//! fetch (sources in `k8s::watch`, each a task sending updates) → compute (the detector, a fold)
//! → render (a table, change lines or NDJSON) → emit.

use std::collections::BTreeMap;
use std::time::Duration;

use comfy_table::{Cell, Color};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::commands::{emit, note};
use crate::detect::{Detector, Finding, Summary, Verdict, VerdictChange};
use crate::error::{ExitStatus, Result};
use crate::k8s::watch::{self as sources, SourceState, Update, now_ms};
use crate::observe::rfc3339;
use crate::render::OutputFormat;
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
                    states.insert(name, state);
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

    let now = now_ms();
    detector.tick(now);
    let findings = detector.findings(now);
    let summary = RunSummary {
        detector: detector.summary(now),
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

/// `sources: captcontrolplanes watching · logs unavailable (403 on pods/log) · …`
pub fn header(states: &BTreeMap<String, SourceState>, palette: Palette) -> String {
    let parts: Vec<String> = states
        .iter()
        .map(|(name, state)| {
            let short = name.split('.').next().unwrap_or(name);
            let text = sanitize(&format!("{short}: {state}"));
            match state {
                SourceState::Watching | SourceState::Done(_) => text,
                SourceState::Unavailable(_) => palette.warn(&text),
                SourceState::Reconnecting { .. } => palette.bad(&text),
                _ => palette.dim(&text),
            }
        })
        .collect();
    format!("sources: {}\n", parts.join(" · "))
}

/// One line per verdict change, or per cause change of an object that stays HOT or ELEVATED
/// (not a terminal).
pub fn change_line(detector: &Detector, change: &VerdictChange, palette: Palette) -> String {
    let evidence = detector
        .finding(&change.object, change.at)
        .and_then(|f| f.evidence.first().cloned())
        .map(|e| format!(": {}", sanitize(&e)))
        .unwrap_or_default();
    let to = paint(palette, change.to, change.to.as_str());
    let cause = |c: Option<crate::detect::Cause>| c.map_or("-", |c| c.as_str());
    let what = if change.cause_only() {
        format!("{to}, cause {} → {}", cause(change.previous_cause), cause(change.cause))
    } else {
        format!("{} → {to}{}", change.from, change.cause.map(|c| format!(" {c}")).unwrap_or_default())
    };
    format!("{} {} {what}{evidence}\n", rfc3339(change.at), sanitize(&change.object.to_string()))
}

fn paint(palette: Palette, verdict: Verdict, text: &str) -> String {
    match verdict {
        Verdict::Hot => palette.bad(text),
        Verdict::Elevated => palette.warn(text),
        Verdict::Ok => palette.good(text),
    }
}

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `values` scaled to their maximum (blank for zero).
pub fn sparkline(values: &[u32]) -> String {
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                ' '
            } else {
                SPARKS[((u64::from(v) * 8 - 1) / u64::from(max)).min(7) as usize]
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

fn rate(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// The findings table.
pub fn table(findings: &[Finding], wide: bool, palette: Palette) -> String {
    let mut headers = vec![
        "kind",
        "name",
        "phase",
        "writes/min",
        "passes/min",
        "events/min",
        "expected",
        "verdict",
        "cause",
        "last 5m",
    ];
    if wide {
        headers.extend(["managers", "evidence"]);
    }
    let mut t = render::table(&headers);
    if palette.enabled {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    for f in findings {
        let name = match &f.namespace {
            Some(ns) => format!("{ns}/{}", f.name),
            None => f.name.clone(),
        };
        let colour = match f.verdict {
            Verdict::Hot => Color::Red,
            Verdict::Elevated => Color::Yellow,
            Verdict::Ok => Color::Green,
        };
        let verdict = if f.verdict == f.peak_verdict {
            f.verdict.to_string()
        } else {
            format!("{} (was {})", f.verdict, f.peak_verdict)
        };
        let mut verdict_cell = Cell::new(verdict);
        if palette.enabled {
            verdict_cell = verdict_cell.fg(colour);
        }
        let mut row = vec![
            Cell::new(sanitize(&f.kind)),
            Cell::new(sanitize(&name)),
            Cell::new(sanitize(f.phase.as_deref().unwrap_or("-"))),
            Cell::new(rate(f.writes_per_minute)),
            Cell::new(rate(f.reconciles_per_minute)),
            Cell::new(rate(f.events_per_minute)),
            Cell::new(f.expected_interval_seconds.map_or("-".into(), |s| format!("{s}s"))),
            verdict_cell,
            Cell::new(f.cause.map_or("-".into(), |c| c.to_string())),
            Cell::new(sparkline(&f.series)),
        ];
        if wide {
            let managers: Vec<String> =
                f.managers.iter().map(|m| format!("{} ({})", m.manager, m.writes)).collect();
            row.push(Cell::new(sanitize(&managers.join(", "))));
            row.push(Cell::new(sanitize(&f.evidence.join("; "))));
        }
        t.add_row(row);
    }
    render::table_to_string(&t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Config;
    use crate::observe::{Manager, ObjectKey, ObjectState, Observation, ObservedWrite};

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

    #[test]
    fn sparklines_scale_to_the_maximum() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8]), " ▁▂▄█");
        assert_eq!(sparkline(&[0, 0]), "");
        assert_eq!(sparkline(&[3, 0, 0]), "█");
    }

    #[test]
    fn header_names_unavailable_sources() {
        let mut s = BTreeMap::new();
        s.insert("captcontrolplanes.controlplane.cluster.x-k8s.io".to_string(), SourceState::Watching);
        s.insert("logs".to_string(), SourceState::Unavailable("403 on pods/log".into()));
        assert_eq!(
            header(&s, Palette::new(false)),
            "sources: captcontrolplanes: watching · logs: unavailable (403 on pods/log)\n"
        );
    }

    #[test]
    fn table_and_change_lines() {
        let mut d = Detector::new(Config::default());
        let key = ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", Some("demo"), "a");
        let t0 = 1_800_000_000_000;
        let mut changes = Vec::new();
        for k in 0..40i64 {
            let reason = if k % 2 == 0 { "Ready" } else { "SecretError" };
            let w = ObservedWrite {
                state: ObjectState {
                    phase: Some(if k % 2 == 0 { "Ready" } else { "Failed" }.into()),
                    ..Default::default()
                },
                manager: Some(Manager {
                    name: "legacy-capt-manager".into(),
                    operation: "Update".into(),
                    subresource: Some("status".into()),
                    time: None,
                }),
                changes: vec![crate::observe::FieldChange::new(
                    "status.conditions[Ready].reason",
                    Some(reason.into()),
                )],
                ..Default::default()
            };
            changes.extend(d.observe(&Observation::write(t0 + k * 50, key.clone(), w)));
        }
        let line = change_line(&d, changes.last().unwrap(), Palette::new(false));
        assert!(line.starts_with("2027-01-15T08:00:01.500Z CAPTControlPlane demo/a ELEVATED → HOT status-flip-flop: status.conditions[Ready].reason alternates"), "{line}");
        let text = table(&d.findings(t0 + 2_000), false, Palette::new(false));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("KIND"), "{text}");
        assert!(
            lines[1].contains("demo/a")
                && lines[1].contains("HOT")
                && lines[1].contains("status-flip-flop")
                && lines[1].contains("10s"),
            "{text}"
        );
        assert!(lines[1].ends_with('█'), "{text}");
    }
}
