//! e2e: `kubectl capt reconcile` against the real API server: one pass to Ready, idempotence,
//! the other-writer guard, dry runs, conflict retry, no alternation under `--follow`,
//! `--nudge`, RBAC refusals, and that no output carries Secret bytes.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};
use kubectl_capt::model::CaptControlPlane;
use serde_json::Value;

use crate::support::TestEnv;

/// A CAPTControlPlane alone, for what needs no dependencies (nudge, guard reads).
const BARE_CP: &str = r#"
apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: CAPTControlPlane
metadata:
  name: demo
spec:
  version: "1.31"
  workspaceTemplateRef:
    name: demo-eks-controlplane-template
status:
  phase: Creating
"#;

/// A CAPTControlPlane as a user creates it (no finalizer, owner or apply name yet) whose
/// dependencies are all ready: Cluster, template, a Ready main apply, its Workspace with the
/// endpoint output, the connection Secret and the Terraform kubeconfig output. `${NS}` keeps
/// the cluster-scoped Workspace unique per test.
const FRESH: &str = r#"
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: demo
spec:
  clusterNetwork:
    pods:
      cidrBlocks: ["192.168.0.0/16"]
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: WorkspaceTemplate
metadata:
  name: eks-controlplane-template
spec:
  template:
    metadata:
      description: EKS control plane
    spec:
      forProvider:
        source: Inline
        module: test-fixture
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: WorkspaceTemplateApply
metadata:
  name: demo-eks-controlplane-apply
spec:
  templateRef:
    name: eks-controlplane-template
    namespace: ${NS}
  variables:
    cluster_name: demo
    kubernetes_version: "1.31"
    region: ap-northeast-1
  writeConnectionSecretToRef:
    name: demo-eks-connection
    namespace: ${NS}
status:
  workspaceName: ${NS}-eks-controlplane
  applied: true
  lastAppliedTime: "2026-11-27T08:00:00Z"
  conditions:
  - type: Synced
    status: "True"
    reason: ReconcileSuccess
    lastTransitionTime: "2026-11-27T08:00:00Z"
  - type: Ready
    status: "True"
    reason: Available
    lastTransitionTime: "2026-11-27T08:00:00Z"
---
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata:
  name: ${NS}-eks-controlplane
spec:
  forProvider:
    source: Inline
    module: test-fixture
  writeConnectionSecretToRef:
    name: demo-eks-connection
    namespace: ${NS}
status:
  conditions:
  - type: Ready
    status: "True"
    reason: Available
    lastTransitionTime: "2026-11-27T08:00:00Z"
  atProvider:
    checksum: c1
    outputs:
      cluster_endpoint: https://abc.gr7.ap-northeast-1.eks.amazonaws.com
---
apiVersion: v1
kind: Secret
metadata:
  name: demo-eks-connection
data:
  cluster_endpoint: aHR0cHM6Ly9hYmMuZ3I3LmFwLW5vcnRoZWFzdC0xLmVrcy5hbWF6b25hd3MuY29t
  cluster_certificate_authority_data: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2xSRlUxUXRRMEV0UkVGVVFRbz0=
---
apiVersion: v1
kind: Secret
metadata:
  name: demo-outputs-kubeconfig
data:
  kubeconfig: YXBpVmVyc2lvbjogdjEKa2luZDogQ29uZmlnCiMgVEVTVC1LVUJFQ09ORklHLVRPS0VOLTEK
---
apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: CAPTControlPlane
metadata:
  name: demo
spec:
  version: "1.31"
  workspaceTemplateRef:
    name: eks-controlplane-template
  controlPlaneConfig:
    region: ap-northeast-1
    endpointAccess:
      public: true
      private: true
"#;

fn fresh(ns: &str) -> String {
    FRESH.replace("${NS}", ns)
}

/// A new namespace (`env.namespace(prefix)`) holding the [`fresh`] objects.
fn fresh_namespace(env: &TestEnv, prefix: &str) -> String {
    let ns = env.namespace(prefix);
    block_on(env.apply_objects(&ns, &fresh(&ns)));
    ns
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().expect("runtime").block_on(f)
}

