//! `kubectl capt reconcile`.

use crate::cli::ReconcileArgs;
use crate::error::{ExitStatus, Result};
use crate::settings::Settings;

pub async fn run(_args: ReconcileArgs, _settings: &Settings) -> Result<ExitStatus> {
    super::not_built("reconcile")
}
