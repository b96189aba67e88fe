//! The core's inputs and outputs. These types are the contract between the pure core and the
//! commands that fetch snapshots and apply plans.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::SecretInfo;
use crate::model::{
    CaptControlPlane, CaptControlPlaneStatus, Cluster, Workspace, WorkspaceTemplate, WorkspaceTemplateApply,
};

/// Everything one reconcile pass reads. Any object may be absent.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub control_plane: CaptControlPlane,
    /// Cluster `<ns>/<cp>` (found by name, as upstream does).
    pub cluster: Option<Cluster>,
    /// WorkspaceTemplate `<ns>/<spec.workspaceTemplateRef.name>`.
    pub template: Option<WorkspaceTemplate>,
    /// `<cp>-eks-controlplane-apply` (or `spec.workspaceTemplateApplyName`).
    pub main_apply: Option<WorkspaceTemplateApply>,
    /// `<cp>-kubeconfig-apply`.
    pub kubeconfig_apply: Option<WorkspaceTemplateApply>,
    /// Whether WorkspaceTemplateApply `<cp>-vpc` exists (adds `waitForWorkspaces`).
    pub vpc_apply_exists: bool,
    /// The Workspace named by the main apply's `status.workspaceName`.
    pub workspace: Option<Workspace>,
    /// `<ns>/<cp>-eks-connection` (from the main apply's `writeConnectionSecretToRef`).
    pub connection_secret: Option<SecretInfo>,
    /// `<ns>/<cluster>-outputs-kubeconfig` (upstream hard-codes `default`; see
    /// docs/upstream-differences.md, B11).
    pub outputs_kubeconfig_secret: Option<SecretInfo>,
    /// `<ns>/<cluster>-kubeconfig`.
    pub kubeconfig_secret: Option<SecretInfo>,
    /// `<ns>/<cp>-ca`.
    pub ca_secret: Option<SecretInfo>,
    /// Inputs that could not be read (forbidden, server error): neither present nor absent.
    /// A pass that needs one of them is undetermined (see [`Plan::unreadable`]); one that
    /// decides before needing them is decided as usual.
    pub unreadable: Vec<Unreadable>,
    /// Secrets deliberately not read (yet): neither present nor absent. [`super::reads_wanted`]
    /// says which of them the pass would look at; a reader fetches those and asks again. Empty
    /// when everything was read.
    pub not_read: Vec<ObjectRef>,
}

/// An input of the pass that could not be read. This is the reader's blindness, not the
/// object's state: the controller may well be able to read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unreadable {
    pub target: ObjectRef,
    #[serde(flatten)]
    pub failure: ReadFailure,
}

/// Why an input could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "failure")]
pub enum ReadFailure {
    /// 403: the request `verb resource` (in the target's namespace) is not allowed.
    Forbidden { verb: String, resource: String },
    /// The API server answered with this HTTP status (5xx, 429, …).
    #[serde(rename_all = "camelCase")]
    ServerError { code: u16 },
    /// No usable answer (timeout, connection reset, an object that does not decode).
    Failed { detail: String },
    /// Not requested: the reader skipped it although the pass needs it (a reader's bug; the
    /// pass then decides nothing rather than guess).
    NotRead,
}

impl Unreadable {
    /// The RBAC rule that would allow the read: `get secrets in namespace "team-a"`.
    pub fn rbac(&self) -> Option<String> {
        let ReadFailure::Forbidden { verb, resource } = &self.failure else { return None };
        Some(match &self.target.namespace {
            Some(ns) => format!("{verb} {resource} in namespace {ns:?}"),
            None => format!("{verb} {resource} (cluster-wide)"),
        })
    }

    /// `forbidden (403): needs get secrets in namespace "team-a"`, `the API server answered 503`.
    pub fn why(&self) -> String {
        match &self.failure {
            ReadFailure::Forbidden { .. } => {
                format!("forbidden (403): needs {}", self.rbac().unwrap_or_default())
            }
            ReadFailure::ServerError { code } => format!("the API server answered {code}"),
            ReadFailure::Failed { detail } => detail.clone(),
            ReadFailure::NotRead => "not read".into(),
        }
    }
}

