//! The CustomResourceDefinitions the project's tests and demo install, generated from the
//! project's own types ([`crate::model::ALL_KINDS`]).
//!
//! Each schema keeps unknown fields in `spec` and `status`, so the API server accepts and stores
//! everything the upstream CRDs accept (and more) and never prunes a field the controller or a
//! test wrote: these CRDs exist to reproduce real objects faithfully, not to validate them.

use serde_json::{Value, json};

use crate::model::{KindInfo, Scope};

/// The CRD for one kind, as JSON.
pub fn crd(info: &KindInfo) -> Value {
    let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    let mut version = json!({
        "name": info.version,
        "served": true,
        "storage": true,
        "schema": {"openAPIV3Schema": {
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": open,
                "status": open,
            }
        }},
    });
    if info.status_subresource {
        version["subresources"] = json!({"status": {}});
    }
    let columns = printer_columns(info);
    if !columns.is_empty() {
        version["additionalPrinterColumns"] = Value::Array(columns);
    }
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": info.crd_name(),
            "labels": {"app.kubernetes.io/managed-by": "kubectl-capt-tests"},
        },
        "spec": {
            "group": info.group,
            "scope": match info.scope { Scope::Namespaced => "Namespaced", Scope::Cluster => "Cluster" },
            "names": {
                "kind": info.kind,
                "listKind": format!("{}List", info.kind),
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": info.short_names,
                "categories": info.categories,
            },
            "versions": [version],
        }
    })
}

fn printer_columns(info: &KindInfo) -> Vec<Value> {
    let col = |name: &str, ty: &str, path: &str| json!({"name": name, "type": ty, "jsonPath": path});
    let mut cols = match info.kind {
        "CAPTControlPlane" => vec![
            col("Ready", "boolean", ".status.ready"),
            col("Phase", "string", ".status.phase"),
            col("Version", "string", ".spec.version"),
            col("Endpoint", "string", ".spec.controlPlaneEndpoint.host"),
        ],
        "WorkspaceTemplateApply" => vec![
            col("Workspace", "string", ".status.workspaceName"),
            col("Applied", "boolean", ".status.applied"),
            col("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status"),
        ],
        "Workspace" => vec![
            col("Synced", "string", ".status.conditions[?(@.type==\"Synced\")].status"),
            col("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status"),
        ],
        "Cluster" => vec![col("Phase", "string", ".status.phase")],
        _ => vec![],
    };
    if !cols.is_empty() {
        cols.push(col("Age", "date", ".metadata.creationTimestamp"));
    }
    cols
}

/// Every CRD, as one multi-document YAML stream.
pub fn all_yaml() -> anyhow::Result<String> {
    let mut out = String::new();
    for info in crate::model::ALL_KINDS {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(&crd(info))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CaptKind, Workspace};

    #[test]
    fn workspace_is_cluster_scoped_with_status() {
        let c = crd(&Workspace::INFO);
        assert_eq!(c["spec"]["scope"], "Cluster");
        assert_eq!(c["metadata"]["name"], "workspaces.tf.upbound.io");
        assert!(c["spec"]["versions"][0]["subresources"]["status"].is_object());
        let status = &c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"];
        assert_eq!(status["x-kubernetes-preserve-unknown-fields"], true);
    }

    #[test]
    fn yaml_stream_has_every_kind() {
        let y = all_yaml().unwrap();
        assert_eq!(y.matches("kind: CustomResourceDefinition").count(), crate::model::ALL_KINDS.len());
    }
}
