//! `kubectl capt analyze`.

use crate::cli::AnalyzeArgs;
use crate::error::{ExitStatus, Result};
use crate::settings::Settings;

pub async fn run(_args: AnalyzeArgs, _settings: &Settings) -> Result<ExitStatus> {
    super::not_built("analyze")
}
