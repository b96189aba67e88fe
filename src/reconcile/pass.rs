//! One reconcile pass, evaluated whole before anything is decided: the steps run in upstream's
//! order (spec §2.1), the first that cannot finish decides the single verdict, and the writes
//! are the minimal differences the pass implies.
//!
//! Precedence (first match wins): read errors → missing Cluster → missing WorkspaceTemplate →
//! main apply missing or unnamed Workspace → named Workspace missing → apply failed
//! (`WorkspaceError`) → apply not Ready → endpoint (bad, or none yet) → connection Secret
//! missing → CA key missing → Ready. Everything after the deciding step becomes findings, never
//! a second status.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::applies::{self, SECRET_VARIABLES};
use super::endpoint::{self, CA_KEY, ENDPOINT_KEY, Endpoint, Lookup, Source};
use super::names::Names;
use super::status::{
    CREATING_MESSAGE, Decision, NO_CLUSTER_MESSAGE, Observed, desired_cluster_status, desired_cp_status,
    go_time_string, workspace_status,
};
use super::writes::patch;
use super::{
    ObjectRef, Operation, Outcome, Phase, Plan, PlanFinding, Requeue, SecretInfo, Severity, Snapshot,
    Unreadable, Write, findings, secrets,
};
use crate::model::{
    ApiEndpoint, CP_FINALIZER, CaptControlPlane, Cluster, ERROR_INTERVAL, INIT_INTERVAL, READY_INTERVAL,
    REGION_ANNOTATION, WorkspaceTemplateApply,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

const CLUSTER_API_VERSION: &str = "cluster.x-k8s.io/v1beta1";

/// The pass's running state: the CAPTControlPlane as the pass wants it, and the writes so far.
struct Pass<'a> {
    snap: &'a Snapshot,
    names: Names,
    now: DateTime<Utc>,
    cp: CaptControlPlane,
    writes: Vec<Write>,
    findings: Vec<PlanFinding>,
    observed: Observed,
    endpoint: Option<ApiEndpoint>,
}

/// Why a pass stopped before deciding.
enum Blind {
    /// It needs an input that could not be read.
    Unreadable(Unreadable),
    /// It needs Secrets that were not read (yet): a reader fetches them and plans again.
    NotRead(Vec<ObjectRef>),
}

/// A pass evaluated up to its verdict, with the upstream hazards found on the way.
fn evaluate(snap: &Snapshot, now: DateTime<Utc>) -> (Pass<'_>, Result<Decision, Blind>, Vec<ObjectRef>) {
    let names = Names::of(&snap.control_plane);
    let mut hazard_reads = Vec::new();
    let mut pass = Pass {
        snap,
        names,
        now,
        cp: snap.control_plane.clone(),
        writes: Vec::new(),
        findings: findings::upstream_hazards(snap, &mut hazard_reads),
        observed: Observed::default(),
        endpoint: None,
    };
    let verdict = pass.run();
    (pass, verdict, hazard_reads)
}

pub fn plan(snap: &Snapshot, now: DateTime<Utc>) -> Plan {
    let (pass, verdict, hazard_reads) = evaluate(snap, now);
    let not_read = |target: ObjectRef| Unreadable { target, failure: super::ReadFailure::NotRead };
    match verdict {
        Err(Blind::Unreadable(u)) => undetermined(snap, &pass.names, u),
        Err(Blind::NotRead(targets)) => undetermined(snap, &pass.names, not_read(targets[0].clone())),
        Ok(_) if !hazard_reads.is_empty() => {
            undetermined(snap, &pass.names, not_read(hazard_reads[0].clone()))
        }
        Ok(verdict) => pass.finish(verdict),
    }
}

/// The Secrets in [`Snapshot::not_read`] that this pass (its verdict or its findings) would
/// look at next, given what was read so far. Empty: the snapshot holds everything the plan
/// depends on, and a Secret still not read cannot change it.
pub fn reads_wanted(snap: &Snapshot, now: DateTime<Utc>) -> Vec<ObjectRef> {
    if snap.not_read.is_empty() {
        return Vec::new();
    }
    let (_, verdict, mut wanted) = evaluate(snap, now);
    if let Err(Blind::NotRead(targets)) = verdict {
        wanted.extend(targets);
    }
    wanted.sort();
    wanted.dedup();
    wanted
}

