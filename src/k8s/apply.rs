//! Sends the core's [`Write`]s: every request carries field manager `kubectl-capt`, every
//! patch of an existing object carries the `metadata.resourceVersion` the plan was computed
//! from (so the API server answers 409 instead of overwriting a newer object), and status goes
//! through the status subresource. Patches are JSON merge patches of only the fields the core
//! owns, so nothing else on the object is removed or overwritten.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions};
use serde_json::{Value, json};

use super::{Kube, Op, is_conflict};
use crate::error::Error;
use crate::model::{ALL_KINDS, KindInfo, Scope};
use crate::reconcile::{Operation, SecretBytes, Write, WriteBody};

/// The field manager of every request kubectl-capt sends.
pub const FIELD_MANAGER: &str = "kubectl-capt";

/// How a write was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// `metadata.resourceVersion` the server returned (the object's new version; for a
    /// server-side dry run, what it would be).
    pub resource_version: Option<String>,
}

/// Why a write was not made.
#[derive(Debug)]
pub enum SendError {
    /// 409: the object changed since it was read (or a create found it already there).
    Conflict(String),
    /// Anything else, classified (forbidden, not found, invalid, unreachable...).
    Failed(Error),
}

/// What a write targets, as the API knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteTarget {
    /// A CAPT, CAPI or provider-terraform kind.
    Custom(KindInfo),
    /// Core v1 Secret.
    Secret,
}

impl WriteTarget {
    pub fn of(kind: &str) -> Option<WriteTarget> {
        if kind == "Secret" {
            return Some(WriteTarget::Secret);
        }
        ALL_KINDS.iter().find(|k| k.kind == kind).map(|k| WriteTarget::Custom(*k))
    }

    /// The operation, for error messages (`patch captcontrolplanes.controlplane.cluster.x-k8s.io/status`).
    pub fn op(&self, verb: &'static str, write: &Write) -> Op {
        let ns = write.target.namespace.as_deref();
        let name = Some(write.target.name.as_str());
        let op = match self {
            WriteTarget::Custom(info) => Op::on(verb, info, ns, name),
            WriteTarget::Secret => Op::core(verb, "secrets", "Secret", ns, name),
        };
        if write.operation == Operation::PatchStatus { op.subresource("status") } else { op }
    }
}

/// The verb the API server sees for a write.
pub fn verb(op: Operation) -> &'static str {
    match op {
        Operation::Create => "create",
        Operation::Patch | Operation::PatchStatus => "patch",
        Operation::Delete => "delete",
    }
}

/// The JSON a write sends, with `resource_version` set for patches. Holds Secret data for
/// Secret writes: never print it (describe writes with [`Write::fields`] instead).
pub fn request_body(write: &Write, target: &WriteTarget, resource_version: Option<&str>) -> Value {
    let mut body = match &write.body {
        WriteBody::Json(v) => v.clone(),
        WriteBody::Secret { object, data } => with_secret_data(object, data),
    };
    if !body.is_object() {
        body = json!({});
    }
    let meta = body.as_object_mut().map(|o| o.entry("metadata").or_insert_with(|| json!({})));
    if let Some(Value::Object(meta)) = meta {
        match write.operation {
            Operation::Create => {
                meta.remove("resourceVersion");
                meta.entry("name").or_insert_with(|| json!(write.target.name));
                if let Some(ns) = &write.target.namespace {
                    meta.entry("namespace").or_insert_with(|| json!(ns));
                }
            }
            Operation::Patch | Operation::PatchStatus => {
                if let Some(rv) = resource_version {
                    meta.insert("resourceVersion".into(), json!(rv));
                }
            }
            Operation::Delete => {}
        }
    }
    if write.operation == Operation::Create
        && let Some(obj) = body.as_object_mut()
    {
        let (api_version, kind) = match target {
            WriteTarget::Custom(info) => (info.api_version(), info.kind.to_string()),
            WriteTarget::Secret => ("v1".to_string(), "Secret".to_string()),
        };
        obj.entry("apiVersion").or_insert_with(|| json!(api_version));
        obj.entry("kind").or_insert_with(|| json!(kind));
    }
    body
}

fn with_secret_data(object: &Value, data: &BTreeMap<String, SecretBytes>) -> Value {
    let mut body = if object.is_object() { object.clone() } else { json!({}) };
    if !data.is_empty() {
        let encoded: BTreeMap<&str, ByteString> =
            data.iter().map(|(k, v)| (k.as_str(), ByteString(v.expose().to_vec()))).collect();
        let mut merged = body.get("data").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
        if let (Some(m), Ok(Value::Object(enc))) = (merged.as_object_mut(), serde_json::to_value(encoded)) {
            m.extend(enc);
        }
        body["data"] = merged;
    }
    body
}

