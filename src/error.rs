//! The errors a command can end with, their one-line hints, and the exit codes `main` maps
//! them to. Nothing else in the crate decides an exit code.

use std::process::ExitCode;

use crate::sanitize::sanitize;

/// How a command ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done.
    Ok,
    /// 3: the command worked and found something: a hot loop, a failed check.
    Findings,
    /// 130: interrupted by Ctrl-C after cleaning up.
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Findings => 3,
            ExitStatus::Interrupted => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s.code())
    }
}

/// Exit code for errors.
pub const EXIT_ERROR: u8 = 1;
/// Exit code for usage errors (clap's own convention).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the outcome could not be observed (`reconcile --nudge` with no source that
/// shows a pass that writes nothing).
pub const EXIT_UNOBSERVABLE: u8 = 4;

/// A failure a user can act on. Each variant's message is one line; [`Error::hint`] adds the
/// next step for the common cases.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot reach the API server at {server}: {detail}")]
    Unreachable { server: String, detail: String },
    #[error(
        "unauthorized (401): the API server at {server} did not accept the credentials of context {context:?}"
    )]
    Unauthorized { server: String, context: String },
    #[error("forbidden (403): cannot {verb} {resource}{}", in_namespace(namespace.as_deref()))]
    Forbidden { verb: String, resource: String, namespace: Option<String> },
    #[error("the CRD {crd} is not installed on this cluster")]
    CrdMissing { crd: String },
    #[error("{kind} {name:?} not found{}", in_namespace(namespace.as_deref()))]
    NotFound { kind: String, name: String, namespace: Option<String> },
    #[error(
        "conflict: {kind} {name:?} kept changing under us (gave up after {attempts} conflicting attempt(s)); nothing more was written"
    )]
    ConflictExhausted { kind: String, name: String, attempts: u32 },
    #[error("another writer is active on {object} ({writers}); {}", written_so_far(*made))]
    OtherWriter { object: String, writers: String, made: usize },
    #[error("cannot tell whether {object} is ready: the decision needs {input}")]
    Undetermined { object: String, input: String, can_i: Option<String> },
    #[error("no object source could be watched: {0}")]
    NothingWatched(String),
    #[error("kubeconfig: {0}")]
    Config(String),
    #[error("{0}")]
    Usage(String),
    #[error("timed out: {0}")]
    Timeout(String),
    /// `reconcile --nudge` saw no write and had no log or metrics to show a pass by.
    #[error("not observable: {0}")]
    Unobservable(String),
    #[error("interrupted")]
    Interrupted,
    #[error("{context}: the API server said {code} {reason}: {message}")]
    Api { context: String, code: u16, reason: String, message: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    /// A failure with no variant of its own, as one line of text.
    pub fn other(message: impl std::fmt::Display) -> Self {
        Error::Other(anyhow::anyhow!("{message}"))
    }
}

fn written_so_far(made: usize) -> String {
    match made {
        0 => "nothing was written".into(),
        n => format!("stopped after {n} write(s) of this pass; nothing more was written"),
    }
}

fn in_namespace(ns: Option<&str>) -> String {
    match ns {
        Some(ns) if !ns.is_empty() => format!(" in namespace {ns:?}"),
        _ => String::new(),
    }
}

impl Error {
    /// The exit code `main` uses for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Unobservable(_) => EXIT_UNOBSERVABLE,
            Error::Interrupted => ExitStatus::Interrupted.code(),
            _ => EXIT_ERROR,
        }
    }

    /// The message (one line) and hint as printed to a terminal: server text in them (API error
    /// messages, names) has its control characters escaped.
    pub fn terminal_text(&self) -> (String, Option<String>) {
        let hint = self.hint().map(|h| h.split('\n').map(sanitize).collect::<Vec<_>>().join("\n"));
        (sanitize(&self.to_string()), hint)
    }

    /// One line of advice for the common cases.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Unreachable { .. } => Some(
                "check the context (--context) and that the cluster is up: kubectl cluster-info".into(),
            ),
            Error::Unauthorized { .. } => {
                Some("re-authenticate (your token or certificate may have expired), then try kubectl cluster-info".into())
            }
            Error::Forbidden { verb, resource, namespace } => Some(format!(
                "ask for RBAC: kubectl auth can-i {verb} {resource}{} (README lists what each command needs)",
                namespace.as_deref().map(|n| format!(" -n {n}")).unwrap_or_default()
            )),
            Error::CrdMissing { .. } => {
                Some("is CAPT installed on this cluster? try another context with --context".into())
            }
            Error::NotFound { namespace: Some(_), .. } => {
                Some("list what exists with: kubectl capt status -A".into())
            }
            Error::ConflictExhausted { .. } => {
                Some("another writer is changing the object; see kubectl capt watch, or retry with --max-conflict-retries".into())
            }
            Error::NothingWatched(_) => Some(
                "check the kinds are served (kubectl api-resources) and RBAC: kubectl auth can-i list,watch RESOURCE (README lists what each command needs)".into(),
            ),
            Error::Unobservable(_) => Some(
                "pass the controller's log (--controller-logs FILE) or metrics (--metrics-url URL) to see a pass that writes nothing".into(),
            ),
            Error::Undetermined { can_i: Some(can_i), .. } => Some(format!(
                "ask for RBAC: kubectl auth can-i {can_i} (README lists what each command needs)"
            )),
            Error::OtherWriter { .. } => Some(
                "stop the controller, or use --nudge to make it reconcile; --force writes anyway".into(),
            ),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_escapes_server_text() {
        let e = Error::Api {
            context: "get x".into(),
            code: 500,
            reason: "InternalError".into(),
            message: "boom\x1b[2J\x07 and\nmore".into(),
        };
        let (text, _) = e.terminal_text();
        assert_eq!(text, "get x: the API server said 500 InternalError: boom\\u{1b}[2J\\u{7} and\\nmore");
    }

    #[test]
    fn forbidden_names_verb_and_resource() {
        let e = Error::Forbidden {
            verb: "patch".into(),
            resource: "captcontrolplanes.controlplane.cluster.x-k8s.io/status".into(),
            namespace: Some("team-a".into()),
        };
        assert_eq!(
            e.to_string(),
            "forbidden (403): cannot patch captcontrolplanes.controlplane.cluster.x-k8s.io/status in namespace \"team-a\""
        );
        assert!(e.hint().unwrap().contains("kubectl auth can-i patch"));
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::Interrupted.exit_code(), 130);
        assert_eq!(ExitStatus::Findings.code(), 3);
        assert_eq!(Error::Unobservable("x".into()).exit_code(), 4);
    }
}
