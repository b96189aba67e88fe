//! Shell completion from the clap grammar, without I/O: what to offer for the words typed
//! after `kubectl capt` (`__complete`, kubectl's cobra protocol) and the static scripts of
//! `completion SHELL`. The grammar is passed in (`crate::settings::grammar`); looking up
//! names on the cluster is the command's job.

use clap::builder::ValueHint;
use clap_complete::Shell as ClapShell;

/// Cobra's ShellCompDirective values kubectl understands: let the shell complete files, or not.
const FILES: u8 = 0;
const NO_FILE: u8 = 4;

/// The shells `completion` writes scripts for (a clap value enum, like `-o`'s formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// The scripts complete the binary's own name (`kubectl capt <TAB>` goes through kubectl and
/// `kubectl_complete-capt` instead).
const BIN: &str = "kubectl-capt";

/// The completion script for `shell`, for the binary `kubectl-capt`.
pub fn script(grammar: &mut clap::Command, shell: Shell) -> String {
    let generator = match shell {
        Shell::Bash => ClapShell::Bash,
        Shell::Zsh => ClapShell::Zsh,
        Shell::Fish => ClapShell::Fish,
        Shell::Powershell => ClapShell::PowerShell,
    };
    let mut buf = Vec::new();
    clap_complete::generate(generator, grammar, BIN, &mut buf);
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

/// What the words typed so far say.
#[derive(Debug, Default, PartialEq)]
pub struct TypedLine {
    /// The subcommand, once one was typed.
    pub sub: Option<String>,
    /// Positional arguments typed after the subcommand.
    pub positionals: usize,
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// The flag (clap id) whose value is being typed, if any.
    pub value_of: Option<String>,
    /// Text before the part being completed (`--output=` in `--output=js`).
    pub prefix: String,
    /// The part being completed.
    pub current: String,
}

impl TypedLine {
    pub fn parse(root: &clap::Command, words: &[String]) -> TypedLine {
        let mut line = TypedLine::default();
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
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values()
}

/// What to offer for the word being completed.
#[derive(Debug, PartialEq)]
pub enum Offer {
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

impl Offer {
    pub fn directive(&self) -> u8 {
        match self {
            Offer::Files => FILES,
            _ => NO_FILE,
        }
    }
}

pub fn offer(root: &clap::Command, line: &TypedLine) -> Offer {
    let scope = line.scope(root);
    if let Some(id) = &line.value_of {
        return match scope.get_arguments().find(|a| a.get_id() == id.as_str()) {
            Some(arg) => value_of(arg),
            None => Offer::Nothing,
        };
    }
    if line.current.starts_with('-') {
        return Offer::Static(flags(scope, &line.current));
    }
    let Some(sub) = &line.sub else {
        let subs = root
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| (s.get_name().to_string(), s.get_about().map(|a| a.to_string())))
            .collect();
        return Offer::Static(subs);
    };
    let Some(arg) = scope.get_positionals().nth(line.positionals).or_else(|| {
        // A repeatable positional (analyze FILE...) keeps completing.
        scope.get_positionals().last().filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
    }) else {
        return Offer::Nothing;
    };
    if arg.get_id() == "name" && matches!(sub.as_str(), "status" | "reconcile") {
        return Offer::Names;
    }
    value_of(arg)
}

fn value_of(arg: &clap::Arg) -> Offer {
    let values: Vec<_> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| (v.get_name().to_string(), v.get_help().map(|h| h.to_string())))
        .collect();
    if !values.is_empty() {
        return Offer::Static(values);
    }
    match arg.get_id().as_str() {
        "namespace" => Offer::Namespaces,
        "context" => Offer::Contexts,
        _ if is_path(arg) => Offer::Files,
        _ => Offer::Nothing,
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
pub fn protocol_text(
    candidates: &[(String, Option<String>)],
    prefix: &str,
    current: &str,
    directive: u8,
) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> clap::Command {
        let mut cmd = crate::settings::grammar();
        cmd.build();
        cmd
    }

    fn parse(words: &[&str]) -> TypedLine {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        TypedLine::parse(&command(), &words)
    }

    fn offer_of(words: &[&str]) -> Offer {
        offer(&command(), &parse(words))
    }

    fn values(w: Offer) -> Vec<String> {
        match w {
            Offer::Static(items) => items.into_iter().map(|(v, _)| v).collect(),
            other => panic!("expected static candidates, got {other:?}"),
        }
    }

    #[test]
    fn first_word_offers_visible_subcommands_only() {
        let subs = values(offer_of(&[""]));
        for s in ["status", "reconcile", "watch", "analyze", "completion", "version"] {
            assert!(subs.contains(&s.to_string()), "{s} missing from {subs:?}");
        }
        assert!(!subs.iter().any(|s| s == "__complete" || s == "crds"), "{subs:?}");
    }

    #[test]
    fn names_after_status_and_reconcile_but_not_after_a_name() {
        assert_eq!(offer_of(&["status", ""]), Offer::Names);
        assert_eq!(offer_of(&["reconcile", "de"]), Offer::Names);
        assert_eq!(offer_of(&["reconcile", "demo", ""]), Offer::Nothing);
        assert_eq!(offer_of(&["watch", ""]), Offer::Nothing);
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
        assert_eq!(offer_of(&["-n", "x", "reconcile", ""]), Offer::Names);
    }

    #[test]
    fn flag_values() {
        assert_eq!(values(offer_of(&["status", "-o", ""])), ["table", "wide", "json", "yaml"]);
        assert_eq!(offer_of(&["status", "-n", ""]), Offer::Namespaces);
        assert_eq!(offer_of(&["--context", "x"]), Offer::Contexts);
        assert_eq!(offer_of(&["--kubeconfig", ""]), Offer::Files);
        assert_eq!(values(offer_of(&["completion", ""])), ["bash", "zsh", "fish", "powershell"]);
        assert_eq!(offer_of(&["analyze", "a.log", ""]), Offer::Files);
        let line = parse(&["status", "--output=j"]);
        assert_eq!((line.prefix.as_str(), line.current.as_str()), ("--output=", "j"));
        let out = protocol_text(
            &values(offer(&command(), &line)).into_iter().map(|v| (v, None)).collect::<Vec<_>>(),
            &line.prefix,
            &line.current,
            4,
        );
        assert_eq!(out, "--output=json\n:4\n");
    }

    #[test]
    fn flags_of_the_subcommand_include_globals() {
        let flags = values(offer_of(&["reconcile", "--"]));
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
        assert_eq!(protocol_text(&c, "", "st", 4), "status\tWhat it decides\n:4\n");
        assert_eq!(protocol_text(&c, "", "zzz", 4), ":4\n");
        assert_eq!(protocol_text(&[], "", "", 0), ":0\n");
    }
}