/// The plan of a pass that needed an input it could not read: no decision, so no phase, no
/// writes and no requeue; the stored status stands. The findings name every unreadable input
/// and the RBAC that would allow reading it.
pub(super) fn undetermined(snap: &Snapshot, names: &Names, needed: Unreadable) -> Plan {
    let cp = ObjectRef::new("CAPTControlPlane", Some(&names.namespace), &names.cp);
    let mut findings = vec![PlanFinding {
        severity: Severity::Warning,
        object: Some(cp),
        message: format!(
            "undetermined: the decision needs {}, which kubectl-capt cannot read ({}); the controller may well read it, so no phase, requeue or drift is shown",
            needed.target,
            needed.why()
        ),
    }];
    for u in &snap.unreadable {
        findings.push(PlanFinding {
            severity: Severity::Warning,
            object: Some(u.target.clone()),
            message: format!("cannot read: {}", u.why()),
        });
    }
    Plan {
        status: snap.control_plane.status.clone().unwrap_or_default(),
        phase: None,
        writes: Vec::new(),
        requeue: Requeue {
            after: None,
            outcome: Outcome::Undetermined,
            reason: format!("cannot read {} ({})", needed.target, needed.why()),
        },
        findings,
        unreadable: vec![needed],
    }
}

impl<'a> Pass<'a> {
    fn cp_ref(&self) -> ObjectRef {
        ObjectRef::new("CAPTControlPlane", Some(&self.names.namespace), &self.names.cp)
    }
    fn secret_ref(&self, name: &str) -> String {
        format!("{}/{}", self.names.namespace, name)
    }
    fn finding(&mut self, severity: Severity, object: Option<ObjectRef>, message: String) {
        self.findings.push(PlanFinding { severity, object, message });
    }
    /// `Err` when the pass is about to use an input that could not be read.
    fn need(&self, kind: &str, namespace: Option<&str>, name: &str) -> Result<(), Blind> {
        let target = ObjectRef::new(kind, namespace, name);
        match self.snap.unreadable.iter().find(|u| u.target == target) {
            Some(u) => Err(Blind::Unreadable(u.clone())),
            None => Ok(()),
        }
    }

    /// `Err` when the pass is about to use Secrets that could not be read or were not read:
    /// the first unreadable one, else all those not read (fetched together).
    fn need_secrets(&self, names: &[&String]) -> Result<(), Blind> {
        let ns = Some(self.names.namespace.as_str());
        for name in names {
            self.need("Secret", ns, name)?;
        }
        let missing: Vec<ObjectRef> = names
            .iter()
            .map(|n| ObjectRef::new("Secret", ns, n))
            .filter(|t| self.snap.not_read.contains(t))
            .collect();
        if missing.is_empty() { Ok(()) } else { Err(Blind::NotRead(missing)) }
    }