/// Every CAPT-side object of a namespace (plus Workspaces named after the test), by
/// `kind/name`, with its resourceVersion.
fn versions(env: &TestEnv, ns: &str, name: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let namespaced = env.kubectl_ok(&[
        "get",
        "captcontrolplanes,clusters.cluster.x-k8s.io,workspacetemplates,workspacetemplateapplies,secrets",
        "-n",
        ns,
        "-o",
        "json",
    ]);
    let cluster_scoped = env.kubectl_ok(&["get", "workspaces.tf.upbound.io", "-o", "json"]);
    for list in [namespaced, cluster_scoped] {
        let v: Value = serde_json::from_str(&list).expect("kubectl -o json");
        for item in v["items"].as_array().into_iter().flatten() {
            let obj_name = item["metadata"]["name"].as_str().unwrap_or_default();
            if item["metadata"]["namespace"].is_null() && !obj_name.contains(name) {
                continue;
            }
            out.insert(
                format!("{}/{obj_name}", item["kind"].as_str().unwrap_or_default()),
                item["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_string(),
            );
        }
    }
    out
}

/// Runs kubectl-capt; returns (exit code, stdout, stderr).
fn run(mut cmd: Command) -> (i32, String, String) {
    let out: Output = cmd.output().expect("run kubectl-capt");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn reconcile(env: &TestEnv, ns: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = env.capt();
    cmd.args(["reconcile", "-n", ns]).args(args);
    run(cmd)
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn cp_json(env: &TestEnv, ns: &str, name: &str) -> Value {
    json(&env.kubectl_ok(&[
        "get",
        "captcontrolplanes",
        name,
        "-n",
        ns,
        "-o",
        "json",
        "--show-managed-fields",
    ]))
}

/// Every Secret value in the namespace, raw and base64, that is long enough to be telling
/// and not also public: a value the test's own non-Secret objects carry in plain text (the
/// endpoint is a Terraform output on the Workspace) is not Secret data.
async fn secret_values(env: &TestEnv, ns: &str, fixture: &str) -> Vec<String> {
    let public: String = fixture.split("\n---").filter(|doc| !doc.contains("\nkind: Secret")).collect();
    let api: Api<Secret> = Api::namespaced(env.client().await, ns);
    let mut out = Vec::new();
    for s in api.list(&ListParams::default()).await.expect("list secrets").items {
        for (_, v) in s.data.unwrap_or_default() {
            let raw = String::from_utf8_lossy(&v.0).into_owned();
            let b64 = serde_json::to_value(&v).ok().and_then(|j| j.as_str().map(str::to_string));
            for candidate in [Some(raw), b64].into_iter().flatten() {
                if candidate.len() >= 8 && !public.contains(&candidate) {
                    out.push(candidate);
                }
            }
        }
    }
    out
}

fn assert_no_secret_bytes(outputs: &[&str], secrets: &[String]) {
    assert!(!secrets.is_empty(), "the test should have Secret values to look for");
    for out in outputs {
        for s in secrets {
            assert!(!out.contains(s.as_str()), "output leaks a Secret value ({} bytes):\n{out}", s.len());
        }
    }
}

/// Writes the CAPTControlPlane's status as another field manager would (the controller).
fn write_as_controller(env: &TestEnv, ns: &str, name: &str, reason: &str) {
    env.kubectl_ok(&[
        "patch",
        "captcontrolplanes",
        name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "--field-manager=manager",
        "-p",
        &format!(r#"{{"status":{{"failureMessage":"{reason}"}}}}"#),
    ]);
}

#[test]
fn one_pass_reaches_ready_and_the_second_writes_nothing() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-ready");

    let (code, stdout, stderr) = reconcile(env, &ns, &["demo", "--force", "-o", "json"]);
    assert_eq!(code, 0, "stderr:\n{stderr}\nstdout:\n{stdout}");
    let doc = json(&stdout);
    assert_eq!(doc["phase"], "Ready", "{doc:#}");
    assert_eq!(doc["requeueAfterSeconds"], 30, "{doc:#}");
    let writes = doc["writes"].as_array().expect("writes");
    assert!(!writes.is_empty(), "a fresh object needs writes: {doc:#}");
    assert!(writes.iter().all(|w| w["result"] == "applied"), "{doc:#}");
    assert!(
        writes.iter().any(|w| w["kind"] == "CAPTControlPlane" && w["operation"] == "patchStatus"),
        "the status goes through the status subresource: {doc:#}"
    );
    let cp = cp_json(env, &ns, "demo");
    assert_eq!(cp["status"]["phase"], "Ready", "{cp:#}");
    assert_eq!(cp["status"]["ready"], true, "{cp:#}");
    // Every write was made by our field manager.
    let managers: Vec<&str> = cp["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl-capt"), "{managers:?}");

    let before = versions(env, &ns, "demo");
    let (code, stdout2, stderr2) = reconcile(env, &ns, &["demo", "--force"]);
    assert_eq!(code, 0, "{stderr2}");
    assert!(stdout2.contains("No writes: already in sync."), "{stdout2}");
    assert!(!stdout2.contains("Plan for"), "an empty plan is not printed: {stdout2}");
    assert!(stdout2.contains("Phase Ready; next pass in 30s"), "{stdout2}");
    assert_eq!(versions(env, &ns, "demo"), before, "the second pass changed an object");

    let secrets = block_on(secret_values(env, &ns, &fresh(&ns)));
    assert_no_secret_bytes(&[&stdout, &stderr, &stdout2, &stderr2], &secrets);
}

#[test]
fn the_plan_is_printed_as_a_diff_with_redacted_secrets() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-diff");
    let before = versions(env, &ns, "demo");
    let (code, stdout, stderr) = reconcile(env, &ns, &["demo", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&format!("Plan for CAPTControlPlane {ns}/demo: ")), "{stdout}");
    assert!(stdout.contains(&format!("~ CAPTControlPlane {ns}/demo  patch status")), "{stdout}");
    assert!(stdout.contains("status.phase: "), "{stdout}");
    assert!(stdout.contains("Dry run (client): nothing was sent."), "{stdout}");
    assert_eq!(versions(env, &ns, "demo"), before, "a client dry run wrote something");
    // A dry run does not refuse, but says a real run would.
    assert!(stderr.contains("a real run would refuse without --force"), "{stderr}");
    let secrets = block_on(secret_values(env, &ns, &fresh(&ns)));
    assert_no_secret_bytes(&[&stdout, &stderr], &secrets);
}

#[test]
fn server_dry_run_changes_nothing_and_reports_each_write() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-dry");
    let before = versions(env, &ns, "demo");
    let (code, stdout, stderr) = reconcile(env, &ns, &["demo", "--dry-run=server", "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc = json(&stdout);
    assert_eq!(doc["mode"], "server-dry-run");
    let writes = doc["writes"].as_array().expect("writes");
    assert!(!writes.is_empty(), "{doc:#}");
    assert!(writes.iter().all(|w| w["result"] == "accepted"), "{doc:#}");
    assert_eq!(versions(env, &ns, "demo"), before, "a server dry run stored something");
    let (code, text, _) = reconcile(env, &ns, &["demo", "--dry-run=server"]);
    assert_eq!(code, 0);
    assert!(text.contains("accepted  patch status CAPTControlPlane"), "{text}");
    assert!(text.contains("Dry run (server, dryRun=All): nothing was stored."), "{text}");
    assert_eq!(versions(env, &ns, "demo"), before);
}

#[test]
fn the_guard_refuses_while_another_manager_writes_and_force_overrides() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-guard");
    write_as_controller(env, &ns, "demo", "written by the controller");
    let before = versions(env, &ns, "demo");

    let (code, stdout, stderr) = reconcile(env, &ns, &["demo"]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains(&format!("another writer is active on CAPTControlPlane {ns}/demo")), "{stderr}");
    assert!(stderr.contains("field manager \"manager\" wrote status (Update)"), "{stderr}");
    assert!(stderr.contains("Two writers of one CAPTControlPlane status are a hot loop"), "{stderr}");
    // The Lease lookup ran and found no CAPT leader here.
    assert!(stderr.contains("no CAPT leader-election Lease in namespace \"capt-system\""), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(versions(env, &ns, "demo"), before, "the guard let a write through");

    let (code, _, stderr) = reconcile(env, &ns, &["demo", "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("writing despite another active writer (--force)"), "{stderr}");
    assert_eq!(cp_json(env, &ns, "demo")["status"]["phase"], "Ready");
}

#[test]
fn a_live_capt_lease_blocks_writes_and_our_own_writes_do_not() {
    let Some(env) = crate::env() else { return };
    let ns = env.namespace("rec-lease");
    let lease_ns = env.namespace("rec-lease-ctl");
    // Created as field manager kubectl-capt: the object's only recent writer is "us", so the
    // Lease is the only evidence left.
    let cp = env.state_dir.join(format!("{ns}-cp.yaml"));
    std::fs::write(&cp, BARE_CP).expect("write cp");
    env.kubectl_ok(&["create", "-n", &ns, "-f", cp.to_str().unwrap(), "--field-manager=kubectl-capt"]);
    let lease = |renewed: chrono::DateTime<chrono::Utc>| {
        let t = renewed.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let text = format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: capt-controller-lock\n  namespace: {lease_ns}\nspec:\n  holderIdentity: capt-controller-manager-6d9f7_0b1c\n  leaseDurationSeconds: 15\n  renewTime: \"{t}\"\n  acquireTime: \"{t}\"\n"
        );
        let path = env.state_dir.join(format!("{lease_ns}-lease.yaml"));
        std::fs::write(&path, text).expect("write lease");
        env.kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
    };
    lease(chrono::Utc::now());
    let before = versions(env, &ns, "demo");
    let (code, _, stderr) = reconcile(env, &ns, &["demo", "--controller-namespace", &lease_ns]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "leader-election Lease {lease_ns}/capt-controller-lock is held by \"capt-controller-manager-6d9f7_0b1c\""
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("field manager"), "our own field manager is not evidence: {stderr}");
    assert_eq!(versions(env, &ns, "demo"), before);

    // The leader stopped renewing: the Lease expired, nothing blocks.
    lease(chrono::Utc::now() - chrono::Duration::seconds(120));
    let (code, _, stderr) = reconcile(env, &ns, &["demo", "--controller-namespace", &lease_ns]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("another writer"), "{stderr}");
    assert_ne!(versions(env, &ns, "demo"), before, "the pass should have written the status");
}

#[test]
fn a_conflict_between_read_and_write_is_retried() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-conflict");
    let paused =
        Paused::start(env, &["-n", &ns, "demo", "--force", "-o", "json", "--pause-before-apply", "3s"]);
    // The concurrent update: another client labels the object while the pass is paused.
    env.kubectl_ok(&["label", "captcontrolplanes", "demo", "-n", &ns, "concurrent=yes"]);
    let (status, seen, stdout) = paused.finish();
    assert!(status.success(), "stderr:\n{seen}\nstdout:\n{stdout}");
    assert!(seen.contains(&format!("conflict on CAPTControlPlane {ns}/demo")), "{seen}");
    assert!(seen.contains("re-reading and re-planning in "), "{seen}");
    assert!(seen.contains("ms (attempt 2/6)"), "a jittered back-off of 100-200 ms: {seen}");
    // The guard ran again before the retry and saw the labeller, a writer that started since.
    assert!(
        seen.contains(
            "writing despite another active writer (seen before attempt 2, after a conflict) (--force)"
        ),
        "{seen}"
    );
    assert!(seen.contains("field manager \"kubectl-label\""), "{seen}");
    let doc = json(&stdout);
    assert_eq!(doc["phase"], "Ready");
    let cp = cp_json(env, &ns, "demo");
    assert_eq!(cp["status"]["phase"], "Ready", "{cp:#}");
    assert_eq!(cp["metadata"]["labels"]["concurrent"], "yes", "the concurrent update was lost: {cp:#}");
    // Converged: nothing left to write.
    let (code, stdout, _) = reconcile(env, &ns, &["demo", "--force"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("No writes: already in sync."), "{stdout}");
}

/// A second writer that starts between two attempts of one pass (its write is the 409):
/// the guard, run again before the retry, stops the pass without `--force`, naming the writer;
/// with `--force` the pass goes on.
#[test]
fn a_writer_that_starts_between_attempts_stops_the_pass_unless_forced() {
    let Some(env) = crate::env() else { return };
    for force in [false, true] {
        let ns = env.namespace(if force { "rec-guard-retry-f" } else { "rec-guard-retry" });
        // Created as field manager kubectl-capt, with no CAPT Lease: the first attempt's guard
        // sees no other writer.
        let cp = env.state_dir.join(format!("{ns}-cp.yaml"));
        std::fs::write(&cp, BARE_CP).expect("write cp");
        env.kubectl_ok(&["create", "-n", &ns, "-f", cp.to_str().unwrap(), "--field-manager=kubectl-capt"]);
        // No test may have listed WorkspaceTemplateApplies yet on a fresh server, whose watch
        // cache then answers 429 for a moment; kubectl waits that out (Retry-After).
        env.kubectl_ok(&["get", "workspacetemplateapplies", "-n", &ns]);
        let mut args = vec!["-n", &ns, "demo", "--pause-before-apply", "2s", "-o", "json"];
        if force {
            args.push("--force");
        }
        let paused = Paused::start(env, &args);
        assert!(
            !paused.seen.contains("another writer"),
            "the first attempt's guard should be clear: {}",
            paused.seen
        );
        // The controller starts writing while the pass is paused between its read and its write.
        write_as_controller(env, &ns, "demo", "written by the controller");
        let injected = versions(env, &ns, "demo");
        let (status, seen, stdout) = paused.finish();
        assert!(seen.contains(&format!("conflict on CAPTControlPlane {ns}/demo")), "{seen}");
        if force {
            assert_eq!(status.code(), Some(0), "{seen}");
            assert!(
                seen.contains("writing despite another active writer (seen before attempt 2, after a conflict) (--force)"),
                "{seen}"
            );
            assert!(seen.contains("field manager \"manager\" wrote status"), "{seen}");
            assert_eq!(json(&stdout)["phase"], "Creating", "{stdout}");
            assert_ne!(versions(env, &ns, "demo"), injected, "--force should have written");
        } else {
            assert_eq!(status.code(), Some(1), "{seen}");
            assert!(
                seen.contains(&format!(
                    "another writer is active on CAPTControlPlane {ns}/demo (seen before attempt 2, after a conflict)"
                )),
                "{seen}"
            );
            assert!(
                seen.contains(&format!(
                    "kubectl-capt: another writer is active on CAPTControlPlane {ns}/demo (field manager \"manager\" (status)); nothing was written"
                )),
                "the error line names the writer: {seen}"
            );
            assert!(seen.contains("hint: stop the controller"), "{seen}");
            assert_eq!(
                versions(env, &ns, "demo"),
                injected,
                "the pass wrote after the guard turned positive"
            );
        }
    }
}

#[test]
fn conflict_retries_are_bounded() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-conflict-max");
    let paused = Paused::start(
        env,
        &["-n", &ns, "demo", "--force", "--max-conflict-retries", "0", "--pause-before-apply", "3s"],
    );
    env.kubectl_ok(&["label", "captcontrolplanes", "demo", "-n", &ns, "concurrent=yes"]);
    let (status, seen, _) = paused.finish();
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(
        seen.contains("conflict: CAPTControlPlane \"demo\" kept changing under us (gave up after 1 conflicting attempt(s))"),
        "{seen}"
    );
    // Exactly which writes were made and which were not.
    assert!(seen.contains("pass stopped (conflict on CAPTControlPlane"), "{seen}");
    assert!(seen.contains("conflict: patch"), "{seen}");

    // The retry count has a documented maximum; above it is a usage error.
    let (code, _, stderr) = reconcile(env, &ns, &["demo", "--max-conflict-retries", "11"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("11 is not in 0..=10"), "{stderr}");
}

#[test]
fn readonly_user_is_refused_with_the_verb_and_resource() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-ro");
    let before = versions(env, &ns, "demo");
    let mut cmd = env.capt_readonly();
    cmd.args(["reconcile", "-n", &ns, "demo", "--force"]);
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("forbidden (403): cannot "), "{stderr}");
    assert!(
        stderr.contains("cannot get secrets") || stderr.contains("cannot patch captcontrolplanes"),
        "the message names the verb and resource: {stderr}"
    );
    // The user may not list Leases: that is unknown evidence, not a failure.
    assert!(stderr.contains("reading Leases is forbidden"), "{stderr}");
    assert_eq!(versions(env, &ns, "demo"), before);
    // --nudge needs patch on the object.
    let mut cmd = env.capt_readonly();
    cmd.args(["reconcile", "-n", &ns, "demo", "--nudge", "--timeout", "2s"]);
    let (code, _, stderr) = run(cmd);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("forbidden (403): cannot patch captcontrolplanes.controlplane.cluster.x-k8s.io"),
        "{stderr}"
    );
}

