//! e2e (own test binary, own environments, one test at a time): the real upstream CAPT
//! controller (`../shared/upstream-capt`, built by `scripts/testenv build`) on the upstream
//! CRDs (`scripts/testenv up --crds upstream`), looping on spec §2.9 inputs HL1, HL2, HL3 and
//! HL5 beside a ready and a creating control plane. `watch` with all four signals, `status`,
//! `reconcile` (refused while it runs, settling once it is stopped) and `analyze` must each
//! describe what this controller really does. Without `../shared` every test says it skipped.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e/watch_helpers.rs"]
mod helpers;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use support::upstream::Manager;
use support::{TestEnv, fixture, shared_dir};
use tokio::sync::Mutex;

/// The controller watches every namespace and shares the machine's two cores with the API
/// server: one environment and one manager at a time keeps its pass rate (and so the timings
/// asserted here) representative.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// A looping input: (object name, state fixture, HL id, the two Ready reasons it alternates).
struct Loop {
    name: &'static str,
    hl: &'static str,
    pair: [&'static str; 2],
}

const LOOPS: &[Loop] = &[
    // Ready apply and endpoint, connection Secret without the CA key.
    Loop { name: "hl1", hl: "HL1", pair: ["Ready", "SecretError"] },
    // Empty endpoint output, on a Cluster that has no endpoint yet: upstream's merge patch of
    // the Cluster endpoint carries only `port` and the real Cluster CRD rejects it (host is
    // required), so the pass ends in EndpointUpdateFailed, not Ready as spec §2.9 predicted.
    Loop { name: "hl2", hl: "HL2", pair: ["EndpointUpdateFailed", "EndpointError"] },
    // The apply names a Workspace that does not exist.
    Loop { name: "hl3", hl: "HL3", pair: ["WorkspaceStatusUpdateFailed", "KubeconfigGenerationFailed"] },
    // Apply not Ready, connection Secret with an endpoint but without the CA key.
    Loop { name: "hl5", hl: "HL5", pair: ["Creating", "SecretError"] },
];

/// The objects of each test: the loops plus a ready and a creating control plane, with the
/// decision `status` gives for each (phase, requeue seconds, Ready reason).
const DECISIONS: &[(&str, &str, u64, &str)] = &[
    ("hl1", "Failed", 10, "SecretError"),
    ("hl2", "Failed", 10, "EndpointError"),
    ("hl3", "Failed", 10, "WorkspaceStatusUpdateFailed"),
    ("hl5", "Creating", 5, "Creating"),
    ("ready", "Ready", 30, "Ready"),
    ("creating", "Creating", 5, "Creating"),
];

/// The fixture YAML of each object (tests/fixtures/states, valid for the upstream schemas).
fn objects() -> Vec<(&'static str, String)> {
    let hl2 = without_cluster_endpoint(&fixture("hl2-empty-endpoint", "hl2"));
    vec![
        ("hl1", fixture("ready-no-ca", "hl1")),
        ("hl2", hl2),
        ("hl3", fixture("hl3-workspace-missing", "hl3")),
        ("hl5", fixture("hl5-creating-no-ca", "hl5")),
        ("ready", fixture("ready", "ready")),
        ("creating", fixture("creating", "creating")),
    ]
}

/// The fixture with its Cluster's `spec.controlPlaneEndpoint` removed (a Cluster API Cluster
/// before any control plane provider set one).
fn without_cluster_endpoint(yaml: &str) -> String {
    let docs: Vec<String> = yaml
        .split("\n---\n")
        .map(|doc| {
            if !doc.contains("\nkind: Cluster\n") {
                return doc.to_string();
            }
            let start = doc.find("  controlPlaneEndpoint:\n").expect("the Cluster has an endpoint");
            let len = doc[start..].match_indices('\n').nth(2).expect("three lines").0 + 1;
            format!("{}{}", &doc[..start], &doc[start + len..])
        })
        .collect();
    let out = docs.join("\n---\n");
    assert_ne!(out, yaml, "the fixture edit changed nothing");
    out
}

/// A private environment on the upstream CRDs with every object created (statuses written) and
/// the manager started, once each loop has made a few passes. `None` without `../shared`.
async fn setup(test: &str) -> Option<(&'static TestEnv, String, Manager)> {
    shared_dir(test)?;
    // Leaked: the environment outlives the test's tasks; its watchdog stops it at exit.
    let env: &'static TestEnv = Box::leak(Box::new(TestEnv::start(&["--crds", "upstream"])));
    let ns = env.namespace("upstream");
    for (_, yaml) in objects() {
        env.apply_objects(&ns, &yaml).await;
    }
    let manager = tokio::task::spawn_blocking(move || Manager::start(env)).await.unwrap();
    let m = &manager;
    for l in LOOPS {
        m.wait_for_passes(&ns, l.name, 4, Duration::from_secs(90));
    }
    m.wait_for_passes(&ns, "ready", 1, Duration::from_secs(30));
    m.wait_for_passes(&ns, "creating", 1, Duration::from_secs(30));
    Some((env, ns, manager))
}

fn run(mut cmd: std::process::Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("run kubectl-capt");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines().filter(|l| !l.trim().is_empty()).map(json).collect()
}

/// "… alternates A ↔ B between consecutive writes" → {A, B}.
fn alternation(evidence: &str) -> BTreeSet<String> {
    let rest =
        evidence.split("alternates ").nth(1).unwrap_or_else(|| panic!("no alternation in {evidence:?}"));
    let pair = rest.split(" between").next().unwrap_or(rest);
    pair.split(" ↔ ").map(str::to_string).collect()
}

fn set(pair: &[&str]) -> BTreeSet<String> {
    pair.iter().map(|s| s.to_string()).collect()
}

/// In an audit log a writer is its user and user agent: the manager's client identifies as
/// `manager/<version>`.
fn audit_writer_is_manager(row: &Value) -> bool {
    managers(row).first().is_some_and(|m| m.contains("(manager/"))
}

fn managers(finding: &Value) -> Vec<String> {
    finding["managers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["manager"].as_str().map(str::to_string))
        .collect()
}

/// `watch` with objects, Events, the manager's log and its /metrics flags each looping
/// CAPTControlPlane and its Cluster HOT within 10 s, with the cause and `manager` as the
/// writer; the converging ones stay OK. `status` then gives each decision and an HL finding
/// naming exactly the pair the watch saw; `analyze` of the audit log and of the manager's log
/// finds the same objects HOT with `manager` named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_controller_loops_are_hot_in_watch_status_and_analyze() {
    let _serial = SERIAL.lock().await;
    let Some((env, ns, manager)) =
        setup("upstream_controller_loops_are_hot_in_watch_status_and_analyze").await
    else {
        return;
    };
    // Another namespace's object: its log lines must not show up in a watch of `ns`.
    let other = env.namespace("upstream-other");
    env.apply_objects(&other, &fixture("creating", "other")).await;

    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "25s", "-o", "json", "--controller-logs"])
        .arg(&manager.log)
        .args(["--metrics-url", &manager.metrics_url]);
    let w = tokio::task::spawn_blocking(move || helpers::start(cmd).finish()).await.unwrap();
    assert_eq!(w.code, Some(3), "exit 3 when an object was HOT; stderr:\n{}", w.stderr);
    let started = helpers::millis(&w.summary["startedAt"]);
    let sources = &w.summary["sources"];
    for (source, state) in [
        ("captcontrolplanes.controlplane.cluster.x-k8s.io", "watching"),
        ("clusters.cluster.x-k8s.io", "watching"),
        ("events", "watching"),
    ] {
        assert_eq!(sources[source], state, "{sources}");
    }
    let logs = sources["logs"].as_str().unwrap_or_default();
    assert!(logs.starts_with("reading (") && !logs.contains("malformed"), "{logs}");
    assert!(sources["metrics"].as_str().unwrap_or_default().starts_with("reading ("), "{sources}");
    let capt = w.summary["controllers"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["controller"] == "captcontrolplane"))
        .unwrap_or_else(|| panic!("no captcontrolplane controller in {}", w.summary));
    assert!(capt["reconcilesPerSecond"].as_f64().unwrap_or(0.0) >= 1.0, "the loops show in /metrics: {capt}");

    let mut seen_pairs = Vec::new();
    for l in LOOPS {
        let cp = w.finding("CAPTControlPlane", l.name);
        assert_eq!(cp["namespace"], ns.as_str(), "{cp}");
        assert_eq!(cp["peakVerdict"], "HOT", "{}: {cp}", l.hl);
        let hot_after = helpers::millis(&cp["firstHotAt"]) - started;
        assert!(hot_after <= 10_000, "{}: HOT {hot_after} ms after the watch started: {cp}", l.hl);
        assert_eq!(cp["cause"], "status-flip-flop", "{}: {cp}", l.hl);
        assert_eq!(managers(cp).first().map(String::as_str), Some("manager"), "{}: {cp}", l.hl);
        assert!(cp["totals"]["reconciles"].as_u64().unwrap_or(0) > 0, "passes from the log: {cp}");
        let pair = alternation(cp["evidence"][0].as_str().unwrap_or_default());
        assert_eq!(pair, set(&l.pair), "{}: the real controller's alternation: {cp}", l.hl);
        seen_pairs.push(pair);

        let cluster = w.finding("Cluster", l.name);
        assert_eq!(cluster["peakVerdict"], "HOT", "{} Cluster: {cluster}", l.hl);
        let hot_after = helpers::millis(&cluster["firstHotAt"]) - started;
        assert!(
            hot_after <= 10_000,
            "{} Cluster: HOT {hot_after} ms after the watch started: {cluster}",
            l.hl
        );
        assert_eq!(cluster["cause"], "status-flip-flop", "{} Cluster: {cluster}", l.hl);
        assert_eq!(managers(cluster).first().map(String::as_str), Some("manager"), "{cluster}");
    }
    for name in ["ready", "creating"] {
        for kind in ["CAPTControlPlane", "Cluster"] {
            let f = w.finding(kind, name);
            assert_eq!((f["verdict"].as_str(), f["peakVerdict"].as_str()), (Some("OK"), Some("OK")), "{f}");
        }
    }
    // The Workspace named in `Found Workspace` lines is not a CAPTControlPlane, and another
    // namespace's objects are not part of a watch of this one.
    for f in &w.findings {
        let name = f["name"].as_str().unwrap_or_default();
        assert!(!(f["kind"] == "CAPTControlPlane" && name.ends_with("-eks-controlplane")), "invented: {f}");
        assert!(f["namespace"].is_null() || f["namespace"] == ns.as_str(), "outside -n {ns}: {f}");
    }

    // status: the decision of each, and for each loop the HL finding with the pair watch saw.
    for (name, phase, requeue, reason) in DECISIONS {
        let mut cmd = env.capt();
        cmd.args(["status", name, "-n", &ns, "-o", "json"]);
        let (code, stdout, stderr) = run(cmd);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        let doc = json(&stdout);
        assert_eq!(doc["phase"], *phase, "{name}: {doc:#}");
        assert_eq!(doc["requeueAfterSeconds"], *requeue, "{name}: {doc:#}");
        assert_eq!(doc["reason"], *reason, "{name}: {doc:#}");
        let messages: Vec<&str> =
            doc["findings"].as_array().into_iter().flatten().filter_map(|f| f["message"].as_str()).collect();
        match LOOPS.iter().position(|l| l.name == *name) {
            Some(i) => {
                let l = &LOOPS[i];
                let finding = messages
                    .iter()
                    .find(|m| m.contains(&format!("({}: ", l.hl)))
                    .unwrap_or_else(|| panic!("{name}: no {} finding in {messages:?}", l.hl));
                let pair =
                    finding.split(&format!("({}: ", l.hl)).nth(1).unwrap().split(" on every pass").next();
                let pair: BTreeSet<String> = pair.unwrap().split(" ↔ ").map(str::to_string).collect();
                assert_eq!(
                    pair, seen_pairs[i],
                    "{name}: status says {finding:?}, watch saw {:?}",
                    seen_pairs[i]
                );
            }
            None => assert!(!messages.iter().any(|m| m.contains("hot-loops")), "{name}: {messages:?}"),
        }
    }

    // analyze: the API server's audit log alone, then with the manager's log.
    let mut cmd = env.capt();
    cmd.args(["analyze", "-o", "json"]).arg(&env.audit_log);
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, Some(3), "{stderr}");
    let rows = ndjson(&stdout);
    let row = |rows: &[Value], kind: &str, name: &str| -> Value {
        rows.iter()
            .find(|r| r["kind"] == kind && r["namespace"] == ns.as_str() && r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("analyze: no row for {kind} {ns}/{name}"))
    };
    for l in LOOPS {
        for kind in ["CAPTControlPlane", "Cluster"] {
            let r = row(&rows, kind, l.name);
            assert_eq!(r["verdict"], "HOT", "audit log, {kind} {}: {r:#}", l.name);
            assert!(audit_writer_is_manager(&r), "{r:#}");
            assert_ne!(r["cause"], "writer-fight", "one client, two operations: {r:#}");
        }
    }
    // A Metadata-level audit log cannot tell upstream's no-op writes (a status patch and an
    // Update every pass) from real ones, so a converging object can look busy; never HOT.
    for name in ["ready", "creating"] {
        let r = row(&rows, "CAPTControlPlane", name);
        assert_ne!(r["peakVerdict"], "HOT", "audit log: {r:#}");
    }
    let mut cmd = env.capt();
    cmd.args(["analyze", "-o", "json"]).arg(&env.audit_log).arg(&manager.log);
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, Some(3), "{stderr}");
    let rows = ndjson(&stdout);
    for l in LOOPS {
        let r = row(&rows, "CAPTControlPlane", l.name);
        assert_eq!(r["verdict"], "HOT", "audit + manager log: {r:#}");
        assert!(audit_writer_is_manager(&r), "{r:#}");
        assert!(r["totals"]["reconciles"].as_u64().unwrap_or(0) >= 4, "passes from the log: {r:#}");
    }
    assert!(
        !rows.iter().any(|r| r["kind"] == "CAPTControlPlane"
            && r["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-eks-controlplane") || n.ends_with("-outputs-kubeconfig"))),
        "a CAPTControlPlane named after a Workspace or Secret was invented:\n{stdout}"
    );
    drop(manager);
}

