//! `kubectl capt reconcile NAME`: one pass of the CAPTControlPlane controller's logic, now.
//!
//! Each pass is fetch (snapshot, Leases: client) → compute (guard, plan: pure) → render (diff:
//! pure) → apply (writes: client) → render/emit (summary). A 409 re-fetches and re-plans, so a
//! retry only sends what still differs. `--nudge` instead asks the in-cluster controller to run
//! its own pass and watches for a sign that it did.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{emit, note};
use crate::cli::{DryRun, ReconcileArgs, Until};
use crate::error::{Error, ExitStatus, Result};
use crate::k8s::apply::{self, SendError};
use crate::k8s::{self, Kube};
use crate::reconcile::guard::{self, GuardReport, PassSign};
use crate::reconcile::retry;
use crate::reconcile::{ObjectRef, Operation, Plan, ReadFailure, Snapshot};
use crate::render::plan::{PassView, ReconcileDocument, WriteReport, WriteResult, pass_view, plan_diff};
use crate::render::{Palette, sanitize, to_document};
use crate::settings::Settings;

/// How writes are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Apply,
    ClientDryRun,
    ServerDryRun,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Apply => "apply",
            Mode::ClientDryRun => "client-dry-run",
            Mode::ServerDryRun => "server-dry-run",
        }
    }
}

/// Set once Ctrl-C is pressed; checked between writes and while waiting.
#[derive(Clone)]
struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    fn install() -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
            }
            // Keep the sender: a closed channel would read as "interrupted".
            std::future::pending::<()>().await;
            drop(tx);
        });
        Interrupt(rx)
    }
    fn is_set(&self) -> bool {
        *self.0.borrow()
    }
    /// Runs `f` unless Ctrl-C comes first ([`Error::Interrupted`], exit 130).
    async fn abandon<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let mut rx = self.0.clone();
        tokio::select! {
            out = f => out,
            _ = rx.wait_for(|v| *v) => Err(Error::Interrupted),
        }
    }
    /// Sleeps `d`; returns false if interrupted first.
    async fn sleep(&mut self, d: Duration) -> bool {
        if self.is_set() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.0.wait_for(|v| *v) => false,
        }
    }
}

pub async fn run(args: ReconcileArgs, settings: &Settings) -> Result<ExitStatus> {
    if settings.target.all_namespaces {
        return Err(Error::Usage("reconcile works on one CAPTControlPlane: use -n NAMESPACE, not -A".into()));
    }
    if args.timeout.is_some() && !args.follow && !args.nudge {
        return Err(Error::Usage("--timeout applies to --follow and --nudge".into()));
    }
    let kube = k8s::connect(&settings.target).await?;
    let interrupt = Interrupt::install();
    if args.nudge {
        return nudge(&kube, &args, settings, interrupt).await;
    }
    let mode = match args.dry_run {
        None => Mode::Apply,
        Some(DryRun::Client) => Mode::ClientDryRun,
        Some(DryRun::Server) => Mode::ServerDryRun,
    };
    reconcile(&kube, &args, settings, mode, interrupt).await
}

