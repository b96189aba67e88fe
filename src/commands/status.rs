//! `kubectl capt status`.

use crate::cli::StatusArgs;
use crate::error::{ExitStatus, Result};
use crate::settings::Settings;

pub async fn run(_args: StatusArgs, _settings: &Settings) -> Result<ExitStatus> {
    super::not_built("status")
}
