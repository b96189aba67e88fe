//! [`apply`]: what the snapshot looks like after a plan's writes succeed, without a server.
//! Used to check convergence (plan → apply → plan writes nothing).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::diff::apply_merge;
use super::names::Names;
use super::{Operation, Plan, SecretInfo, Snapshot, Write, WriteBody};
use crate::model::WorkspaceTemplateApply;

/// Merges `patch` into a typed object through JSON; leaves it unchanged if the result no longer
/// parses (which would be a bug in the plan, caught by the tests).
fn merged<T: Serialize + DeserializeOwned + Clone>(obj: &T, patch: &Value) -> T {
    let Ok(mut v) = serde_json::to_value(obj) else { return obj.clone() };
    apply_merge(&mut v, patch);
    serde_json::from_value(v).unwrap_or_else(|_| obj.clone())
}

fn created<T: DeserializeOwned>(body: &Value) -> Option<T> {
    serde_json::from_value(body.clone()).ok()
}

fn apply_to_wta(slot: &mut Option<WorkspaceTemplateApply>, w: &Write) {
    let WriteBody::Json(body) = &w.body else { return };
    match w.operation {
        Operation::Create => *slot = created(body),
        Operation::Patch | Operation::PatchStatus => {
            if let Some(wta) = slot.as_mut() {
                *wta = merged(wta, body);
            }
        }
        Operation::Delete => {
            if let Some(wta) = slot.as_mut() {
                wta.metadata.deletion_timestamp =
                    Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Default::default()));
            }
        }
    }
}

fn apply_to_secret(slot: &mut Option<SecretInfo>, w: &Write) {
    let WriteBody::Secret { object, data } = &w.body else { return };
    let labels = |o: &Value| -> Vec<(String, String)> {
        o.pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default()
    };
    match w.operation {
        Operation::Create => {
            *slot = Some(SecretInfo {
                name: w.target.name.clone(),
                namespace: w.target.namespace.clone().unwrap_or_default(),
                type_: object.get("type").and_then(Value::as_str).map(str::to_string),
                labels: labels(object).into_iter().collect(),
                owner_references: object
                    .pointer("/metadata/ownerReferences")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default(),
                data: data.clone(),
                ..SecretInfo::default()
            })
        }
        Operation::Patch | Operation::PatchStatus => {
            if let Some(s) = slot.as_mut() {
                s.labels.extend(labels(object));
                s.data.extend(data.clone());
            }
        }
        Operation::Delete => *slot = None,
    }
}

/// The snapshot after every write of `plan` succeeded.
pub fn apply(snapshot: &Snapshot, plan: &Plan) -> Snapshot {
    let mut next = snapshot.clone();
    let names = Names::of(&snapshot.control_plane);
    for w in &plan.writes {
        let name = w.target.name.as_str();
        match w.target.kind.as_str() {
            "CAPTControlPlane" => {
                if let WriteBody::Json(body) = &w.body {
                    next.control_plane = merged(&next.control_plane, body);
                }
            }
            "Cluster" => {
                if let (Some(c), WriteBody::Json(body)) = (next.cluster.as_mut(), &w.body) {
                    *c = merged(c, body);
                }
            }
            "WorkspaceTemplateApply" if name == names.main_apply => apply_to_wta(&mut next.main_apply, w),
            "WorkspaceTemplateApply" if name == names.kubeconfig_apply => {
                apply_to_wta(&mut next.kubeconfig_apply, w)
            }
            "Secret" if name == names.ca_secret => apply_to_secret(&mut next.ca_secret, w),
            "Secret" if name == names.kubeconfig_secret => apply_to_secret(&mut next.kubeconfig_secret, w),
            _ => {}
        }
    }
    next
}