#[test]
fn missing_object_is_one_clear_line() {
    let Some(env) = crate::env() else { return };
    let ns = env.namespace("rec-missing");
    let (code, stdout, stderr) = reconcile(env, &ns, &["nope", "--force"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.starts_with("kubectl-capt: CAPTControlPlane \"nope\" not found"), "{stderr}");
    let (code, _, stderr) = reconcile(env, &ns, &["nope", "--nudge"]);
    assert_eq!(code, 1);
    assert!(stderr.starts_with("kubectl-capt: CAPTControlPlane \"nope\" not found"), "{stderr}");
}

/// Counts the CAPTControlPlane's MODIFIED events (each a resourceVersion change) and the
/// sequence of status decisions they carry, while `f` runs.
async fn count_changes<F: FnOnce() -> (i32, String, String) + Send + 'static>(
    env: &'static TestEnv,
    ns: &str,
    name: &str,
    f: F,
) -> (Vec<String>, (i32, String, String)) {
    let api: Api<CaptControlPlane> = Api::namespaced(env.client().await, ns);
    let start = api.get(name).await.expect("get cp");
    let rv = start.metadata.resource_version.clone().unwrap_or_default();
    let params = WatchParams::default().fields(&format!("metadata.name={name}")).timeout(120);
    let mut stream = api.watch(&params, &rv).await.expect("watch").boxed();
    let task = tokio::task::spawn_blocking(f);
    let mut decisions = Vec::new();
    // A watch that errors or ends early would see no events and let "no alternation" pass
    // without looking: every watch failure fails the test.
    let record = |ev: WatchEvent<CaptControlPlane>, decisions: &mut Vec<String>| match ev {
        WatchEvent::Modified(cp) => decisions.push(decision(&cp)),
        WatchEvent::Error(e) => panic!("watching {ns}/{name} failed: {e:?}"),
        _ => {}
    };
    let mut ended = false;
    let result = loop {
        tokio::select! {
            ev = stream.try_next(), if !ended => match ev {
                Ok(Some(ev)) => record(ev, &mut decisions),
                Ok(None) => ended = true,
                Err(e) => panic!("watching {ns}/{name} failed: {e}"),
            },
            _ = async { while !task.is_finished() { tokio::time::sleep(Duration::from_millis(50)).await } } => {
                break task.await.expect("kubectl-capt task");
            }
        }
    };
    assert!(!ended, "the watch of {ns}/{name} ended before kubectl-capt did; changes may have been missed");
    // Drain what arrived just before the process ended.
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(300), stream.next()).await {
        record(ev.unwrap_or_else(|e| panic!("watching {ns}/{name} failed: {e}")), &mut decisions);
    }
    (decisions, result)
}

