//! The deletion path (spec §2.8, CAPTEP-0019/0041): clear the Cluster's endpoint, delete the
//! main apply and wait for its Workspace to go, then delete the kubeconfig apply and drop the
//! finalizer. Waiting is a plain 5 s requeue, not error back-off (upstream B10).

use serde_json::{Value, json};

use super::names::Names;
use super::writes::patch;
use super::{
    FieldDiff, ObjectRef, Operation, Outcome, Phase, Plan, PlanFinding, Requeue, Severity, Snapshot, Write,
    WriteBody,
};
use crate::model::{ApiEndpoint, CP_FINALIZER, INIT_INTERVAL, WorkspaceTemplateApply};

fn phase_of(snap: &Snapshot) -> Option<Phase> {
    match snap.control_plane.status.as_ref()?.phase.as_deref()? {
        "Ready" => Some(Phase::Ready),
        "Failed" => Some(Phase::Failed),
        "Creating" => Some(Phase::Creating),
        _ => None,
    }
}

fn delete(names: &Names, wta: &WorkspaceTemplateApply, name: &str) -> Option<Write> {
    if wta.metadata.deletion_timestamp.is_some() {
        return None;
    }
    Some(Write {
        target: ObjectRef::new("WorkspaceTemplateApply", Some(&names.namespace), name),
        operation: Operation::Delete,
        body: WriteBody::Json(Value::Null),
        resource_version: wta.metadata.resource_version.clone(),
        fields: vec![FieldDiff { path: "metadata".into(), stored: Some(json!("present")), desired: None }],
    })
}

pub fn plan(snap: &Snapshot, names: &Names) -> Plan {
    let cp = &snap.control_plane;
    let status = cp.status.clone().unwrap_or_default();
    let cp_ref = ObjectRef::new("CAPTControlPlane", Some(&names.namespace), &names.cp);
    let mut findings = Vec::new();
    let done = |writes: Vec<Write>, findings: Vec<PlanFinding>, reason: &str| Plan {
        status: status.clone(),
        phase: phase_of(snap),
        writes,
        requeue: Requeue { after: None, outcome: Outcome::Done, reason: reason.into() },
        findings,
        unreadable: Vec::new(),
    };
    let finalizers = cp.metadata.finalizers.clone().unwrap_or_default();
    if !finalizers.iter().any(|f| f == CP_FINALIZER) {
        return done(Vec::new(), findings, "deleted: no finalizer left, nothing to clean up");
    }
    // Every step below depends on what was read, Secrets excepted (deletion reads none): an
    // unreadable input leaves it undetermined.
    if let Some(u) = snap.unreadable.iter().find(|u| u.target.kind != "Secret") {
        return super::pass::undetermined(snap, names, u.clone());
    }

    let mut writes = Vec::new();
    if let Some(cluster) = &snap.cluster {
        let doc = |e: Option<&ApiEndpoint>| json!({ "spec": { "controlPlaneEndpoint": e } });
        writes.extend(patch(
            ObjectRef::new("Cluster", Some(&names.namespace), &names.cp),
            Operation::Patch,
            &doc(cluster.spec.control_plane_endpoint.as_ref()),
            &doc(Some(&ApiEndpoint::default())),
            cluster.metadata.resource_version.clone(),
        ));
    }
    if let Some(wta) = &snap.main_apply {
        writes.extend(delete(names, wta, &names.main_apply));
        if let (Some(ws), Some(_)) = (wta.workspace_name(), &snap.workspace) {
            findings.push(PlanFinding {
                severity: Severity::Info,
                object: Some(cp_ref),
                message: format!(
                    "deleting: Workspace {ws} still exists; the finalizer stays until it is gone"
                ),
            });
            return Plan {
                status,
                phase: phase_of(snap),
                writes,
                requeue: Requeue {
                    after: Some(INIT_INTERVAL),
                    outcome: Outcome::Waiting,
                    reason: format!("deleting: waiting for Workspace {ws} to be deleted"),
                },
                findings,
                unreadable: Vec::new(),
            };
        }
    }
    if let Some(wta) = &snap.kubeconfig_apply {
        writes.extend(delete(names, wta, &names.kubeconfig_apply));
    }
    let remaining: Vec<String> = finalizers.into_iter().filter(|f| f != CP_FINALIZER).collect();
    writes.extend(patch(
        cp_ref,
        Operation::Patch,
        &json!({ "metadata": { "finalizers": cp.metadata.finalizers } }),
        &json!({ "metadata": { "finalizers": remaining } }),
        cp.metadata.resource_version.clone(),
    ));
    done(writes, findings, "deleted: finalizer removed")
}