/// The whole run: one pass, or passes at the returned interval with `--follow`.
async fn reconcile(
    kube: &Kube,
    args: &ReconcileArgs,
    settings: &Settings,
    mode: Mode,
    mut interrupt: Interrupt,
) -> Result<ExitStatus> {
    let ns = kube.namespace.clone();
    let palette = Palette::new(settings.color);
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let mut passes: Vec<PassView> = Vec::new();
    let mut first_guard: Option<GuardReport> = None;
    let mut status = ExitStatus::Ok;
    loop {
        let pass = run_pass(kube, args, settings, mode, &interrupt, passes.is_empty()).await?;
        first_guard.get_or_insert(pass.guard.clone());
        let view = pass.view;
        if pass.interrupted {
            let line = format!("Interrupted after {} of {} writes.", view.made(), view.writes.len());
            if settings.is_machine_output() { note(&line) } else { emit(&format!("{line}\n"))? }
        } else if args.follow {
            if !settings.is_machine_output() {
                emit(&format!("{}\n", view.summary_line()))?;
            } else {
                note(&view.summary_line());
            }
        } else if !settings.is_machine_output() {
            emit(&final_text(&view, mode, palette))?;
        }
        let requeue = view.requeue_after_seconds;
        let ready = view.phase.as_deref() == Some("Ready");
        passes.push(view);
        if pass.interrupted {
            status = ExitStatus::Interrupted;
            break;
        }
        if !args.follow {
            break;
        }
        if args.until == Some(Until::Ready) && ready {
            note("reached phase Ready; stopping");
            break;
        }
        let Some(after) = requeue else {
            note("the controller would not requeue this object; stopping");
            break;
        };
        let mut wait = Duration::from_secs(after);
        let mut timed_out = false;
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < wait {
                wait = left;
                timed_out = true;
            }
        }
        if !countdown(&mut interrupt, wait, settings).await {
            status = ExitStatus::Interrupted;
            break;
        }
        if timed_out {
            if args.until == Some(Until::Ready) {
                let phase = passes.last().and_then(|p| p.phase.clone()).unwrap_or_else(|| "-".into());
                emit_document(&ns, args, settings, mode, &passes, first_guard.as_ref())?;
                return Err(Error::Timeout(format!(
                    "CAPTControlPlane {ns}/{} is not Ready after {} (phase {phase}, {} passes)",
                    args.name,
                    humantime(args.timeout.unwrap_or_default()),
                    passes.len()
                )));
            }
            note(&format!("--timeout reached after {} passes", passes.len()));
            break;
        }
    }
    emit_document(&ns, args, settings, mode, &passes, first_guard.as_ref())?;
    Ok(status)
}

fn emit_document(
    ns: &str,
    args: &ReconcileArgs,
    settings: &Settings,
    mode: Mode,
    passes: &[PassView],
    guard: Option<&GuardReport>,
) -> Result<()> {
    let Some(last) = passes.last() else { return Ok(()) };
    let doc = ReconcileDocument {
        namespace: ns.to_string(),
        name: args.name.clone(),
        mode: mode.name(),
        writes: last.writes.clone(),
        phase: last.phase.clone(),
        requeue_after_seconds: last.requeue_after_seconds,
        requeue_reason: last.requeue_reason.clone(),
        guard: guard.map(|g| g.evidence.clone()).unwrap_or_default(),
        passes: args.follow.then(|| passes.to_vec()),
    };
    if let Some(text) = to_document(&doc, settings.output)? {
        emit(&text)?;
    }
    Ok(())
}

/// What one pass ended with.
struct PassOutcome {
    view: PassView,
    guard: GuardReport,
    interrupted: bool,
}

