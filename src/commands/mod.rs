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

/// Writes rows `0..n` (made by `row`) then `last` to stdout, one JSON line each, as they are
/// serialised (a large output is never held whole in memory). The rows are written to JSON on
/// two threads: batches of rows in turn on this thread and a helper, sent out in order.
/// Writing the 20,000 rows of a large analysis kept one core busy for about 60 ms at the end of
/// the run, with nothing else left to do (docs/performance.md). At most three batches are held
/// at once.
pub fn emit_json_rows<T: serde::Serialize>(
    n: usize,
    row: impl Fn(usize) -> T + Sync,
    last: &impl serde::Serialize,
) -> Result<()> {
    use std::io::Write;
    const ROWS: usize = 256;
    let render = |batch: usize| -> serde_json::Result<Vec<u8>> {
        let mut buf = Vec::new();
        for i in batch * ROWS..((batch + 1) * ROWS).min(n) {
            serde_json::to_writer(&mut buf, &row(i))?;
            buf.push(b'\n');
        }
        Ok(buf)
    };
    let batches = n.div_ceil(ROWS);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let render = &render;
        if batches > 1 {
            // Ends when its batches are done, or when the receiver is gone (an error here).
            scope.spawn(move || {
                for b in (1..batches).step_by(2) {
                    if tx.send(render(b)).is_err() {
                        break;
                    }
                }
            });
        }
        for b in 0..batches {
            let buf = if b % 2 == 0 {
                render(b)
            } else {
                rx.recv().map_err(|_| std::io::Error::other("the row writer stopped"))?
            };
            out.write_all(&buf.map_err(std::io::Error::from)?)?;
        }
        Ok(())
    })?;
    serde_json::to_writer(&mut out, last).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes a message to stderr.
pub fn note(s: &str) {
    eprintln!("{s}");
}
