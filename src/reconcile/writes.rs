//! Building [`Write`]s: a merge patch from stored and desired JSON, or a create, each with the
//! field changes shown as drift.

use serde_json::{Value, json};

use super::diff::{field_changes, merge_diff};
use super::{FieldDiff, ObjectRef, Operation, Write, WriteBody};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

pub const REDACTED: &str = "<redacted>";

/// A patch of `stored` towards `desired` (both documents rooted at the object, holding only the
/// parts the write may touch), or `None` when they already agree.
pub fn patch(
    target: ObjectRef,
    operation: Operation,
    stored: &Value,
    desired: &Value,
    resource_version: Option<String>,
) -> Option<Write> {
    let body = merge_diff(stored, desired)?;
    let fields = field_changes("", stored, &body);
    Some(Write { target, operation, body: WriteBody::Json(body), resource_version, fields })
}

/// A create of a whole object; its spec fields are listed as changes from nothing.
pub fn create(target: ObjectRef, object: Value) -> Write {
    let shown = json!({ "spec": object.get("spec").cloned().unwrap_or(Value::Null) });
    let fields = field_changes("", &json!({}), &shown);
    Write {
        target,
        operation: Operation::Create,
        body: WriteBody::Json(object),
        resource_version: None,
        fields,
    }
}

/// Replaces the shown values of fields whose path ends in one of `keys` (values copied from a
/// Secret) with `<redacted>`.
pub fn redact(fields: &mut [FieldDiff], keys: &[&str]) {
    for f in fields {
        if keys.iter().any(|k| f.path.ends_with(&format!(".{k}"))) {
            f.stored = f.stored.as_ref().map(|_| Value::String(REDACTED.into()));
            f.desired = f.desired.as_ref().map(|_| Value::String(REDACTED.into()));
        }
    }
}

/// The controller ownerRef every object the CAPTControlPlane creates carries.
pub fn controller_ref(cp: &crate::model::CaptControlPlane) -> OwnerReference {
    OwnerReference {
        api_version: "controlplane.cluster.x-k8s.io/v1beta1".into(),
        kind: "CAPTControlPlane".into(),
        name: cp.metadata.name.clone().unwrap_or_default(),
        uid: cp.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}
