//! Builder fixtures for the core's unit tests: spec §5's common fixture (namespace `default`,
//! CAPTControlPlane `demo`), built from JSON so each reads like the object it stands for.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::{SecretBytes, SecretInfo, Snapshot};
use crate::model::{CaptControlPlane, Cluster, Workspace, WorkspaceTemplate, WorkspaceTemplateApply};

pub const URL: &str = "https://abc.gr7.ap-northeast-1.eks.amazonaws.com";
pub const HOST: &str = "abc.gr7.ap-northeast-1.eks.amazonaws.com";
/// base64 of a PEM, as EKS returns it; recognisable test bytes.
pub const CA_B64: &str =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClRFU1QtQ0EtREFUQQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==";
pub const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\n# TEST-KUBECONFIG-TOKEN-1\n";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 22, 5, 0, 0).unwrap()
}
pub fn later() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 22, 5, 0, 7).unwrap()
}

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture parses")
}

/// A CAPTControlPlane the controller has already claimed (finalizer, owner ref, apply name).
pub fn cp() -> CaptControlPlane {
    from(json!({
        "metadata": {
            "name": "demo", "namespace": "default", "uid": "cp-uid", "resourceVersion": "100", "generation": 1,
            "creationTimestamp": "2024-11-22T04:00:00Z",
            "finalizers": ["controlplane.cluster.x-k8s.io/captcontrolplane"],
            "ownerReferences": [{"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "name": "demo",
                                  "uid": "cluster-uid", "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {
            "version": "1.31",
            "workspaceTemplateRef": {"name": "eks-controlplane-template", "namespace": "default"},
            "controlPlaneConfig": {"region": "ap-northeast-1", "endpointAccess": {"public": true, "private": true}},
            "additionalTags": {"Environment": "dev"},
            "workspaceTemplateApplyName": "demo-eks-controlplane-apply",
        },
    }))
}

/// A CAPTControlPlane as a user creates it.
pub fn fresh_cp() -> CaptControlPlane {
    let mut c = cp();
    c.metadata.finalizers = None;
    c.metadata.owner_references = None;
    c.spec.workspace_template_apply_name = None;
    c
}

pub fn cluster() -> Cluster {
    from(json!({
        "metadata": {"name": "demo", "namespace": "default", "uid": "cluster-uid", "resourceVersion": "200"},
        "spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}}},
    }))
}

pub fn template() -> WorkspaceTemplate {
    from(
        json!({"metadata": {"name": "eks-controlplane-template", "namespace": "default"}, "spec": {"template": {}}}),
    )
}

/// The main apply as the controller creates it, with `status`.
pub fn wta(status: Value) -> WorkspaceTemplateApply {
    from(json!({
        "metadata": {"name": "demo-eks-controlplane-apply", "namespace": "default", "resourceVersion": "300"},
        "spec": {
            "templateRef": {"name": "eks-controlplane-template", "namespace": "default"},
            "variables": {"cluster_name": "demo", "kubernetes_version": "1.31", "region": "ap-northeast-1",
                          "endpoint_public_access": "true", "endpoint_private_access": "true", "tags_Environment": "dev"},
            "writeConnectionSecretToRef": {"name": "demo-eks-connection", "namespace": "default"},
        },
        "status": status,
    }))
}

pub fn wta_ready() -> WorkspaceTemplateApply {
    wta(json!({
        "workspaceName": "demo-eks-controlplane", "applied": true, "lastAppliedTime": "2024-11-22T04:04:47Z",
        "conditions": [{"type": "Synced", "status": "True", "reason": "ReconcileSuccess"},
                       {"type": "Ready", "status": "True", "reason": "Available"}],
    }))
}

pub fn wta_creating() -> WorkspaceTemplateApply {
    wta(json!({
        "workspaceName": "demo-eks-controlplane", "applied": true, "lastAppliedTime": "2024-11-22T04:04:47Z",
        "conditions": [{"type": "Ready", "status": "False", "reason": "Creating"}],
    }))
}

pub fn wta_failed(message: &str) -> WorkspaceTemplateApply {
    wta(json!({
        "workspaceName": "demo-eks-controlplane", "applied": true,
        "conditions": [{"type": "Ready", "status": "False", "reason": "ReconcileError", "message": message}],
    }))
}

pub fn workspace(outputs: Value, ready: bool) -> Workspace {
    from(json!({
        "metadata": {"name": "demo-eks-controlplane", "resourceVersion": "400"},
        "spec": {"writeConnectionSecretToRef": {"name": "demo-eks-connection", "namespace": "default"}},
        "status": {
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                            "reason": if ready { "Available" } else { "Creating" }}],
            "atProvider": {"checksum": "c1", "outputs": outputs},
        },
    }))
}

