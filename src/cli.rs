//! What the user typed: clap derive structs and nothing else. [`crate::settings`] resolves
//! them, with the environment, into the values the commands use.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::complete::Shell;
use crate::render::OutputFormat;

const EXAMPLES: &str = "\
Examples:
  # Why is my control plane not ready, and when will the controller look again?
  kubectl capt status demo

  # Every CAPTControlPlane in every namespace, as JSON
  kubectl capt status -A -o json

  # Run one reconcile pass with the optimised intervals (30s ready / 10s error / 5s waiting)
  kubectl capt reconcile demo --dry-run

  # Watch write, reconcile and event rates live and flag hot loops
  kubectl capt watch -A --duration 30s

  # Find hot loops after the fact in an audit log
  kubectl capt analyze /var/log/kubernetes/audit.log";

/// Debug CAPT (appthrust/capt) control planes and any controller's reconcile loops.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-capt",
    bin_name = "kubectl capt",
    version,
    about,
    long_about = "Debug CAPT (appthrust/capt, the Cluster API provider for EKS on Crossplane \
provider-terraform) control planes: what its CAPTControlPlane controller would decide and when it \
would requeue, one reconcile pass on demand, and live or after-the-fact hot-loop detection for \
any controller.",
    after_help = EXAMPLES,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts, named as kubectl names them.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH", help_heading = "Global options")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME", help_heading = "Global options")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace, else "default")
    #[arg(short = 'n', long, global = true, value_name = "NS", help_heading = "Global options")]
    pub namespace: Option<String>,
    /// All namespaces
    #[arg(short = 'A', long, global = true, help_heading = "Global options")]
    pub all_namespaces: bool,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table, help_heading = "Global options")]
    pub output: OutputFormat,
    /// When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Global options")]
    pub color: ColorChoice,
    /// More detail on stderr (-v requests, -vv bodies without Secret data)
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    /// Timeout for each API request, e.g. 10s (1s to 1h)
    #[arg(long, global = true, value_name = "DURATION", default_value = "15s", value_parser = request_timeout, help_heading = "Global options")]
    pub request_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// What the CAPTControlPlane controller would decide now, why, and when it would requeue
    #[command(after_help = "Examples:
  kubectl capt status                 # one row per CAPTControlPlane in the namespace
  kubectl capt status demo            # the chain Cluster → CAPTControlPlane → apply → Workspace → Secrets
  kubectl capt status demo -o yaml    # the same as a stable document
  kubectl capt status -A --fail-if-not-ready   # exit 3 when any control plane is not ready")]
    Status(StatusArgs),
    /// Run one reconcile pass now with the optimised intervals, writing only what differs
    #[command(after_help = "Examples:
  kubectl capt reconcile demo --dry-run          # print the plan, write nothing
  kubectl capt reconcile demo --dry-run=server   # let the API server validate every write
  kubectl capt reconcile demo                    # apply the plan (refuses if the controller is live)
  kubectl capt reconcile demo --follow --until ready --timeout 10m
  kubectl capt reconcile demo --nudge            # make the in-cluster controller reconcile now")]
    Reconcile(ReconcileArgs),
    /// Live reconcile, write and event rates per object; flags hot loops and says why
    #[command(after_help = "Examples:
  kubectl capt watch                       # CAPT kinds in the namespace, live table
  kubectl capt watch -A --duration 30s     # run 30s, print the result, exit 3 if anything is HOT
  kubectl capt watch --kind deployments.apps -o json --once
  kubectl capt watch --controller-logs manager.log")]
    Watch(WatchArgs),
    /// Find hot loops after the fact in audit logs, controller logs, watch dumps, events, metrics
    #[command(after_help = "Examples:
  kubectl capt analyze audit.log
  kubectl logs -n capt-system deploy/capt-controller-manager | kubectl capt analyze -
  kubectl capt analyze --format watch dump.json --plot timeline.svg")]
    Analyze(AnalyzeArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell)
    #[command(after_help = "Examples:
  source <(kubectl-capt completion bash)
  kubectl-capt completion zsh > \"${fpath[1]}/_kubectl-capt\"")]
    Completion(CompletionArgs),
    /// Print the version of kubectl-capt (and of the API server, when reachable)
    Version(VersionArgs),
    /// Print the CustomResourceDefinitions kubectl-capt's tests install (generated from its types)
    #[command(hide = true)]
    Crds,
    /// Dynamic completion for `kubectl capt <TAB>` (used by kubectl_complete-capt)
    #[command(hide = true, name = "__complete")]
    Complete(CompleteArgs),
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// CAPTControlPlane name (default: all in the namespace)
    pub name: Option<String>,
    /// Exit 3 when an object is not ready
    #[arg(long)]
    pub fail_if_not_ready: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Print the plan only; nothing is sent
    Client,
    /// Send every write with dryRun=All and report what the API server accepted
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// Stop once the CAPTControlPlane is Ready
    Ready,
}

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// CAPTControlPlane name
    pub name: String,
    /// Print (client) or validate (server) the plan without changing anything
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "client", value_name = "MODE")]
    pub dry_run: Option<DryRun>,
    /// Write even when another writer is live (two writers of one status are a hot loop)
    #[arg(long)]
    pub force: bool,
    /// Keep reconciling at the returned interval until Ctrl-C, --until or --timeout
    #[arg(long, conflicts_with = "nudge")]
    pub follow: bool,
    /// With --follow: stop when this is reached
    #[arg(long, value_enum, requires = "follow")]
    pub until: Option<Until>,
    /// Give up after this long (--follow, --nudge), e.g. 90s, 10m (more than 0)
    #[arg(long, value_parser = positive_duration, value_name = "DURATION")]
    pub timeout: Option<std::time::Duration>,
    /// Make the in-cluster controller reconcile now instead of running the core here
    #[arg(long, conflicts_with_all = ["dry_run", "force"])]
    pub nudge: bool,
    /// With --nudge: the controller's log file, where a pass that writes nothing still shows
    #[arg(long, value_name = "PATH", requires = "nudge")]
    pub controller_logs: Option<std::path::PathBuf>,
    /// With --nudge: the controller's metrics (API server path or http:// URL); its reconcile
    /// counter rising shows a pass (controller-wide)
    #[arg(long, value_name = "URL", requires = "nudge")]
    pub metrics_url: Option<String>,
    /// Retries after a 409 conflict before giving up (0-10; the other-writer guard runs before
    /// each, with a jittered back-off between them)
    #[arg(long, default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=i64::from(crate::reconcile::retry::MAX_CONFLICT_RETRIES)))]
    pub max_conflict_retries: u32,
    /// Namespace of the CAPT controller (where its leader-election Lease lives)
    #[arg(long, default_value = "capt-system", value_name = "NS")]
    pub controller_namespace: String,
    /// Name of CAPT's leader-election Lease (Leases held by capt-controller-manager pods also count)
    #[arg(long, default_value = "capt-controller-lock", value_name = "NAME")]
    pub lease_name: String,
    /// Test hook: wait this long between reading and writing (to inject conflicts)
    #[arg(long, hide = true, value_parser = parse_duration, value_name = "DURATION")]
    pub pause_before_apply: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Run this long, print the final result and exit (3 if anything was HOT), e.g. 30s (more than 0)
    #[arg(long, value_parser = positive_duration, value_name = "DURATION", conflicts_with = "once")]
    pub duration: Option<std::time::Duration>,
    /// Take one short sample (10s), print it and exit
    #[arg(long)]
    pub once: bool,
    /// Label selector for the watched objects
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Kinds to watch (repeatable; default: the CAPT kinds). Any served resource: deployments.apps
    #[arg(long = "kind", value_name = "RESOURCE")]
    pub kinds: Vec<String>,
    /// Namespace of the controller pods whose logs count reconcile passes
    #[arg(long, default_value = "capt-system", value_name = "NS")]
    pub controller_namespace: String,
    /// Label selector of the controller pods
    #[arg(long, default_value = "control-plane=controller-manager", value_name = "SELECTOR")]
    pub controller_selector: String,
    /// Read controller logs from a file or - (stdin) instead of the pods/log API
    #[arg(long, value_name = "PATH|-")]
    pub controller_logs: Option<PathBuf>,
    /// Scrape controller-runtime metrics from this URL
    #[arg(long, value_name = "URL")]
    pub metrics_url: Option<String>,
    /// Do not read controller logs
    #[arg(long)]
    pub no_logs: bool,
    /// Do not read Events
    #[arg(long)]
    pub no_events: bool,
    /// On the live screen, list quiet objects too instead of folding them into one line (key a)
    #[arg(long)]
    pub all: bool,
    /// Append `<unix ms> <resourceVersion>` for every write the detector folds in (watch lag
    /// measurements, scripts/bench-watch)
    #[arg(long, hide = true, value_name = "FILE")]
    pub trace_writes: Option<PathBuf>,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