fn decision(cp: &CaptControlPlane) -> String {
    let st = cp.status.clone().unwrap_or_default();
    let ready = kubectl_capt::model::find_condition(st.conditions.as_deref(), "Ready")
        .map(|c| format!("{}/{}", c.status, c.reason()))
        .unwrap_or_default();
    format!("{}|{ready}|{}", st.phase.unwrap_or_default(), st.failure_reason.unwrap_or_default())
}

/// `text` with `from` replaced by `to`; panics if `from` is absent (a silent no-op would test
/// the wrong state).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture edit: {from:?} not found");
    text.replacen(from, to, 1)
}

const CA_LINE: &str = "  cluster_certificate_authority_data: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2xSRlUxUXRRMEV0UkVGVVFRbz0=\n";
const WTA_READY: &str = "  - type: Ready\n    status: \"True\"\n    reason: Available\n    lastTransitionTime: \"2026-11-27T08:00:00Z\"\n---\napiVersion: tf.upbound.io";
const WTA_CREATING: &str = "  - type: Ready\n    status: \"False\"\n    reason: Creating\n    lastTransitionTime: \"2026-11-27T08:00:00Z\"\n---\napiVersion: tf.upbound.io";

/// The inputs of spec §2.9 that upstream never converges on, as far as objects can express
/// them (HL6 needs a failing endpoint update and HL7 failing API calls), plus the plain ones.
fn follow_states(ns: &str) -> Vec<(&'static str, String)> {
    let base = fresh(ns);
    let endpoint_b64 = "aHR0cHM6Ly9hYmMuZ3I3LmFwLW5vcnRoZWFzdC0xLmVrcy5hbWF6b25hd3MuY29t";
    let workspace_doc = {
        let start = base.find("apiVersion: tf.upbound.io").expect("workspace doc");
        let end = start + base[start..].find("\n---\n").expect("end of workspace doc") + 5;
        base[start..end].to_string()
    };
    vec![
        ("fresh", base.clone()),
        ("creating", edit(&base, WTA_READY, WTA_CREATING)),
        // HL1: ready, but the connection Secret lacks the CA key.
        ("hl1-no-ca", edit(&base, CA_LINE, "")),
        // HL2: ready, but the endpoint output is empty.
        (
            "hl2-empty-endpoint",
            edit(
                &edit(
                    &base,
                    "      cluster_endpoint: https://abc.gr7.ap-northeast-1.eks.amazonaws.com",
                    "      cluster_endpoint: \"\"",
                ),
                &format!("  cluster_endpoint: {endpoint_b64}"),
                "  cluster_endpoint: \"\"",
            ),
        ),
        // HL3: the apply names a Workspace that does not exist, apply Ready.
        ("hl3-missing-workspace", edit(&base, &workspace_doc, "")),
        // HL4: the same, apply not Ready.
        ("hl4-missing-workspace-creating", edit(&edit(&base, WTA_READY, WTA_CREATING), &workspace_doc, "")),
        // HL5: apply not Ready, Workspace present, connection Secret has an endpoint but no CA.
        ("hl5-creating-no-ca", edit(&edit(&base, WTA_READY, WTA_CREATING), CA_LINE, "")),
    ]
}

