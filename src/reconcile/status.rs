//! The one status decision of a pass, written to the CAPTControlPlane and mirrored on its
//! Cluster. Built as "stored, with the owned fields set", so the diff touches owned fields only.

use chrono::{DateTime, Utc};

use super::conditions::{Want, upsert};
use crate::model::{
    CaptControlPlaneStatus, ClusterStatus, Condition, Workspace, WorkspaceStatus, find_condition,
};

/// What the pass decided, before it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Ready,
    /// A transient wait: `Creating`, 5 s. `message` is the condition message; `why` the
    /// requeue reason.
    Wait {
        message: String,
        why: String,
    },
    /// A serious error: `Failed`, 10 s.
    Fail {
        reason: String,
        message: String,
        why: String,
    },
}

pub const READY_MESSAGE: &str = "Control plane is ready";
pub const CREATING_MESSAGE: &str = "Control plane is being created";
pub const NO_CLUSTER_MESSAGE: &str = "Waiting for owner cluster";
pub const CLUSTER_CONDITION: &str = "ControlPlaneInitialized";

/// The parts of the status a pass learned besides the verdict; `None` leaves the stored value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub workspace_status: Option<WorkspaceStatus>,
    pub secrets_ready: Option<bool>,
    pub last_applied_revision: Option<String>,
}

/// `stored` with the verdict's fields set.
pub fn desired_cp_status(
    stored: &CaptControlPlaneStatus,
    verdict: &Decision,
    observed: &Observed,
    now: DateTime<Utc>,
) -> CaptControlPlaneStatus {
    let mut s = stored.clone();
    let conditions = s.conditions.take().unwrap_or_default();
    let mut wts = s.workspace_template_status.take().unwrap_or_default();
    let (want, phase) = match verdict {
        Decision::Ready => (
            Want { type_: "Ready", status: true, reason: "Ready", message: READY_MESSAGE, severity: None },
            "Ready",
        ),
        Decision::Wait { message, .. } => {
            (Want { type_: "Ready", status: false, reason: "Creating", message, severity: None }, "Creating")
        }
        Decision::Fail { reason, message, .. } => {
            (Want { type_: "Ready", status: false, reason, message, severity: None }, "Failed")
        }
    };
    let ready = *verdict == Decision::Ready;
    s.conditions = Some(upsert(&conditions, &want, now));
    s.phase = Some(phase.to_string());
    s.ready = Some(ready);
    // One-way, as the Cluster API contract says (upstream flips it back, B8).
    s.initialized = Some(ready || stored.initialized.unwrap_or(false));
    wts.ready = Some(ready);
    match verdict {
        Decision::Fail { reason, message, .. } => {
            s.failure_reason = Some(reason.clone());
            s.failure_message = Some(message.clone());
            wts.last_failure_message = Some(message.clone());
        }
        _ => {
            // Stale failure fields do not survive a recovery (B8).
            s.failure_reason = None;
            s.failure_message = None;
            if ready {
                wts.last_failure_message = None;
            }
        }
    }
    if let Some(rev) = &observed.last_applied_revision {
        wts.last_applied_revision = Some(rev.clone());
    }
    s.workspace_template_status = Some(wts);
    if let Some(ws) = &observed.workspace_status {
        s.workspace_status = Some(ws.clone());
    }
    if let Some(sr) = observed.secrets_ready {
        s.secrets_ready = Some(sr);
    }
    s
}

/// The Workspace as the CAPTControlPlane records it (spec §1.6).
pub fn workspace_status(ws: &Workspace) -> WorkspaceStatus {
    let Some(st) = &ws.status else { return WorkspaceStatus::default() };
    let (Some(conditions), Some(at_provider)) = (&st.conditions, &st.at_provider) else {
        return WorkspaceStatus::default();
    };
    let ready = find_condition(Some(conditions), "Ready");
    WorkspaceStatus {
        ready: Some(ready.is_some_and(Condition::is_true)),
        state: ready.map(|c| c.reason().to_string()).filter(|r| !r.is_empty()),
        at_provider: Some(at_provider.clone()),
    }
}

/// A WorkspaceTemplateApply's `lastAppliedTime` as Go's `time.Time.String()` prints it, which
/// is what upstream stores in `lastAppliedRevision` (so both writers agree).
pub fn go_time_string(raw: &str) -> String {
    match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => t.to_utc().format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
        Err(_) => raw.to_string(),
    }
}

/// `stored` Cluster status with what the CAPTControlPlane's verdict implies.
pub fn desired_cluster_status(
    stored: &ClusterStatus,
    verdict: &Decision,
    secrets_ready: bool,
    now: DateTime<Utc>,
) -> ClusterStatus {
    let mut s = stored.clone();
    let ready = *verdict == Decision::Ready;
    s.control_plane_ready = Some(ready);
    let conditions = s.conditions.take().unwrap_or_default();
    let initialized = find_condition(Some(&conditions), CLUSTER_CONDITION).is_some_and(Condition::is_true);
    let want = match verdict {
        // One-way: once initialized, a control plane stays initialized.
        _ if initialized => None,
        Decision::Ready if secrets_ready => {
            Some(Want { type_: CLUSTER_CONDITION, status: true, reason: "", message: "", severity: None })
        }
        Decision::Ready => None,
        Decision::Wait { .. } => Some(Want {
            type_: CLUSTER_CONDITION,
            status: false,
            reason: "ControlPlaneNotReady",
            message: "Control plane is not ready",
            severity: Some("Info"),
        }),
        Decision::Fail { reason, message, .. } => {
            Some(Want { type_: CLUSTER_CONDITION, status: false, reason, message, severity: Some("Error") })
        }
    };
    s.conditions = Some(match want {
        Some(w) => upsert(&conditions, &w, now),
        None => conditions,
    });
    // Mirrors the CAPTControlPlane's failure fields, so they clear on recovery (B2).
    match verdict {
        Decision::Fail { reason, message, .. } => {
            s.failure_reason = Some(reason.clone());
            s.failure_message = Some(message.clone());
        }
        _ => {
            s.failure_reason = None;
            s.failure_message = None;
        }
    }
    s
}