/// `reconcile` beside the real controller: `--nudge` on a converged object sees the pass in
/// the log or the metrics and says it cannot see it without them; a write is refused naming
/// `manager`; once the controller is stopped, one pass settles each object, the second writes
/// nothing, and a following watch sees no write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_controller_reconcile_is_refused_while_it_runs_and_settles_once_it_stops() {
    let _serial = SERIAL.lock().await;
    let Some((env, ns, mut manager)) =
        setup("upstream_controller_reconcile_is_refused_while_it_runs_and_settles_once_it_stops").await
    else {
        return;
    };
    let reconcile = |args: &[&str]| {
        let mut cmd = env.capt();
        cmd.args(["reconcile", "-n", &ns]).args(args);
        run(cmd)
    };

    // --nudge on the converged object: the controller runs a pass and writes nothing.
    let (code, _, stderr) = reconcile(&["ready", "--nudge", "--timeout", "5s"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("cannot be observed from the object alone"), "{stderr}");
    assert!(stderr.contains("--controller-logs"), "{stderr}");
    let log = manager.log.to_string_lossy().into_owned();
    for (source, value, evidence) in [
        ("--controller-logs", log.as_str(), "controllerLog"),
        ("--metrics-url", manager.metrics_url.as_str(), "reconcileCounter"),
    ] {
        let (code, stdout, stderr) =
            reconcile(&["ready", "--nudge", "--timeout", "30s", source, value, "-o", "json"]);
        assert_eq!(code, Some(0), "{source}: {stderr}");
        let doc = json(&stdout);
        assert_eq!(doc["observed"], true, "{source}: {doc:#}");
        assert_eq!(doc["evidence"]["type"], evidence, "{source}: {doc:#}");
    }

    // While it runs, every write is refused, naming the controller's field manager.
    for l in LOOPS {
        let before =
            env.kubectl_ok(&["get", "captcontrolplanes", l.name, "-n", &ns, "-o", "jsonpath={.status}"]);
        let (code, _, stderr) = reconcile(&[l.name]);
        assert_eq!(code, Some(1), "{}: {stderr}", l.hl);
        assert!(
            stderr.contains(&format!("another writer is active on CAPTControlPlane {ns}/{}", l.name)),
            "{stderr}"
        );
        assert!(stderr.contains("field manager \"manager\" wrote"), "{}: {stderr}", l.hl);
        assert!(stderr.contains("nothing was written"), "{stderr}");
        // The controller keeps flipping the status; kubectl-capt added nothing.
        let after = env.kubectl_ok(&["get", "captcontrolplanes", l.name, "-n", &ns, "-o", "json"]);
        let writers: Vec<String> = json(&after)["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["manager"].as_str().map(str::to_string))
            .collect();
        assert!(!writers.iter().any(|w| w == "kubectl-capt"), "{}: {writers:?} ({before})", l.hl);
    }

    manager.stop();
    // Stopped: its last writes are seconds old, so the guard still names it; --force says we
    // know the controller is gone.
    for (name, phase, requeue, reason) in DECISIONS {
        let (code, stdout, stderr) = reconcile(&[name, "--force", "-o", "json"]);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        let doc = json(&stdout);
        assert_eq!(doc["phase"], *phase, "{name}: {doc:#}");
        assert_eq!(doc["requeueAfterSeconds"], *requeue, "{name}: {doc:#}");
        let writes = doc["writes"].as_array().cloned().unwrap_or_default();
        assert!(
            writes.iter().all(|w| w["result"] == "applied"),
            "{name}: a write the upstream schema refused? {doc:#}"
        );
        let (code, stdout, stderr) = reconcile(&[name, "--force"]);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        assert!(stdout.contains("No writes: already in sync."), "{name}: the second pass wrote:\n{stdout}");
        let mut cmd = env.capt();
        cmd.args(["status", name, "-n", &ns, "-o", "json"]);
        let (code, stdout, stderr) = run(cmd);
        assert_eq!(code, Some(0), "{stderr}");
        let status = json(&stdout);
        assert_eq!(status["inSync"], true, "{name}: {:#}", status["drift"]);
        assert_eq!(status["reason"], *reason, "{name}");
    }

    // Nothing writes any more: a watch of the namespace sees no write at all.
    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "8s", "-o", "json", "--no-logs"]);
    let w = tokio::task::spawn_blocking(move || helpers::start(cmd).finish()).await.unwrap();
    assert_eq!(w.code, Some(0), "stderr:\n{}", w.stderr);
    for (name, ..) in DECISIONS {
        for kind in ["CAPTControlPlane", "Cluster"] {
            let f = w.finding(kind, name);
            assert_eq!(f["totals"]["writes"], 0, "{kind} {name}: {f}");
            assert_eq!(f["verdict"], "OK", "{f}");
        }
    }
    assert_eq!(w.summary["writes"], 0, "{}", w.summary);
}
