//! Parse once, resolve once: [`Settings`] is built from [`Cli`] and the environment exactly
//! once, in `main`. No other module reads environment variables, terminal state or the clock
//! to make a decision.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::CommandFactory;

use crate::cli::{
    AnalyzeArgs, Cli, ColorChoice, Command, DryRun, GlobalArgs, InputFormat, ReconcileArgs, StatusArgs,
    ThresholdArgs, Until, WatchArgs,
};
use crate::complete::Shell;
use crate::detect::Config;
use crate::error::Error;
use crate::k8s::ClusterTarget;
use crate::parse::Restrict;
use crate::reconcile::SendMode;
use crate::render::OutputFormat;

/// What the environment told us, gathered in one place so tests can supply it.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub no_color: bool,
    pub clicolor_force: bool,
    pub term_dumb: bool,
    pub stdout_tty: bool,
    pub stderr_tty: bool,
}

impl Env {
    /// Reads the process environment and terminal state.
    pub fn from_process() -> Self {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        Env {
            no_color: set("NO_COLOR"),
            clicolor_force: std::env::var("CLICOLOR_FORCE").is_ok_and(|v| !v.is_empty() && v != "0"),
            term_dumb: std::env::var("TERM").is_ok_and(|t| t == "dumb"),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }
}

/// The resolved settings every command runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub target: ClusterTarget,
    pub output: OutputFormat,
    /// Colour in tables on stdout.
    pub color: bool,
    /// Colour in messages on stderr.
    pub color_stderr: bool,
    /// Show spinners and progress on stderr.
    pub progress: bool,
    /// Show a progress bar on stderr while reading files: a terminal on stderr and the data
    /// not piped as JSON/YAML (a table, or any format onto a terminal), no `-v`.
    pub read_progress: bool,
    /// Redraw tables in place (stdout is a terminal and the format is a table).
    pub live: bool,
    pub verbose: u8,
}

impl Settings {
    pub fn resolve(global: &GlobalArgs, env: &Env) -> Self {
        let tabular = matches!(global.output, OutputFormat::Table | OutputFormat::Wide);
        let auto = |tty: bool| env.clicolor_force || (tty && !env.no_color && !env.term_dumb);
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tabular && auto(env.stdout_tty),
        };
        let color_stderr = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => auto(env.stderr_tty),
        };
        Settings {
            target: ClusterTarget {
                kubeconfig: global.kubeconfig.clone(),
                context: global.context.clone(),
                namespace: global.namespace.clone(),
                all_namespaces: global.all_namespaces,
                request_timeout: global.request_timeout,
            },
            output: global.output,
            color,
            color_stderr,
            progress: env.stderr_tty && global.verbose == 0 && tabular,
            read_progress: env.stderr_tty && global.verbose == 0 && (tabular || env.stdout_tty),
            live: env.stdout_tty && tabular,
            verbose: global.verbose,
        }
    }

    /// Resolves from the parsed command line and the process environment.
    pub fn from_cli(cli: &Cli) -> Self {
        Settings::resolve(&cli.global, &Env::from_process())
    }

    pub fn is_machine_output(&self) -> bool {
        matches!(self.output, OutputFormat::Json | OutputFormat::Yaml)
    }
}

/// The grammar of the command line (the clap definition), which completion reads.
pub fn grammar() -> clap::Command {
    Cli::command()
}

/// The subcommand to run, with its settings resolved.
#[derive(Clone, Debug)]
pub enum CommandSettings {
    Status(StatusSettings),
    Reconcile(ReconcileSettings),
    Watch(WatchSettings),
    Analyze(AnalyzeSettings),
    Completion(Shell),
    /// `version`; `--client`: do not ask the server.
    Version {
        client_only: bool,
    },
    Crds,
    /// `__complete`: the words typed so far after `kubectl capt`.
    Complete {
        words: Vec<String>,
    },
}

impl CommandSettings {
    /// Fails (a usage error) on combinations clap does not refuse itself.
    pub fn resolve(command: Command, settings: &Settings) -> Result<Self, Error> {
        Ok(match command {
            Command::Status(args) => CommandSettings::Status(StatusSettings::resolve(args)),
            Command::Reconcile(args) => {
                CommandSettings::Reconcile(ReconcileSettings::resolve(args, settings.target.all_namespaces)?)
            }
            Command::Watch(args) => CommandSettings::Watch(WatchSettings::resolve(&args)),
            Command::Analyze(args) => CommandSettings::Analyze(AnalyzeSettings::resolve(&args)?),
            Command::Completion(args) => CommandSettings::Completion(args.shell),
            Command::Version(args) => CommandSettings::Version { client_only: args.client },
            Command::Crds => CommandSettings::Crds,
            Command::Complete(args) => CommandSettings::Complete { words: args.words },
        })
    }
}