/// Runs `reconcile --follow --timeout 20s` on every `(label, namespace, name)` at once, counting
/// the CAPTControlPlane's changes, and asserts convergence and no alternation for each.
async fn follow_and_check(cases: Vec<(String, String, String)>) {
    let Some(env) = crate::env() else { return };
    let mut handles = Vec::new();
    for (state, ns, name) in cases {
        handles.push(tokio::spawn(async move {
            let (ns2, name2) = (ns.clone(), name.clone());
            let (decisions, (code, stdout, stderr)) = count_changes(env, &ns, &name, move || {
                reconcile(env, &ns2, &[&name2, "--force", "--follow", "--timeout", "20s", "-o", "json"])
            })
            .await;
            (state, ns, decisions, code, stdout, stderr)
        }));
    }
    let mut summary = Vec::new();
    let mut seen_changes = 0;
    for h in handles {
        let (state, ns, decisions, code, stdout, stderr) = h.await.expect("join");
        assert_eq!(code, 0, "{state}: {stderr}");
        let doc = json(&stdout);
        let passes = doc["passes"].as_array().expect("passes");
        let interval = passes[0]["requeueAfterSeconds"].as_u64().unwrap_or(u64::MAX);
        if interval <= 10 {
            let want = if interval < 10 { 3 } else { 2 };
            assert!(passes.len() >= want, "{state}: 20s at {interval}s should hold {want}+ passes: {doc:#}");
        }
        // Convergence: only the first pass writes.
        for (i, p) in passes.iter().enumerate().skip(1) {
            let made = p["writes"].as_array().map(|w| w.iter().filter(|w| w["result"] == "applied").count());
            assert_eq!(made, Some(0), "{state}: pass {} wrote again: {p:#}", i + 1);
        }
        // Every CAPTControlPlane write the passes made must have been seen: a watch that saw
        // nothing would make the checks below vacuous.
        let cp_writes = passes
            .iter()
            .flat_map(|p| p["writes"].as_array().cloned().unwrap_or_default())
            .filter(|w| w["result"] == "applied" && w["kind"] == "CAPTControlPlane")
            .count();
        assert!(
            decisions.len() >= cp_writes,
            "{state} ({ns}): {cp_writes} CAPTControlPlane writes applied but the watch saw {} changes",
            decisions.len()
        );
        // No alternation: every status decision appears in one run of consecutive events.
        let mut distinct: Vec<&String> = decisions.iter().collect();
        distinct.dedup();
        let mut seen = std::collections::HashSet::new();
        for d in &distinct {
            assert!(seen.insert(*d), "{state}: status alternated ({decisions:?})");
        }
        // The CAPTControlPlane changes at most twice per decision (metadata/spec, then status).
        assert!(
            decisions.len() <= 2 * distinct.len().max(1),
            "{state} ({ns}): {} changes for {} decisions: {decisions:?}",
            decisions.len(),
            distinct.len()
        );
        seen_changes += decisions.len();
        summary.push(format!(
            "{state}: {} CAPTControlPlane changes, decisions {distinct:?}, {} passes",
            decisions.len(),
            passes.len()
        ));
    }
    assert!(seen_changes > 0, "no state produced a single CAPTControlPlane change:\n{}", summary.join("\n"));
    eprintln!("{}", summary.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_makes_at_most_one_status_write_per_decision() {
    let Some(env) = crate::env() else { return };
    let mut cases = Vec::new();
    for i in 0..follow_states("x").len() {
        let ns = env.namespace(&format!("rec-follow-{i}"));
        let (state, yaml) = follow_states(&ns).swap_remove(i);
        env.apply_objects(&ns, &yaml).await;
        cases.push((state.to_string(), ns, "demo".to_string()));
    }
    follow_and_check(cases).await;
}

/// The same over every state fixture of the core (tests/fixtures/states, issue 3), which include
/// HL2-HL6 as upstream-shaped objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_converges_on_every_state_fixture() {
    let Some(env) = crate::env() else { return };
    let dir = crate::support::repo().join("tests/fixtures/states");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "expected the core's state fixtures in {}", dir.display());
    let mut cases = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let state = file.file_stem().unwrap().to_string_lossy().into_owned();
        // Workspaces are cluster-scoped: a name unique to this run keeps them apart.
        let name = format!("st{i}-{}", std::process::id());
        let ns = env.namespace(&format!("rec-st-{i}"));
        env.apply_objects(&ns, &crate::support::fixture(&state, &name)).await;
        cases.push((state, ns, name));
    }
    follow_and_check(cases).await;
}

