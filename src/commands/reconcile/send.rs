//! Sending a pass's writes: the other-writer guard, refusing an incomplete snapshot, one write
//! after another with conflicts reported, and the jittered back-off between attempts.

use std::collections::HashMap;

use crate::commands::note;
use crate::error::{Error, Result};
use crate::k8s::Kube;
use crate::k8s::apply::{self, SendError};
use crate::reconcile::guard::{self, GuardReport};
use crate::reconcile::{ObjectRef, Operation, Plan, ReadFailure, SendMode, Snapshot};
use crate::render::plan::{WriteReport, WriteResult, op_text};
use crate::render::sanitize;
use crate::settings::Settings;

use super::wait::Interrupt;

/// Which guard evaluation of a pass this is.
#[derive(Clone, Copy)]
pub(super) enum GuardCheck<'a> {
    /// Before the first attempt; `show` prints forced or dry-run evidence (first pass only).
    First { show: bool },
    /// Before a retry after a 409: only writers that started since `earlier` are news.
    Retry { earlier: &'a GuardReport, attempt: u32 },
}

/// Refuses without `--force` when another writer is live; prints the evidence either way
/// when it matters. `made` are the writes this pass already made (earlier attempts).
pub(super) fn enforce_guard(
    verdict: &GuardReport,
    object: &ObjectRef,
    force: bool,
    mode: SendMode,
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
        (SendMode::Apply, false) => {
            note(&format!("another writer is active on {object}{when}:\n{evidence}\n{}", guard::HAZARD));
            Err(Error::OtherWriter {
                object: object.to_string(),
                writers: sanitize(&verdict.writers()),
                made: made.iter().filter(|r| r.result == WriteResult::Applied).count(),
            })
        }
        (SendMode::Apply, true) => {
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
pub(super) fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A snapshot with reads that failed (forbidden, server errors) is not a basis for writes: the
/// core cannot tell what the pass would write without them.
pub(super) fn refuse_incomplete(snapshot: &Snapshot, mode: SendMode) -> Result<()> {
    let Some(first) = snapshot.unreadable.first() else { return Ok(()) };
    if mode == SendMode::ClientDryRun {
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

pub(super) enum Applied {
    All(Vec<WriteReport>),
    Interrupted(Vec<WriteReport>),
    Conflict(Vec<WriteReport>, String),
    Failed(Vec<WriteReport>, Error),
}

/// Sends the plan's writes in order. After a write to an object succeeds, later writes to the
/// same object that were planned from the same resourceVersion carry the new one: the only
/// change in between is ours.
pub(super) async fn apply_writes(
    kube: &Kube,
    plan: &Plan,
    mode: SendMode,
    interrupt: &Interrupt,
    settings: &Settings,
) -> Applied {
    let dry_run = mode == SendMode::ServerDryRun;
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
pub(super) fn report_partial(done: &[WriteReport], why: &str) {
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
