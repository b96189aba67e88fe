//! e2e: `kubectl capt status` against a real API server, on objects in the states of
//! `tests/fixtures/states/`: the JSON document of each, the list, exit codes, the read-only
//! user, the API calls one snapshot costs, and that no output ever contains a Secret
//! value the test created.

use std::process::Output;

use base64::Engine;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kubectl_capt::model::{CaptControlPlane, Cluster};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{TestEnv, env, fixture};

/// (state, phase, ready, Ready reason, requeue seconds, in sync)
const STATES: &[(&str, &str, bool, &str, u64, bool)] = &[
    ("ready", "Ready", true, "Ready", 30, true),
    ("creating", "Creating", false, "Creating", 5, true),
    ("creating-fresh", "Creating", false, "Creating", 5, false),
    ("workspace-error", "Failed", false, "WorkspaceError", 10, false),
    ("missing-cluster", "Creating", false, "Creating", 5, false),
    ("missing-template", "Failed", false, "WorkspaceTemplateNotFound", 10, false),
    ("ready-no-ca", "Failed", false, "SecretError", 10, false),
    ("hl3-workspace-missing", "Failed", false, "WorkspaceStatusUpdateFailed", 10, false),
    ("no-endpoint", "Creating", false, "Creating", 5, false),
];

/// Every value of every Secret in a fixture (stringData as is, data decoded).
fn secret_values(yaml: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
        let v = Value::deserialize(doc).expect("fixture YAML");
        if v["kind"] != "Secret" {
            continue;
        }
        for (_, s) in v["stringData"].as_object().into_iter().flatten() {
            out.push(s.as_str().unwrap_or_default().as_bytes().to_vec());
        }
        for (_, s) in v["data"].as_object().into_iter().flatten() {
            let bytes =
                base64::engine::general_purpose::STANDARD.decode(s.as_str().unwrap_or_default()).unwrap();
            out.push(bytes);
        }
    }
    out
}

fn run(env: &TestEnv, args: &[&str], readonly: bool) -> Output {
    let mut cmd = if readonly { env.capt_readonly() } else { env.capt() };
    cmd.args(args).output().expect("run kubectl-capt")
}

fn assert_no_secret(out: &Output, secrets: &[Vec<u8>], what: &str) {
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_slice()),
                "{what}: {stream} contains a Secret value ({} bytes)",
                s.len()
            );
        }
    }
}

/// What the controller's first pass does and `kubectl apply` of a fixture cannot: point the
/// CAPTControlPlane's owner reference at the Cluster's real uid.
async fn claim(env: &TestEnv, ns: &str, name: &str) {
    let client = env.client().await;
    let Ok(cluster) = Api::<Cluster>::namespaced(client.clone(), ns).get(name).await else { return };
    let cps: Api<CaptControlPlane> = Api::namespaced(client, ns);
    let cp = cps.get(name).await.expect("CAPTControlPlane");
    if cp.metadata.finalizers.is_none() {
        return;
    }
    let patch = json!({"metadata": {"ownerReferences": [{
        "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "name": name,
        "uid": cluster.metadata.uid, "controller": true, "blockOwnerDeletion": true,
    }]}});
    cps.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch ownerReferences");
}

