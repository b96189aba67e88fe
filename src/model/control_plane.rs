use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::NamespaceResourceScope;
use serde::{Deserialize, Serialize};

use super::{Condition, KindInfo, Scope, resource};

/// `controlplane.cluster.x-k8s.io/v1beta1` CAPTControlPlane.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct CaptControlPlane {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: CaptControlPlaneSpec,
    #[serde(default)]
    pub status: Option<CaptControlPlaneStatus>,
}

resource!(
    CaptControlPlane,
    KindInfo {
        group: "controlplane.cluster.x-k8s.io",
        version: "v1beta1",
        kind: "CAPTControlPlane",
        plural: "captcontrolplanes",
        singular: "captcontrolplane",
        short_names: &[],
        categories: &["cluster-api"],
        scope: Scope::Namespaced,
        status_subresource: true,
    },
    NamespaceResourceScope
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptControlPlaneSpec {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub workspace_template_ref: WorkspaceTemplateRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_config: Option<ControlPlaneConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_endpoint: Option<ApiEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_template_apply_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTemplateRef {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_access: Option<EndpointAccess>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addons: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointAccess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(default, rename = "publicCIDRs", skip_serializing_if = "Option::is_none")]
    pub public_cidrs: Option<Vec<String>>,
}

/// `{host, port}` as CAPI's `APIEndpoint`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiEndpoint {
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: i32,
}

impl ApiEndpoint {
    /// CAPI treats `{host: "", port: 0}` as "no endpoint".
    pub fn is_zero(&self) -> bool {
        self.host.is_empty() && self.port == 0
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptControlPlaneStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initialized: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_template_status: Option<WorkspaceTemplateStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_status: Option<WorkspaceStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTemplateStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failed_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_message: Option<String>,
}

/// The CAPTControlPlane's copy of its Workspace's readiness and Terraform outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<serde_json::Value>,
}

/// `controlplane.cluster.x-k8s.io/v1beta1` CaptControlPlaneTemplate (ClusterClass use). The
/// reconcile core does not read it; it exists so the project's CRDs cover the upstream samples.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct CaptControlPlaneTemplate {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: serde_json::Value,
    #[serde(default)]
    pub status: Option<serde_json::Value>,
}

resource!(
    CaptControlPlaneTemplate,
    KindInfo {
        group: "controlplane.cluster.x-k8s.io",
        version: "v1beta1",
        kind: "CaptControlPlaneTemplate",
        plural: "captcontrolplanetemplates",
        singular: "captcontrolplanetemplate",
        short_names: &[],
        categories: &["cluster-api"],
        scope: Scope::Namespaced,
        status_subresource: true,
    },
    NamespaceResourceScope
);

/// `infrastructure.cluster.x-k8s.io/v1beta1` CAPTCluster (the infrastructure provider's
/// cluster). Only needed so the upstream samples apply; its fields are not interpreted.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct CaptCluster {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: serde_json::Value,
    #[serde(default)]
    pub status: Option<serde_json::Value>,
}

resource!(
    CaptCluster,
    KindInfo {
        group: "infrastructure.cluster.x-k8s.io",
        version: "v1beta1",
        kind: "CAPTCluster",
        plural: "captclusters",
        singular: "captcluster",
        short_names: &[],
        categories: &["cluster-api"],
        scope: Scope::Namespaced,
        status_subresource: true,
    },
    NamespaceResourceScope
);

// The intervals are CAPTEP-0016's: the controller's contract, read by the reconcile logic and
// by the detector's default yardstick.

/// Requeue after a pass that ends Ready.
pub const READY_INTERVAL: Duration = Duration::from_secs(30);
/// Requeue after a serious error (Failed status).
pub const ERROR_INTERVAL: Duration = Duration::from_secs(10);
/// Requeue while initialising or waiting for something transient.
pub const INIT_INTERVAL: Duration = Duration::from_secs(5);

/// The interval a controller following CAPTEP-0016 uses for an object in `phase`.
pub fn expected_interval(phase: Option<&str>) -> Duration {
    match phase {
        Some("Ready") => READY_INTERVAL,
        Some("Failed") => ERROR_INTERVAL,
        _ => INIT_INTERVAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sample_shape_and_tolerates_missing_spec() {
        let cp: CaptControlPlane = serde_json::from_str(
            r#"{"apiVersion":"controlplane.cluster.x-k8s.io/v1beta1","kind":"CAPTControlPlane",
                "metadata":{"name":"demo"},
                "spec":{"version":"1.31","workspaceTemplateRef":{"name":"t"},
                        "controlPlaneConfig":{"region":"ap-northeast-1","endpointAccess":{"public":true,"publicCIDRs":["0.0.0.0/0"]}},
                        "unknownField":{"x":1}},
                "status":{"phase":"Ready","secretsReady":true,"workspaceStatus":{"atProvider":{"outputs":{"a":[1,2]}}}}}"#,
        )
        .unwrap();
        assert_eq!(cp.spec.version, "1.31");
        let access = cp.spec.control_plane_config.unwrap().endpoint_access.unwrap();
        assert_eq!(access.public_cidrs.unwrap(), vec!["0.0.0.0/0"]);
        let st = cp.status.unwrap();
        assert_eq!(st.secrets_ready, Some(true));
        assert_eq!(st.workspace_status.unwrap().at_provider.unwrap()["outputs"]["a"][1], 2);

        let bare: CaptControlPlane = serde_json::from_str(r#"{"metadata":{"name":"x"}}"#).unwrap();
        assert_eq!(bare.spec, CaptControlPlaneSpec::default());
    }
}