    fn run(&mut self) -> Result<Decision, Blind> {
        let snap = self.snap;
        let names = self.names.clone();
        let meta = &mut self.cp.metadata;
        let finalizers = meta.finalizers.get_or_insert_with(Vec::new);
        if !finalizers.iter().any(|f| f == CP_FINALIZER) {
            finalizers.push(CP_FINALIZER.to_string());
        }

        // Inputs the decision did not need are named; those it needs end it undetermined.
        for u in &snap.unreadable {
            self.finding(Severity::Info, Some(u.target.clone()), format!("cannot read: {}", u.why()));
        }

        self.need("Cluster", Some(&names.namespace), &names.cp)?;
        let Some(cluster) = &snap.cluster else {
            let cluster = ObjectRef::new("Cluster", Some(&names.namespace), &names.cp);
            self.finding(Severity::Warning, Some(cluster.clone()), format!("owner {cluster} does not exist"));
            return Ok(Decision::Wait {
                message: NO_CLUSTER_MESSAGE.into(),
                why: format!("waiting for owner Cluster {}/{}", names.namespace, names.cp),
            });
        };
        self.ensure_owner_ref(cluster);

        let template_ref = &snap.control_plane.spec.workspace_template_ref;
        let template_ns = names.template_namespace(template_ref);
        self.need("WorkspaceTemplate", Some(&template_ns), &template_ref.name)?;
        if snap.template.is_none() {
            let ns = template_ns;
            let target = ObjectRef::new("WorkspaceTemplate", Some(&ns), &template_ref.name);
            self.finding(Severity::Error, Some(target), "the WorkspaceTemplate does not exist".into());
            return Ok(Decision::Fail {
                reason: "WorkspaceTemplateNotFound".into(),
                message: format!(
                    "Failed to get WorkspaceTemplate: workspacetemplates.infrastructure.cluster.x-k8s.io {:?} not found",
                    template_ref.name
                ),
                why: format!("WorkspaceTemplate {ns}/{} not found", template_ref.name),
            });
        }

        if self.cp.spec.workspace_template_apply_name.as_deref().unwrap_or("").is_empty() {
            self.cp.spec.workspace_template_apply_name = Some(names.main_apply.clone());
        }
        // One LIST reads the main, kubeconfig and vpc applies: unreadable means all three.
        self.need("WorkspaceTemplateApply", Some(&names.namespace), &names.main_apply)?;
        let owned = applies::main_owned(&snap.control_plane, &names, snap.vpc_apply_exists);
        if let Some(w) = applies::write(
            &snap.control_plane,
            &names,
            &names.main_apply,
            snap.main_apply.as_ref(),
            &owned,
            &[],
        ) {
            self.writes.push(w);
        }
        let apply_ref = ObjectRef::new("WorkspaceTemplateApply", Some(&names.namespace), &names.main_apply);
        let Some(wta) = &snap.main_apply else {
            // The apply this pass creates has no Workspace yet.
            self.observed.workspace_status = Some(Default::default());
            return Ok(Decision::Wait {
                message: CREATING_MESSAGE.into(),
                why: format!(
                    "waiting for WorkspaceTemplateApply {}/{} to be applied",
                    names.namespace, names.main_apply
                ),
            });
        };
        if let Some(t) = wta.status.as_ref().and_then(|s| s.last_applied_time.as_deref()) {
            self.observed.last_applied_revision = Some(go_time_string(t));
        }
        let wta_ready = wta.ready_condition().is_some_and(|c| c.is_true());
        let wta_error = wta_error(wta);

        let Some(ws_name) = wta.workspace_name() else {
            self.observed.workspace_status = Some(Default::default());
            if let Some(msg) = wta_error {
                return Ok(self.workspace_error(apply_ref, msg));
            }
            return Ok(Decision::Wait {
                message: CREATING_MESSAGE.into(),
                why: format!(
                    "waiting for WorkspaceTemplateApply {}/{} to create its Workspace",
                    names.namespace, names.main_apply
                ),
            });
        };
        let ws_ref = ObjectRef::new("Workspace", None, ws_name);
        self.need("Workspace", None, ws_name)?;
        let Some(workspace) = &snap.workspace else {
            self.finding(Severity::Error, Some(ws_ref), format!("named by {apply_ref} but does not exist"));
            return Ok(Decision::Fail {
                reason: "WorkspaceStatusUpdateFailed".into(),
                message: format!(
                    "Failed to update workspace status: failed to get workspace: workspaces.tf.upbound.io {ws_name:?} not found"
                ),
                why: format!("Workspace {ws_name} not found"),
            });
        };
        self.observed.workspace_status = Some(workspace_status(workspace));

        if let Some(msg) = wta_error {
            return Ok(self.workspace_error(apply_ref, msg));
        }
        if !wta_ready {
            let state = wta.ready_condition().map(|c| c.reason().to_string()).filter(|r| !r.is_empty());
            return Ok(Decision::Wait {
                message: CREATING_MESSAGE.into(),
                why: format!(
                    "waiting for WorkspaceTemplateApply {}/{} to become Ready{}",
                    names.namespace,
                    names.main_apply,
                    state.map(|s| format!(" ({s})")).unwrap_or_default()
                ),
            });
        }

        // Ready path: endpoint, then the connection Secret's CA, then the Secrets it writes.
        self.need_secrets(&[&names.connection_secret])?;
        let secret = snap.connection_secret.as_ref();
        let secret_name = self.secret_ref(&names.connection_secret);
        let outputs_from = format!("Workspace {ws_name} output {ENDPOINT_KEY}");
        let secret_from = format!("Secret {secret_name} key {ENDPOINT_KEY}");
        let endpoint = match endpoint::lookup(Some(workspace), secret) {
            Lookup::Found(e, source) => {
                let from = if source == Source::Secret { &secret_from } else { &outputs_from };
                if source == Source::Secret {
                    self.finding(
                        Severity::Info,
                        None,
                        format!(
                            "endpoint taken from {from}: Workspace {ws_name} has no output {ENDPOINT_KEY}"
                        ),
                    );
                }
                if e.dropped_rest {
                    self.finding(
                        Severity::Warning,
                        None,
                        format!("{from}: the URL's path, query or fragment is ignored and never written"),
                    );
                }
                e
            }
            Lookup::Bad { source, error } => {
                let from = if source == Source::Secret { &secret_from } else { &outputs_from };
                return Ok(Decision::Fail {
                    reason: "EndpointError".into(),
                    message: format!("Failed to get cluster endpoint: {}", error.describe(from)),
                    why: format!("bad endpoint in {from}"),
                });
            }
            Lookup::None if secret.is_none() => return Ok(self.wait_for_connection_secret(&secret_name)),
            Lookup::None => {
                return Ok(Decision::Wait {
                    message: CREATING_MESSAGE.into(),
                    why: format!(
                        "waiting for an endpoint in Workspace {ws_name} outputs or Secret {secret_name}"
                    ),
                });
            }
        };
        let Some(secret) = secret else { return Ok(self.wait_for_connection_secret(&secret_name)) };
        let Some(ca) = secret.get(CA_KEY).filter(|v| !v.is_empty()) else {
            return Ok(Decision::Fail {
                reason: "SecretError".into(),
                message: format!("Failed to get certificate authority data: {CA_KEY} not found in secret"),
                why: format!("Secret {secret_name} has no {CA_KEY}"),
            });
        };

        // Needed only from here on: a pass that stopped above decided without them.
        self.need_secrets(&[&names.ca_secret, &names.outputs_kubeconfig_secret, &names.kubeconfig_secret])?;
        self.endpoint = Some(endpoint.api.clone());
        self.cp.spec.control_plane_endpoint = Some(endpoint.api.clone());
        self.kubeconfig_apply(cluster, secret, &endpoint, ca, ws_name);
        self.secrets(ca);
        Ok(Decision::Ready)
    }

