//! `kubectl capt reconcile NAME`: one pass of the CAPTControlPlane controller's logic, now.
//!
//! Each pass is fetch (snapshot, Leases: client) → compute (guard, plan: pure) → render (diff:
//! pure) → apply (writes: client) → render/emit (summary). A 409 re-fetches and re-plans, so a
//! retry only sends what still differs. `--nudge` instead asks the in-cluster controller to run
//! its own pass and watches for a sign that it did.

mod nudge;
mod send;
mod wait;

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{emit, note};
use crate::error::{Error, ExitStatus, Result};
use crate::k8s::{self, Kube};
use crate::reconcile::guard::{self, GuardReport};
use crate::reconcile::retry;
use crate::reconcile::{ObjectRef, Plan, SendMode};
use crate::render::plan::{
    PassView, ReconcileDocument, WriteReport, WriteResult, final_text, pass_view, plan_text,
};
use crate::render::{Palette, sanitize, to_document};
use crate::settings::{ReconcileSettings, Settings};
use nudge::nudge;
use send::{Applied, GuardCheck, apply_writes, enforce_guard, jitter, refuse_incomplete, report_partial};
use wait::{Interrupt, countdown, humantime};

pub async fn run(args: &ReconcileSettings, settings: &Settings) -> Result<ExitStatus> {
    let kube = k8s::connect(&settings.target).await?;
    let interrupt = Interrupt::install();
    if args.nudge {
        return nudge(&kube, args, settings, interrupt).await;
    }
    reconcile(&kube, args, settings, args.mode, interrupt).await
}

/// The whole run: one pass, or passes at the returned interval with `--follow`.
async fn reconcile(
    kube: &Kube,
    args: &ReconcileSettings,
    settings: &Settings,
    mode: SendMode,
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
        if args.until_ready && ready {
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
            if args.until_ready {
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
    args: &ReconcileSettings,
    settings: &Settings,
    mode: SendMode,
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
    args: &ReconcileSettings,
    settings: &Settings,
    mode: SendMode,
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
        if mode == SendMode::ClientDryRun || plan.writes.is_empty() {
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
