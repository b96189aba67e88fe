//! `kubectl capt completion SHELL`: static completion scripts from the clap definition.

use clap::CommandFactory;
use clap_complete::Shell as ClapShell;

use crate::cli::{Cli, CompletionArgs, Shell};
use crate::error::{ExitStatus, Result};

/// The completion script for `shell`, for the binary `kubectl-capt`.
pub fn script(shell: Shell) -> String {
    let shell = match shell {
        Shell::Bash => ClapShell::Bash,
        Shell::Zsh => ClapShell::Zsh,
        Shell::Fish => ClapShell::Fish,
        Shell::Powershell => ClapShell::PowerShell,
    };
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-capt", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn run(args: &CompletionArgs) -> Result<ExitStatus> {
    super::emit(&script(args.shell))?;
    Ok(ExitStatus::Ok)
}
