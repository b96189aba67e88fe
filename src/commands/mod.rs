//! One module per subcommand. Each is fetch → compute → render → emit: only the fetch and
//! apply steps touch the cluster, compute is the pure core, render is pure formatting.

mod analyze;
mod complete;
pub mod completion;
mod reconcile;
mod status;
mod version;
mod watch;

use crate::error::{ExitStatus, Result};
use crate::settings::{CommandSettings, Settings};

/// Runs one subcommand to completion.
pub async fn run(command: &CommandSettings, settings: &Settings) -> Result<ExitStatus> {
    match command {
        CommandSettings::Status(args) => status::run(args, settings).await,
        CommandSettings::Reconcile(args) => reconcile::run(args, settings).await,
        CommandSettings::Watch(args) => watch::run(args, settings).await,
        CommandSettings::Analyze(args) => analyze::run(args, settings).await,
        CommandSettings::Completion(shell) => completion::run(*shell),
        CommandSettings::Version { client_only } => version::run(*client_only, settings).await,
        CommandSettings::Crds => {
            emit(&crate::crd::all_yaml()?)?;
            Ok(ExitStatus::Ok)
        }
        CommandSettings::Complete { words } => complete::run(words, settings).await,
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

/// Writes `rows` then `last` to stdout, one JSON line each, as they are serialised: a large
/// output is never held whole in memory.
pub fn emit_json_lines<T: serde::Serialize>(
    rows: impl IntoIterator<Item = T>,
    last: &impl serde::Serialize,
) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for row in rows {
        serde_json::to_writer(&mut out, &row).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
    }
    serde_json::to_writer(&mut out, last).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes a message to stderr.
pub fn note(s: &str) {
    eprintln!("{s}");
}