/// `status`, resolved.
#[derive(Clone, Debug)]
pub struct StatusSettings {
    /// One CAPTControlPlane; `None`: all in the namespace (or every namespace with `-A`).
    pub name: Option<String>,
    /// Exit 3 when an object is not ready.
    pub fail_if_not_ready: bool,
}

impl StatusSettings {
    pub fn resolve(args: StatusArgs) -> Self {
        StatusSettings { name: args.name, fail_if_not_ready: args.fail_if_not_ready }
    }
}

/// `reconcile`, resolved.
#[derive(Clone, Debug)]
pub struct ReconcileSettings {
    pub name: String,
    /// Write, or `--dry-run` on the client or the server.
    pub mode: SendMode,
    /// Write even when another writer is live.
    pub force: bool,
    /// Keep reconciling at the returned interval.
    pub follow: bool,
    /// `--until ready`: stop following once the CAPTControlPlane is Ready.
    pub until_ready: bool,
    pub timeout: Option<Duration>,
    /// Make the in-cluster controller reconcile instead of running the core here.
    pub nudge: bool,
    /// With `nudge`: where its log and its metrics show a pass.
    pub controller_logs: Option<PathBuf>,
    pub metrics_url: Option<String>,
    pub max_conflict_retries: u32,
    /// Where the controller's leader-election Lease lives.
    pub controller_namespace: String,
    pub lease_name: String,
    /// Test hook: wait this long between reading and writing.
    pub pause_before_apply: Option<Duration>,
}

impl ReconcileSettings {
    /// Fails (a usage error) with `-A` and with `--timeout` but neither `--follow` nor `--nudge`.
    pub fn resolve(args: ReconcileArgs, all_namespaces: bool) -> Result<Self, Error> {
        if all_namespaces {
            return Err(Error::Usage(
                "reconcile works on one CAPTControlPlane: use -n NAMESPACE, not -A".into(),
            ));
        }
        if args.timeout.is_some() && !args.follow && !args.nudge {
            return Err(Error::Usage("--timeout applies to --follow and --nudge".into()));
        }
        Ok(ReconcileSettings {
            name: args.name,
            mode: match args.dry_run {
                None => SendMode::Apply,
                Some(DryRun::Client) => SendMode::ClientDryRun,
                Some(DryRun::Server) => SendMode::ServerDryRun,
            },
            force: args.force,
            follow: args.follow,
            until_ready: args.until == Some(Until::Ready),
            timeout: args.timeout,
            nudge: args.nudge,
            controller_logs: args.controller_logs,
            metrics_url: args.metrics_url,
            max_conflict_retries: args.max_conflict_retries,
            controller_namespace: args.controller_namespace,
            lease_name: args.lease_name,
            pause_before_apply: args.pause_before_apply,
        })
    }
}

/// `watch`, resolved: which sources to follow and how to judge what they show.
#[derive(Clone, Debug)]
pub struct WatchSettings {
    /// `--kind`; empty: the CAPT kinds.
    pub kinds: Vec<String>,
    pub selector: Option<String>,
    /// Stop after this long (`--duration`, or `--once`'s window); `None`: until interrupted.
    pub deadline: Option<Duration>,
    /// Follow Events (not `--no-events`).
    pub events: bool,
    pub logs: LogSource,
    pub metrics_url: Option<String>,
    pub trace_writes: Option<PathBuf>,
    pub detector: Config,
    /// `--all`: quiet objects shown on the live screen.
    pub show_all: bool,
}

/// Where `watch` reads the controller's log from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogSource {
    /// `--no-logs`.
    Off,
    /// `--controller-logs FILE` (`-` for stdin).
    File(PathBuf),
    /// The pods of the controller's Deployment.
    Pods { namespace: String, selector: String },
}

/// How long `watch --once` watches.
const ONCE: Duration = Duration::from_secs(10);

