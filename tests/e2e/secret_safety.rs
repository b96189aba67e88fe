//! e2e: adversarial connection-Secret `cluster_endpoint` values (userinfo with a password, a
//! non-URL string, a ~1 MiB value, ANSI escapes, invalid UTF-8, base64 of a marker, a valid URL
//! whose path and query hold the marker) go through `status` (every format, by name and -A),
//! `reconcile` (diff, -v/-vv, --dry-run=client/server, -o json/yaml, --follow with a short
//! --timeout), `watch --duration` and `analyze` of the resulting audit log. The marker (and its
//! base64, and the escape character) appears in no stdout or stderr, in no object read back from
//! the API server (the connection Secrets themselves excepted), and in no request or response
//! body of the audit log (RequestResponse for CAPTControlPlanes, Clusters and
//! WorkspaceTemplateApplies: scripts/testenv's policy).

use std::process::{Command, Output};

use base64::Engine;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use crate::support::{TestEnv, env, fixture};

const MARKER: &str = "Qz9SECRETLEAK4u";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `(name suffix, fixture state, cluster_endpoint bytes, Ready expected)`. `endpoint-in-secret`
/// has no Workspace output, so the Secret is the source; `ready` has one, so the Secret's value
/// only feeds the kubeconfig apply.
fn corpus() -> Vec<(&'static str, &'static str, Vec<u8>, bool)> {
    let m = MARKER;
    let mut huge = format!("https://h.example.com/{m}").into_bytes();
    // Below the API server's 1 MiB limit for a whole Secret.
    huge.resize(1_000_000, b'a');
    vec![
        ("userinfo", "endpoint-in-secret", format!("https://admin:{m}@h.example.com").into_bytes(), false),
        ("not-url", "endpoint-in-secret", format!("{m} is not a url").into_bytes(), false),
        ("huge", "endpoint-in-secret", huge, false),
        (
            "ansi",
            "endpoint-in-secret",
            format!("\x1b[2J\x1b]0;{m}\x07https://h.example.com").into_bytes(),
            false,
        ),
        (
            "utf8",
            "endpoint-in-secret",
            [format!("https://h.example.com:{m}").as_bytes(), &[0xff, 0xfe]].concat(),
            false,
        ),
        ("b64", "endpoint-in-secret", b64(m.as_bytes()).into_bytes(), false),
        (
            "path",
            "endpoint-in-secret",
            format!("https://h.example.com:6443/{m}?token={m}#{m}").into_bytes(),
            true,
        ),
        ("behind-output", "ready", format!("https://admin:{m}@h.example.com").into_bytes(), true),
    ]
}

/// What must never show: the marker, lower-cased (hosts are), its base64, and the escape.
fn leaks(bytes: &[u8]) -> Vec<String> {
    let needles = [MARKER.to_string(), MARKER.to_ascii_lowercase(), b64(MARKER.as_bytes())];
    let mut found: Vec<String> =
        needles.iter().filter(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes())).cloned().collect();
    if bytes.contains(&0x1b) {
        found.push("ESC".into());
    }
    found
}

fn check(what: &str, out: &Output) {
    let code = out.status.code();
    assert!(
        code.is_some_and(|c| c != 101),
        "{what}: crashed ({:?}): {}",
        code,
        String::from_utf8_lossy(&out.stderr)
    );
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let found = leaks(bytes);
        assert!(found.is_empty(), "{what}: {stream} shows {found:?}:\n{}", String::from_utf8_lossy(bytes));
    }
}

fn run(env: &TestEnv, args: &[&str]) -> Output {
    let mut cmd: Command = env.capt();
    cmd.args(args).output().expect("run kubectl-capt")
}

