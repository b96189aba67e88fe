//! The `status` view of one CAPTControlPlane: its object tree, the decided status, the drift
//! between what is stored and what one pass would write, the requeue and the findings. Built
//! from a snapshot and its plan; serialises to the stable `-o json|yaml` document.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use super::{Names, ObjectRef, Operation, Plan, PlanFinding, ReadFailure, SecretInfo, Snapshot, Unreadable};
use crate::model::{Condition, find_condition};

/// One object in the tree.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// `present`, `missing`, `unreadable` or `notRead` (a Secret the decision does not need,
    /// so it was not fetched: neither present nor missing as far as this report knows).
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// The key condition, e.g. `Ready=True (Available)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<i64>,
    /// Secrets: key names only, never values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

/// One field that a pass would change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub object: ObjectRef,
    pub operation: Operation,
    pub path: String,
    pub stored: Option<Value>,
    pub desired: Option<Value>,
}

/// What is stored now, for comparison with the decision.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub phase: Option<String>,
    pub ready: bool,
    pub reason: Option<String>,
}

/// An input that could not be read, as the `status` document shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadableInput {
    pub object: ObjectRef,
    #[serde(flatten)]
    pub failure: ReadFailure,
    /// The RBAC rule that would allow the read (403 only): `get secrets in namespace "team-a"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rbac: Option<String>,
    /// Whether the decision needed it (then the decision is undetermined).
    pub needed: bool,
}

/// [`Node::state`] of a Secret that was not read.
pub const NOT_READ: &str = "notRead";

/// The phase shown when the decision is undetermined.
pub const UNKNOWN_PHASE: &str = "Unknown";

/// The `status` document for one CAPTControlPlane.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub namespace: String,
    pub name: String,
    /// The phase one pass decides now; `Unknown` when undetermined.
    pub phase: Option<String>,
    /// False when something the decision depends on could not be read: then the phase is
    /// `Unknown`, there is no requeue, no drift and no decided condition, and `unreadable`
    /// says what to ask for.
    pub determined: bool,
    /// Every input that could not be read.
    pub unreadable: Vec<UnreadableInput>,
    pub ready: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub stored: Stored,
    pub endpoint: Option<String>,
    pub secrets_ready: bool,
    pub requeue_after_seconds: Option<u64>,
    pub requeue_reason: String,
    /// `30s: ready`.
    pub requeue: String,
    pub outcome: super::Outcome,
    pub conditions: Vec<Condition>,
    /// `null` when undetermined.
    pub in_sync: Option<bool>,
    pub drift: Vec<Drift>,
    pub tree: Node,
    pub findings: Vec<PlanFinding>,
    pub age_seconds: Option<i64>,
}

fn age(meta: &ObjectMeta, now: DateTime<Utc>) -> Option<i64> {
    meta.creation_timestamp.as_ref().map(|t| now.timestamp() - t.0.as_second())
}

fn age_text(raw: Option<&str>, now: DateTime<Utc>) -> Option<i64> {
    DateTime::parse_from_rfc3339(raw?).ok().map(|t| now.timestamp() - t.timestamp())
}

fn cond_text(c: Option<&Condition>) -> (Option<bool>, Option<String>) {
    match c {
        None => (None, None),
        Some(c) => {
            let reason = if c.reason().is_empty() { String::new() } else { format!(" ({})", c.reason()) };
            (Some(c.is_true()), Some(format!("{}={}{}", c.type_, c.status, reason)))
        }
    }
}

struct Builder<'a> {
    now: DateTime<Utc>,
    errors: &'a [Unreadable],
    not_read: &'a [ObjectRef],
}

