//! `kubectl capt completion SHELL`: static completion scripts from the clap definition.

use clap::CommandFactory;
use clap_complete::Shell as ClapShell;

use crate::cli::{Cli, CompletionArgs, Shell};
use crate::error::{ExitStatus, Result};

/// The scripts complete the binary's own name (`kubectl capt <TAB>` goes through kubectl and
/// `kubectl_complete-capt` instead).
const BIN: &str = "kubectl-capt";

/// The completion script for `shell`, for the binary `kubectl-capt`.
pub fn script(shell: Shell) -> String {
    let generator = match shell {
        Shell::Bash => ClapShell::Bash,
        Shell::Zsh => ClapShell::Zsh,
        Shell::Fish => ClapShell::Fish,
        Shell::Powershell => ClapShell::PowerShell,
    };
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(generator, &mut cmd, BIN, &mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        // clap_complete's bash generator spells a subcommand's state `kubectl__subcmd__capt__…` in
        // its case arms but `kubectl__capt__…` in its dispatch loop when the binary name has a
        // hyphen, so nothing after the subcommand completes (clap-rs/clap#6421). Use the loop's
        // spelling everywhere.
        Shell::Bash => text.replace("kubectl__subcmd__capt", "kubectl__capt"),
        _ => text,
    }
}

pub fn run(args: &CompletionArgs) -> Result<ExitStatus> {
    super::emit(&script(args.shell))?;
    Ok(ExitStatus::Ok)
}