async fn set_endpoint(env: &TestEnv, ns: &str, name: &str, value: &[u8]) {
    let api: Api<Secret> = Api::namespaced(env.client().await, ns);
    let secret = format!("{name}-eks-connection");
    let patch = Secret {
        data: Some([("cluster_endpoint".to_string(), ByteString(value.to_vec()))].into()),
        ..Secret::default()
    };
    api.patch(&secret, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch connection Secret");
}

#[tokio::test(flavor = "multi_thread")]
async fn adversarial_connection_secret_never_leaks() {
    let env = env();
    let ns = env.namespace("secret-safety");
    let cases = corpus();
    for (suffix, state, value, _) in &cases {
        let name = format!("ss-{suffix}");
        env.apply_objects(&ns, &fixture(state, &name)).await;
        set_endpoint(env, &ns, &name, value).await;
    }

    // status: every format, each object by name, and the lists.
    for (suffix, ..) in &cases {
        let name = format!("ss-{suffix}");
        for o in ["table", "wide", "json", "yaml"] {
            check(&format!("status {name} -o {o}"), &run(env, &["status", &name, "-n", &ns, "-o", o]));
        }
    }
    for o in ["table", "wide", "json", "yaml"] {
        check(&format!("status -A -o {o}"), &run(env, &["status", "-A", "-o", o]));
        check(&format!("status -n -o {o} -v"), &run(env, &["status", "-n", &ns, "-o", o, "-v"]));
    }

    // reconcile: dry runs first, then real passes (the diff), then --follow, all at once.
    let mut handles = Vec::new();
    for (suffix, _, _, ready) in cases.clone() {
        let name = format!("ss-{suffix}");
        let ns = ns.clone();
        handles.push(std::thread::spawn(move || {
            let env = crate::support::env();
            let steps: Vec<Vec<&str>> = vec![
                vec!["--dry-run", "-vv"],
                vec!["--dry-run=server", "-v"],
                vec!["--dry-run=server", "-o", "json"],
                vec!["--force", "-v"],
                vec!["--force", "-vv", "-o", "yaml"],
                vec!["--force", "-o", "json"],
                vec!["--force", "--follow", "--timeout", "3s", "-v"],
                vec!["--force", "--follow", "--timeout", "2s", "-o", "json"],
            ];
            let mut last_json = Value::Null;
            for step in steps {
                let mut args = vec!["reconcile", name.as_str(), "-n", ns.as_str()];
                args.extend(step.iter().copied());
                let out = run(env, &args);
                check(&args.join(" "), &out);
                if step == ["--force", "-o", "json"] {
                    last_json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                }
            }
            (name, ready, last_json)
        }));
    }
    for h in handles {
        let (name, ready, doc) = h.join().expect("reconcile thread");
        let phase = doc["phase"].as_str().unwrap_or_default().to_string();
        // The pass decided (not a crash or a refusal), and the decision is the expected one.
        assert_eq!(phase, if ready { "Ready" } else { "Failed" }, "{name}: {doc:#}");
    }

    // The decisions as written, read back: the Secret named, the key named, the problem named.
    let cp = env.kubectl_ok(&["get", "captcontrolplane", "ss-userinfo", "-n", &ns, "-o", "json"]);
    let cp: Value = serde_json::from_str(&cp).expect("json");
    assert_eq!(
        cp["status"]["failureMessage"],
        json!(format!(
            "Failed to get cluster endpoint: Secret {ns}/ss-userinfo-eks-connection key cluster_endpoint is not an https URL: it holds a user name or password (an @), which is never written"
        ))
    );
    let path = env.kubectl_ok(&["get", "captcontrolplane", "ss-path", "-n", &ns, "-o", "json"]);
    let path: Value = serde_json::from_str(&path).expect("json");
    assert_eq!(path["spec"]["controlPlaneEndpoint"], json!({"host": "h.example.com", "port": 6443}));
    let wta = env.kubectl_ok(&[
        "get",
        "workspacetemplateapplies",
        "ss-path-kubeconfig-apply",
        "-n",
        &ns,
        "-o",
        "json",
    ]);
    let wta: Value = serde_json::from_str(&wta).expect("json");
    assert_eq!(wta["spec"]["variables"]["cluster_endpoint"], "https://h.example.com:6443");

    // watch, then analyze of the audit log the run produced.
    for o in ["table", "json"] {
        check(
            &format!("watch -o {o}"),
            &run(env, &["watch", "-n", &ns, "--duration", "3s", "--no-logs", "-o", o]),
        );
    }
    check("watch -A", &run(env, &["watch", "-A", "--duration", "2s", "--no-logs", "-v"]));
    for o in ["table", "wide", "json", "yaml"] {
        let out = env.capt().args(["analyze", "-o", o]).arg(&env.audit_log).output().expect("analyze");
        check(&format!("analyze audit log -o {o}"), &out);
    }

    // Every object read back (managed fields included), the connection Secrets excepted: those
    // are the input. The tool's own Secrets (CA, kubeconfig) are checked too.
    let all = env.kubectl_ok(&[
        "get",
        "captcontrolplanes,clusters.cluster.x-k8s.io,workspacetemplateapplies,workspacetemplates,secrets,events",
        "-n",
        &ns,
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let all: Value = serde_json::from_str(&all).expect("json");
    let items = all["items"].as_array().expect("items");
    let mut secrets_checked = 0;
    for item in items {
        let (kind, name) = (
            item["kind"].as_str().unwrap_or_default(),
            item["metadata"]["name"].as_str().unwrap_or_default(),
        );
        if kind == "Secret" && name.ends_with("-eks-connection") {
            continue;
        }
        let mut text = item.to_string().into_bytes();
        if kind == "Secret" {
            secrets_checked += 1;
            for v in item["data"].as_object().into_iter().flatten().filter_map(|(_, v)| v.as_str()) {
                text.extend(base64::engine::general_purpose::STANDARD.decode(v).unwrap_or_default());
            }
        }
        let found = leaks(&text);
        assert!(found.is_empty(), "{kind} {name} read back shows {found:?}: {item:#}");
    }
    assert!(
        secrets_checked >= cases.len(),
        "expected the tool's and the fixtures' own Secrets, found {secrets_checked}"
    );

    // The audit log: every request the tool sent in this namespace, bodies included.
    let log = std::fs::read_to_string(&env.audit_log).expect("audit log");
    let mut bodies = 0;
    for line in log.lines().filter(|l| l.contains(&ns)) {
        let ev: Value = serde_json::from_str(line).expect("audit JSON");
        if ev["objectRef"]["namespace"] != json!(ns) {
            continue;
        }
        if ev["objectRef"]["resource"] == "secrets" {
            assert_eq!(ev["level"], "Metadata", "Secrets must never be recorded with bodies: {line}");
            continue;
        }
        let found = leaks(line.as_bytes());
        assert!(found.is_empty(), "audit event shows {found:?}: {line}");
        let by_tool = ev["userAgent"].as_str().is_some_and(|u| u.contains("kubectl-capt"))
            || ev["requestURI"].as_str().is_some_and(|u| u.contains("fieldManager=kubectl-capt"));
        if by_tool && ev["level"] == "RequestResponse" && ev["requestObject"].is_object() {
            bodies += 1;
        }
    }
    // Not vacuous: the tool's writes (status patches of every case, the endpoint of the Ready
    // ones, the kubeconfig apply) are recorded with their bodies.
    assert!(bodies >= cases.len(), "only {bodies} request bodies of kubectl-capt in the audit log");
}