impl Builder<'_> {
    fn node(&self, kind: &str, namespace: Option<&str>, name: &str) -> Node {
        let target = ObjectRef::new(kind, namespace, name);
        let unreadable = self.errors.iter().find(|e| e.target == target);
        let not_read = self.not_read.contains(&target);
        let (state, detail) = match unreadable {
            Some(u) => ("unreadable", Some(u.why())),
            None if not_read => (NOT_READ, Some("not read: the decision does not need it".to_string())),
            None => ("missing", None),
        };
        Node {
            kind: kind.into(),
            namespace: namespace.map(str::to_string),
            name: name.into(),
            state: state.into(),
            ready: None,
            condition: None,
            age_seconds: None,
            keys: None,
            detail,
            children: Vec::new(),
        }
    }

    fn present(&self, mut n: Node, meta: &ObjectMeta, cond: Option<&Condition>) -> Node {
        n.state = "present".into();
        (n.ready, n.condition) = cond_text(cond);
        n.age_seconds = age(meta, self.now);
        if meta.deletion_timestamp.is_some() {
            n.detail = Some("deleting".into());
        }
        n
    }

    fn secret(&self, namespace: &str, name: &str, s: Option<&SecretInfo>) -> Node {
        let n = self.node("Secret", Some(namespace), name);
        match s {
            None => n,
            Some(s) => Node {
                state: "present".into(),
                keys: Some(s.keys()),
                age_seconds: age_text(s.creation_timestamp.as_deref(), self.now),
                ..n
            },
        }
    }
}

fn tree(snap: &Snapshot, names: &Names, now: DateTime<Utc>) -> Node {
    let b = Builder { now, errors: &snap.unreadable, not_read: &snap.not_read };
    let ns = names.namespace.as_str();
    let cp = &snap.control_plane;
    let cp_status = cp.status.as_ref();

    let mut cp_node = b.present(
        b.node("CAPTControlPlane", Some(ns), &names.cp),
        &cp.metadata,
        find_condition(cp_status.and_then(|s| s.conditions.as_deref()), "Ready"),
    );
    if cp_node.detail.is_none() {
        cp_node.detail = cp_status.and_then(|s| s.phase.clone()).map(|p| format!("phase {p}"));
    }

    let tref = &cp.spec.workspace_template_ref;
    let tns = names.template_namespace(tref);
    let mut template = b.node("WorkspaceTemplate", Some(&tns), &tref.name);
    if let Some(t) = &snap.template {
        template = b.present(template, &t.metadata, None);
    }

    let mut main = b.node("WorkspaceTemplateApply", Some(ns), &names.main_apply);
    if let Some(a) = &snap.main_apply {
        main = b.present(main, &a.metadata, a.ready_condition());
        let conn = b.secret(ns, &names.connection_secret, snap.connection_secret.as_ref());
        match a.workspace_name() {
            Some(ws_name) => {
                let mut ws = b.node("Workspace", None, ws_name);
                if let Some(w) = &snap.workspace {
                    ws = b.present(ws, &w.metadata, w.ready_condition());
                }
                ws.children.push(conn);
                main.children.push(ws);
            }
            None => {
                main.detail = Some("no Workspace yet".into());
                main.children.push(conn);
            }
        }
    }
    let mut kubeconfig = b.node("WorkspaceTemplateApply", Some(ns), &names.kubeconfig_apply);
    if let Some(a) = &snap.kubeconfig_apply {
        kubeconfig = b.present(kubeconfig, &a.metadata, a.ready_condition());
    }
    kubeconfig.children.push(b.secret(
        ns,
        &names.outputs_kubeconfig_secret,
        snap.outputs_kubeconfig_secret.as_ref(),
    ));

    cp_node.children = vec![
        template,
        main,
        kubeconfig,
        b.secret(ns, &names.ca_secret, snap.ca_secret.as_ref()),
        b.secret(ns, &names.kubeconfig_secret, snap.kubeconfig_secret.as_ref()),
    ];

    let mut cluster = b.node("Cluster", Some(ns), &names.cp);
    if let Some(c) = &snap.cluster {
        let st = c.status.as_ref();
        cluster = b.present(
            cluster,
            &c.metadata,
            find_condition(st.and_then(|s| s.conditions.as_deref()), "ControlPlaneInitialized"),
        );
        cluster.ready = st.and_then(|s| s.control_plane_ready).or(Some(false));
        cluster.detail = st.and_then(|s| s.phase.clone()).map(|p| format!("phase {p}"));
    }
    cluster.children.push(cp_node);
    cluster
}

