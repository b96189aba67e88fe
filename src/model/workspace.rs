use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{ClusterResourceScope, NamespaceResourceScope};
use serde::{Deserialize, Serialize};

use super::{Condition, KindInfo, Scope, find_condition, resource};

/// `{name, namespace}` of a Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRef {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

/// `{name, namespace?}` of a Workspace a WorkspaceTemplateApply waits for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceRef {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `infrastructure.cluster.x-k8s.io/v1beta1` WorkspaceTemplate. The controller only checks
/// that it exists, so its Terraform template is kept as raw JSON.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct WorkspaceTemplate {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: WorkspaceTemplateSpec,
    #[serde(default)]
    pub status: Option<serde_json::Value>,
}

resource!(
    WorkspaceTemplate,
    KindInfo {
        group: "infrastructure.cluster.x-k8s.io",
        version: "v1beta1",
        kind: "WorkspaceTemplate",
        plural: "workspacetemplates",
        singular: "workspacetemplate",
        short_names: &[],
        categories: &["capt", "terraform"],
        scope: Scope::Namespaced,
        status_subresource: true,
    },
    NamespaceResourceScope
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTemplateSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_connection_secret_to_ref: Option<SecretRef>,
}

/// `infrastructure.cluster.x-k8s.io/v1beta1` WorkspaceTemplateApply.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct WorkspaceTemplateApply {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: WorkspaceTemplateApplySpec,
    #[serde(default)]
    pub status: Option<WorkspaceTemplateApplyStatus>,
}

resource!(
    WorkspaceTemplateApply,
    KindInfo {
        group: "infrastructure.cluster.x-k8s.io",
        version: "v1beta1",
        kind: "WorkspaceTemplateApply",
        plural: "workspacetemplateapplies",
        singular: "workspacetemplateapply",
        short_names: &["wtapply"],
        categories: &["capt", "terraform"],
        scope: Scope::Namespaced,
        status_subresource: true,
    },
    NamespaceResourceScope
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTemplateApplySpec {
    #[serde(default)]
    pub template_ref: super::WorkspaceTemplateRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_connection_secret_to_ref: Option<SecretRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_secrets: Option<Vec<SecretRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_workspaces: Option<Vec<WorkspaceRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_workspace_on_delete: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTemplateApplyStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

impl WorkspaceTemplateApply {
    /// `status.workspaceName`, if set and non-empty.
    pub fn workspace_name(&self) -> Option<&str> {
        self.status.as_ref()?.workspace_name.as_deref().filter(|n| !n.is_empty())
    }
    /// The `Ready` condition, if any.
    pub fn ready_condition(&self) -> Option<&Condition> {
        find_condition(self.status.as_ref()?.conditions.as_deref(), "Ready")
    }
}

/// `tf.upbound.io/v1beta1` Workspace (provider-terraform), cluster-scoped as in the real
/// provider.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Workspace {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: WorkspaceSpec,
    #[serde(default)]
    pub status: Option<WorkspaceState>,
}

resource!(
    Workspace,
    KindInfo {
        group: "tf.upbound.io",
        version: "v1beta1",
        kind: "Workspace",
        plural: "workspaces",
        singular: "workspace",
        short_names: &[],
        categories: &["crossplane", "managed", "terraform"],
        scope: Scope::Cluster,
        status_subresource: true,
    },
    ClusterResourceScope
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_provider: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_connection_secret_to_ref: Option<SecretRef>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Workspace `status`: crossplane conditions and `atProvider` (`checksum`, `outputs` of any
/// JSON type).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<serde_json::Value>,
}

impl Workspace {
    pub fn ready_condition(&self) -> Option<&Condition> {
        find_condition(self.status.as_ref()?.conditions.as_deref(), "Ready")
    }
    /// `status.atProvider.outputs.<key>`, whatever its JSON type.
    pub fn output(&self, key: &str) -> Option<&serde_json::Value> {
        self.status.as_ref()?.at_provider.as_ref()?.get("outputs")?.get(key)
    }
}