/// fetch → guard → plan → (print) → apply, re-planning after a conflict.
async fn run_pass(
    kube: &Kube,
    args: &ReconcileArgs,
    settings: &Settings,
    mode: Mode,
    interrupt: &Interrupt,
    first: bool,
) -> Result<PassOutcome> {
    let ns = kube.namespace.clone();
    let palette = Palette::new(settings.color);
    let object = ObjectRef::new("CAPTControlPlane", Some(&ns), &args.name);
    let human = !settings.is_machine_output();
    let verbose_plan = !args.follow || settings.verbose > 0;
    let max_attempts = args.max_conflict_retries.saturating_add(1);
    // Every write sent in this pass, across attempts, in order.
    let mut records: Vec<WriteReport> = Vec::new();
    let mut attempt = 0u32;
    let mut guard_verdict: Option<GuardReport> = None;
    loop {
        attempt += 1;
        // fetch (client)
        // Reads are abandoned on Ctrl-C: nothing more has been written yet.
        let snapshot = interrupt.abandon(crate::k8s::snapshot::fetch_snapshot(kube, &ns, &args.name)).await?;
        // The guard runs before every attempt: a 409 usually means someone else just wrote.
        let leases = k8s::writers::leases(kube, &args.controller_namespace).await;
        // compute (pure)
        let verdict = guard::check(
            snapshot.control_plane.metadata.managed_fields.as_deref().unwrap_or_default(),
            &leases,
            &args.lease_name,
            Utc::now(),
        );
        let check = match &guard_verdict {
            None => GuardCheck::First { show: first },
            Some(earlier) => GuardCheck::Retry { earlier, attempt },
        };
        if let Err(e) = enforce_guard(&verdict, &object, args.force, mode, check, &records) {
            if !records.is_empty() {
                report_partial(&records, "another writer started");
            }
            return Err(e);
        }
        guard_verdict = Some(verdict);
        refuse_incomplete(&snapshot, mode)?;
        let now = Utc::now();
        let plan = crate::reconcile::plan(&snapshot, now);
        // render (pure) + emit
        let planned: Vec<WriteReport> =
            plan.writes.iter().map(|w| WriteReport::new(w, WriteResult::Planned)).collect();
        if human && verbose_plan && (attempt > 1 || !planned.is_empty()) {
            let text = plan_text(&object, &planned, attempt, palette);
            if args.follow { note(text.trim_end()) } else { emit(&text)? }
        }
        if mode == Mode::ClientDryRun || plan.writes.is_empty() {
            records.extend(planned);
            return Ok(finish(now, attempt, &plan, records, guard_verdict, false));
        }
        if let Some(pause) = args.pause_before_apply {
            note(&format!("pausing {} before applying (test hook)", humantime(pause)));
            tokio::time::sleep(pause).await;
        }
        // apply (client)
        match apply_writes(kube, &plan, mode, interrupt, settings).await {
            Applied::All(done) => {
                records.extend(done);
                return Ok(finish(now, attempt, &plan, records, guard_verdict, false));
            }
            Applied::Interrupted(done) => {
                report_partial(&done, "interrupted (Ctrl-C)");
                records.extend(done);
                return Ok(finish(now, attempt, &plan, records, guard_verdict, true));
            }
            Applied::Conflict(done, message) => {
                let target = done.iter().find(|r| r.result == WriteResult::Conflict).map(WriteReport::target);
                let target_text = target.as_ref().map(ToString::to_string).unwrap_or_default();
                if attempt >= max_attempts {
                    report_partial(&done, &format!("conflict on {target_text}"));
                    let t = target.unwrap_or_else(|| object.clone());
                    return Err(Error::ConflictExhausted { kind: t.kind, name: t.name, attempts: attempt });
                }
                let wait = retry::backoff(attempt, jitter());
                note(&format!(
                    "conflict on {target_text} ({}); re-reading and re-planning in {} (attempt {}/{max_attempts})",
                    sanitize(&message),
                    humantime(wait),
                    attempt + 1
                ));
                records.extend(done.into_iter().filter(|r| r.result == WriteResult::Applied));
                if !interrupt.clone().sleep(wait).await {
                    report_partial(&records, "interrupted (Ctrl-C)");
                    return Ok(finish(now, attempt, &plan, records, guard_verdict, true));
                }
            }
            Applied::Failed(done, err) => {
                // The error itself is the last line main prints.
                report_partial(&done, "a write failed");
                return Err(err);
            }
        }
    }
}

fn finish(
    time: DateTime<Utc>,
    attempts: u32,
    plan: &Plan,
    records: Vec<WriteReport>,
    guard: Option<GuardReport>,
    interrupted: bool,
) -> PassOutcome {
    PassOutcome {
        view: pass_view(time, attempts, plan, records),
        guard: guard.unwrap_or_default(),
        interrupted,
    }
}

