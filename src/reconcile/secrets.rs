//! The CA Secret (`<cp>-ca`, created once) and CAPI's kubeconfig Secret (`<cluster>-kubeconfig`,
//! created, then updated only when its data really differs). Secret bytes travel only in
//! [`WriteBody::Secret`]; the field changes show `<redacted>`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::names::Names;
use super::writes::{REDACTED, controller_ref};
use super::{FieldDiff, ObjectRef, Operation, SecretBytes, SecretInfo, Write, WriteBody};
use crate::model::{CLUSTER_NAME_LABEL, CLUSTER_SECRET_TYPE, CaptControlPlane};

fn redacted_change(key: &str, stored: bool) -> FieldDiff {
    FieldDiff {
        path: format!("data.{key}"),
        stored: stored.then(|| Value::String(REDACTED.into())),
        desired: Some(Value::String(REDACTED.into())),
    }
}

/// `tls.crt` and `ca.crt` for the CA Secret.
pub fn ca_data(certificate: &[u8]) -> BTreeMap<String, SecretBytes> {
    ["tls.crt", "ca.crt"]
        .into_iter()
        .map(|k| (k.to_string(), SecretBytes::new(certificate.to_vec())))
        .collect()
}

/// Creates `<cp>-ca` when it is missing. An existing CA Secret is never rewritten.
pub fn ca_write(
    cp: &CaptControlPlane,
    names: &Names,
    stored: Option<&SecretInfo>,
    certificate: &[u8],
) -> Option<Write> {
    if stored.is_some() {
        return None;
    }
    let data = ca_data(certificate);
    let object = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": names.ca_secret,
            "namespace": names.namespace,
            "ownerReferences": [controller_ref(cp)],
        },
    });
    Some(Write {
        target: ObjectRef::new("Secret", Some(&names.namespace), &names.ca_secret),
        operation: Operation::Create,
        fields: data.keys().map(|k| redacted_change(k, false)).collect(),
        body: WriteBody::Secret { object, data },
        resource_version: None,
    })
}

/// Creates or updates `<cluster>-kubeconfig` from the outputs Secret's `kubeconfig`.
pub fn kubeconfig_write(
    cp: &CaptControlPlane,
    names: &Names,
    stored: Option<&SecretInfo>,
    kubeconfig: &SecretBytes,
) -> Option<Write> {
    let target = ObjectRef::new("Secret", Some(&names.namespace), &names.kubeconfig_secret);
    let cluster = names.cp.as_str();
    let data: BTreeMap<String, SecretBytes> = [("value".to_string(), kubeconfig.clone())].into();
    match stored {
        None => {
            let object = json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "type": CLUSTER_SECRET_TYPE,
                "metadata": {
                    "name": names.kubeconfig_secret,
                    "namespace": names.namespace,
                    "labels": { CLUSTER_NAME_LABEL: cluster },
                    "ownerReferences": [controller_ref(cp)],
                },
            });
            Some(Write {
                target,
                operation: Operation::Create,
                fields: vec![
                    FieldDiff {
                        path: format!("metadata.labels.{CLUSTER_NAME_LABEL}"),
                        stored: None,
                        desired: Some(json!(cluster)),
                    },
                    redacted_change("value", false),
                ],
                body: WriteBody::Secret { object, data },
                resource_version: None,
            })
        }
        Some(s) => {
            let mut fields = Vec::new();
            let mut object = json!({});
            let label = s.labels.get(CLUSTER_NAME_LABEL);
            if label.map(String::as_str) != Some(cluster) {
                object = json!({ "metadata": { "labels": { CLUSTER_NAME_LABEL: cluster } } });
                // Every stored field of a Secret is treated as secret, labels included.
                fields.push(FieldDiff {
                    path: format!("metadata.labels.{CLUSTER_NAME_LABEL}"),
                    stored: label.map(|_| Value::String(REDACTED.into())),
                    desired: Some(json!(cluster)),
                });
            }
            let data_differs = s.get("value") != Some(kubeconfig);
            if data_differs {
                fields.push(redacted_change("value", s.get("value").is_some()));
            }
            if fields.is_empty() {
                return None;
            }
            Some(Write {
                target,
                operation: Operation::Patch,
                fields,
                body: WriteBody::Secret { object, data: if data_differs { data } else { BTreeMap::new() } },
                resource_version: s.resource_version.clone(),
            })
        }
    }
}