    fn workspace_error(&mut self, apply: ObjectRef, message: String) -> Decision {
        self.finding(Severity::Error, Some(apply.clone()), format!("Ready=False: {message}"));
        Decision::Fail { reason: "WorkspaceError".into(), message, why: format!("{apply} failed") }
    }

    fn wait_for_connection_secret(&self, name: &str) -> Decision {
        Decision::Wait {
            message: CREATING_MESSAGE.into(),
            why: format!("waiting for connection secret {name}"),
        }
    }

    /// Adds a controller reference to the Cluster unless one to a Cluster exists. If another
    /// controller owns the CAPTControlPlane, the reference is added without `controller`.
    fn ensure_owner_ref(&mut self, cluster: &Cluster) {
        let refs = self.cp.metadata.owner_references.get_or_insert_with(Vec::new);
        if refs.iter().any(|r| r.kind == "Cluster" && r.api_version == CLUSTER_API_VERSION) {
            return;
        }
        let other_controller =
            refs.iter().find(|r| r.controller == Some(true)).map(|r| format!("{} {}", r.kind, r.name));
        refs.push(OwnerReference {
            api_version: CLUSTER_API_VERSION.into(),
            kind: "Cluster".into(),
            name: cluster.metadata.name.clone().unwrap_or_default(),
            uid: cluster.metadata.uid.clone().unwrap_or_default(),
            controller: Some(other_controller.is_none()),
            block_owner_deletion: Some(true),
        });
        if let Some(other) = other_controller {
            let cp = self.cp_ref();
            self.finding(
                Severity::Warning,
                Some(cp),
                format!("already controlled by {other}; the Cluster owner reference is added without controller=true"),
            );
        }
    }