/// Which guard evaluation of a pass this is.
#[derive(Clone, Copy)]
enum GuardCheck<'a> {
    /// Before the first attempt; `show` prints forced or dry-run evidence (first pass only).
    First { show: bool },
    /// Before a retry after a 409: only writers that started since `earlier` are news.
    Retry { earlier: &'a GuardReport, attempt: u32 },
}

/// Refuses without `--force` when another writer is live; prints the evidence either way
/// when it matters. `made` are the writes this pass already made (earlier attempts).
fn enforce_guard(
    verdict: &GuardReport,
    object: &ObjectRef,
    force: bool,
    mode: Mode,
    check: GuardCheck<'_>,
    made: &[WriteReport],
) -> Result<()> {
    if !verdict.blocked() {
        return Ok(());
    }
    let (show, when) = match check {
        GuardCheck::First { show } => (show, String::new()),
        GuardCheck::Retry { earlier, attempt } => (
            !verdict.new_writers(earlier).is_empty(),
            format!(" (seen before attempt {attempt}, after a conflict)"),
        ),
    };
    let lines: Vec<String> =
        verdict.evidence.iter().map(|e| format!("  - {}", sanitize(&e.describe()))).collect();
    let evidence = lines.join("\n");
    match (mode, force) {
        (Mode::Apply, false) => {
            note(&format!("another writer is active on {object}{when}:\n{evidence}\n{}", guard::HAZARD));
            Err(Error::OtherWriter {
                object: object.to_string(),
                writers: sanitize(&verdict.writers()),
                made: made.iter().filter(|r| r.result == WriteResult::Applied).count(),
            })
        }
        (Mode::Apply, true) => {
            if show {
                note(&format!("warning: writing despite another active writer{when} (--force):\n{evidence}"));
            }
            Ok(())
        }
        _ => {
            if show {
                note(&format!(
                    "note: another writer is active on {object}{when}; a real run would refuse without --force:\n{evidence}"
                ));
            }
            Ok(())
        }
    }
}

/// A fraction in [0, 1) for back-off jitter, from the standard library's per-process random
/// hash keys (no dependency for a few bits of randomness).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A snapshot with reads that failed (forbidden, server errors) is not a basis for writes: the
/// core cannot tell what the pass would write without them.
fn refuse_incomplete(snapshot: &Snapshot, mode: Mode) -> Result<()> {
    let Some(first) = snapshot.unreadable.first() else { return Ok(()) };
    if mode == Mode::ClientDryRun {
        return Ok(());
    }
    for u in &snapshot.unreadable {
        note(&format!("cannot read {}: {}", u.target, sanitize(&u.why())));
    }
    note("nothing was written: a pass needs to read every object it decides on");
    match &first.failure {
        ReadFailure::Forbidden { verb, resource } => Err(Error::Forbidden {
            verb: verb.clone(),
            resource: resource.clone(),
            namespace: first.target.namespace.clone(),
        }),
        _ => Err(Error::other(format!("cannot read {}: {}", first.target, first.why()))),
    }
}

enum Applied {
    All(Vec<WriteReport>),
    Interrupted(Vec<WriteReport>),
    Conflict(Vec<WriteReport>, String),
    Failed(Vec<WriteReport>, Error),
}

