//! `kubectl-capt`: parse, resolve settings, run, and map the outcome to an exit code. Only this
//! file exits.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use colored::Colorize;
use kubectl_capt::cli::Cli;
use kubectl_capt::error::{EXIT_USAGE, Error};
use kubectl_capt::settings::{CommandSettings, Settings};

// Cargo.toml says why; macOS keeps its system allocator.
#[cfg(all(feature = "mimalloc", not(target_os = "macos")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Freed memory goes back to the system soon instead of after mimalloc's default delay of 1 s:
/// with that delay, the burst of a `watch` initial list peaked at 111 MiB against 69 MiB with
/// the system allocator (scripts/bench-watch --chains 2000), and `analyze` of a 1 GB log at
/// 65 MiB against 47 MiB. `watch` returns it at once (0). `analyze` waits 1 ms: on the 504 MB
/// RequestResponse log that took 2.14-2.18 s against 2.31-2.58 s (system time 0.5 s against
/// 1.0-1.2 s) for 1-3 MiB more (docs/performance.md). `MIMALLOC_PURGE_DELAY=N` chooses it.
/// `mi_option_purge_delay` is 15 in mimalloc v3's `mi_option_t`.
#[cfg(all(feature = "mimalloc", not(target_os = "macos")))]
#[allow(unsafe_code)]
fn purge_delay(ms: std::ffi::c_long) {
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // mimalloc reads its own variable at start: a delay the user chose stays.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets an integer option (an atomic in mimalloc); valid at any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ms) };
}

/// No transparent huge pages for `analyze`. mimalloc asks for them (`madvise`) and the
/// kernel then backs the heap in 2 MiB pages, each cleared when first touched: `analyze` of the
/// 210 MB Metadata log peaked at 40-48 MiB with them and 27 MiB without, and spent a tenth
/// of its samples clearing pages (docs/performance.md). Children (a kubeconfig's exec credential
/// plugin) inherit the flag, which costs a short-lived helper nothing. An error (a kernel before
/// 3.15) changes nothing, so it is ignored. Not for `watch`: its peak fell too (57-63 to 34 MiB
/// at 2,000 chains), but at 10,000 chains its initial sync took 5.5-6.3 s in five of seven runs
/// without huge pages against two of ten with them (docs/performance.md), and the sync is the
/// goal it still misses.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn no_transparent_huge_pages() {
    // SAFETY: sets a flag of this process; the arguments are integers, no memory is passed.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let settings = Settings::from_cli(&cli);
    colored::control::set_override(settings.color);
    let command = match CommandSettings::resolve(cli.command, &settings) {
        Ok(command) => command,
        Err(e) => return report(&e, settings.color_stderr),
    };
    #[cfg(all(feature = "mimalloc", not(target_os = "macos")))]
    purge_delay(if matches!(command, CommandSettings::Analyze(_)) { 1 } else { 0 });
    #[cfg(target_os = "linux")]
    if matches!(command, CommandSettings::Analyze(_)) {
        no_transparent_huge_pages();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return report(&Error::Io(e), settings.color_stderr),
    };
    match runtime.block_on(kubectl_capt::commands::run(&command, &settings)) {
        Ok(status) => status.into(),
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => report(&e, settings.color_stderr),
    }
}

fn report(err: &Error, color: bool) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let prefix = "kubectl-capt:";
    let (prefix, hint_label) = if color {
        colored::control::set_override(true);
        (prefix.red().bold().to_string(), "hint:".yellow().to_string())
    } else {
        (prefix.to_string(), "hint:".to_string())
    };
    let (text, hint) = err.terminal_text();
    let _ = writeln!(stderr, "{prefix} {text}");
    if let Some(hint) = hint {
        let _ = writeln!(stderr, "{hint_label} {hint}");
    }
    ExitCode::from(err.exit_code())
}