impl WatchSettings {
    pub fn resolve(args: &WatchArgs) -> Self {
        let logs = match (&args.controller_logs, args.no_logs) {
            (_, true) => LogSource::Off,
            (Some(path), false) => LogSource::File(path.clone()),
            (None, false) => LogSource::Pods {
                namespace: args.controller_namespace.clone(),
                selector: args.controller_selector.clone(),
            },
        };
        WatchSettings {
            kinds: args.kinds.clone(),
            selector: args.selector.clone(),
            deadline: args.duration.or(args.once.then_some(ONCE)),
            events: !args.no_events,
            logs,
            metrics_url: args.metrics_url.clone(),
            trace_writes: args.trace_writes.clone(),
            detector: detector_config(&args.thresholds),
            show_all: args.all,
        }
    }
}

/// `analyze`, resolved.
#[derive(Clone, Debug)]
pub struct AnalyzeSettings {
    pub files: Vec<PathBuf>,
    pub restrict: Restrict,
    /// Where to draw the timeline (an `.svg` path, checked).
    pub plot: Option<PathBuf>,
    /// How many objects the table, timeline and plot show.
    pub top: usize,
    /// `--now`: the reference time for inputs that give only relative times.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    pub detector: Config,
}

impl AnalyzeSettings {
    /// Fails (a usage error) on a plot path that cannot be an SVG file, or stdin twice.
    pub fn resolve(args: &AnalyzeArgs) -> Result<Self, Error> {
        if let Some(p) = &args.plot {
            crate::render::plot::check_path(p).map_err(Error::Usage)?;
        }
        if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
            return Err(Error::Usage("- (stdin) can be given only once".into()));
        }
        Ok(AnalyzeSettings {
            files: args.files.clone(),
            restrict: restrict(args.format),
            plot: args.plot.clone(),
            top: args.top,
            now: args.now,
            detector: detector_config(&args.thresholds),
        })
    }
}

fn detector_config(t: &ThresholdArgs) -> Config {
    Config { hot_rate: t.hot_rate, hot_for: t.hot_for, hot_factor: t.hot_factor, ..Config::default() }
}

fn restrict(f: InputFormat) -> Restrict {
    use InputFormat as F;
    match f {
        F::Auto => Restrict::Any,
        F::Audit => Restrict::Audit,
        F::Logs => Restrict::Logs,
        F::Watch => Restrict::Watch,
        F::Events => Restrict::Events,
        F::Metrics => Restrict::Metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn global(args: &[&str]) -> GlobalArgs {
        let mut v = vec!["kubectl-capt"];
        v.extend_from_slice(args);
        v.push("version");
        Cli::try_parse_from(v).unwrap().global
    }

    #[test]
    fn no_color_wins_in_auto_but_not_always() {
        let env = Env { no_color: true, stdout_tty: true, stderr_tty: true, ..Env::default() };
        assert!(!Settings::resolve(&global(&[]), &env).color);
        assert!(Settings::resolve(&global(&["--color", "always"]), &env).color);
    }

    #[test]
    fn auto_colours_only_tables_on_a_tty() {
        let tty = Env { stdout_tty: true, ..Env::default() };
        assert!(Settings::resolve(&global(&[]), &tty).color);
        assert!(!Settings::resolve(&global(&["-o", "json"]), &tty).color);
        assert!(!Settings::resolve(&global(&[]), &Env::default()).color);
        let forced = Env { clicolor_force: true, ..Env::default() };
        assert!(Settings::resolve(&global(&[]), &forced).color);
    }

    #[test]
    fn progress_only_on_stderr_tty_without_verbose() {
        let env = Env { stderr_tty: true, ..Env::default() };
        assert!(Settings::resolve(&global(&[]), &env).progress);
        assert!(!Settings::resolve(&global(&["-v"]), &env).progress);
        assert!(!Settings::resolve(&global(&[]), &Env::default()).progress);
    }

    #[test]
    fn read_progress_hidden_when_json_or_yaml_is_piped() {
        let piped = Env { stderr_tty: true, ..Env::default() };
        let terminal = Env { stderr_tty: true, stdout_tty: true, ..Env::default() };
        assert!(Settings::resolve(&global(&[]), &piped).read_progress, "a table: shown");
        for fmt in ["json", "yaml"] {
            assert!(!Settings::resolve(&global(&["-o", fmt]), &piped).read_progress, "{fmt} piped");
            assert!(Settings::resolve(&global(&["-o", fmt]), &terminal).read_progress, "{fmt} on a terminal");
        }
        assert!(!Settings::resolve(&global(&["-v"]), &terminal).read_progress);
        assert!(!Settings::resolve(&global(&[]), &Env::default()).read_progress, "stderr not a terminal");
    }
}