#[test]
fn follow_until_ready_stops_at_ready() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-until");
    let (code, stdout, stderr) =
        reconcile(env, &ns, &["demo", "--force", "--follow", "--until", "ready", "--timeout", "30s"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line per pass, one pass: {stdout}");
    assert!(lines[0].contains("phase Ready  next 30s (ready)"), "{stdout}");
    assert!(stderr.contains("reached phase Ready; stopping"), "{stderr}");
}

#[test]
fn nudge_waits_for_another_manager_to_write() {
    let Some(env) = crate::env() else { return };
    let ns = env.namespace("rec-nudge");
    block_on(env.apply_objects(&ns, BARE_CP));
    // A stand-in for the controller: reacts to the CAPTControlPlane changing (the nudge
    // annotation) by writing status as field manager "manager", as CAPT's binary does.
    let ns2 = ns.clone();
    let controller = std::thread::spawn(move || {
        let env = crate::env().expect("the test's environment");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let out = env.kubectl(&[
                "get",
                "captcontrolplanes",
                "demo",
                "-n",
                &ns2,
                "-o",
                "jsonpath={.metadata.annotations.kubectl-capt\\.io/reconcile-requested-at}",
            ]);
            if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
                std::thread::sleep(Duration::from_millis(1100));
                write_as_controller(env, &ns2, "demo", "pass after nudge");
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    });
    let (code, stdout, stderr) = reconcile(env, &ns, &["demo", "--nudge", "--timeout", "20s", "-o", "json"]);
    assert!(controller.join().expect("controller thread"), "the annotation never appeared");
    assert_eq!(code, 0, "{stderr}");
    let doc = json(&stdout);
    assert_eq!(doc["observed"], true, "{doc:#}");
    assert_eq!(doc["evidence"]["type"], "managerWrote", "{doc:#}");
    assert_eq!(doc["evidence"]["manager"], "manager", "{doc:#}");
    assert_eq!(doc["evidence"]["subresource"], "status", "{doc:#}");
    let cp = cp_json(env, &ns, "demo");
    assert_eq!(cp["metadata"]["annotations"]["kubectl-capt.io/reconcile-requested-at"], doc["requestedAt"]);
}

#[test]
fn nudge_without_a_controller_says_what_it_could_not_see() {
    let Some(env) = crate::env() else { return };
    let ns = env.namespace("rec-nudge-idle");
    block_on(env.apply_objects(&ns, BARE_CP));
    let before = cp_json(env, &ns, "demo");
    // The object alone cannot show a pass that writes nothing: exit 4, and what to pass.
    let (code, stdout, stderr) = reconcile(env, &ns, &["demo", "--nudge", "--timeout", "3s"]);
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stderr.contains("not observable: no controller wrote CAPTControlPlane"), "{stderr}");
    assert!(stderr.contains("cannot be observed from the object alone"), "{stderr}");
    assert!(stderr.contains("--controller-logs") && stderr.contains("--metrics-url"), "{stderr}");
    // With a log that shows no pass either: a timeout (exit 1) naming each source.
    let log = env.state_dir.join(format!("{ns}-idle-manager.log"));
    std::fs::write(&log, "").expect("write log");
    let (code, stdout, stderr) = reconcile(
        env,
        &ns,
        &["demo", "--nudge", "--timeout", "2s", "--controller-logs", log.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("no sign of a controller pass"), "{stderr}");
    assert!(stderr.contains(&format!("{} shows no pass of it", log.display())), "{stderr}");
    let after = cp_json(env, &ns, "demo");
    assert!(after["metadata"]["annotations"]["kubectl-capt.io/reconcile-requested-at"].is_string());
    // The nudge touched only the annotation.
    assert_eq!(after["spec"], before["spec"]);
    assert_eq!(after["status"], before["status"]);
}

#[test]
fn ctrl_c_during_follow_exits_130_after_the_pass() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-sigint");
    let mut cmd = env.capt();
    cmd.args(["reconcile", "-n", &ns, "demo", "--force", "--follow", "--timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first summary line");
    assert!(first.contains("phase Ready  next 30s (ready)"), "{first}");
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    let status = child.wait().expect("wait");
    assert!(started.elapsed() < Duration::from_secs(5), "Ctrl-C did not stop the countdown promptly");
    assert_eq!(status.code(), Some(130));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    assert!(rest.is_empty(), "no pass after Ctrl-C: {rest}");
}

#[test]
fn a_pass_that_fails_midway_says_what_was_written() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-midway");
    // An admission policy (CEL, in the API server itself) refuses the CA Secret, so the pass
    // fails at its first Secret create after the writes before it went through.
    let policy = format!(
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: deny-ca-{ns}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["secrets"]
  validations:
  - expression: "object.metadata.name != 'demo-ca'"
    message: "test policy: no CA Secret here"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: deny-ca-{ns}}}
