//! `kubectl-capt __complete -- WORDS...`: candidates for `kubectl capt <TAB>`, one per line
//! (`value<TAB>description`), then a cobra directive line (`:4` = no file completion, `:0` = let
//! the shell complete files), as kubectl (1.26+) expects from `kubectl_complete-capt`.
//!
//! kubectl passes the words after `kubectl capt` unparsed (its own flags are switched off for
//! plugins), so `-n`, `--context` and `--kubeconfig` arrive as words and are read here. Any error
//! (no kubeconfig, unreachable server, forbidden) yields no candidates, never a message.

use std::time::Duration;

use clap::CommandFactory;
use clap::builder::ValueHint;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::ListParams;
use kube::config::Kubeconfig;

use crate::cli::{Cli, CompleteArgs};
use crate::error::{ExitStatus, Result};
use crate::k8s::ClusterTarget;
use crate::model::CaptControlPlane;
use crate::settings::Settings;

/// Cobra's ShellCompDirective values kubectl understands.
const DEFAULT: u8 = 0;
const NO_FILE: u8 = 4;

/// How long a dynamic lookup may take before we give up and offer nothing.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn run(args: &CompleteArgs, settings: &Settings) -> Result<ExitStatus> {
    let cmd = command();
    let line = Line::parse(&cmd, &args.words);
    let want = want(&cmd, &line);
    let target = line.target(&settings.target);
    let candidates = match &want {
        Want::Static(items) => items.clone(),
        Want::Names => names(&target).await.into_iter().map(|n| (n, None)).collect(),
        Want::Namespaces => namespaces(&target).await.into_iter().map(|n| (n, None)).collect(),
        Want::Contexts => contexts(&target).into_iter().map(|n| (n, None)).collect(),
        Want::Files | Want::Nothing => Vec::new(),
    };
    super::emit(&render(&candidates, &line.prefix, &line.current, want.directive()))?;
    Ok(ExitStatus::Ok)
}

/// The CLI definition with global flags propagated to every subcommand.
fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// What the words typed so far say.
#[derive(Debug, Default, PartialEq)]
struct Line {
    /// The subcommand, once one was typed.
    sub: Option<String>,
    /// Positional arguments typed after the subcommand.
    positionals: usize,
    kubeconfig: Option<String>,
    context: Option<String>,
    namespace: Option<String>,
    /// The flag (clap id) whose value is being typed, if any.
    value_of: Option<String>,
    /// Text before the part being completed (`--output=` in `--output=js`).
    prefix: String,
    /// The part being completed.
    current: String,
}

impl Line {
    fn parse(root: &clap::Command, words: &[String]) -> Line {
        let mut line = Line::default();
        let (current, before) = match words.split_last() {
            Some((last, before)) => (last.clone(), before),
            None => (String::new(), &[][..]),
        };
        let mut pending: Option<String> = None;
        let mut only_positionals = false;
        for word in before {
            let scope = line.scope(root);
            if let Some(id) = pending.take() {
                line.set(&id, word);
                continue;
            }
            if only_positionals || word == "-" || !word.starts_with('-') {
                line.positional(root, word);
            } else if word == "--" {
                only_positionals = true;
            } else if let Some(long) = word.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                if let Some(arg) = scope.get_arguments().find(|a| a.get_long() == Some(name)) {
                    let id = arg.get_id().to_string();
                    match value {
                        Some(v) => line.set(&id, v),
                        None if takes_value(arg) => pending = Some(id),
                        None => {}
                    }
                }
            } else {
                let shorts = &word[1..];
                for (i, c) in shorts.char_indices() {
                    let Some(arg) = scope.get_arguments().find(|a| a.get_short() == Some(c)) else {
                        break;
                    };
                    if takes_value(arg) {
                        let rest = shorts[i + c.len_utf8()..].trim_start_matches('=');
                        let id = arg.get_id().to_string();
                        if rest.is_empty() {
                            pending = Some(id);
                        } else {
                            line.set(&id, rest);
                        }
                        break;
                    }
                }
            }
        }
        line.value_of = pending;
        line.current = current;
        if line.value_of.is_none()
            && line.current.starts_with("--")
            && let Some((name, value)) = line.current.clone().split_once('=')
        {
            let scope = line.scope(root);
            if let Some(arg) = scope.get_arguments().find(|a| a.get_long() == Some(&name[2..])) {
                line.value_of = Some(arg.get_id().to_string());
                line.prefix = format!("{name}=");
                line.current = value.to_string();
            }
        }
        line
    }

    /// The command whose flags apply: the subcommand once typed, else the root.
    fn scope<'a>(&self, root: &'a clap::Command) -> &'a clap::Command {
        self.sub.as_deref().and_then(|s| root.find_subcommand(s)).unwrap_or(root)
    }

    fn positional(&mut self, root: &clap::Command, word: &str) {
        if self.sub.is_none() && root.find_subcommand(word).is_some() {
            self.sub = Some(word.to_string());
        } else {
            self.positionals += 1;
        }
    }

    fn set(&mut self, id: &str, value: &str) {
        let value = Some(value.to_string());
        match id {
            "kubeconfig" => self.kubeconfig = value,
            "context" => self.context = value,
            "namespace" => self.namespace = value,
            _ => {}
        }
    }

    /// Where to look up names: flags typed on the line win over the process's settings.
    fn target(&self, base: &ClusterTarget) -> ClusterTarget {
        ClusterTarget {
            kubeconfig: self.kubeconfig.clone().map(Into::into).or_else(|| base.kubeconfig.clone()),
            context: self.context.clone().or_else(|| base.context.clone()),
            namespace: self.namespace.clone().or_else(|| base.namespace.clone()),
            all_namespaces: false,
            request_timeout: LOOKUP_TIMEOUT,
        }
    }
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values()
}

