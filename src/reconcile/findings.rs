//! Findings about the stored state that do not change the verdict: inputs on which the upstream
//! controller would not converge (spec §2.9) and leftovers of upstream bugs (spec §7).

use super::endpoint::{self, CA_KEY, Lookup, Source};
use super::{ObjectRef, PlanFinding, Severity, Snapshot};

fn warn(object: Option<ObjectRef>, message: String) -> PlanFinding {
    PlanFinding { severity: Severity::Warning, object, message }
}

/// What the upstream controller would do wrong on this snapshot, and stale upstream writes.
/// A Secret these findings need that was not read is added to `wanted` (and its findings
/// left out): the reader fetches it and plans again.
pub fn upstream_hazards(snap: &Snapshot, wanted: &mut Vec<ObjectRef>) -> Vec<PlanFinding> {
    let mut out = Vec::new();
    let cp = &snap.control_plane;
    let ns = cp.metadata.namespace.clone().unwrap_or_default();
    let name = cp.metadata.name.clone().unwrap_or_default();
    let cp_ref = ObjectRef::new("CAPTControlPlane", Some(&ns), &name);
    let loops = |id: &str, pair: &str| {
        format!(
            "the upstream controller hot-loops on this state ({id}: {pair} on every pass); kubectl-capt decides one status"
        )
    };

    if let Some(ep) = &cp.spec.control_plane_endpoint
        && ep.host.contains("://")
    {
        out.push(warn(
            Some(cp_ref.clone()),
            format!("spec.controlPlaneEndpoint.host {:?} contains a URL scheme (upstream B4); Cluster API expects a bare host", ep.host),
        ));
    }
    if let Some(st) = snap.cluster.as_ref().and_then(|c| c.status.as_ref())
        && st.failure_reason.is_some()
        && cp.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Failed")
    {
        out.push(warn(
            snap.cluster.as_ref().map(|_| ObjectRef::new("Cluster", Some(&ns), &name)),
            format!(
                "status.failureReason {:?} is set although the control plane is not Failed (upstream never clears it, B2)",
                st.failure_reason.clone().unwrap_or_default()
            ),
        ));
    }
    if cp.metadata.deletion_timestamp.is_some() || snap.cluster.is_none() || !snap.unreadable.is_empty() {
        return out;
    }
    let Some(wta) = &snap.main_apply else { return out };
    let wta_ready = wta.ready_condition().is_some_and(|c| c.is_true());
    if wta.workspace_name().is_none() {
        return out;
    }
    let Some(ws) = &snap.workspace else {
        let pair = if wta_ready {
            "WorkspaceStatusUpdateFailed ↔ KubeconfigGenerationFailed"
        } else {
            "WorkspaceStatusUpdateFailed ↔ EndpointError"
        };
        out.push(warn(Some(cp_ref), loops(if wta_ready { "HL3" } else { "HL4" }, pair)));
        return out;
    };
    let conn = ObjectRef::new("Secret", Some(&ns), &super::Names::of(cp).connection_secret);
    if snap.not_read.contains(&conn) {
        wanted.push(conn);
        return out;
    }
    let secret = snap.connection_secret.as_ref();
    let lacks_ca = secret.is_some_and(|s| s.get(CA_KEY).is_none_or(|v| v.is_empty()));
    let lookup = endpoint::lookup(Some(ws), secret);
    if wta_ready {
        match &lookup {
            Lookup::Found(_, Source::Outputs) if lacks_ca => {
                out.push(warn(Some(cp_ref), loops("HL1", "Ready ↔ SecretError")));
            }
            Lookup::Bad { source: Source::Outputs, .. } => {
                // Upstream merge-patches the Cluster endpoint against the Cluster as read: for an
                // empty host on a Cluster without an endpoint the patch carries only `port`, which
                // the Cluster API schema rejects (host is required), so that pass ends in
                // EndpointUpdateFailed instead of Ready (seen with the real controller and CRDs).
                let empty_host = ws.output(endpoint::ENDPOINT_KEY).and_then(|v| v.as_str()) == Some("");
                let cluster_has_endpoint =
                    snap.cluster.as_ref().is_some_and(|c| c.spec.control_plane_endpoint.is_some());
                let pair = if empty_host && !cluster_has_endpoint {
                    "EndpointUpdateFailed ↔ EndpointError"
                } else {
                    "Ready ↔ EndpointError"
                };
                out.push(warn(Some(cp_ref), loops("HL2", pair)));
            }
            Lookup::Found(_, Source::Secret) => out.push(warn(
                Some(cp_ref),
                "upstream reads a raw URL in the connection secret as base64 and fails with EndpointUpdateFailed (B5, S13); kubectl-capt accepts it".into(),
            )),
            Lookup::None => out.push(warn(
                Some(cp_ref),
                "upstream would mark this control plane Ready without an endpoint (B6); kubectl-capt waits".into(),
            )),
            _ => {}
        }
    } else if secret.is_some() && (lacks_ca || matches!(lookup, Lookup::Bad { .. })) {
        // The not-ready status (WorkspaceError when the apply's Ready=False has a message), then
        // reconcileSecrets' failure: the endpoint is checked before the CA key.
        let waiting = match wta.ready_condition().map(|c| c.message()) {
            Some(m) if !m.is_empty() => "WorkspaceError",
            _ => "Creating",
        };
        let failing = if matches!(lookup, Lookup::Bad { .. }) { "EndpointError" } else { "SecretError" };
        out.push(warn(Some(cp_ref), loops("HL5", &format!("{waiting} ↔ {failing}"))));
    }
    out
}