fn json_of(out: &Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn status_of_each_state_and_the_list() {
    let env = env();
    let ns = env.namespace("status");
    let mut secrets = Vec::new();
    let mut names = Vec::new();
    for (i, (state, ..)) in STATES.iter().enumerate() {
        // Workspaces are cluster-scoped: the name carries the unique namespace.
        let name = format!("{ns}-{i}");
        let yaml = fixture(state, &name);
        secrets.extend(secret_values(&yaml));
        env.apply_objects(&ns, &yaml).await;
        claim(env, &ns, &name).await;
        names.push(name);
    }
    assert!(secrets.len() >= 5, "the fixtures hold Secret values to look for");

    for ((state, phase, ready, reason, requeue, in_sync), name) in STATES.iter().zip(&names) {
        let out = run(env, &["status", name, "-n", &ns, "-o", "json"], false);
        assert_no_secret(&out, &secrets, state);
        let doc = json_of(&out, state);
        assert_eq!(doc["namespace"], ns.as_str(), "{state}");
        assert_eq!(doc["name"], name.as_str(), "{state}");
        assert_eq!(doc["phase"], *phase, "{state}: {doc:#}");
        assert_eq!(doc["ready"], *ready, "{state}");
        assert_eq!(doc["reason"], *reason, "{state}");
        assert_eq!(doc["requeueAfterSeconds"], *requeue, "{state}");
        assert!(doc["requeueReason"].as_str().is_some_and(|r| !r.is_empty()), "{state}");
        assert_eq!(doc["inSync"], *in_sync, "{state}: drift {:#}", doc["drift"]);
        assert_eq!(doc["drift"].as_array().unwrap().is_empty(), *in_sync, "{state}");
        for d in doc["drift"].as_array().unwrap() {
            assert!(
                d["path"].is_string() && d.get("stored").is_some() && d.get("desired").is_some(),
                "{state}: {d}"
            );
        }
        assert!(doc["conditions"].as_array().unwrap().iter().any(|c| c["type"] == "Ready"), "{state}");
        assert!(doc["findings"].is_array(), "{state}");
        assert_eq!(doc["tree"]["kind"], "Cluster", "{state}");
        assert_eq!(doc["tree"]["children"][0]["kind"], "CAPTControlPlane", "{state}");

        // The table form: the tree, the requeue line and nothing secret.
        let table = run(env, &["status", name, "-n", &ns], false);
        assert!(table.status.success(), "{state}: {}", String::from_utf8_lossy(&table.stderr));
        assert_no_secret(&table, &secrets, state);
        let text = String::from_utf8_lossy(&table.stdout);
        assert!(text.contains(&format!("CAPTControlPlane {ns}/{name}")), "{state}:\n{text}");
        assert!(text.contains(&format!("Requeue:   {requeue}s: ")), "{state}:\n{text}");
        assert!(text.contains(if *in_sync { "in sync" } else { "would be written" }), "{state}:\n{text}");

        let gate = run(env, &["status", name, "-n", &ns, "--fail-if-not-ready"], false);
        assert_eq!(gate.status.code(), Some(if *ready { 0 } else { 3 }), "{state}: --fail-if-not-ready");
    }

    // The ready state in detail: Secrets appear with their key names only.
    let ready = json_of(&run(env, &["status", &names[0], "-n", &ns, "-o", "json"], false), "ready");
    let conn = &ready["tree"]["children"][0]["children"][1]["children"][0]["children"][0];
    assert_eq!(conn["kind"], "Secret");
    assert_eq!(conn["keys"], json!(["cluster_certificate_authority_data", "cluster_endpoint"]));
    assert_eq!(ready["requeueReason"], "ready");
    assert_eq!(ready["endpoint"], format!("{}.gr7.ap-northeast-1.eks.amazonaws.com:443", names[0]));

    // The list: one item per CAPTControlPlane, the same decisions.
    let list = run(env, &["status", "-n", &ns, "-o", "json"], false);
    assert_no_secret(&list, &secrets, "list");
    let items = json_of(&list, "list")["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), STATES.len());
    for item in &items {
        let i: usize = item["name"].as_str().unwrap().rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(item["phase"], STATES[i].1, "list item {}", item["name"]);
    }
    let table = run(env, &["status", "-n", &ns, "-o", "wide"], false);
    assert_no_secret(&table, &secrets, "list table");
    let text = String::from_utf8_lossy(&table.stdout);
    assert_eq!(text.lines().count(), STATES.len() + 1, "{text}");
    assert!(text.lines().next().unwrap().starts_with("NAME"), "{text}");
    let all = run(env, &["status", "-A", "-o", "yaml"], false);
    assert_no_secret(&all, &secrets, "-A");
    assert!(String::from_utf8_lossy(&all.stdout).contains(&format!("namespace: {ns}")));
    assert_eq!(run(env, &["status", "-n", &ns, "--fail-if-not-ready"], false).status.code(), Some(3));

    // The read-only user (capt-viewer) may read the CAPT objects but not Secrets. Its 403 is its
    // own blindness, not the cluster's state: a decision that needs a Secret is Unknown and
    // names the permission; one made before any Secret is needed is the admin's decision.
    let rbac = format!("get secrets in namespace \"{ns}\"");
    let mut unknown = Vec::new();
    for ((state, phase, ..), name) in STATES.iter().zip(&names) {
        let ro = run(env, &["status", name, "-n", &ns, "-o", "json"], true);
        assert_no_secret(&ro, &secrets, state);
        let doc = json_of(&ro, &format!("read-only {state}"));
        assert_ne!(doc["reason"], "ReadError", "{state}: {doc:#}");
        let unreadable = doc["unreadable"].as_array().unwrap_or_else(|| panic!("{state}: {doc:#}"));
        assert!(
            !unreadable.is_empty() && unreadable.iter().all(|u| u["rbac"] == rbac.as_str()),
            "{state}: every unreadable input is a Secret and names the RBAC: {doc:#}"
        );
        if doc["determined"] == false {
            unknown.push(*state);
            assert_eq!(doc["phase"], "Unknown", "{state}: {doc:#}");
            assert_eq!(doc["ready"], false, "{state}");
            assert!(doc["requeueAfterSeconds"].is_null(), "{state}: no requeue: {doc:#}");
            assert!(doc["inSync"].is_null() && doc["drift"] == json!([]), "{state}: no drift: {doc:#}");
            assert!(unreadable.iter().any(|u| u["needed"] == true), "{state}: {doc:#}");
            assert!(doc["requeue"].as_str().unwrap().contains(&rbac), "{state}: {doc:#}");
            // What can be decided without the Secrets is still shown.
            assert_eq!(doc["tree"]["children"][0]["kind"], "CAPTControlPlane", "{state}");
            assert!(doc["stored"]["phase"].is_string() || doc["stored"]["phase"].is_null(), "{state}");
            let table = run(env, &["status", name, "-n", &ns], true);
            let text = String::from_utf8_lossy(&table.stdout);
            assert!(table.status.success(), "{state}: {}", String::from_utf8_lossy(&table.stderr));
            assert!(text.contains("Phase:     Unknown"), "{state}:\n{text}");
            assert!(
                text.contains(&format!("kubectl-capt needs {rbac} (the decision needs it)")),
                "{state}:\n{text}"
            );
            assert!(!text.contains("Failed ("), "{state}:\n{text}");
            // The gate cannot say ready or not ready: exit 1 naming the permission.
            let gate = run(env, &["status", name, "-n", &ns, "--fail-if-not-ready"], true);
            let err = String::from_utf8_lossy(&gate.stderr);
            assert_eq!(gate.status.code(), Some(1), "{state}: {err}");
            assert!(err.contains("cannot tell whether") && err.contains(&rbac), "{state}: {err}");
            assert!(err.contains(&format!("kubectl auth can-i get secrets -n {ns}")), "{state}: {err}");
        } else {
            // Decided before any Secret was needed: exactly what the admin sees.
            let admin = json_of(&run(env, &["status", name, "-n", &ns, "-o", "json"], false), state);
            for field in ["phase", "reason", "requeueAfterSeconds", "inSync"] {
                assert_eq!(doc[field], admin[field], "{state}: {field}");
            }
            // The same fields would be written (desired times are "now", a second apart).
            let paths = |d: &Value| -> Vec<String> {
                d["drift"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| format!("{}|{}", x["object"], x["path"]))
                    .collect()
            };
            assert_eq!(paths(&doc), paths(&admin), "{state}: drift");
            assert_eq!(doc["phase"], *phase, "{state}");
            assert!(unreadable.iter().all(|u| u["needed"] == false), "{state}: {doc:#}");
        }
    }
    // Every state whose decision reads a Secret (the ready path) is Unknown for the viewer.
    assert_eq!(unknown, ["ready", "ready-no-ca", "no-endpoint"], "Unknown for the read-only user");
    let list = run(env, &["status", "-n", &ns, "-o", "json"], true);
    let items = json_of(&list, "read-only list")["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), STATES.len());
    for item in &items {
        let i: usize = item["name"].as_str().unwrap().rsplit('-').next().unwrap().parse().unwrap();
        let want = if unknown.contains(&STATES[i].0) { "Unknown" } else { STATES[i].1 };
        assert_eq!(item["phase"], want, "read-only list item {}", item["name"]);
    }
    let all = run(env, &["status", "-A"], true);
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(all.status.success(), "{}", String::from_utf8_lossy(&all.stderr));
    for (i, (state, ..)) in STATES.iter().enumerate() {
        let row =
            text.lines().find(|l| l.contains(&format!("{ns}-{i} "))).unwrap_or_else(|| panic!("{text}"));
        if unknown.contains(state) {
            assert!(row.contains("Unknown") && !row.contains("Failed"), "{state}: {row}");
        }
    }

    // A missing object is an error (exit 1) that names it.
    let missing = run(env, &["status", "nope", "-n", &ns], false);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("\"nope\" not found"));
}

#[tokio::test]
async fn one_snapshot_gets_only_its_own_objects() {
    let env = env();
    let ns = env.namespace("status-calls");
    let name = format!("{ns}-r");
    env.apply_objects(&ns, &fixture("ready", &name)).await;
    let before = std::fs::read_to_string(&env.audit_log).unwrap_or_default().lines().count();
    let out = run(env, &["status", &name, "-n", &ns, "-o", "json"], false);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut calls = Vec::new();
    for _ in 0..20 {
        let log = std::fs::read_to_string(&env.audit_log).unwrap_or_default();
        calls = log
            .lines()
            .skip(before)
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| {
                e["stage"] == "ResponseComplete" && e["requestURI"].as_str().is_some_and(|u| u.contains(&ns))
            })
            .map(|e| {
                format!("{} {}", e["verb"].as_str().unwrap_or(""), e["requestURI"].as_str().unwrap_or(""))
            })
            .collect();
        if calls.len() >= 11 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    println!("status {name}: {} API calls", calls.len());
    // No LIST: one of the namespace's applies would read those of every control plane there.
    assert!(calls.iter().all(|c| c.starts_with("get ")), "{calls:#?}");
    assert_eq!(
        calls.len(),
        11,
        "1 CAPTControlPlane + 1 Cluster + 1 template + 3 applies + 4 Secrets + 1 Workspace: {calls:#?}"
    );
}

/// The Secret GETs in the audit log after line `before` for objects named with `prefix`, once
/// `want` of them have arrived (the log is written asynchronously) or after 2 s.
fn secret_gets(env: &TestEnv, ns: &str, before: usize, want: usize) -> Vec<String> {
    let mut gets = Vec::new();
    for _ in 0..20 {
        let log = std::fs::read_to_string(&env.audit_log).unwrap_or_default();
        gets = log
            .lines()
            .skip(before)
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| {
                e["stage"] == "ResponseComplete"
                    && e["objectRef"]["resource"] == "secrets"
                    && e["objectRef"]["namespace"] == ns
            })
            .map(|e| {
                format!(
                    "{} {}",
                    e["verb"].as_str().unwrap_or(""),
                    e["objectRef"]["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        if gets.len() >= want {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    gets.sort();
    gets
}

/// A report with what legitimately differs between two runs taken a moment apart removed:
/// ages and the times a pass would write (`now`).
fn timeless(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("ageSeconds");
            m.values_mut().for_each(timeless);
        }
        Value::Array(a) => a.iter_mut().for_each(timeless),
        Value::String(s) if s.len() == 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') => {
            *s = "<time>".into()
        }
        _ => {}
    }
}

/// Where `list`'s tree shows a Secret as `notRead`, takes `single`'s node instead; returns the
/// names of those Secrets.
fn fill_not_read(list: &mut Value, single: &Value, names: &mut Vec<String>) {
    match (list, single) {
        (l @ Value::Object(_), Value::Object(s)) if l["state"] == "notRead" => {
            assert_eq!(l["kind"], "Secret", "only Secrets are left not read: {l}");
            assert_eq!(l["detail"], "not read: the decision does not need it", "{l}");
            assert!(l.get("keys").is_none(), "a Secret not read shows no keys: {l}");
            names.push(l["name"].as_str().unwrap().to_string());
            *l = Value::Object(s.clone());
        }
        (Value::Object(l), Value::Object(s)) => {
            for (k, lv) in l.iter_mut() {
                if let Some(sv) = s.get(k) {
                    fill_not_read(lv, sv, names);
                }
            }
        }
        (Value::Array(l), Value::Array(s)) => {
            for (lv, sv) in l.iter_mut().zip(s) {
                fill_not_read(lv, sv, names);
            }
        }
        _ => {}
    }
}

/// The names of the Secret nodes of a tree.
fn secret_nodes(node: &Value, out: &mut Vec<String>) {
    if node["kind"] == "Secret" {
        out.push(node["name"].as_str().unwrap_or_default().to_string());
    }
    for c in node["children"].as_array().into_iter().flatten() {
        secret_nodes(c, out);
    }
}

/// `status -n NS` (the list) GETs only the Secrets each control plane's plan reaches, and
/// reports every state fixture exactly as `status NAME`, which reads all four, does: the
/// Secrets it did not read are `notRead` (never missing, never present), nothing else differs.
#[tokio::test]
async fn the_list_reads_only_the_secrets_a_decision_reaches() {
    // (state, Secrets the list reads: suffixes after the name)
    let all = ["-ca", "-eks-connection", "-kubeconfig", "-outputs-kubeconfig"].as_slice();
    let conn = ["-eks-connection"].as_slice();
    let table: &[(&str, &[&str])] = &[
        ("ready", all),
        ("ready-no-kubeconfig", all),
        ("ready-scheme-host", all),
        ("endpoint-in-secret", all),
        ("creating", conn),
        ("hl5-creating-no-ca", conn),
        ("workspace-error", conn),
        ("ready-no-ca", conn),
        ("hl6-secret-endpoint-no-ca", conn),
        ("hl2-empty-endpoint", conn),
        ("no-endpoint", conn),
        ("creating-fresh", &[]),
        ("missing-template", &[]),
        ("missing-cluster", &[]),
        ("hl3-workspace-missing", &[]),
        ("hl4-workspace-missing-creating", &[]),
    ];
    let dir = crate::support::repo().join("tests/fixtures/states");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), table.len(), "every state fixture is here");
    let env = env();
    for (state, reads) in table {
        let ns = env.namespace("status-reads");
        let name = format!("{ns}-x");
        let yaml = fixture(state, &name);
        env.apply_objects(&ns, &yaml).await;
        claim(env, &ns, &name).await;

        let before = std::fs::read_to_string(&env.audit_log).unwrap_or_default().lines().count();
        let out = run(env, &["status", "-n", &ns, "-o", "json"], false);
        let mut item = json_of(&out, state)["items"][0].clone();
        let want: Vec<String> = reads.iter().map(|s| format!("get {name}{s}")).collect();
        // Wait for more than expected, so that one GET too many shows.
        let gets = secret_gets(env, &ns, before, want.len() + 1);
        assert_eq!(gets, want, "{state}: the Secrets the list reads");

        let mut single = json_of(&run(env, &["status", &name, "-n", &ns, "-o", "json"], false), state);
        let mut not_read = Vec::new();
        fill_not_read(&mut item, &single, &mut not_read);
        not_read.sort();
        // Every Secret of the tree that was not read, and only those, shows as notRead.
        let mut in_tree = Vec::new();
        secret_nodes(&single["tree"], &mut in_tree);
        let mut unread: Vec<String> = all
            .iter()
            .filter(|s| !reads.contains(s))
            .map(|s| format!("{name}{s}"))
            .filter(|n| in_tree.contains(n))
            .collect();
        unread.sort();
        assert_eq!(not_read, unread, "{state}: the Secrets not read, and only they, show as notRead");
        timeless(&mut item);
        timeless(&mut single);
        assert_eq!(item, single, "{state}: the list's report differs from the one reading every Secret");
    }
}