/// Sends the plan's writes in order. After a write to an object succeeds, later writes to the
/// same object that were planned from the same resourceVersion carry the new one: the only
/// change in between is ours.
async fn apply_writes(
    kube: &Kube,
    plan: &Plan,
    mode: Mode,
    interrupt: &Interrupt,
    settings: &Settings,
) -> Applied {
    let dry_run = mode == Mode::ServerDryRun;
    let mut moved: HashMap<(ObjectRef, String), String> = HashMap::new();
    let mut done: Vec<WriteReport> = Vec::with_capacity(plan.writes.len());
    let not_made = |from: usize, done: &mut Vec<WriteReport>| {
        done.extend(plan.writes[from..].iter().map(|w| WriteReport::new(w, WriteResult::NotMade)));
    };
    for (i, w) in plan.writes.iter().enumerate() {
        if interrupt.is_set() {
            not_made(i, &mut done);
            return Applied::Interrupted(done);
        }
        let planned_rv = w.resource_version.clone();
        let rv = planned_rv
            .as_ref()
            .and_then(|rv| moved.get(&(w.target.clone(), rv.clone())).cloned())
            .or(planned_rv.clone());
        if settings.verbose > 0 {
            note(&format!(
                "{} {}{}{}",
                apply::verb(w.operation).to_uppercase(),
                sanitize(&w.target.to_string()),
                if w.operation == Operation::PatchStatus { " (status)" } else { "" },
                rv.as_deref().map(|rv| format!(" resourceVersion={rv}")).unwrap_or_default()
            ));
        }
        match apply::send(kube, w, rv.as_deref(), dry_run).await {
            Ok(sent) => {
                if !dry_run && let (Some(from), Some(to)) = (planned_rv, sent.resource_version) {
                    moved.insert((w.target.clone(), from), to);
                }
                done.push(WriteReport::new(
                    w,
                    if dry_run { WriteResult::Accepted } else { WriteResult::Applied },
                ));
            }
            Err(SendError::Conflict(message)) if !dry_run => {
                done.push(WriteReport::new(w, WriteResult::Conflict).with_error(message.clone()));
                not_made(i + 1, &mut done);
                return Applied::Conflict(done, message);
            }
            Err(SendError::Conflict(message)) => {
                done.push(WriteReport::new(w, WriteResult::Rejected).with_error(message));
            }
            Err(SendError::Failed(err)) if dry_run => {
                done.push(WriteReport::new(w, WriteResult::Rejected).with_error(err.to_string()));
            }
            Err(SendError::Failed(err)) => {
                done.push(WriteReport::new(w, WriteResult::NotMade).with_error(err.to_string()));
                not_made(i + 1, &mut done);
                return Applied::Failed(done, err);
            }
        }
    }
    Applied::All(done)
}

/// Says exactly which writes of a pass were made and which were not.
fn report_partial(done: &[WriteReport], why: &str) {
    let made = done.iter().filter(|r| r.result == WriteResult::Applied).count();
    let mut text = format!("pass stopped ({}) after {made} of {} writes:", sanitize(why), done.len());
    for r in done {
        let label = match r.result {
            WriteResult::Applied => "made:    ",
            WriteResult::Conflict => "conflict:",
            _ => "not made:",
        };
        text.push_str(&format!("\n  {label} {} {}", op_text(r.operation), sanitize(&r.target().to_string())));
    }
    note(&text);
}

fn op_text(op: Operation) -> &'static str {
    match op {
        Operation::Create => "create",
        Operation::Patch => "patch",
        Operation::PatchStatus => "patch status",
        Operation::Delete => "delete",
    }
}

/// The plan block printed before applying.
fn plan_text(object: &ObjectRef, planned: &[WriteReport], attempt: u32, palette: Palette) -> String {
    let head = if attempt > 1 { "Re-planned" } else { "Plan" };
    if planned.is_empty() {
        return format!("{head} for {}: in sync, no writes\n", sanitize(&object.to_string()));
    }
    let n = planned.len();
    format!(
        "{head} for {}: {n} write{}\n{}",
        sanitize(&object.to_string()),
        if n == 1 { "" } else { "s" },
        plan_diff(planned, palette)
    )
}

