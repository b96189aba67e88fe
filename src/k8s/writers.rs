//! Reads for the other-writer guard and `--nudge`: the controller's leader-election Leases and
//! the CAPTControlPlane's own metadata.

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::ListParams;

use super::{Kube, Op};
use crate::error::{Error, Result};
use crate::model::{CaptControlPlane, CaptKind};
use crate::reconcile::guard::LeaseLookup;

/// Lists the Leases in the controller namespace. A refusal or failure is evidence of its own
/// ("unknown"), not an error: the guard must still run for users who cannot read Leases.
pub async fn leases(kube: &Kube, namespace: &str) -> LeaseLookup {
    let api: Api<Lease> = Api::namespaced(kube.client.clone(), namespace);
    match api.list(&ListParams::default()).await {
        Ok(list) => LeaseLookup::Listed { namespace: namespace.to_string(), leases: list.items },
        Err(e) => {
            let op = Op::core("list", "leases.coordination.k8s.io", "Lease", Some(namespace), None);
            match kube.error(&op, e) {
                Error::Forbidden { .. } => LeaseLookup::Forbidden {
                    namespace: namespace.to_string(),
                    message: format!("cannot list leases.coordination.k8s.io in namespace {namespace:?}"),
                },
                other => LeaseLookup::Failed { namespace: namespace.to_string(), message: other.to_string() },
            }
        }
    }
}

/// GETs one CAPTControlPlane (with managedFields).
pub async fn control_plane(kube: &Kube, namespace: &str, name: &str) -> Result<CaptControlPlane> {
    let api: Api<CaptControlPlane> = Api::namespaced(kube.client.clone(), namespace);
    let op = Op::on("get", &CaptControlPlane::INFO, Some(namespace), Some(name));
    api.get(name).await.map_err(|e| kube.error(&op, e))
}