/// When an object is HOT.
#[derive(Debug, Clone, Args)]
pub struct ThresholdArgs {
    /// HOT: at least this many writes or passes per second (more than 0, at most 1000)...
    #[arg(long, default_value_t = 1.0, value_name = "PER_SEC", value_parser = hot_rate, allow_negative_numbers = true, help_heading = "Thresholds")]
    pub hot_rate: f64,
    /// ...sustained this long (whole seconds, 1s to 60s)
    #[arg(long, value_parser = hot_for, default_value = "10s", value_name = "DURATION", help_heading = "Thresholds")]
    pub hot_for: std::time::Duration,
    /// HOT: or more than this many times the expected rate over 1 minute (1 to 1000)
    #[arg(long, default_value_t = 5.0, value_name = "FACTOR", value_parser = hot_factor, allow_negative_numbers = true, help_heading = "Thresholds")]
    pub hot_factor: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Detect per file
    Auto,
    /// Kubernetes audit log (audit.k8s.io/v1, v1beta1; cloud envelopes)
    Audit,
    /// Controller logs: zap console, zap JSON, klog (CRI prefixes allowed)
    Logs,
    /// `kubectl get -w --output-watch-events -o json|yaml`
    Watch,
    /// `kubectl get events -o json` or a JSON array of Events
    Events,
    /// Prometheus text scrapes
    Metrics,
}