/// Which object a write or finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Kind as the API names it: `CAPTControlPlane`, `Cluster`, `WorkspaceTemplateApply`,
    /// `Workspace`, `Secret`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef { kind: kind.into(), namespace: namespace.map(Into::into), name: name.into() }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// How a write is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    /// POST a new object (`body` is the whole object).
    Create,
    /// JSON merge patch of metadata/spec (`body` is the patch).
    Patch,
    /// JSON merge patch of the status subresource (`body` is the patch).
    PatchStatus,
    /// DELETE the object (`body` is `null`); used only on the deletion path.
    Delete,
}

/// One changed field, for display and drift. Secret values never appear: for Secret data the
/// `stored`/`desired` values are the string `"<redacted>"` (or absent).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDiff {
    /// Dotted path, e.g. `status.conditions[Ready].reason`, `spec.controlPlaneEndpoint.host`.
    pub path: String,
    pub stored: Option<Value>,
    pub desired: Option<Value>,
}

/// What a write sends.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteBody {
    /// A JSON object or merge patch with no Secret data in it.
    Json(Value),
    /// A Secret create or data/labels patch. `object` holds everything but the data (metadata,
    /// type); `data` is merged in only by the layer that sends it.
    Secret { object: Value, data: BTreeMap<String, super::SecretBytes> },
}

/// One write a pass makes: the minimal difference from what exists.
///
/// A plan can hold two writes to one object (CAPTControlPlane metadata/spec then status;
/// Cluster spec then status). Both carry the snapshot's resourceVersion: the sender checks the
/// first against it and uses the version the first write returned for the second.
///
/// The kubeconfig WorkspaceTemplateApply's `spec.variables` carry `cluster_endpoint` and
/// `cluster_certificate_authority_data` copied from the connection Secret (upstream does the
/// same), so never print a WorkspaceTemplateApply body; print `fields`, which are redacted.
#[derive(Clone, Debug, PartialEq)]
pub struct Write {
    pub target: ObjectRef,
    pub operation: Operation,
    pub body: WriteBody,
    /// `metadata.resourceVersion` of the object the plan was computed from (optimistic
    /// concurrency); `None` for creates.
    pub resource_version: Option<String>,
    pub fields: Vec<FieldDiff>,
}

/// The three phases the controller writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Phase {
    Creating,
    Ready,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Creating => "Creating",
            Phase::Ready => "Ready",
            Phase::Failed => "Failed",
        }
    }
}

/// Why the pass ended the way it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Everything is ready (30 s).
    Ready,
    /// A transient wait: no status write for the wait itself (5 s).
    Waiting,
    /// A serious error: Failed status (10 s).
    Serious,
    /// The object is being deleted and nothing is left to wait for: no requeue.
    Done,
    /// Something the decision depends on could not be read: no decision, no requeue.
    Undetermined,
}

/// When the controller would look again, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requeue {
    #[serde(serialize_with = "ser_secs")]
    pub after: Option<Duration>,
    pub outcome: Outcome,
    /// Human text, e.g. "ready", "waiting for connection secret default/demo-eks-connection".
    pub reason: String,
}

fn ser_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// A human-readable finding: why not ready, what is missing, what looks wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanFinding {
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    pub message: String,
}

/// Everything one pass would decide.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The CAPTControlPlane status the pass ends with (one decision per pass).
    pub status: CaptControlPlaneStatus,
    pub phase: Option<Phase>,
    /// Every write, in the order they are sent.
    pub writes: Vec<Write>,
    pub requeue: Requeue,
    pub findings: Vec<PlanFinding>,
    /// What the decision needed and could not read. Non-empty: the decision is undetermined
    /// (no phase, no writes, no requeue; `status` is the stored one).
    pub unreadable: Vec<Unreadable>,
}

impl Plan {
    /// Whether the pass would change nothing.
    pub fn in_sync(&self) -> bool {
        self.writes.is_empty()
    }
    /// Whether the pass could decide (it read everything its decision depends on).
    pub fn determined(&self) -> bool {
        self.unreadable.is_empty()
    }
}

/// How writes are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendMode {
    Apply,
    ClientDryRun,
    ServerDryRun,
}

impl SendMode {
    pub fn name(self) -> &'static str {
        match self {
            SendMode::Apply => "apply",
            SendMode::ClientDryRun => "client-dry-run",
            SendMode::ServerDryRun => "server-dry-run",
        }
    }
}