/// The closing lines of a single pass.
fn final_text(view: &PassView, mode: Mode, palette: Palette) -> String {
    let mut out = String::new();
    match mode {
        Mode::ClientDryRun => {
            if !view.writes.is_empty() {
                out.push_str("Dry run (client): nothing was sent.\n");
            }
        }
        Mode::ServerDryRun => {
            for r in &view.writes {
                let result = match r.result {
                    WriteResult::Accepted => palette.good("accepted"),
                    _ => palette.bad(r.result.as_str()),
                };
                out.push_str(&format!(
                    "{result}  {} {}{}\n",
                    op_text(r.operation),
                    sanitize(&r.target().to_string()),
                    r.error.as_deref().map(|e| format!(": {}", sanitize(e))).unwrap_or_default()
                ));
            }
            if !view.writes.is_empty() {
                out.push_str("Dry run (server, dryRun=All): nothing was stored.\n");
            }
        }
        Mode::Apply => match view.made() {
            0 => out.push_str("No writes: already in sync.\n"),
            n => out.push_str(&format!(
                "Applied {n} write{}{}.\n",
                if n == 1 { "" } else { "s" },
                match view.attempts {
                    1 => String::new(),
                    2 => " (after 1 conflict, re-planned)".to_string(),
                    a => format!(" (after {} conflicts, re-planned)", a - 1),
                }
            )),
        },
    }
    let next = match view.requeue_after_seconds {
        Some(s) => format!("next pass in {s}s: {}", sanitize(&view.requeue_reason)),
        None => format!("no requeue: {}", sanitize(&view.requeue_reason)),
    };
    out.push_str(&format!("Phase {}; {next}\n", view.phase.as_deref().unwrap_or("-")));
    out
}

/// Waits `wait` with a spinner counting down (stderr, only with progress on). Returns false if
/// interrupted.
async fn countdown(interrupt: &mut Interrupt, wait: Duration, settings: &Settings) -> bool {
    let bar = spinner(settings);
    let end = Instant::now() + wait;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bar.finish_and_clear();
            return true;
        }
        // The reason is on the summary line above; a long message would wrap and smear.
        bar.set_message(format!("next pass in {}s (Ctrl-C to stop)", left.as_secs_f64().ceil() as u64));
        if !interrupt.sleep(left.min(Duration::from_millis(250))).await {
            bar.finish_and_clear();
            return false;
        }
    }
}