/// What to offer for the word being completed.
#[derive(Debug, PartialEq)]
enum Want {
    /// Known candidates with an optional description.
    Static(Vec<(String, Option<String>)>),
    /// CAPTControlPlane names in the namespace.
    Names,
    Namespaces,
    /// Contexts of the kubeconfig.
    Contexts,
    /// A path: let the shell complete files.
    Files,
    Nothing,
}

impl Want {
    fn directive(&self) -> u8 {
        match self {
            Want::Files => DEFAULT,
            _ => NO_FILE,
        }
    }
}

fn want(root: &clap::Command, line: &Line) -> Want {
    let scope = line.scope(root);
    if let Some(id) = &line.value_of {
        return match scope.get_arguments().find(|a| a.get_id() == id.as_str()) {
            Some(arg) => value_of(arg),
            None => Want::Nothing,
        };
    }
    if line.current.starts_with('-') {
        return Want::Static(flags(scope, &line.current));
    }
    let Some(sub) = &line.sub else {
        let subs = root
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| (s.get_name().to_string(), s.get_about().map(|a| a.to_string())))
            .collect();
        return Want::Static(subs);
    };
    let Some(arg) = scope.get_positionals().nth(line.positionals).or_else(|| {
        // A repeatable positional (analyze FILE...) keeps completing.
        scope.get_positionals().last().filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
    }) else {
        return Want::Nothing;
    };
    if arg.get_id() == "name" && matches!(sub.as_str(), "status" | "reconcile") {
        return Want::Names;
    }
    value_of(arg)
}

fn value_of(arg: &clap::Arg) -> Want {
    let values: Vec<_> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| (v.get_name().to_string(), v.get_help().map(|h| h.to_string())))
        .collect();
    if !values.is_empty() {
        return Want::Static(values);
    }
    match arg.get_id().as_str() {
        "namespace" => Want::Namespaces,
        "context" => Want::Contexts,
        _ if is_path(arg) => Want::Files,
        _ => Want::Nothing,
    }
}

fn is_path(arg: &clap::Arg) -> bool {
    matches!(arg.get_value_hint(), ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath)
        || matches!(arg.get_id().as_str(), "kubeconfig" | "files" | "controller_logs" | "plot")
}

/// Long flags of `cmd` (and short ones when only `-` is typed), with their help.
fn flags(cmd: &clap::Command, current: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set() && !a.is_positional()) {
        let help = arg.get_help().map(|h| h.to_string());
        if let Some(long) = arg.get_long() {
            out.push((format!("--{long}"), help.clone()));
        }
        if current == "-"
            && let Some(short) = arg.get_short()
        {
            out.push((format!("-{short}"), help));
        }
    }
    out
}

/// The completion output: candidates starting with `current`, sorted, then the directive.
fn render(candidates: &[(String, Option<String>)], prefix: &str, current: &str, directive: u8) -> String {
    let mut lines: Vec<String> = candidates
        .iter()
        .filter(|(value, _)| value.starts_with(current))
        .map(|(value, help)| match help {
            // Descriptions are one line; kubectl splits candidates on newlines and tabs.
            Some(h) if !h.is_empty() => {
                let h = h.lines().next().unwrap_or_default().replace('\t', " ");
                format!("{prefix}{value}\t{h}")
            }
            _ => format!("{prefix}{value}"),
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!(":{directive}\n"));
    text
}

/// CAPTControlPlane names in the namespace of the line (or the context); empty on any error.
async fn names(target: &ClusterTarget) -> Vec<String> {
    bounded(async {
        let kube = crate::k8s::connect(target).await.ok()?;
        let api: Api<CaptControlPlane> = Api::namespaced(kube.client.clone(), &kube.namespace);
        let list = api.list_metadata(&ListParams::default()).await.ok()?;
        Some(list.items.into_iter().filter_map(|o| o.metadata.name).collect())
    })
    .await
}

/// Namespace names; empty on any error (many users may not list namespaces).
async fn namespaces(target: &ClusterTarget) -> Vec<String> {
    bounded(async {
        let kube = crate::k8s::connect(target).await.ok()?;
        let api: Api<Namespace> = Api::all(kube.client.clone());
        let list = api.list_metadata(&ListParams::default()).await.ok()?;
        Some(list.items.into_iter().filter_map(|o| o.metadata.name).collect())
    })
    .await
}

/// Context names of the kubeconfig the line selects; empty when it cannot be read.
fn contexts(target: &ClusterTarget) -> Vec<String> {
    let config = match &target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    };
    config.map(|c| c.contexts.into_iter().map(|c| c.name).collect()).unwrap_or_default()
}

