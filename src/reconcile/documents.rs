//! Builds a [`Snapshot`] from multi-document YAML (fixtures, saved objects), picking the
//! objects one pass over `<namespace>/<name>` would read, the way `k8s::snapshot` does on a
//! live cluster. Pure: the text comes in, the snapshot goes out.

use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;
use serde_json::Value;

use super::{Names, SecretInfo, Snapshot};
use crate::model::{CaptControlPlane, Cluster, Workspace, WorkspaceTemplate, WorkspaceTemplateApply};

fn parse<T: serde::de::DeserializeOwned>(doc: Value, what: &str) -> Result<T, String> {
    serde_json::from_value(doc).map_err(|e| format!("{what}: {e}"))
}

/// The snapshot for CAPTControlPlane `name`; objects without a namespace are taken to be in
/// `namespace`. Fails on YAML that does not parse or when the CAPTControlPlane is missing.
pub fn snapshot_from_yaml(yaml: &str, namespace: &str, name: &str) -> Result<Snapshot, String> {
    let mut docs: Vec<Value> = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(yaml).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| format!("document {}: {e}", i + 1))?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    let meta = |d: &Value, key: &str| {
        d.pointer(&format!("/metadata/{key}")).and_then(Value::as_str).map(str::to_string)
    };
    let in_ns = |d: &Value| meta(d, "namespace").is_none_or(|n| n == namespace);
    let find = |kind: &str, n: &str| {
        docs.iter().find(|d| d["kind"] == kind && meta(d, "name").as_deref() == Some(n) && in_ns(d)).cloned()
    };
    let with_ns = |mut d: Value| {
        if d.pointer("/metadata/namespace").is_none()
            && let Some(m) = d.get_mut("metadata").and_then(Value::as_object_mut)
        {
            m.insert("namespace".into(), Value::String(namespace.into()));
        }
        d
    };

    let cp_doc =
        find("CAPTControlPlane", name).ok_or_else(|| format!("no CAPTControlPlane {namespace}/{name}"))?;
    let cp: CaptControlPlane = parse(with_ns(cp_doc), "CAPTControlPlane")?;
    let names = Names::of(&cp);
    let mut snap = Snapshot { control_plane: cp.clone(), ..Snapshot::default() };
    snap.cluster = find("Cluster", name).map(|d| parse::<Cluster>(with_ns(d), "Cluster")).transpose()?;
    let template_ns = names.template_namespace(&cp.spec.workspace_template_ref);
    snap.template = docs
        .iter()
        .find(|d| {
            d["kind"] == "WorkspaceTemplate"
                && meta(d, "name").as_deref() == Some(cp.spec.workspace_template_ref.name.as_str())
                && meta(d, "namespace").unwrap_or_else(|| namespace.to_string()) == template_ns
        })
        .cloned()
        .map(|d| parse::<WorkspaceTemplate>(with_ns(d), "WorkspaceTemplate"))
        .transpose()?;
    let wta = |n: &str| {
        find("WorkspaceTemplateApply", n).map(|d| parse::<WorkspaceTemplateApply>(with_ns(d), n)).transpose()
    };
    snap.main_apply = wta(&names.main_apply)?;
    snap.kubeconfig_apply = wta(&names.kubeconfig_apply)?;
    snap.vpc_apply_exists = find("WorkspaceTemplateApply", &names.vpc_apply).is_some();
    if let Some(ws) = snap.main_apply.as_ref().and_then(|a| a.workspace_name()) {
        snap.workspace = docs
            .iter()
            .find(|d| d["kind"] == "Workspace" && meta(d, "name").as_deref() == Some(ws))
            .cloned()
            .map(|d| parse::<Workspace>(d, "Workspace"))
            .transpose()?;
    }
    let secret = |n: &str| -> Result<Option<SecretInfo>, String> {
        find("Secret", n).map(|d| parse::<Secret>(with_ns(d), n).map(SecretInfo::from_secret)).transpose()
    };
    snap.connection_secret = secret(&names.connection_secret)?;
    snap.outputs_kubeconfig_secret = secret(&names.outputs_kubeconfig_secret)?;
    snap.kubeconfig_secret = secret(&names.kubeconfig_secret)?;
    snap.ca_secret = secret(&names.ca_secret)?;
    Ok(snap)
}