spec:
  policyName: deny-ca-{ns}
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: {ns}
"#
    );
    let path = env.state_dir.join(format!("{ns}-policy.yaml"));
    std::fs::write(&path, policy).expect("write policy");
    env.kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
    // The policy is in force once a plain create is refused.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let probe = env.kubectl(&["create", "secret", "generic", "demo-ca", "-n", &ns, "--dry-run=server"]);
        if !probe.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "the admission policy never took effect");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, stdout, stderr) = reconcile(env, &ns, &["demo", "--force"]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("test policy: no CA Secret here"), "{stderr}");
    assert!(stderr.contains(&format!("made:     patch CAPTControlPlane {ns}/demo")), "{stderr}");
    assert!(stderr.contains(&format!("not made: create Secret {ns}/demo-ca")), "{stderr}");
    assert!(stderr.contains(&format!("not made: patch status CAPTControlPlane {ns}/demo")), "{stderr}");
    // What the report says was made, was made; what it says was not, was not.
    let cp = cp_json(env, &ns, "demo");
    assert!(cp["metadata"]["finalizers"].is_array(), "{cp:#}");
    assert!(cp["status"]["phase"].is_null(), "{cp:#}");
    assert!(!env.kubectl(&["get", "secret", "demo-ca", "-n", &ns]).status.success());
}

