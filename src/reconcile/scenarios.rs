//! Table-driven scenarios: spec §5 (S1–S30, where they apply to one pass) and every §2.9
//! non-converging input (HL1–HL7). Each asserts the status decision, the writes (kind, name,
//! operation, in order), the requeue, and that applying the plan and planning again writes
//! nothing (with a later `now`, so a moving lastTransitionTime would show).

use serde_json::json;

use super::fixtures::*;
use super::*;
use crate::model::find_condition;

type W = (&'static str, &'static str, Operation);

const CP: &str = "demo";
const MAIN: &str = "demo-eks-controlplane-apply";
const KCFG: &str = "demo-kubeconfig-apply";

struct Case {
    name: &'static str,
    snap: Snapshot,
    phase: Option<&'static str>,
    reason: Option<&'static str>,
    requeue: &'static str,
    writes: Vec<W>,
}

fn ready_reason(p: &Plan) -> Option<String> {
    find_condition(p.status.conditions.as_deref(), "Ready").map(|c| c.reason().to_string())
}

fn run(c: Case) -> Plan {
    let p = plan(&c.snap, now());
    let got: Vec<(String, String, Operation)> =
        p.writes.iter().map(|w| (w.target.kind.clone(), w.target.name.clone(), w.operation)).collect();
    let want: Vec<(String, String, Operation)> =
        c.writes.iter().map(|(k, n, o)| (k.to_string(), n.to_string(), *o)).collect();
    assert_eq!(got, want, "{}: writes", c.name);
    assert_eq!(p.status.phase.as_deref(), c.phase, "{}: phase", c.name);
    assert_eq!(ready_reason(&p).as_deref(), c.reason, "{}: Ready reason", c.name);
    assert_eq!(p.requeue.display(), c.requeue, "{}: requeue", c.name);
    let next = apply(&c.snap, &p);
    let again = plan(&next, later());
    assert!(
        again.writes.is_empty(),
        "{}: not converged, second pass writes {:#?}",
        c.name,
        again.writes.iter().map(|w| (&w.target, &w.fields)).collect::<Vec<_>>()
    );
    assert_eq!(again.requeue.after, p.requeue.after, "{}: requeue changed on the second pass", c.name);
    p
}

fn write<'a>(p: &'a Plan, kind: &str, name: &str, op: Operation) -> &'a Write {
    p.writes
        .iter()
        .find(|w| w.target.kind == kind && w.target.name == name && w.operation == op)
        .unwrap_or_else(|| panic!("no {op:?} of {kind} {name}"))
}

fn body(w: &Write) -> &serde_json::Value {
    match &w.body {
        WriteBody::Json(v) => v,
        WriteBody::Secret { object, .. } => object,
    }
}

