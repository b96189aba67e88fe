//! The shared fixtures in `tests/fixtures/states/` (used by the e2e tests, `watch` and the demo)
//! checked against the core: each state must plan to the phase and reason it claims.

use super::fixtures::{later, now};
use super::*;
use crate::model::find_condition;

fn load(state: &str) -> Snapshot {
    let path = format!("{}/tests/fixtures/states/{state}.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.replace("${NAME}", "demo").replace("${NAMESPACE}", "default");
    let mut snap = snapshot_from_yaml(&text, "default", "demo").unwrap_or_else(|e| panic!("{state}: {e}"));
    // The owner reference to the Cluster needs the server's uid; add it as a claimed object has it.
    if snap.cluster.is_some() && snap.control_plane.metadata.finalizers.is_some() {
        snap.control_plane.metadata.owner_references = Some(vec![
            serde_json::from_value(serde_json::json!({
                "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "name": "demo", "uid": "u",
                "controller": true, "blockOwnerDeletion": true
            }))
            .unwrap(),
        ]);
    }
    snap
}

#[test]
fn every_state_plans_as_documented() {
    // (state, phase, Ready reason, in sync, requeue seconds)
    let table: &[(&str, &str, &str, bool, u64)] = &[
        ("ready", "Ready", "Ready", true, 30),
        ("ready-no-kubeconfig", "Ready", "Ready", true, 30),
        ("creating", "Creating", "Creating", true, 5),
        ("creating-fresh", "Creating", "Creating", false, 5),
        ("workspace-error", "Failed", "WorkspaceError", false, 10),
        ("missing-cluster", "Creating", "Creating", false, 5),
        ("missing-template", "Failed", "WorkspaceTemplateNotFound", false, 10),
        ("ready-no-ca", "Failed", "SecretError", false, 10),
        ("hl2-empty-endpoint", "Failed", "EndpointError", false, 10),
        ("hl3-workspace-missing", "Failed", "WorkspaceStatusUpdateFailed", false, 10),
        ("hl4-workspace-missing-creating", "Failed", "WorkspaceStatusUpdateFailed", false, 10),
        ("hl5-creating-no-ca", "Creating", "Creating", true, 5),
        ("hl6-secret-endpoint-no-ca", "Failed", "SecretError", false, 10),
        ("endpoint-in-secret", "Ready", "Ready", false, 30),
        ("no-endpoint", "Creating", "Creating", false, 5),
        ("ready-scheme-host", "Ready", "Ready", false, 30),
    ];
    let dir = format!("{}/tests/fixtures/states", env!("CARGO_MANIFEST_DIR"));
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, table.len(), "every fixture in {dir} is in this table");
    for &(state, phase, reason, in_sync, secs) in table {
        let snap = load(state);
        let p = plan(&snap, now());
        let why: Vec<_> = p.writes.iter().map(|w| (&w.target, &w.fields)).collect();
        assert_eq!(p.status.phase.as_deref(), Some(phase), "{state}");
        let cond = find_condition(p.status.conditions.as_deref(), "Ready").unwrap();
        assert_eq!(cond.reason(), reason, "{state}");
        assert_eq!(p.in_sync(), in_sync, "{state}: {why:#?}");
        assert_eq!(p.requeue.after.map(|d| d.as_secs()), Some(secs), "{state}");
        let next = apply(&snap, &p);
        assert!(plan(&next, later()).writes.is_empty(), "{state}: not converged");
    }
}