#[test]
fn ctrl_c_in_the_middle_of_a_pass_writes_nothing_more() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-sigint-pass");
    let before = versions(env, &ns, "demo");
    let paused = Paused::start(env, &["-n", &ns, "demo", "--force", "--pause-before-apply", "2s"]);
    let killed = Command::new("kill").args(["-INT", &paused.child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let (status, seen, stdout) = paused.finish();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(seen.contains("pass stopped (interrupted (Ctrl-C)) after 0 of "), "{seen}");
    assert!(stdout.contains("Interrupted after 0 of "), "{stdout}");
    assert!(!stdout.contains("in sync"), "{stdout}");
    assert!(seen.contains(&format!("not made: patch status CAPTControlPlane {ns}/demo")), "{seen}");
    assert_eq!(versions(env, &ns, "demo"), before, "a write went out after Ctrl-C");
}

#[test]
fn the_deletion_path_deletes_with_preconditions_and_releases_the_finalizer() {
    let Some(env) = crate::env() else { return };
    let ns = fresh_namespace(env, "rec-delete");
    let (code, _, stderr) = reconcile(env, &ns, &["demo", "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(cp_json(env, &ns, "demo")["metadata"]["finalizers"].is_array());
    env.kubectl_ok(&["delete", "captcontrolplanes", "demo", "-n", &ns, "--wait=false"]);
    let (code, stdout, stderr) =
        reconcile(env, &ns, &["demo", "--force", "--follow", "--timeout", "30s", "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("the controller would not requeue this object; stopping"), "{stderr}");
    let doc = json(&stdout);
    let deletes: Vec<&Value> = doc["passes"]
        .as_array()
        .expect("passes")
        .iter()
        .flat_map(|p| p["writes"].as_array().into_iter().flatten())
        .filter(|w| w["operation"] == "delete")
        .collect();
    assert!(
        deletes.iter().any(|w| w["name"] == "demo-eks-controlplane-apply" && w["result"] == "applied"),
        "{doc:#}"
    );
    assert!(!env.kubectl(&["get", "captcontrolplanes", "demo", "-n", &ns]).status.success(), "still there");
    assert!(
        !env.kubectl(&["get", "workspacetemplateapplies", "demo-eks-controlplane-apply", "-n", &ns])
            .status
            .success()
    );
}

/// `kubectl capt reconcile ARGS` (with `--pause-before-apply`), started and read until it says
/// it is pausing between its read and its write.
struct Paused {
    child: std::process::Child,
    stderr: BufReader<std::process::ChildStderr>,
    /// What it printed on stderr so far.
    seen: String,
}

impl Paused {
    fn start(env: &TestEnv, args: &[&str]) -> Paused {
        let mut cmd = env.capt();
        cmd.arg("reconcile").args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !seen.contains("pausing") {
            assert!(Instant::now() < deadline, "the hook never paused:\n{seen}");
            let mut line = String::new();
            if stderr.read_line(&mut line).expect("read stderr") == 0 {
                panic!("kubectl-capt ended before pausing:\n{seen}");
            }
            seen.push_str(&line);
        }
        Paused { child, stderr, seen }
    }

    /// Waits for the end: the exit status, all of stderr, stdout.
    fn finish(mut self) -> (std::process::ExitStatus, String, String) {
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).expect("stderr");
        self.seen.push_str(&rest);
        let mut stdout = String::new();
        self.child.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("stdout");
        let status = self.child.wait().expect("wait");
        (status, self.seen, stdout)
    }
}
