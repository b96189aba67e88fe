//! `kubectl capt completion SHELL`: static completion scripts from the clap definition.

use crate::complete::Shell;
use crate::error::{ExitStatus, Result};

/// The completion script for `shell`, for the binary `kubectl-capt`.
pub fn script(shell: Shell) -> String {
    crate::complete::script(&mut crate::settings::grammar(), shell)
}

pub fn run(shell: Shell) -> Result<ExitStatus> {
    super::emit(&script(shell))?;
    Ok(ExitStatus::Ok)
}