#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// Files, directories (read recursively) or .tar/.tar.gz archives; - for stdin. gzip, zstd
    /// and bzip2 compression is undone by content
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Force the input format instead of detecting it
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub format: InputFormat,
    /// Draw the timeline of the top objects (one heat strip each, HOT periods marked) to an .svg file
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// The time pasted kubectl output was taken (its ages are relative), RFC 3339; default: each
    /// file's modification time (stdin: now)
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// How many objects the table, timeline and plot show (1 to 10000)
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = top)]
    pub top: usize,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// Shell to print the completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Only the client version; do not contact the API server
    #[arg(long)]
    pub client: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompleteArgs {
    /// The words typed so far after `kubectl capt`
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// Parses `90s`, `5m`, `1h30m`, `500ms` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return secs_to_duration(secs, s);
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in {s:?} (use ms, s, m or h)"))?;
        let (num, tail) = rest.split_at(split);
        let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        total += n * match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!("unknown unit {unit:?} in {s:?} (use ms, s, m or h)"));
            }
        };
        rest = next;
    }
    secs_to_duration(total, s)
}

/// A number in `[min, max]` (or `(0, max]` with `min == 0.0`), else an error naming the range.
fn number_in(s: &str, min: f64, max: f64, what: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("not a number; {what}"))?;
    let low_ok = if min == 0.0 { v > 0.0 } else { v >= min };
    if v.is_finite() && low_ok && v <= max { Ok(v) } else { Err(format!("out of range; {what}")) }
}

fn hot_rate(s: &str) -> Result<f64, String> {
    number_in(s, 0.0, 1000.0, "the accepted range is more than 0 and at most 1000 per second")
}

fn hot_factor(s: &str) -> Result<f64, String> {
    number_in(s, 1.0, 1000.0, "the accepted range is 1 to 1000 (times the expected rate)")
}