    fn kubeconfig_apply(
        &mut self,
        cluster: &Cluster,
        secret: &SecretInfo,
        endpoint: &Endpoint,
        ca: &super::SecretBytes,
        workspace: &str,
    ) {
        let snap = self.snap;
        let region = snap
            .control_plane
            .spec
            .control_plane_config
            .as_ref()
            .and_then(|c| c.region.clone())
            .filter(|r| !r.is_empty())
            .or_else(|| cluster.metadata.annotations.as_ref()?.get(REGION_ANNOTATION).cloned())
            .filter(|r| !r.is_empty());
        let apply = ObjectRef::new(
            "WorkspaceTemplateApply",
            Some(&self.names.namespace),
            &self.names.kubeconfig_apply,
        );
        let Some(region) = region else {
            self.finding(
                Severity::Warning,
                Some(apply),
                format!("not created: no region (spec.controlPlaneConfig.region or Cluster annotation {REGION_ANNOTATION})"),
            );
            return;
        };
        let secret_name = self.secret_ref(&self.names.connection_secret);
        let Some(endpoint_raw) = secret.get(ENDPOINT_KEY).filter(|e| !e.is_empty()) else {
            self.finding(
                Severity::Warning,
                Some(apply),
                format!("not created: Secret {secret_name} has no {ENDPOINT_KEY}"),
            );
            return;
        };
        // Upstream copies the raw value; only its validated scheme, host and port are copied
        // here, and the pass's endpoint stands in for a value that is not a usable URL.
        let url = match endpoint::from_secret_bytes(endpoint_raw.expose()) {
            Ok(e) => e.url,
            Err(error) => {
                let from = format!("Secret {secret_name} key {ENDPOINT_KEY}");
                self.finding(
                    Severity::Warning,
                    Some(apply),
                    format!(
                        "{}; the endpoint of the Workspace output is used instead",
                        error.describe(&from)
                    ),
                );
                endpoint.url.clone()
            }
        };
        let ca_text = String::from_utf8_lossy(ca.expose()).into_owned();
        let owned = applies::kubeconfig_owned(&self.names, &region, &url, &ca_text, workspace);
        if let Some(w) = applies::write(
            &snap.control_plane,
            &self.names,
            &self.names.kubeconfig_apply,
            snap.kubeconfig_apply.as_ref(),
            &owned,
            SECRET_VARIABLES,
        ) {
            self.writes.push(w);
        }
    }

    fn secrets(&mut self, ca: &super::SecretBytes) {
        let snap = self.snap;
        let certificate = endpoint::ca_certificate(ca.expose());
        if let Some(stored) = &snap.ca_secret {
            let want = secrets::ca_data(&certificate);
            if want.iter().any(|(k, v)| stored.get(k) != Some(v)) {
                let target = ObjectRef::new("Secret", Some(&self.names.namespace), &self.names.ca_secret);
                self.finding(
                    Severity::Warning,
                    Some(target),
                    format!(
                        "differs from the CA in Secret {}; it is never rewritten",
                        self.secret_ref(&self.names.connection_secret)
                    ),
                );
            }
        }
        if let Some(w) =
            secrets::ca_write(&snap.control_plane, &self.names, snap.ca_secret.as_ref(), &certificate)
        {
            self.writes.push(w);
        }
        let outputs = snap
            .outputs_kubeconfig_secret
            .as_ref()
            .and_then(|s| s.get("kubeconfig"))
            .filter(|k| !k.is_empty());
        match outputs {
            Some(kubeconfig) => {
                if let Some(w) = secrets::kubeconfig_write(
                    &snap.control_plane,
                    &self.names,
                    snap.kubeconfig_secret.as_ref(),
                    kubeconfig,
                ) {
                    self.writes.push(w);
                }
                self.observed.secrets_ready = Some(true);
            }
            None => {
                let name = self.secret_ref(&self.names.outputs_kubeconfig_secret);
                let target =
                    ObjectRef::new("Secret", Some(&self.names.namespace), &self.names.kubeconfig_secret);
                self.finding(
                    Severity::Info,
                    Some(target),
                    format!("not written yet: waiting for Secret {name} (key kubeconfig) from the kubeconfig apply"),
                );
                self.observed.secrets_ready = Some(false);
            }
        }
    }