async fn bounded(fetch: impl Future<Output = Option<Vec<String>>>) -> Vec<String> {
    match tokio::time::timeout(LOOKUP_TIMEOUT + Duration::from_secs(1), fetch).await {
        Ok(Some(names)) => names,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Line {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        Line::parse(&command(), &words)
    }

    fn want_of(words: &[&str]) -> Want {
        want(&command(), &parse(words))
    }

    fn values(w: Want) -> Vec<String> {
        match w {
            Want::Static(items) => items.into_iter().map(|(v, _)| v).collect(),
            other => panic!("expected static candidates, got {other:?}"),
        }
    }

    #[test]
    fn first_word_offers_visible_subcommands_only() {
        let subs = values(want_of(&[""]));
        for s in ["status", "reconcile", "watch", "analyze", "completion", "version"] {
            assert!(subs.contains(&s.to_string()), "{s} missing from {subs:?}");
        }
        assert!(!subs.iter().any(|s| s == "__complete" || s == "crds"), "{subs:?}");
    }

    #[test]
    fn names_after_status_and_reconcile_but_not_after_a_name() {
        assert_eq!(want_of(&["status", ""]), Want::Names);
        assert_eq!(want_of(&["reconcile", "de"]), Want::Names);
        assert_eq!(want_of(&["reconcile", "demo", ""]), Want::Nothing);
        assert_eq!(want_of(&["watch", ""]), Want::Nothing);
    }

    #[test]
    fn namespace_flags_anywhere_are_read_and_skipped() {
        let line = parse(&["-n", "team-a", "status", ""]);
        assert_eq!(line.sub.as_deref(), Some("status"));
        assert_eq!(line.namespace.as_deref(), Some("team-a"));
        assert_eq!(line.positionals, 0);
        let line = parse(&["status", "--namespace=b", "--context", "kind", ""]);
        assert_eq!((line.namespace.as_deref(), line.context.as_deref()), (Some("b"), Some("kind")));
        assert_eq!(parse(&["status", "-nteam", ""]).namespace.as_deref(), Some("team"));
        assert_eq!(parse(&["-A", "status", ""]).sub.as_deref(), Some("status"));
        assert_eq!(want_of(&["-n", "x", "reconcile", ""]), Want::Names);
    }

    #[test]
    fn flag_values() {
        assert_eq!(values(want_of(&["status", "-o", ""])), ["table", "wide", "json", "yaml"]);
        assert_eq!(want_of(&["status", "-n", ""]), Want::Namespaces);
        assert_eq!(want_of(&["--context", "x"]), Want::Contexts);
        assert_eq!(want_of(&["--kubeconfig", ""]), Want::Files);
        assert_eq!(values(want_of(&["completion", ""])), ["bash", "zsh", "fish", "powershell"]);
        assert_eq!(want_of(&["analyze", "a.log", ""]), Want::Files);
        let line = parse(&["status", "--output=j"]);
        assert_eq!((line.prefix.as_str(), line.current.as_str()), ("--output=", "j"));
        let out = render(
            &values(want(&command(), &line)).into_iter().map(|v| (v, None)).collect::<Vec<_>>(),
            &line.prefix,
            &line.current,
            4,
        );
        assert_eq!(out, "--output=json\n:4\n");
    }

    #[test]
    fn flags_of_the_subcommand_include_globals() {
        let flags = values(want_of(&["reconcile", "--"]));
        for f in ["--force", "--dry-run", "--namespace", "--context", "--kubeconfig"] {
            assert!(flags.contains(&f.to_string()), "{f} missing from {flags:?}");
        }
        assert!(!flags.contains(&"--duration".to_string()), "watch flag offered for reconcile");
    }

    #[test]
    fn render_filters_by_prefix_and_ends_with_the_directive() {
        let c = vec![
            ("status".to_string(), Some("What it\tdecides\nmore".to_string())),
            ("watch".to_string(), None),
        ];
        assert_eq!(render(&c, "", "st", 4), "status\tWhat it decides\n:4\n");
        assert_eq!(render(&c, "", "zzz", 4), ":4\n");
        assert_eq!(render(&[], "", "", 0), ":0\n");
    }
}
