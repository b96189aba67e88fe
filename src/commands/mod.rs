//! One module per subcommand. Each is fetch → compute → render → emit: only the fetch and
//! apply steps touch the cluster, compute is the pure core, render is pure formatting.

mod analyze;
mod complete;
pub mod completion;
mod reconcile;
mod status;
mod version;
mod watch;

use crate::cli::Command;
use crate::error::{ExitStatus, Result};
use crate::settings::{AnalyzeSettings, Settings, WatchSettings};

/// Runs one subcommand to completion.
pub async fn run(command: Command, settings: &Settings) -> Result<ExitStatus> {
    match command {
        Command::Status(args) => status::run(args, settings).await,
        Command::Reconcile(args) => reconcile::run(args, settings).await,
        Command::Watch(args) => watch::run(&WatchSettings::resolve(&args), settings).await,
        Command::Analyze(args) => analyze::run(&AnalyzeSettings::resolve(&args)?, settings).await,
        Command::Completion(args) => completion::run(&args),
        Command::Version(args) => version::run(&args, settings).await,
        Command::Crds => {
            emit(&crate::crd::all_yaml()?)?;
            Ok(ExitStatus::Ok)
        }
        Command::Complete(args) => complete::run(&args, settings).await,
    }
}

/// Writes data to stdout (a closed pipe surfaces as `BrokenPipe`, which `main` treats as done).
pub fn emit(s: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes a message to stderr.
pub fn note(s: &str) {
    eprintln!("{s}");
}
