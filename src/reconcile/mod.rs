//! The CAPTControlPlane controller's reconcile and status logic as a pure function:
//! [`plan`]`(snapshot, now) -> Plan`. No I/O, no clock reads: everything one pass reads is in
//! the [`Snapshot`], and everything it would write is in the [`Plan`].
//!
//! The intervals are CAPTEP-0016's: 30 s when ready, 10 s after a serious error, 5 s while
//! initialising or waiting.

mod applies;
mod conditions;
mod deletion;
pub mod diff;
mod documents;
pub mod endpoint;
mod findings;
pub mod guard;
pub mod names;
mod pass;
pub mod report;
pub mod retry;
mod secret;
mod secrets;
mod simulate;
mod status;
mod types;
mod writes;

#[cfg(test)]
mod fixture_states;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod secret_leaks;

pub use documents::snapshot_from_yaml;
pub use names::Names;
pub use pass::reads_wanted;
pub use secret::{SecretBytes, SecretInfo};
pub use simulate::apply;
pub use types::*;
pub use writes::REDACTED;

use chrono::{DateTime, Utc};

/// One reconcile pass over `snapshot` at time `now`: the single status decision, every write
/// (minimal, owned fields only), the requeue and the findings. Pure.
pub fn plan(snapshot: &Snapshot, now: DateTime<Utc>) -> Plan {
    if snapshot.control_plane.metadata.deletion_timestamp.is_some() {
        return deletion::plan(snapshot, &Names::of(&snapshot.control_plane));
    }
    pass::plan(snapshot, now)
}

impl Requeue {
    /// `30s: ready`, `5s: waiting for connection secret default/demo-eks-connection`,
    /// `none: deleted: finalizer removed`.
    pub fn display(&self) -> String {
        match (self.after, self.outcome) {
            (_, Outcome::Undetermined) => format!("unknown: {}", self.reason),
            (Some(d), _) => format!("{}s: {}", d.as_secs(), self.reason),
            (None, _) => format!("none: {}", self.reason),
        }
    }
}
