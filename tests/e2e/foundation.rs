//! e2e: the foundation every command stands on — the project's Kubernetes layer and models
//! against a real API server, permission and connection errors, missing CRDs, the kubectl
//! plugin mechanism, and a faithful round trip of upstream-shaped objects.

use kube::Api;
use kube::api::PostParams;
use kubectl_capt::error::Error;
use kubectl_capt::k8s::{Op, classify};
use kubectl_capt::model::{CaptControlPlane, CaptKind};

use crate::support::env;

const CONTROL_PLANE: &str = r#"
apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: CAPTControlPlane
metadata:
  name: ${NAME}
spec:
  version: "1.31"
  workspaceTemplateRef:
    name: ${NAME}-eks-controlplane-template
  controlPlaneConfig:
    region: ap-northeast-1
    endpointAccess:
      public: true
      private: true
status:
  ready: false
  initialized: false
  phase: Creating
  conditions:
  - type: Ready
    status: "False"
    reason: WorkspaceNotReady
    message: waiting for the workspace
    lastTransitionTime: "2026-01-01T00:00:00Z"
"#;

#[tokio::test]
async fn control_plane_round_trips_through_the_kubernetes_layer() {
    let env = env();
    let ns = env.namespace("foundation-cp");
    env.apply_objects(&ns, &CONTROL_PLANE.replace("${NAME}", "demo")).await;

    let api: Api<CaptControlPlane> = Api::namespaced(env.client().await, &ns);
    let cp = api.get("demo").await.expect("get CAPTControlPlane through the project's model");
    assert_eq!(cp.metadata.name.as_deref(), Some("demo"));
    assert_eq!(cp.metadata.namespace.as_deref(), Some(ns.as_str()));
    assert_eq!(cp.spec.version, "1.31");
    assert_eq!(cp.spec.workspace_template_ref.name, "demo-eks-controlplane-template");
    let config = cp.spec.control_plane_config.as_ref().expect("controlPlaneConfig");
    assert_eq!(config.region.as_deref(), Some("ap-northeast-1"));
    let status = cp.status.as_ref().expect("status written through the status subresource");
    let ready =
        kubectl_capt::model::find_condition(status.conditions.as_deref(), "Ready").expect("Ready condition");
    assert_eq!(ready.reason.as_deref(), Some("WorkspaceNotReady"));
}

#[tokio::test]
async fn readonly_user_write_is_forbidden_and_classified() {
    let env = env();
    let ns = env.namespace("foundation-ro");
    let api: Api<CaptControlPlane> = Api::namespaced(env.readonly_client().await, &ns);
    // Reads are allowed...
    api.list(&Default::default()).await.expect("capt-viewer may list CAPTControlPlanes");
    // ...writes are not.
    let cp: CaptControlPlane = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "denied"},
        "spec": {"version": "1.31"}
    }))
    .expect("object");
    let err = api.create(&PostParams::default(), &cp).await.expect_err("capt-viewer must not create");
    let op = Op::on("create", &CaptControlPlane::INFO, Some(&ns), Some("denied"));
    match classify(err, &op, &env.server, "capt-testenv-readonly") {
        Error::Forbidden { verb, resource, namespace } => {
            assert_eq!(verb, "create");
            assert_eq!(resource, "captcontrolplanes.controlplane.cluster.x-k8s.io");
            assert_eq!(namespace.as_deref(), Some(ns.as_str()));
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
}