/// Sends one write. `resource_version` overrides `write.resource_version` (after an earlier
/// write in the same pass moved the object on).
pub async fn send(
    kube: &Kube,
    write: &Write,
    resource_version: Option<&str>,
    dry_run: bool,
) -> Result<Sent, SendError> {
    let target = WriteTarget::of(&write.target.kind).ok_or_else(|| {
        SendError::Failed(Error::other(format!(
            "kubectl-capt does not know how to write kind {}",
            write.target.kind
        )))
    })?;
    let body = request_body(write, &target, resource_version);
    let op = target.op(verb(write.operation), write);
    let fail = |e: kube::Error| {
        // A quota refusal is a 403 too, but not an RBAC one: keep the server's words.
        if let kube::Error::Api(s) = &e
            && s.code == 403
            && s.message.contains("exceeded quota")
        {
            return SendError::Failed(Error::Api {
                context: format!("{} {}", op.verb, op.resource),
                code: s.code,
                reason: s.reason.clone(),
                message: s.message.clone(),
            });
        }
        if is_conflict(&e) {
            let msg = match &e {
                kube::Error::Api(s) => s.message.clone(),
                other => other.to_string(),
            };
            SendError::Conflict(msg)
        } else {
            SendError::Failed(kube.error(&op, e))
        }
    };
    let name = write.target.name.as_str();
    let post = PostParams { dry_run, field_manager: Some(FIELD_MANAGER.into()) };
    // DELETE checks the resourceVersion through a precondition instead of a body.
    let delete = DeleteParams {
        dry_run,
        preconditions: resource_version
            .map(|rv| Preconditions { resource_version: Some(rv.to_string()), uid: None }),
        ..DeleteParams::default()
    };
    let patch = PatchParams { dry_run, field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
    let params = Params { post, patch, delete };
    let resource_version = match target {
        WriteTarget::Secret => {
            let ns = write.target.namespace.as_deref().unwrap_or(&kube.namespace);
            let api: Api<Secret> = Api::namespaced(kube.client.clone(), ns);
            send_to(&api, write.operation, name, body, &params, "Secret").await
        }
        WriteTarget::Custom(info) => {
            let ar = ApiResource {
                group: info.group.into(),
                version: info.version.into(),
                api_version: info.api_version(),
                kind: info.kind.into(),
                plural: info.plural.into(),
            };
            let api: Api<DynamicObject> = match info.scope {
                Scope::Cluster => Api::all_with(kube.client.clone(), &ar),
                Scope::Namespaced => {
                    let ns = write.target.namespace.as_deref().unwrap_or(&kube.namespace);
                    Api::namespaced_with(kube.client.clone(), ns, &ar)
                }
            };
            send_to(&api, write.operation, name, body, &params, info.kind).await
        }
    }
    .map_err(|e| match e {
        SendFailure::Kube(e) => fail(e),
        SendFailure::Body(msg) => SendError::Failed(Error::other(format!("building {msg}"))),
    })?;
    Ok(Sent { resource_version })
}

/// The annotation `--nudge` stamps on a CAPTControlPlane: CAPT's controller reacts to every
/// change of the object, so changing it makes the controller run a pass now.
pub const NUDGE_ANNOTATION: &str = "kubectl-capt.io/reconcile-requested-at";

/// Stamps [`NUDGE_ANNOTATION`] with `token` (a merge patch of one annotation, no
/// resourceVersion: it cannot overwrite anything else). Returns the new resourceVersion.
pub async fn nudge(kube: &Kube, namespace: &str, name: &str, token: &str) -> Result<Option<String>, Error> {
    use crate::model::{CaptControlPlane, CaptKind};
    let api: Api<CaptControlPlane> = Api::namespaced(kube.client.clone(), namespace);
    let patch = json!({"metadata": {"annotations": {NUDGE_ANNOTATION: token}}});
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
    let op = Op::on("patch", &CaptControlPlane::INFO, Some(namespace), Some(name));
    let out = api.patch(name, &params, &Patch::Merge(&patch)).await.map_err(|e| kube.error(&op, e))?;
    Ok(out.metadata.resource_version)
}

/// The request parameters of one write (dry run and field manager already set).
struct Params {
    post: PostParams,
    patch: PatchParams,
    delete: DeleteParams,
}

/// Why [`send_to`] failed: the API said no, or the body is not a valid object.
enum SendFailure {
    Kube(kube::Error),
    Body(String),
}

/// Sends one operation to `api`; returns the resourceVersion the server answered with.
async fn send_to<K>(
    api: &Api<K>,
    operation: Operation,
    name: &str,
    body: Value,
    params: &Params,
    kind: &str,
) -> Result<Option<String>, SendFailure>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + serde::Serialize,
{
    let out = match operation {
        Operation::Create => {
            let obj: K =
                serde_json::from_value(body).map_err(|e| SendFailure::Body(format!("{kind} {name}: {e}")))?;
            api.create(&params.post, &obj).await
        }
        Operation::Patch => api.patch(name, &params.patch, &Patch::Merge(&body)).await,
        Operation::PatchStatus => api.patch_status(name, &params.patch, &Patch::Merge(&body)).await,
        Operation::Delete => {
            let out = api.delete(name, &params.delete).await.map_err(SendFailure::Kube)?;
            return Ok(out.left().and_then(|o| o.meta().resource_version.clone()));
        }
    }
    .map_err(SendFailure::Kube)?;
    Ok(out.meta().resource_version.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{FieldDiff, ObjectRef};

    fn write(kind: &str, operation: Operation, body: WriteBody, rv: Option<&str>) -> Write {
        Write {
            target: ObjectRef::new(kind, Some("team-a"), "demo"),
            operation,
            body,
            resource_version: rv.map(Into::into),
            fields: vec![FieldDiff {
                path: "status.phase".into(),
                stored: None,
                desired: Some(json!("Ready")),
            }],
        }
    }

    #[test]
    fn patches_carry_the_resource_version() {
        let w = write(
            "CAPTControlPlane",
            Operation::PatchStatus,
            WriteBody::Json(json!({"status": {"phase": "Ready"}})),
            Some("41"),
        );
        let t = WriteTarget::of("CAPTControlPlane").unwrap();
        let body = request_body(&w, &t, w.resource_version.as_deref());
        assert_eq!(body, json!({"metadata": {"resourceVersion": "41"}, "status": {"phase": "Ready"}}));
        // A later version from an earlier write in the same pass wins.
        assert_eq!(request_body(&w, &t, Some("42"))["metadata"]["resourceVersion"], "42");
        assert_eq!(t.op("patch", &w).resource, "captcontrolplanes.controlplane.cluster.x-k8s.io/status");
    }

    #[test]
    fn creates_get_identity_and_no_resource_version() {
        let w = write(
            "WorkspaceTemplateApply",
            Operation::Create,
            WriteBody::Json(json!({"metadata": {"resourceVersion": "9"}, "spec": {"x": 1}})),
            None,
        );
        let t = WriteTarget::of("WorkspaceTemplateApply").unwrap();
        let body = request_body(&w, &t, None);
        assert_eq!(body["apiVersion"], "infrastructure.cluster.x-k8s.io/v1beta1");
        assert_eq!(body["kind"], "WorkspaceTemplateApply");
        assert_eq!(body["metadata"], json!({"name": "demo", "namespace": "team-a"}));
        assert_eq!(body["spec"]["x"], 1);
    }

    #[test]
    fn secret_data_is_base64_in_the_request_only() {
        let data = [("ca.crt".to_string(), SecretBytes::new(b"TOPSECRET".to_vec()))].into();
        let w = write(
            "Secret",
            Operation::Create,
            WriteBody::Secret { object: json!({"type": "Opaque", "data": {"keep": "eA=="}}), data },
            None,
        );
        let body = request_body(&w, &WriteTarget::Secret, None);
        assert_eq!(body["apiVersion"], "v1");
        assert_eq!(body["data"]["ca.crt"], "VE9QU0VDUkVU");
        assert_eq!(body["data"]["keep"], "eA==");
        assert!(!format!("{w:?}").contains("TOPSECRET"));
        let secret: Secret = serde_json::from_value(body).unwrap();
        assert_eq!(secret.data.unwrap()["ca.crt"].0, b"TOPSECRET");
    }

    #[test]
    fn kinds_map_to_resources() {
        assert_eq!(WriteTarget::of("Secret"), Some(WriteTarget::Secret));
        assert!(
            matches!(WriteTarget::of("Workspace"), Some(WriteTarget::Custom(k)) if k.scope == Scope::Cluster)
        );
        assert_eq!(WriteTarget::of("Pod"), None);
        let w = write("Secret", Operation::Patch, WriteBody::Json(json!({})), Some("1"));
        let op = WriteTarget::Secret.op("patch", &w);
        assert_eq!((op.verb, op.resource.as_str()), ("patch", "secrets"));
    }
}