fn spinner(settings: &Settings) -> ProgressBar {
    if !settings.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_millis() != 0 && s < 10 {
        format!("{}ms", d.as_millis())
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The `--nudge` document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NudgeDocument {
    namespace: String,
    name: String,
    annotation: &'static str,
    requested_at: String,
    observed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<PassSign>,
    waited_seconds: f64,
}

/// Stamps the nudge annotation and waits for a sign of a controller pass.
async fn nudge(
    kube: &Kube,
    args: &ReconcileArgs,
    settings: &Settings,
    mut interrupt: Interrupt,
) -> Result<ExitStatus> {
    let ns = kube.namespace.clone();
    let name = args.name.as_str();
    let timeout = args.timeout.unwrap_or(Duration::from_secs(60));
    // Fail early, with the right message, when the object is missing.
    k8s::writers::control_plane(kube, &ns, name).await?;
    // The other sources of evidence, read from now on: a converged controller writes nothing,
    // but its log and metrics still show each pass.
    let mut log = args.controller_logs.as_deref().map(k8s::watch::LogTail::open).transpose()?;
    let metrics_before = match &args.metrics_url {
        Some(url) => Some(scrape_metrics(kube, url).await?),
        None => None,
    };
    let since = Utc::now().timestamp_millis();
    let token = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    apply::nudge(kube, &ns, name, &token).await?;
    let started = Instant::now();
    // The baseline is the object as our own patch left it.
    let baseline = k8s::writers::control_plane(kube, &ns, name).await?.metadata;
    note(&format!(
        "nudged CAPTControlPlane {ns}/{} ({}={token}); waiting up to {} for a controller pass",
        sanitize(name),
        apply::NUDGE_ANNOTATION,
        humantime(timeout)
    ));
    let bar = spinner(settings);
    let mut sign = None;
    let mut interrupted = false;
    while started.elapsed() < timeout {
        bar.set_message(format!(
            "waiting for the controller ({}s/{}s)",
            started.elapsed().as_secs(),
            timeout.as_secs()
        ));
        if !interrupt.sleep(Duration::from_secs(1).min(timeout.saturating_sub(started.elapsed()))).await {
            interrupted = true;
            break;
        }
        let current = k8s::writers::control_plane(kube, &ns, name).await?.metadata;
        sign = guard::pass_sign(&baseline, &current);
        if sign.is_none()
            && let Some(tail) = log.as_mut()
            && let Some(o) = tail.read_new()?.iter().find(|o| guard::log_pass(o, &ns, name, since))
        {
            sign = Some(PassSign::ControllerLog {
                file: args.controller_logs.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
                time: crate::observe::rfc3339(o.at),
            });
        }
        if sign.is_none()
            && let (Some(url), Some(before)) = (&args.metrics_url, &metrics_before)
        {
            sign = guard::counter_rose(before, &scrape_metrics(kube, url).await?);
        }
        if sign.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    let waited = started.elapsed().as_secs_f64();
    let doc = NudgeDocument {
        namespace: ns.clone(),
        name: name.to_string(),
        annotation: apply::NUDGE_ANNOTATION,
        requested_at: token,
        observed: sign.is_some(),
        evidence: sign.clone(),
        waited_seconds: (waited * 10.0).round() / 10.0,
    };
    match to_document(&doc, settings.output)? {
        Some(text) => emit(&text)?,
        None => {
            if let Some(s) = &sign {
                emit(&format!("Controller pass observed after {waited:.1}s: {}\n", sanitize(&s.describe())))?;
            }
        }
    }
    if interrupted {
        return Ok(ExitStatus::Interrupted);
    }
    let object = format!("CAPTControlPlane {ns}/{}", sanitize(name));
    let within = humantime(timeout);
    match (sign, &log, &args.metrics_url) {
        (Some(_), ..) => Ok(ExitStatus::Ok),
        (None, None, None) => Err(Error::Unobservable(format!(
            "no controller wrote {object} within {within}. A converged controller writes nothing, so \
             its pass cannot be observed from the object alone"
        ))),
        (None, ..) => {
            let mut unseen = vec!["no other field manager wrote it".to_string()];
            if let Some(path) = &args.controller_logs {
                unseen.push(format!("{} shows no pass of it", sanitize(&path.display().to_string())));
            }
            if args.metrics_url.is_some() {
                unseen.push("the controller's reconcile counter did not rise".into());
            }
            Err(Error::Timeout(format!(
                "no sign of a controller pass on {object} within {within}: {}",
                unseen.join(", ")
            )))
        }
    }
}

/// One scrape of `--metrics-url` as per-controller counters; an unreadable source is an error
/// (the user asked for it).
async fn scrape_metrics(kube: &Kube, url: &str) -> Result<Vec<crate::observe::MetricsSample>> {
    let text = k8s::watch::fetch_metrics(kube, url)
        .await
        .map_err(|why| Error::Other(anyhow::anyhow!("--metrics-url {}", sanitize(&why))))?;
    Ok(crate::parse::metrics::scrape(&text).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_flags() {
        assert_eq!(humantime(Duration::from_secs(60)), "1m");
        assert_eq!(humantime(Duration::from_secs(20)), "20s");
        assert_eq!(humantime(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn final_text_says_in_sync_and_when_next() {
        let view = PassView {
            time: DateTime::parse_from_rfc3339("2026-11-27T10:00:05Z").unwrap().to_utc(),
            attempts: 1,
            writes: vec![],
            phase: Some("Ready".into()),
            requeue_after_seconds: Some(30),
            requeue_reason: "ready".into(),
        };
        assert_eq!(
            final_text(&view, Mode::Apply, Palette::new(false)),
            "No writes: already in sync.\nPhase Ready; next pass in 30s: ready\n"
        );
    }
}