#[test]
fn s1_fresh_cp_without_cluster_waits_5s() {
    let snap = Snapshot { control_plane: fresh_cp(), ..Snapshot::default() };
    let p = run(Case {
        name: "S1",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for owner Cluster default/demo",
        writes: vec![
            ("CAPTControlPlane", CP, Operation::Patch),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    let meta = body(&p.writes[0]);
    assert_eq!(meta["metadata"]["finalizers"], json!(["controlplane.cluster.x-k8s.io/captcontrolplane"]));
    assert!(meta.get("spec").is_none(), "no apply name before a Cluster exists: {meta}");
    let cond = find_condition(p.status.conditions.as_deref(), "Ready").unwrap();
    assert_eq!(cond.message(), "Waiting for owner cluster");
    assert_eq!(p.requeue.outcome, Outcome::Waiting);
}

#[test]
fn s2_no_cluster_again_writes_nothing() {
    let s1 = Snapshot { control_plane: fresh_cp(), ..Snapshot::default() };
    let snap = apply(&s1, &plan(&s1, now()));
    run(Case {
        name: "S2",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for owner Cluster default/demo",
        writes: vec![],
    });
}

#[test]
fn s3_fresh_cp_with_cluster_creates_main_apply() {
    let snap = Snapshot { control_plane: fresh_cp(), ..base() };
    let p = run(Case {
        name: "S3",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to be applied",
        writes: vec![
            ("CAPTControlPlane", CP, Operation::Patch),
            ("WorkspaceTemplateApply", MAIN, Operation::Create),
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    let meta = body(&p.writes[0]);
    assert_eq!(meta["spec"]["workspaceTemplateApplyName"], MAIN);
    assert_eq!(meta["metadata"]["ownerReferences"][0]["kind"], "Cluster");
    assert_eq!(meta["metadata"]["ownerReferences"][0]["controller"], true);
    let wta = body(&p.writes[1]);
    assert_eq!(
        wta["spec"]["variables"],
        json!({"cluster_name": "demo", "kubernetes_version": "1.31", "region": "ap-northeast-1",
               "endpoint_public_access": "true", "endpoint_private_access": "true", "tags_Environment": "dev"})
    );
    assert_eq!(
        wta["spec"]["writeConnectionSecretToRef"],
        json!({"name": "demo-eks-connection", "namespace": "default"})
    );
    assert!(wta["spec"].get("waitForWorkspaces").is_none());
    assert_eq!(wta["metadata"]["ownerReferences"][0]["kind"], "CAPTControlPlane");
    let cl = body(write(&p, "Cluster", CP, Operation::PatchStatus));
    assert!(cl["status"].get("controlPlaneReady").is_none(), "false over absent is not written: {cl}");
    assert_eq!(cl["status"]["conditions"][0]["reason"], "ControlPlaneNotReady");
    assert_eq!(cl["status"]["conditions"][0]["severity"], "Info");
    // ready/initialized are false: equal to absent, so not written.
    let st = body(write(&p, "CAPTControlPlane", CP, Operation::PatchStatus));
    assert!(st["status"].get("ready").is_none(), "{st}");
}

#[test]
fn s4_vpc_apply_adds_wait_for_workspaces() {
    let snap = Snapshot { control_plane: fresh_cp(), vpc_apply_exists: true, ..base() };
    let p = run(Case {
        name: "S4",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to be applied",
        writes: vec![
            ("CAPTControlPlane", CP, Operation::Patch),
            ("WorkspaceTemplateApply", MAIN, Operation::Create),
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(
        body(&p.writes[1])["spec"]["waitForWorkspaces"],
        json!([{"name": "demo-vpc", "namespace": "default"}])
    );
}

#[test]
fn s5_template_missing_is_serious_10s_not_backoff() {
    let snap = Snapshot { template: None, ..base() };
    let p = run(Case {
        name: "S5",
        snap,
        phase: Some("Failed"),
        reason: Some("WorkspaceTemplateNotFound"),
        requeue: "10s: WorkspaceTemplateNotFound: WorkspaceTemplate default/eks-controlplane-template not found",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(p.status.failure_reason.as_deref(), Some("WorkspaceTemplateNotFound"));
    assert_eq!(
        p.status.failure_message.as_deref(),
        Some(
            "Failed to get WorkspaceTemplate: workspacetemplates.infrastructure.cluster.x-k8s.io \"eks-controlplane-template\" not found"
        )
    );
    assert_eq!(
        p.status.workspace_template_status.as_ref().unwrap().last_failure_message,
        p.status.failure_message
    );
    let cl = body(write(&p, "Cluster", CP, Operation::PatchStatus));
    assert_eq!(cl["status"]["failureReason"], "WorkspaceTemplateNotFound");
    assert_eq!(cl["status"]["conditions"][0]["severity"], "Error");
    assert_eq!(p.requeue.outcome, Outcome::Serious);
}

#[test]
fn s6_template_in_ref_namespace_is_used() {
    let mut snap = Snapshot { control_plane: fresh_cp(), ..base() };
    snap.control_plane.spec.workspace_template_ref.namespace = Some("other".into());
    let p = run(Case {
        name: "S6",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to be applied",
        writes: vec![
            ("CAPTControlPlane", CP, Operation::Patch),
            ("WorkspaceTemplateApply", MAIN, Operation::Create),
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(
        body(&p.writes[1])["spec"]["templateRef"],
        json!({"name": "eks-controlplane-template", "namespace": "other"})
    );
}

#[test]
fn s7_apply_without_status_waits_and_is_not_rewritten() {
    let mut w = wta(json!({}));
    w.status = None;
    let snap = Snapshot { main_apply: Some(w), ..base() };
    run(Case {
        name: "S7",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to create its Workspace",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
}

#[test]
fn s8_apply_error_is_failed_workspace_error() {
    let snap = Snapshot {
        main_apply: Some(wta_failed("apply failed: AccessDenied")),
        workspace: Some(good_workspace()),
        ..base()
    };
    let p = run(Case {
        name: "S8",
        snap,
        phase: Some("Failed"),
        reason: Some("WorkspaceError"),
        requeue: "10s: WorkspaceError: WorkspaceTemplateApply default/demo-eks-controlplane-apply failed",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(p.status.failure_message.as_deref(), Some("apply failed: AccessDenied"));
}

#[test]
fn s9_creating_workspace_copies_state() {
    let snap =
        Snapshot { main_apply: Some(wta_creating()), workspace: Some(workspace(json!({}), false)), ..base() };
    let p = run(Case {
        name: "S9",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to become Ready (Creating)",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    let ws = p.status.workspace_status.unwrap();
    assert_eq!(ws.state.as_deref(), Some("Creating"));
    assert_eq!(ws.ready, Some(false));
    assert_eq!(
        p.status.workspace_template_status.unwrap().last_applied_revision.as_deref(),
        Some("2024-11-22 04:04:47 +0000 UTC")
    );
}

#[test]
fn s10_ready_writes_endpoint_kubeconfig_apply_and_ca() {
    let p = run(Case {
        name: "S10",
        snap: s10(),
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready; kubeconfig Secret waits for default/demo-outputs-kubeconfig",
        writes: vec![
            ("CAPTControlPlane", CP, Operation::Patch),
            ("WorkspaceTemplateApply", KCFG, Operation::Create),
            ("Secret", "demo-ca", Operation::Create),
            ("Cluster", CP, Operation::Patch),
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(body(&p.writes[0])["spec"]["controlPlaneEndpoint"], json!({"host": HOST, "port": 443}));
    assert_eq!(
        body(write(&p, "Cluster", CP, Operation::Patch))["spec"]["controlPlaneEndpoint"]["host"],
        HOST
    );
    let k = body(&p.writes[1]);
    assert_eq!(k["spec"]["templateRef"], json!({"name": "eks-kubeconfig-template", "namespace": "default"}));
    assert_eq!(
        k["spec"]["writeConnectionSecretToRef"],
        json!({"name": "demo-outputs-kubeconfig", "namespace": "default"})
    );
    assert_eq!(k["spec"]["waitForWorkspaces"], json!([{"name": "demo-eks-controlplane"}]));
    // The CA variable is in the body (the apply needs it) but never in the shown fields.
    let shown = serde_json::to_string(&p.writes[1].fields).unwrap();
    assert!(!shown.contains(CA_B64) && shown.contains(REDACTED), "{shown}");
    let WriteBody::Secret { data, .. } = &write(&p, "Secret", "demo-ca", Operation::Create).body else {
        panic!()
    };
    assert!(data["tls.crt"].expose().starts_with(b"-----BEGIN CERTIFICATE-----"));
    assert_eq!(data["tls.crt"], data["ca.crt"]);
    assert_eq!(p.status.ready, Some(true));
    assert_eq!(p.status.initialized, Some(true));
    assert_eq!(p.status.secrets_ready, Some(false));
    let cl = body(write(&p, "Cluster", CP, Operation::PatchStatus));
    assert_eq!(cl["status"]["controlPlaneReady"], true);
    assert!(cl["status"].get("conditions").is_none(), "ControlPlaneInitialized waits for secrets: {cl}");
}

#[test]
fn s11_outputs_secret_creates_kubeconfig_secret_and_initializes_cluster() {
    let s10_done = converge(s10());
    let snap = Snapshot { outputs_kubeconfig_secret: Some(outputs_secret(KUBECONFIG)), ..s10_done };
    let p = run(Case {
        name: "S11",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready",
        writes: vec![
            ("Secret", "demo-kubeconfig", Operation::Create),
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    let WriteBody::Secret { object, data } = &p.writes[0].body else { panic!() };
    assert_eq!(object["type"], "cluster.x-k8s.io/secret");
    assert_eq!(object["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"], "demo");
    assert_eq!(data["value"].expose(), KUBECONFIG.as_bytes());
    assert_eq!(p.status.secrets_ready, Some(true));
    let cl = body(&p.writes[1]);
    assert_eq!(cl["status"]["conditions"][0]["type"], "ControlPlaneInitialized");
    assert_eq!(cl["status"]["conditions"][0]["status"], "True");
}

#[test]
fn s12_rotated_token_updates_only_the_kubeconfig_secret() {
    let mut snap = ready();
    snap.outputs_kubeconfig_secret = Some(outputs_secret("apiVersion: v1\n# TEST-KUBECONFIG-TOKEN-2\n"));
    let p = run(Case {
        name: "S12",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready",
        writes: vec![("Secret", "demo-kubeconfig", Operation::Patch)],
    });
    assert_eq!(p.writes[0].fields[0].path, "data.value");
    assert_eq!(p.writes[0].fields[0].desired, Some(json!(REDACTED)));
    assert!(!format!("{p:?}").contains("TEST-KUBECONFIG-TOKEN"), "Debug leaks Secret data");
}

#[test]
fn s13_endpoint_only_in_secret_as_raw_url_is_ready() {
    let snap = Snapshot { workspace: Some(workspace(json!({}), true)), ..s10() };
    let p = run(Case {
        name: "S13",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready; kubeconfig Secret waits for default/demo-outputs-kubeconfig",
        writes: vec![
            ("CAPTControlPlane", CP, Operation::Patch),
            ("WorkspaceTemplateApply", KCFG, Operation::Create),
            ("Secret", "demo-ca", Operation::Create),
            ("Cluster", CP, Operation::Patch),
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(p.status.workspace_status.as_ref().and_then(|w| w.ready), Some(true));
    assert!(p.findings.iter().any(|f| f.message.contains("B5")), "{:#?}", p.findings);
}

#[test]
fn s14_endpoint_in_secret_as_base64_is_decoded() {
    let mut snap = Snapshot { workspace: Some(workspace(json!({}), true)), ..s10() };
    let b64 = "aHR0cHM6Ly9hYmMuZ3I3LmFwLW5vcnRoZWFzdC0xLmVrcy5hbWF6b25hd3MuY29t"; // base64 of URL
    snap.connection_secret
        .as_mut()
        .unwrap()
        .data
        .insert("cluster_endpoint".into(), SecretBytes::new(b64.into()));
    let p = plan(&snap, now());
    assert_eq!(p.phase, Some(Phase::Ready));
    assert_eq!(body(&p.writes[0])["spec"]["controlPlaneEndpoint"]["host"], HOST);
    assert!(converge(snap).main_apply.is_some());
}

#[test]
fn s15_no_endpoint_anywhere_waits_instead_of_ready() {
    let mut snap = Snapshot { workspace: Some(workspace(json!({}), true)), ..s10() };
    snap.connection_secret.as_mut().unwrap().data.remove("cluster_endpoint");
    let p = run(Case {
        name: "S15",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for an endpoint in Workspace demo-eks-controlplane outputs or Secret default/demo-eks-connection",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert!(p.findings.iter().any(|f| f.message.contains("B6")));
}

#[test]
fn s16_hl1_missing_ca_key_is_one_failed_status() {
    let mut snap = s10();
    snap.connection_secret.as_mut().unwrap().data.remove("cluster_certificate_authority_data");
    let p = run(Case {
        name: "S16/HL1",
        snap,
        phase: Some("Failed"),
        reason: Some("SecretError"),
        requeue: "10s: SecretError: Secret default/demo-eks-connection has no cluster_certificate_authority_data",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert!(p.findings.iter().any(|f| f.message.contains("HL1")));
    assert_eq!(p.status.ready, Some(false));
}

#[test]
fn hl1_from_a_stored_ready_status_flips_once() {
    let mut snap = ready();
    snap.connection_secret.as_mut().unwrap().data.remove("cluster_certificate_authority_data");
    let p = run(Case {
        name: "HL1 from Ready",
        snap,
        phase: Some("Failed"),
        reason: Some("SecretError"),
        requeue: "10s: SecretError: Secret default/demo-eks-connection has no cluster_certificate_authority_data",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(p.status.initialized, Some(true), "initialized is one-way (B8)");
    let cond = find_condition(p.status.conditions.as_deref(), "Ready").unwrap();
    assert_eq!(cond.last_transition_time.as_deref(), Some("2024-11-22T05:00:00Z"));
}

#[test]
fn hl2_empty_endpoint_output_is_endpoint_error() {
    let snap = Snapshot { workspace: Some(workspace(json!({"cluster_endpoint": ""}), true)), ..s10() };
    let p = run(Case {
        name: "HL2",
        snap,
        phase: Some("Failed"),
        reason: Some("EndpointError"),
        requeue: "10s: EndpointError: bad endpoint in Workspace demo-eks-controlplane output cluster_endpoint",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert!(p.findings.iter().any(|f| f.message.contains("HL2")));
    assert_eq!(
        p.status.failure_message.as_deref(),
        Some(
            "Failed to get cluster endpoint: Workspace demo-eks-controlplane output cluster_endpoint is not an https URL: the value is empty"
        )
    );
}

/// The HL finding names the pair of statuses the real upstream controller alternates between.
fn hl_finding(p: &Plan, id: &str) -> String {
    p.findings
        .iter()
        .map(|f| f.message.clone())
        .find(|m| m.contains(&format!("({id}: ")))
        .unwrap_or_else(|| panic!("no {id} finding in {:#?}", p.findings))
}

#[test]
fn hl2_pair_depends_on_whether_the_cluster_has_an_endpoint() {
    // A Cluster without spec.controlPlaneEndpoint: upstream's merge patch carries only the port
    // and the Cluster API schema rejects it, so the pass ends in EndpointUpdateFailed.
    let mut snap = Snapshot { workspace: Some(workspace(json!({"cluster_endpoint": ""}), true)), ..s10() };
    assert!(snap.cluster.as_ref().unwrap().spec.control_plane_endpoint.is_none());
    let p = plan(&snap, now());
    assert!(hl_finding(&p, "HL2").contains("(HL2: EndpointUpdateFailed ↔ EndpointError on every pass)"));
    // Once the Cluster has an endpoint, the patch sets host "" and the pass reaches Ready.
    snap.cluster.as_mut().unwrap().spec.control_plane_endpoint =
        Some(crate::model::ApiEndpoint { host: "abc".into(), port: 443 });
    let p = plan(&snap, now());
    assert!(hl_finding(&p, "HL2").contains("(HL2: Ready ↔ EndpointError on every pass)"));
    // A non-empty host that is not a URL is written as is: Ready, then EndpointError.
    snap.cluster.as_mut().unwrap().spec.control_plane_endpoint = None;
    snap.workspace = Some(workspace(json!({"cluster_endpoint": "not a url"}), true));
    let p = plan(&snap, now());
    assert!(hl_finding(&p, "HL2").contains("(HL2: Ready ↔ EndpointError on every pass)"));
}

#[test]
fn hl5_pair_names_the_waiting_and_the_failing_status() {
    let mut snap = Snapshot { main_apply: Some(wta_creating()), ..s10() };
    snap.connection_secret.as_mut().unwrap().data.remove("cluster_certificate_authority_data");
    assert!(hl_finding(&plan(&snap, now()), "HL5").contains("(HL5: Creating ↔ SecretError on every pass)"));
    snap.main_apply = Some(wta_failed("boom"));
    assert!(
        hl_finding(&plan(&snap, now()), "HL5").contains("(HL5: WorkspaceError ↔ SecretError on every pass)")
    );
    snap.workspace = Some(workspace(json!({"cluster_endpoint": ""}), false));
    assert!(
        hl_finding(&plan(&snap, now()), "HL5")
            .contains("(HL5: WorkspaceError ↔ EndpointError on every pass)")
    );
}

#[test]
fn hl2_unparsable_endpoint_output_is_endpoint_error() {
    let snap =
        Snapshot { workspace: Some(workspace(json!({"cluster_endpoint": "not a url"}), true)), ..s10() };
    let p = plan(&snap, now());
    assert_eq!(ready_reason(&p).as_deref(), Some("EndpointError"));
}

#[test]
fn s18_hl3_named_workspace_missing_with_ready_apply() {
    let snap = Snapshot { workspace: None, ..s10() };
    let p = run(Case {
        name: "S18/HL3",
        snap,
        phase: Some("Failed"),
        reason: Some("WorkspaceStatusUpdateFailed"),
        requeue: "10s: WorkspaceStatusUpdateFailed: Workspace demo-eks-controlplane not found",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert!(p.findings.iter().any(|f| f.message.contains("HL3")));
}

#[test]
fn s19_hl4_named_workspace_missing_with_creating_apply() {
    let snap =
        Snapshot { main_apply: Some(wta_creating()), connection_secret: Some(connection_secret()), ..base() };
    let p = run(Case {
        name: "S19/HL4",
        snap,
        phase: Some("Failed"),
        reason: Some("WorkspaceStatusUpdateFailed"),
        requeue: "10s: WorkspaceStatusUpdateFailed: Workspace demo-eks-controlplane not found",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert!(p.findings.iter().any(|f| f.message.contains("HL4")));
}

#[test]
fn hl5_creating_apply_with_incomplete_secret_stays_creating() {
    let mut snap = Snapshot { main_apply: Some(wta_creating()), ..s10() };
    snap.connection_secret.as_mut().unwrap().data.remove("cluster_certificate_authority_data");
    let p = run(Case {
        name: "HL5",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to become Ready (Creating)",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert!(p.findings.iter().any(|f| f.message.contains("HL5")));
}

#[test]
fn hl5_failed_apply_with_bad_endpoint_stays_workspace_error() {
    let mut snap = Snapshot { main_apply: Some(wta_failed("boom")), ..s10() };
    snap.workspace = Some(workspace(json!({"cluster_endpoint": ""}), false));
    run(Case {
        name: "HL5 WorkspaceError",
        snap,
        phase: Some("Failed"),
        reason: Some("WorkspaceError"),
        requeue: "10s: WorkspaceError: WorkspaceTemplateApply default/demo-eks-controlplane-apply failed",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
}

#[test]
fn hl6_endpoint_from_raw_secret_and_missing_ca_is_one_secret_error() {
    let mut snap = Snapshot { workspace: Some(workspace(json!({}), true)), ..s10() };
    snap.connection_secret.as_mut().unwrap().data.remove("cluster_certificate_authority_data");
    run(Case {
        name: "HL6",
        snap,
        phase: Some("Failed"),
        reason: Some("SecretError"),
        requeue: "10s: SecretError: Secret default/demo-eks-connection has no cluster_certificate_authority_data",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
}

fn forbidden_secret(name: &str) -> Unreadable {
    Unreadable {
        target: ObjectRef::new("Secret", Some("default"), name),
        failure: ReadFailure::Forbidden { verb: "get".into(), resource: "secrets".into() },
    }
}

/// HL7 as the tool sees it: a read it may not make is its own blindness, never a Failed status.
#[test]
fn an_unreadable_input_the_decision_needs_leaves_it_undetermined() {
    let mut snap = ready();
    snap.kubeconfig_secret = None;
    snap.unreadable.push(forbidden_secret("demo-kubeconfig"));
    let p = plan(&snap, now());
    assert!(!p.determined());
    assert!(p.writes.is_empty(), "no drift from an undetermined pass: {:?}", p.writes);
    assert_eq!(p.phase, None);
    assert_eq!((p.requeue.after, p.requeue.outcome), (None, Outcome::Undetermined));
    assert_eq!(
        p.requeue.display(),
        "unknown: cannot read Secret default/demo-kubeconfig (forbidden (403): needs get secrets in namespace \"default\")"
    );
    assert_eq!(p.status, snap.control_plane.status.clone().unwrap_or_default(), "the stored status stands");
    assert_eq!(p.unreadable, vec![forbidden_secret("demo-kubeconfig")]);
    assert_eq!(p.unreadable[0].rbac().as_deref(), Some("get secrets in namespace \"default\""));
    assert!(p.findings.iter().all(|f| f.severity < Severity::Error), "{:?}", p.findings);
    assert!(p.findings.iter().any(|f| f.message.contains("undetermined")), "{:?}", p.findings);

    // A server error on the first input the pass needs.
    let mut snap = ready();
    snap.cluster = None;
    snap.unreadable.push(Unreadable {
        target: ObjectRef::new("Cluster", Some("default"), "demo"),
        failure: ReadFailure::ServerError { code: 503 },
    });
    let p = plan(&snap, now());
    assert!(!p.determined() && p.writes.is_empty());
    assert_eq!(p.requeue.reason, "cannot read Cluster default/demo (the API server answered 503)");
    assert_eq!(p.unreadable[0].rbac(), None);

    // The deletion path decides on what it reads too (applies, Workspace, Cluster)...
    let mut snap = ready();
    snap.control_plane.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Default::default()));
    let mut blind = snap.clone();
    blind.unreadable.push(Unreadable {
        target: ObjectRef::new("WorkspaceTemplateApply", Some("default"), "demo-eks-controlplane-apply"),
        failure: ReadFailure::ServerError { code: 503 },
    });
    let p = plan(&blind, now());
    assert!(!p.determined() && p.writes.is_empty() && p.requeue.after.is_none());
    // ...and reads no Secret, so one it may not read changes nothing.
    let mut blind = snap.clone();
    blind.unreadable.push(forbidden_secret("demo-ca"));
    let (p, q) = (plan(&blind, now()), plan(&snap, now()));
    assert!(p.determined());
    assert_eq!((&p.writes, &p.requeue, &p.phase), (&q.writes, &q.requeue, &q.phase));
}

/// What the pass decides before it needs an unreadable input is decided as usual.
#[test]
fn an_unreadable_input_the_decision_does_not_need_changes_nothing() {
    let base = Snapshot { cluster: None, ..ready() };
    let mut blind = base.clone();
    blind.connection_secret = None;
    blind.unreadable.push(forbidden_secret("demo-eks-connection"));
    let (seeing, p) = (plan(&base, now()), plan(&blind, now()));
    assert!(p.determined(), "{:?}", p.requeue);
    assert_eq!(p.writes, seeing.writes);
    assert_eq!((p.phase, &p.requeue), (Some(Phase::Creating), &seeing.requeue));
    assert!(
        p.findings.iter().any(|f| f.severity == Severity::Info
            && f.message == "cannot read: forbidden (403): needs get secrets in namespace \"default\""),
        "{:?}",
        p.findings
    );
}

#[test]
fn s22_no_region_is_ready_without_kubeconfig_apply() {
    let mut snap = s10();
    snap.control_plane.spec.control_plane_config = None;
    snap.main_apply
        .as_mut()
        .unwrap()
        .spec
        .variables
        .as_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("region") && !k.starts_with("endpoint_"));
    let p = run(Case {
        name: "S22",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready; kubeconfig Secret waits for default/demo-outputs-kubeconfig",
        writes: vec![
            ("CAPTControlPlane", CP, Operation::Patch),
            ("Secret", "demo-ca", Operation::Create),
            ("Cluster", CP, Operation::Patch),
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert!(p.findings.iter().any(|f| f.message.contains("no region")));
}

#[test]
fn s22_region_from_cluster_annotation() {
    let mut snap = s10();
    snap.control_plane.spec.control_plane_config = None;
    snap.cluster.as_mut().unwrap().metadata.annotations =
        Some([("cluster.x-k8s.io/region".to_string(), "eu-west-1".to_string())].into());
    let p = plan(&snap, now());
    let k = body(write(&p, "WorkspaceTemplateApply", KCFG, Operation::Create));
    assert_eq!(k["spec"]["variables"]["region"], "eu-west-1");
}

#[test]
fn s23_recovery_clears_stale_failure_fields() {
    let failed = plan(&Snapshot { template: None, ..base() }, now());
    let mut snap = apply(&Snapshot { template: None, ..base() }, &failed);
    snap.template = Some(template());
    snap.main_apply = Some(wta_creating());
    snap.workspace = Some(workspace(json!({}), false));
    let p = run(Case {
        name: "S23",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to become Ready (Creating)",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    assert_eq!(p.status.failure_reason, None);
    let cl = body(&p.writes[0]);
    assert_eq!(cl["status"]["failureReason"], serde_json::Value::Null);
    assert!(cl["status"].as_object().unwrap().contains_key("failureReason"), "cleared with null: {cl}");
}

fn deleting(mut snap: Snapshot) -> Snapshot {
    snap.control_plane.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Default::default()));
    snap
}

#[test]
fn s24_deletion_waits_for_workspace() {
    let mut snap = deleting(ready());
    snap.kubeconfig_apply.as_mut().unwrap().metadata.resource_version = Some("310".into());
    let p = run(Case {
        name: "S24",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "5s: deleting: waiting for Workspace demo-eks-controlplane to be deleted",
        writes: vec![("Cluster", CP, Operation::Patch), ("WorkspaceTemplateApply", MAIN, Operation::Delete)],
    });
    assert_eq!(body(&p.writes[0])["spec"]["controlPlaneEndpoint"], json!({"host": "", "port": 0}));
    assert_eq!(p.requeue.outcome, Outcome::Waiting);
}

#[test]
fn s25_deletion_finishes_when_workspace_is_gone() {
    let mut snap = deleting(ready());
    snap.workspace = None;
    let p = run(Case {
        name: "S25",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "none: deleted: finalizer removed",
        writes: vec![
            ("Cluster", CP, Operation::Patch),
            ("WorkspaceTemplateApply", MAIN, Operation::Delete),
            ("WorkspaceTemplateApply", KCFG, Operation::Delete),
            ("CAPTControlPlane", CP, Operation::Patch),
        ],
    });
    assert_eq!(body(&p.writes[3]), &json!({"metadata": {"finalizers": []}}));
    assert_eq!(p.writes[3].resource_version.as_deref(), Some("100"));
}

#[test]
fn s26_deletion_without_finalizer_does_nothing() {
    let mut snap = deleting(ready());
    snap.control_plane.metadata.finalizers = None;
    run(Case {
        name: "S26",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "none: deleted: no finalizer left, nothing to clean up",
        writes: vec![],
    });
}

#[test]
fn s27_deletion_without_cluster_or_applies_removes_finalizer() {
    let snap = deleting(Snapshot { control_plane: cp(), ..Snapshot::default() });
    run(Case {
        name: "S27",
        snap,
        phase: None,
        reason: None,
        requeue: "none: deleted: finalizer removed",
        writes: vec![("CAPTControlPlane", CP, Operation::Patch)],
    });
}

#[test]
fn s28_s30_before_model_loop_input_converges_in_one_write() {
    // The state the pre-CAPTEP-0016 loop left behind (S28): Failed/SecretReconciliationFailed.
    let mut snap =
        Snapshot { main_apply: Some(wta_creating()), workspace: Some(workspace(json!({}), false)), ..base() };
    snap.control_plane.status = Some(
        serde_json::from_value(json!({
            "phase": "Failed", "failureReason": "SecretReconciliationFailed",
            "failureMessage": "Failed to reconcile secrets: connection secret not found",
            "conditions": [{"type": "Ready", "status": "False", "reason": "SecretReconciliationFailed",
                            "lastTransitionTime": "2024-11-22T04:10:00Z"}],
        }))
        .unwrap(),
    );
    let p = run(Case {
        name: "S28/S30",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for WorkspaceTemplateApply default/demo-eks-controlplane-apply to become Ready (Creating)",
        writes: vec![
            ("Cluster", CP, Operation::PatchStatus),
            ("CAPTControlPlane", CP, Operation::PatchStatus),
        ],
    });
    let cond = find_condition(p.status.conditions.as_deref(), "Ready").unwrap();
    assert_eq!(cond.last_transition_time.as_deref(), Some("2024-11-22T04:10:00Z"), "status stayed False");
}

#[test]
fn s29_s30_scheme_in_stored_host_is_fixed_once() {
    let mut snap = ready();
    snap.control_plane.spec.control_plane_endpoint =
        Some(crate::model::ApiEndpoint { host: URL.into(), port: 443 });
    let p = run(Case {
        name: "S29/S30",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready",
        writes: vec![("CAPTControlPlane", CP, Operation::Patch)],
    });
    assert_eq!(body(&p.writes[0]), &json!({"spec": {"controlPlaneEndpoint": {"host": HOST}}}));
    assert!(p.findings.iter().any(|f| f.message.contains("B4")));
}

#[test]
fn ready_converged_state_writes_nothing() {
    let p = run(Case {
        name: "ready",
        snap: ready(),
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready",
        writes: vec![],
    });
    assert!(p.in_sync());
    assert_eq!(p.requeue.outcome, Outcome::Ready);
}

#[test]
fn user_fields_on_the_main_apply_survive() {
    let mut snap = ready();
    let spec = &mut snap.main_apply.as_mut().unwrap().spec;
    spec.retain_workspace_on_delete = Some(true);
    spec.variables.as_mut().unwrap().insert("user_extra".into(), "keep".into());
    snap.control_plane.spec.version = "1.32".into();
    let p = run(Case {
        name: "user fields",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready",
        writes: vec![("WorkspaceTemplateApply", MAIN, Operation::Patch)],
    });
    assert_eq!(body(&p.writes[0]), &json!({"spec": {"variables": {"kubernetes_version": "1.32"}}}));
    assert_eq!(p.writes[0].resource_version.as_deref(), Some("300"));
    assert_eq!(p.writes[0].fields[0].path, "spec.variables.kubernetes_version");
}

#[test]
fn cluster_gone_after_ready_waits_and_keeps_initialized() {
    let mut snap = ready();
    snap.cluster = None;
    let p = run(Case {
        name: "cluster gone",
        snap,
        phase: Some("Creating"),
        reason: Some("Creating"),
        requeue: "5s: waiting for owner Cluster default/demo",
        writes: vec![("CAPTControlPlane", CP, Operation::PatchStatus)],
    });
    assert_eq!(p.status.initialized, Some(true));
}

#[test]
fn stale_cluster_failure_is_cleared_when_ready() {
    let mut snap = ready();
    let st = snap.cluster.as_mut().unwrap().status.as_mut().unwrap();
    st.failure_reason = Some("SecretError".into());
    st.failure_message = Some("old".into());
    let p = run(Case {
        name: "B2",
        snap,
        phase: Some("Ready"),
        reason: Some("Ready"),
        requeue: "30s: ready",
        writes: vec![("Cluster", CP, Operation::PatchStatus)],
    });
    assert_eq!(body(&p.writes[0]), &json!({"status": {"failureReason": null, "failureMessage": null}}));
}

#[test]
fn other_controller_owner_gets_non_controller_cluster_ref() {
    let mut snap = Snapshot { control_plane: fresh_cp(), ..base() };
    snap.control_plane.metadata.owner_references = Some(vec![
        serde_json::from_value(json!({
            "apiVersion": "example.com/v1", "kind": "Other", "name": "x", "uid": "u", "controller": true
        }))
        .unwrap(),
    ]);
    let p = plan(&snap, now());
    assert_eq!(body(&p.writes[0])["metadata"]["ownerReferences"][1]["controller"], false);
    assert!(p.findings.iter().any(|f| f.message.contains("already controlled")));
    assert!(plan(&apply(&snap, &p), later()).writes.is_empty());
}

#[test]
fn ca_secret_is_never_rewritten_but_a_mismatch_is_reported() {
    let mut snap = ready();
    snap.ca_secret.as_mut().unwrap().data.insert("tls.crt".into(), SecretBytes::new(b"OTHER".to_vec()));
    let p = plan(&snap, now());
    assert!(p.writes.is_empty());
    assert!(p.findings.iter().any(|f| f.message.contains("never rewritten")));
}

#[test]
fn reason_change_keeps_transition_time() {
    let s8 = Snapshot { main_apply: Some(wta_failed("x")), workspace: Some(good_workspace()), ..base() };
    let failed = apply(&s8, &plan(&s8, now()));
    let snap = Snapshot { main_apply: Some(wta_creating()), ..failed };
    let p = plan(&snap, later());
    let cond = find_condition(p.status.conditions.as_deref(), "Ready").unwrap();
    assert_eq!(cond.reason(), "Creating");
    assert_eq!(cond.last_transition_time.as_deref(), Some("2024-11-22T05:00:00Z"));
}

#[test]
fn plans_never_show_secret_bytes() {
    for snap in [s10(), ready(), {
        let mut s = ready();
        s.outputs_kubeconfig_secret = Some(outputs_secret("NEW-TOKEN"));
        s
    }] {
        let p = plan(&snap, now());
        let shown = format!(
            "{:?} {} {}",
            p.findings,
            serde_json::to_string(&p.writes.iter().map(|w| &w.fields).collect::<Vec<_>>()).unwrap(),
            format!("{p:?}").replace(CA_B64, "") // the Debug of a WTA body holds the CA variable
        );
        for secret in [KUBECONFIG, "NEW-TOKEN", "-----BEGIN CERTIFICATE-----"] {
            assert!(!shown.contains(secret), "leaked {secret:?}");
        }
    }
}