    /// Turns the verdict into the status writes and the requeue, in sending order.
    fn finish(mut self, verdict: Decision) -> Plan {
        let snap = self.snap;
        let stored_cp = &snap.control_plane;
        let mut writes = Vec::new();

        let meta_doc = |cp: &CaptControlPlane| {
            json!({
                "metadata": {
                    "finalizers": cp.metadata.finalizers.clone().unwrap_or_default(),
                    "ownerReferences": cp.metadata.owner_references.clone().unwrap_or_default(),
                },
                "spec": {
                    "workspaceTemplateApplyName": cp.spec.workspace_template_apply_name,
                    "controlPlaneEndpoint": cp.spec.control_plane_endpoint,
                },
            })
        };
        let rv = stored_cp.metadata.resource_version.clone();
        writes.extend(patch(
            self.cp_ref(),
            Operation::Patch,
            &meta_doc(stored_cp),
            &meta_doc(&self.cp),
            rv.clone(),
        ));
        writes.append(&mut self.writes);

        let stored_status = stored_cp.status.clone().unwrap_or_default();
        let status = desired_cp_status(&stored_status, &verdict, &self.observed, self.now);
        let secrets_ready = status.secrets_ready.unwrap_or(false);

        if let Some(cluster) = &snap.cluster {
            let target = ObjectRef::new("Cluster", Some(&self.names.namespace), &self.names.cp);
            let crv = cluster.metadata.resource_version.clone();
            if let Some(endpoint) = &self.endpoint {
                let doc = |e: Option<&ApiEndpoint>| json!({ "spec": { "controlPlaneEndpoint": e } });
                writes.extend(patch(
                    target.clone(),
                    Operation::Patch,
                    &doc(cluster.spec.control_plane_endpoint.as_ref()),
                    &doc(Some(endpoint)),
                    crv.clone(),
                ));
            }
            let stored = cluster.status.clone().unwrap_or_default();
            let desired = desired_cluster_status(&stored, &verdict, secrets_ready, self.now);
            writes.extend(patch(
                target,
                Operation::PatchStatus,
                &json!({ "status": stored }),
                &json!({ "status": desired }),
                crv,
            ));
        }
        writes.extend(patch(
            self.cp_ref(),
            Operation::PatchStatus,
            &json!({ "status": stored_status }),
            &json!({ "status": status }),
            rv,
        ));

        let (outcome, after, why, phase) = match &verdict {
            Decision::Ready => {
                let why = if secrets_ready {
                    "ready".to_string()
                } else {
                    format!(
                        "ready; kubeconfig Secret waits for {}",
                        self.secret_ref(&self.names.outputs_kubeconfig_secret)
                    )
                };
                (Outcome::Ready, READY_INTERVAL, why, Phase::Ready)
            }
            Decision::Wait { why, .. } => {
                self.findings.push(PlanFinding {
                    severity: Severity::Info,
                    object: Some(self.cp_ref()),
                    message: format!("not ready: {why}"),
                });
                (Outcome::Waiting, INIT_INTERVAL, why.clone(), Phase::Creating)
            }
            Decision::Fail { reason, message, why } => {
                self.findings.push(PlanFinding {
                    severity: Severity::Error,
                    object: Some(self.cp_ref()),
                    message: format!("Failed ({reason}): {message}"),
                });
                (Outcome::Serious, ERROR_INTERVAL, format!("{reason}: {why}"), Phase::Failed)
            }
        };
        self.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        Plan {
            status,
            phase: Some(phase),
            writes,
            requeue: Requeue { after: Some(after), outcome, reason: why },
            findings: self.findings,
            unreadable: Vec::new(),
        }
    }
}

/// The message of the apply's `Ready=False` condition, if it has one (upstream U3).
fn wta_error(wta: &WorkspaceTemplateApply) -> Option<String> {
    wta.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "False")
        .map(|c| c.message().to_string())
        .filter(|m| !m.is_empty())
}