/// The report for one snapshot and its plan.
pub fn report(snap: &Snapshot, plan: &Plan, now: DateTime<Utc>) -> Report {
    let names = Names::of(&snap.control_plane);
    let cp = &snap.control_plane;
    let stored_status = cp.status.clone().unwrap_or_default();
    let stored_cond = find_condition(stored_status.conditions.as_deref(), "Ready");
    let cond = find_condition(plan.status.conditions.as_deref(), "Ready");
    let drift = plan
        .writes
        .iter()
        .flat_map(|w| {
            w.fields.iter().map(|f| Drift {
                object: w.target.clone(),
                operation: w.operation,
                path: f.path.clone(),
                stored: f.stored.clone(),
                desired: f.desired.clone(),
            })
        })
        .collect();
    let endpoint = cp
        .spec
        .control_plane_endpoint
        .as_ref()
        .filter(|e| !e.is_zero())
        .map(|e| format!("{}:{}", e.host, e.port));
    let deleting = cp.metadata.deletion_timestamp.is_some();
    let determined = plan.determined();
    // Undetermined: the plan's status is the stored one, which is not a decision.
    let cond = cond.filter(|_| determined);
    let unreadable = snap
        .unreadable
        .iter()
        .map(|u| UnreadableInput {
            object: u.target.clone(),
            failure: u.failure.clone(),
            rbac: u.rbac(),
            needed: plan.unreadable.contains(u),
        })
        .collect();
    Report {
        namespace: names.namespace.clone(),
        name: names.cp.clone(),
        phase: if !determined {
            Some(UNKNOWN_PHASE.into())
        } else if deleting {
            Some("Deleting".into())
        } else {
            plan.status.phase.clone()
        },
        determined,
        unreadable,
        ready: determined && plan.status.ready.unwrap_or(false) && !deleting,
        reason: cond.map(|c| c.reason().to_string()),
        message: cond.map(|c| c.message().to_string()),
        stored: Stored {
            phase: stored_status.phase.clone(),
            ready: stored_status.ready.unwrap_or(false),
            reason: stored_cond.map(|c| c.reason().to_string()),
        },
        endpoint,
        secrets_ready: determined && plan.status.secrets_ready.unwrap_or(false),
        requeue_after_seconds: plan.requeue.after.map(|d| d.as_secs()),
        requeue_reason: plan.requeue.reason.clone(),
        requeue: plan.requeue.display(),
        outcome: plan.requeue.outcome,
        conditions: if determined { plan.status.conditions.clone().unwrap_or_default() } else { Vec::new() },
        in_sync: determined.then(|| plan.in_sync()),
        drift,
        tree: tree(snap, &names, now),
        findings: plan.findings.clone(),
        age_seconds: age(&cp.metadata, now),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{Snapshot, plan};
    use super::*;

    #[test]
    fn ready_report_is_in_sync_and_lists_key_names_only() {
        let snap = ready();
        let r = report(&snap, &plan(&snap, now()), now());
        assert!(r.in_sync == Some(true) && r.ready && r.drift.is_empty() && r.determined);
        assert_eq!(r.requeue, "30s: ready");
        assert_eq!(r.endpoint.as_deref(), Some("abc.gr7.ap-northeast-1.eks.amazonaws.com:443"));
        assert_eq!(r.tree.kind, "Cluster");
        let cp = &r.tree.children[0];
        assert_eq!(cp.kind, "CAPTControlPlane");
        let conn = &cp.children[1].children[0].children[0];
        assert_eq!(conn.name, "demo-eks-connection");
        assert_eq!(conn.keys.as_deref().unwrap(), ["cluster_certificate_authority_data", "cluster_endpoint"]);
        let json = serde_json::to_string(&r).unwrap();
        for secret in [CA_B64, KUBECONFIG.trim_end(), "TEST-CA"] {
            assert!(!json.contains(secret), "{secret}");
        }
    }

    #[test]
    fn drift_lists_each_field_and_missing_objects_show() {
        let snap = Snapshot { control_plane: fresh_cp(), ..Snapshot::default() };
        let r = report(&snap, &plan(&snap, now()), now());
        assert_eq!(r.in_sync, Some(false));
        assert_eq!(r.tree.state, "missing");
        assert!(r.drift.iter().any(|d| d.path == "metadata.finalizers"));
        assert!(
            r.drift
                .iter()
                .any(|d| d.path == "status.phase" && d.desired == Some(serde_json::json!("Creating")))
        );
        assert_eq!(r.requeue_after_seconds, Some(5));
    }
}
