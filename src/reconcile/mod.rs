//! The CAPTControlPlane controller's reconcile and status logic as a pure function:
//! [`plan`]`(snapshot, now) -> Plan`. No I/O, no clock reads: everything one pass reads is in
//! the [`Snapshot`], and everything it would write is in the [`Plan`].
//!
//! The intervals are CAPTEP-0016's: 30 s when ready, 10 s after a serious error, 5 s while
//! initialising or waiting.

pub mod guard;
mod secret;
mod types;

pub use secret::{SecretBytes, SecretInfo};
pub use types::*;

use std::time::Duration;

/// Requeue after a pass that ends Ready.
pub const READY_INTERVAL: Duration = Duration::from_secs(30);
/// Requeue after a serious error (Failed status).
pub const ERROR_INTERVAL: Duration = Duration::from_secs(10);
/// Requeue while initialising or waiting for something transient.
pub const INIT_INTERVAL: Duration = Duration::from_secs(5);

/// The interval a controller following CAPTEP-0016 uses for an object in `phase`.
pub fn expected_interval(phase: Option<&str>) -> Duration {
    match phase {
        Some("Ready") => READY_INTERVAL,
        Some("Failed") => ERROR_INTERVAL,
        _ => INIT_INTERVAL,
    }
}
