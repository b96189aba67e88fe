//! `kubectl capt watch`.

use crate::cli::WatchArgs;
use crate::error::{ExitStatus, Result};
use crate::settings::Settings;

pub async fn run(_args: WatchArgs, _settings: &Settings) -> Result<ExitStatus> {
    super::not_built("watch")
}