pub fn good_workspace() -> Workspace {
    workspace(json!({"cluster_endpoint": URL}), true)
}

pub fn secret(name: &str, data: &[(&str, &[u8])]) -> SecretInfo {
    SecretInfo {
        name: name.into(),
        namespace: "default".into(),
        resource_version: Some("500".into()),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), SecretBytes::new(v.to_vec())))
            .collect::<BTreeMap<_, _>>(),
        ..SecretInfo::default()
    }
}

pub fn connection_secret() -> SecretInfo {
    secret(
        "demo-eks-connection",
        &[("cluster_endpoint", URL.as_bytes()), ("cluster_certificate_authority_data", CA_B64.as_bytes())],
    )
}

pub fn outputs_secret(kubeconfig: &str) -> SecretInfo {
    secret("demo-outputs-kubeconfig", &[("kubeconfig", kubeconfig.as_bytes())])
}

/// Spec §5 S3: claimed CAPTControlPlane, Cluster and template, nothing else.
pub fn base() -> Snapshot {
    Snapshot {
        control_plane: cp(),
        cluster: Some(cluster()),
        template: Some(template()),
        ..Snapshot::default()
    }
}

/// Spec §5 S10 inputs: ready apply, good Workspace, good connection Secret.
pub fn s10() -> Snapshot {
    Snapshot {
        main_apply: Some(wta_ready()),
        workspace: Some(good_workspace()),
        connection_secret: Some(connection_secret()),
        ..base()
    }
}

/// Plans and applies until nothing is written; panics after 5 passes.
pub fn converge(mut snap: Snapshot) -> Snapshot {
    for _ in 0..5 {
        let p = super::plan(&snap, now());
        if p.writes.is_empty() {
            return snap;
        }
        snap = super::apply(&snap, &p);
    }
    panic!("did not converge in 5 passes");
}

/// S11 converged: a fully ready control plane with every Secret.
pub fn ready() -> Snapshot {
    converge(Snapshot { outputs_kubeconfig_secret: Some(outputs_secret(KUBECONFIG)), ..s10() })
}

/// `full` as a reader that fetches only what [`super::reads_wanted`] asks for sees it: the
/// four Secrets start not read, each round moves the wanted ones (and their read failures)
/// over from `full`. Returns the snapshot and the Secrets read in each round.
pub fn read_as_needed(full: &Snapshot, at: DateTime<Utc>) -> (Snapshot, Vec<Vec<String>>) {
    let names = super::Names::of(&full.control_plane);
    let ns = Some(names.namespace.as_str());
    let secret_names = [
        &names.connection_secret,
        &names.outputs_kubeconfig_secret,
        &names.kubeconfig_secret,
        &names.ca_secret,
    ];
    let refs: Vec<super::ObjectRef> =
        secret_names.iter().map(|n| super::ObjectRef::new("Secret", ns, n)).collect();
    let mut snap = Snapshot {
        connection_secret: None,
        outputs_kubeconfig_secret: None,
        kubeconfig_secret: None,
        ca_secret: None,
        unreadable: full.unreadable.iter().filter(|u| !refs.contains(&u.target)).cloned().collect(),
        not_read: refs,
        ..full.clone()
    };
    let mut rounds = Vec::new();
    while rounds.len() < 4 {
        let wanted = super::reads_wanted(&snap, at);
        if wanted.is_empty() {
            break;
        }
        for t in &wanted {
            assert!(snap.not_read.contains(t), "wanted twice or never not read: {t}");
            snap.not_read.retain(|n| n != t);
            snap.unreadable.extend(full.unreadable.iter().filter(|u| &u.target == t).cloned());
            let n = &t.name;
            if n == &names.connection_secret {
                snap.connection_secret = full.connection_secret.clone();
            } else if n == &names.outputs_kubeconfig_secret {
                snap.outputs_kubeconfig_secret = full.outputs_kubeconfig_secret.clone();
            } else if n == &names.kubeconfig_secret {
                snap.kubeconfig_secret = full.kubeconfig_secret.clone();
            } else {
                snap.ca_secret = full.ca_secret.clone();
            }
        }
        rounds.push(wanted.into_iter().map(|t| t.name).collect());
    }
    (snap, rounds)
}
