//! Parse once, resolve once: [`Settings`] is built from [`Cli`] and the environment exactly
//! once, in `main`. No other module reads environment variables, terminal state or the clock
//! to make a decision.

use std::io::IsTerminal;

use crate::cli::{Cli, ColorChoice, GlobalArgs, InputFormat, ThresholdArgs};
use crate::detect::Config;
use crate::k8s::ClusterTarget;
use crate::parse::Restrict;
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

/// The detector's thresholds from the command line.
pub fn detector_config(t: &ThresholdArgs) -> Config {
    Config { hot_rate: t.hot_rate, hot_for: t.hot_for, hot_factor: t.hot_factor, ..Config::default() }
}

impl From<InputFormat> for Restrict {
    fn from(f: InputFormat) -> Self {
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