fn rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{e}; expected RFC 3339, e.g. 2026-11-30T12:00:00Z"))
}

fn top(s: &str) -> Result<usize, String> {
    let what = "the accepted range is 1 to 10000";
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        Ok(_) => Err(format!("out of range; {what}")),
        Err(_) => Err(format!("not a whole number; {what}")),
    }
}

/// `--hot-for`: the detector's short window is one minute of one-second buckets.
fn hot_for(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    let what = "the accepted range is 1s to 60s in whole seconds";
    if d.subsec_nanos() != 0 {
        return Err(format!("not whole seconds; {what}"));
    }
    if !(1..=60).contains(&d.as_secs()) {
        return Err(format!("out of range; {what}"));
    }
    Ok(d)
}

fn positive_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("out of range; the accepted range is more than 0 (e.g. 500ms, 30s, 10m)".into());
    }
    Ok(d)
}

fn request_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d < std::time::Duration::from_secs(1) || d > std::time::Duration::from_secs(3600) {
        return Err("out of range; the accepted range is 1s to 1h".into());
    }
    Ok(d)
}

fn secs_to_duration(secs: f64, s: &str) -> Result<std::time::Duration, String> {
    if !secs.is_finite() || !(0.0..=1.0e9).contains(&secs) {
        return Err(format!("duration out of range: {s:?}"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::time::Duration;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("s").is_err());
    }

    /// Nonsense values are usage errors (exit 2) that name the accepted range; the limits
    /// themselves are accepted.
    #[test]
    fn numeric_flags_outside_their_range_are_refused_naming_it() {
        let parse = |args: &[&str]| {
            let mut v = vec!["kubectl-capt"];
            v.extend_from_slice(args);
            Cli::try_parse_from(v)
        };
        for (args, range) in [
            (&["watch", "--hot-rate", "0"][..], "more than 0 and at most 1000"),
            (&["watch", "--hot-rate", "-1"], "more than 0 and at most 1000"),
            (&["watch", "--hot-rate", "NaN"], "more than 0 and at most 1000"),
            (&["analyze", "x", "--hot-factor", "-2"], "1 to 1000"),
            (&["analyze", "x", "--hot-factor", "0.5"], "1 to 1000"),
            (&["watch", "--hot-for", "61s"], "1s to 60s"),
            (&["watch", "--hot-for", "0s"], "1s to 60s"),
            (&["watch", "--hot-for", "1500ms"], "1s to 60s"),
            (&["watch", "--duration", "0s"], "more than 0"),
            (&["reconcile", "x", "--follow", "--timeout", "0"], "more than 0"),
            (&["reconcile", "x", "--max-conflict-retries", "11"], "0..=10"),
            (&["analyze", "x", "--top", "0"], "1 to 10000"),
            (&["status", "--request-timeout", "0s"], "1s to 1h"),
            (&["status", "--request-timeout", "2h"], "1s to 1h"),
        ] {
            let err = parse(args).expect_err(&format!("{args:?} should be refused"));
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(range), "{args:?}: {err}");
        }
        for args in [
            &["watch", "--hot-rate", "1000", "--hot-for", "60s", "--hot-factor", "1"][..],
            &["watch", "--hot-rate", "0.01", "--hot-for", "1s", "--hot-factor", "1000"],
            &["reconcile", "x", "--max-conflict-retries", "10"],
            &["analyze", "x", "--top", "1"],
        ] {
            parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }

    #[test]
    fn dry_run_forms() {
        let cli = Cli::try_parse_from(["kubectl-capt", "reconcile", "x", "--dry-run"]).unwrap();
        let Command::Reconcile(a) = cli.command else { panic!("not reconcile") };
        assert_eq!(a.dry_run, Some(DryRun::Client));
        let cli = Cli::try_parse_from(["kubectl-capt", "reconcile", "x", "--dry-run=server"]).unwrap();
        let Command::Reconcile(a) = cli.command else { panic!("not reconcile") };
        assert_eq!(a.dry_run, Some(DryRun::Server));
    }
}
