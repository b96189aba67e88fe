//! Rust types for the kinds CAPT's CAPTControlPlane controller reads and writes.
//!
//! Every field is optional or defaulted and unknown fields are ignored: a live cluster has
//! objects from other CAPT releases, half-written objects, and fields we never use. Root
//! types implement [`kube::Resource`] by hand (see [`resource!`]) because the derive cannot
//! make `spec` optional.

mod cluster;
mod condition;
mod control_plane;
mod workspace;

pub use cluster::{Cluster, ClusterSpec, ClusterStatus};
pub use condition::{Condition, find_condition};
pub use control_plane::{
    ApiEndpoint, CaptCluster, CaptControlPlane, CaptControlPlaneSpec, CaptControlPlaneStatus,
    CaptControlPlaneTemplate, ControlPlaneConfig, ERROR_INTERVAL, EndpointAccess, INIT_INTERVAL,
    READY_INTERVAL, WorkspaceStatus, WorkspaceTemplateRef, WorkspaceTemplateStatus, expected_interval,
};
pub use workspace::{
    SecretRef, Workspace, WorkspaceRef, WorkspaceSpec, WorkspaceState, WorkspaceTemplate,
    WorkspaceTemplateApply, WorkspaceTemplateApplySpec, WorkspaceTemplateApplyStatus, WorkspaceTemplateSpec,
};

/// Finalizer the CAPTControlPlane controller puts on every CAPTControlPlane.
pub const CP_FINALIZER: &str = "controlplane.cluster.x-k8s.io/captcontrolplane";
/// Annotation on a Cluster that gives the AWS region when the CAPTControlPlane has none.
pub const REGION_ANNOTATION: &str = "cluster.x-k8s.io/region";
/// Label CAPI puts on a cluster's kubeconfig Secret.
pub const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";
/// Secret type CAPI uses for kubeconfig Secrets.
pub const CLUSTER_SECRET_TYPE: &str = "cluster.x-k8s.io/secret";

/// Whether a kind lives in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// Static facts about one kind this project knows, used to build CRDs, discovery hints and
/// error messages ("CRD workspaces.tf.upbound.io is not installed").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub scope: Scope,
    pub status_subresource: bool,
}

impl KindInfo {
    /// The CRD name, `<plural>.<group>`.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }
}

/// A project type for a CAPT (or CAPI, or provider-terraform) kind.
pub trait CaptKind {
    const INFO: KindInfo;
}

/// Implements `kube::Resource`, `Serialize` (with apiVersion and kind) and [`CaptKind`] for a
/// root type with `metadata`, `spec` and `status` fields.
macro_rules! resource {
    ($root:ident, $info:expr, $scope_ty:ty) => {
        impl $crate::model::CaptKind for $root {
            const INFO: $crate::model::KindInfo = $info;
        }

        impl ::kube::Resource for $root {
            type DynamicType = ();
            type Scope = $scope_ty;

            fn kind(_: &()) -> ::std::borrow::Cow<'_, str> {
                <$root as $crate::model::CaptKind>::INFO.kind.into()
            }
            fn group(_: &()) -> ::std::borrow::Cow<'_, str> {
                <$root as $crate::model::CaptKind>::INFO.group.into()
            }
            fn version(_: &()) -> ::std::borrow::Cow<'_, str> {
                <$root as $crate::model::CaptKind>::INFO.version.into()
            }
            fn plural(_: &()) -> ::std::borrow::Cow<'_, str> {
                <$root as $crate::model::CaptKind>::INFO.plural.into()
            }
            fn meta(&self) -> &::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }

        impl ::serde::Serialize for $root {
            fn serialize<S: ::serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeStruct;
                let info = <$root as $crate::model::CaptKind>::INFO;
                let mut obj = ser.serialize_struct(stringify!($root), 5)?;
                obj.serialize_field("apiVersion", &info.api_version())?;
                obj.serialize_field("kind", info.kind)?;
                obj.serialize_field("metadata", &self.metadata)?;
                obj.serialize_field("spec", &self.spec)?;
                if let Some(status) = &self.status {
                    obj.serialize_field("status", status)?;
                } else {
                    obj.skip_field("status")?;
                }
                obj.end()
            }
        }
    };
}
pub(crate) use resource;

/// Every kind the project defines, in dependency order (for CRD installation and docs).
pub const ALL_KINDS: &[KindInfo] = &[
    <Cluster as CaptKind>::INFO,
    <CaptControlPlane as CaptKind>::INFO,
    <CaptControlPlaneTemplate as CaptKind>::INFO,
    <CaptCluster as CaptKind>::INFO,
    <WorkspaceTemplate as CaptKind>::INFO,
    <WorkspaceTemplateApply as CaptKind>::INFO,
    <Workspace as CaptKind>::INFO,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_names_are_plural_dot_group() {
        let names: Vec<String> = ALL_KINDS.iter().map(KindInfo::crd_name).collect();
        assert!(names.contains(&"captcontrolplanes.controlplane.cluster.x-k8s.io".to_string()));
        assert!(names.contains(&"workspaces.tf.upbound.io".to_string()));
        assert!(names.contains(&"workspacetemplateapplies.infrastructure.cluster.x-k8s.io".to_string()));
    }

    #[test]
    fn serialises_api_version_and_kind() {
        let cp = CaptControlPlane::default();
        let v = serde_json::to_value(&cp).unwrap();
        assert_eq!(v["apiVersion"], "controlplane.cluster.x-k8s.io/v1beta1");
        assert_eq!(v["kind"], "CAPTControlPlane");
        assert!(v.get("status").is_none());
    }
}
