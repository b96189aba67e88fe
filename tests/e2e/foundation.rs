//! e2e: the foundation every command stands on — the project's Kubernetes layer and models
//! against a real API server, permission and connection errors, missing CRDs, the kubectl
//! plugin mechanism, and a faithful round trip of upstream-shaped objects.

use std::process::Command;
use std::time::{Duration, Instant};

use kube::Api;
use kube::api::PostParams;
use kubectl_capt::error::Error;
use kubectl_capt::k8s::{Op, api_error};
use kubectl_capt::model::{CaptControlPlane, CaptKind};
use serde_json::Value;

use crate::support::{TestEnv, capt_bin, env, fixture, shared_dir, upstream};

#[tokio::test]
async fn control_plane_round_trips_through_the_kubernetes_layer() {
    let env = env();
    let ns = env.namespace("foundation-cp");
    // Workspaces are cluster-scoped: the name carries the namespace to stay unique.
    env.apply_objects(&ns, &fixture("ready", &ns)).await;

    let api: Api<CaptControlPlane> = Api::namespaced(env.client().await, &ns);
    let cp = api.get(&ns).await.expect("get CAPTControlPlane through the project's model");
    assert_eq!(cp.metadata.name.as_deref(), Some(ns.as_str()));
    assert_eq!(cp.metadata.namespace.as_deref(), Some(ns.as_str()));
    assert_eq!(cp.spec.version, "1.31");
    assert_eq!(cp.spec.workspace_template_ref.name, format!("{ns}-eks-controlplane-template"));
    let config = cp.spec.control_plane_config.as_ref().expect("controlPlaneConfig");
    assert_eq!(config.region.as_deref(), Some("ap-northeast-1"));
    let endpoint = cp.spec.control_plane_endpoint.as_ref().expect("controlPlaneEndpoint");
    assert_eq!(endpoint.host, format!("{ns}.gr7.ap-northeast-1.eks.amazonaws.com"));
    let status = cp.status.as_ref().expect("status written through the status subresource");
    assert_eq!(status.secrets_ready, Some(true));
    assert_eq!(status.phase.as_deref(), Some("Ready"));
    let ready =
        kubectl_capt::model::find_condition(status.conditions.as_deref(), "Ready").expect("Ready condition");
    assert_eq!(ready.status, "True");
    assert_eq!(ready.message.as_deref(), Some("Control plane is ready"));
    let ws = status.workspace_status.as_ref().expect("workspaceStatus");
    assert_eq!(ws.state.as_deref(), Some("Available"));

    // The same object through the list path, as commands read it.
    let listed = api.list(&Default::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0], cp);
}

#[tokio::test]
async fn readonly_user_write_is_forbidden_and_classified() {
    let env = env();
    let ns = env.namespace("foundation-ro");
    let api: Api<CaptControlPlane> = Api::namespaced(env.readonly_client().await, &ns);
    // Reads are allowed...
    api.list(&Default::default()).await.expect("capt-viewer may list CAPTControlPlanes");
    // ...writes are not.
    let cp: CaptControlPlane = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "denied"},
        "spec": {"version": "1.31"}
    }))
    .expect("object");
    let err = api.create(&PostParams::default(), &cp).await.expect_err("capt-viewer must not create");
    let op = Op::on("create", &CaptControlPlane::INFO, Some(&ns), Some("denied"));
    match api_error(err, &op, &env.server, "capt-testenv-readonly") {
        Error::Forbidden { verb, resource, namespace } => {
            assert_eq!(verb, "create");
            assert_eq!(resource, "captcontrolplanes.controlplane.cluster.x-k8s.io");
            assert_eq!(namespace.as_deref(), Some(ns.as_str()));
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

/// A kubeconfig like the admin one, pointing at a loopback port nothing listens on.
fn dead_kubeconfig(env: &TestEnv) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let dead = format!("https://127.0.0.1:{port}");
    let text = std::fs::read_to_string(&env.kubeconfig).expect("admin kubeconfig");
    assert!(text.contains(&env.server), "the admin kubeconfig names {}", env.server);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, text.replace(&env.server, &dead)).expect("write kubeconfig");
    (dir, path, dead)
}

#[test]
fn unreachable_server_is_one_line_and_exit_1() {
    let env = env();
    let (_dir, kubeconfig, dead) = dead_kubeconfig(env);
    let started = Instant::now();
    let out =
        env.capt().arg("--kubeconfig").arg(&kubeconfig).arg("version").output().expect("run kubectl-capt");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr:\n{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Like kubectl version: the client version still goes to stdout.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("Client Version: {}\n", env!("CARGO_PKG_VERSION"))
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with(&format!("kubectl-capt: cannot reach the API server at {dead}")),
        "first line: {stderr}"
    );
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "one line (+ hint): {stderr}"
    );

    // --client does not contact the server.
    let out =
        env.capt().arg("--kubeconfig").arg(&kubeconfig).args(["version", "--client"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn version_reports_the_test_servers_version() {
    let out = env().capt().args(["version", "-o", "json"]).output().expect("run kubectl-capt");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["clientVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["serverVersion"], "v1.36.3");
}

#[tokio::test]
async fn missing_crd_is_named() {
    // A second environment without the project's CRDs: a cluster where CAPT is not installed.
    let bare = TestEnv::start(&["--no-crds"]);
    let api: Api<CaptControlPlane> = Api::namespaced(bare.client().await, "default");
    let err = api.list(&Default::default()).await.expect_err("no CRD, no list");
    let op = Op::on("list", &CaptControlPlane::INFO, Some("default"), None);
    let e = api_error(err, &op, &bare.server, "capt-testenv");
    match &e {
        Error::CrdMissing { crd } => assert_eq!(crd, "captcontrolplanes.controlplane.cluster.x-k8s.io"),
        other => panic!("expected CrdMissing, got {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "the CRD captcontrolplanes.controlplane.cluster.x-k8s.io is not installed on this cluster"
    );

    // The CLI says the same in one line (+ hint) and exits 1.
    for args in [&["status", "-A"][..], &["status", "-n", "default", "demo"][..]] {
        let out = bare.capt().args(args).output().expect("run kubectl-capt");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert_eq!(
            stderr.lines().next(),
            Some(
                "kubectl-capt: the CRD captcontrolplanes.controlplane.cluster.x-k8s.io is not installed on this cluster"
            ),
            "{args:?}"
        );
    }
}

#[tokio::test]
async fn readonly_cli_write_is_refused_naming_verb_and_resource() {
    let env = env();
    let ns = env.namespace("foundation-ro-cli");
    env.apply_objects(&ns, &fixture("ready", &ns)).await;
    let rv = || {
        env.kubectl_ok(&[
            "get",
            "captcontrolplanes",
            &ns,
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
    };
    let before = rv();
    // Reading is allowed to capt-viewer...
    let out = env.capt_readonly().args(["status", "-n", &ns, &ns]).output().expect("run kubectl-capt");
    assert_eq!(out.status.code(), Some(0), "status as capt-viewer: {}", String::from_utf8_lossy(&out.stderr));
    // ...a write is not: --nudge patches the CAPTControlPlane.
    let out = env
        .capt_readonly()
        .args(["reconcile", "-n", &ns, &ns, "--nudge", "--timeout", "5s"])
        .output()
        .expect("run kubectl-capt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().next(),
        Some(
            format!(
                "kubectl-capt: forbidden (403): cannot patch captcontrolplanes.controlplane.cluster.x-k8s.io in namespace {ns:?}"
            )
            .as_str()
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: ask for RBAC: kubectl auth can-i patch"), "{stderr}");
    assert_eq!(rv(), before, "nothing was written");
}

#[test]
fn help_works_through_real_kubectl() {
    let env = env();
    let bin_dir = capt_bin().parent().expect("binary dir").to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let kubectl = |args: &[&str]| {
        Command::new(&env.kubectl)
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", &env.kubeconfig)
            .env("NO_COLOR", "1")
            .output()
            .expect("run kubectl")
    };
    let out = kubectl(&["capt", "--help"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "kubectl capt --help: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Usage: kubectl capt"), "{stdout}");
    for sub in ["status", "reconcile", "watch", "analyze", "completion", "version"] {
        assert!(stdout.contains(sub), "--help lists {sub}: {stdout}");
    }
    // The plugin gets kubectl's environment and reaches the same server.
    let out = kubectl(&["capt", "version"]);
    assert!(out.status.success(), "kubectl capt version: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Server Version: v1.36.3"));
}

/// Objects of every modelled upstream kind with every spec and status field the upstream CRD
/// defines, plus the upstream samples (spec) with a full upstream-shaped status.
fn round_trip_objects(shared: &std::path::Path, suffix: &str) -> Vec<(Value, String)> {
    let crds = upstream::served_crds(shared);
    let modelled = |c: &upstream::UpstreamCrd| {
        kubectl_capt::model::ALL_KINDS.iter().any(|k| k.group == c.group() && k.kind == c.kind())
    };
    let mut out = Vec::new();
    for c in crds.iter().filter(|c| modelled(c)) {
        // Workspaces are cluster-scoped: names unique per run.
        let name = format!("full-{}-{suffix}", c.kind().to_ascii_lowercase());
        out.push((c.full_object(&name), format!("{}.{}", c.plural(), c.group())));
    }
    for (_, docs) in upstream::samples(shared) {
        for mut doc in docs {
            let crd = crds
                .iter()
                .find(|c| c.kind() == doc["kind"] && c.api_version() == doc["apiVersion"])
                .unwrap_or_else(|| panic!("no upstream CRD for sample {doc}"));
            if let Some(status) = crd.full_object("x").get("status") {
                doc["status"] = status.clone();
            }
            out.push((doc, format!("{}.{}", crd.plural(), crd.group())));
        }
    }
    out
}

/// Applies the objects and asserts every field comes back unchanged.
async fn assert_round_trip(env: &TestEnv, ns: &str, objects: &[(Value, String)], server: &str) {
    let yaml: String =
        objects.iter().map(|(o, _)| format!("---\n{}", serde_yaml_ng::to_string(o).expect("yaml"))).collect();
    env.apply_objects(ns, &yaml).await;
    for (sent, resource) in objects {
        let name = sent["metadata"]["name"].as_str().expect("name");
        let got: Value =
            serde_json::from_str(&env.kubectl_ok(&["get", resource, name, "-n", ns, "-o", "json"]))
                .expect("kubectl get -o json");
        for field in ["spec", "status"] {
            assert_eq!(
                got.get(field),
                sent.get(field),
                "{server}: {resource} {name}: {field} changed\nsent: {}\ngot:  {}",
                serde_json::to_string(&sent.get(field)).unwrap_or_default(),
                serde_json::to_string(&got.get(field)).unwrap_or_default()
            );
        }
        for field in ["labels", "annotations"] {
            assert_eq!(
                got["metadata"].get(field),
                sent["metadata"].get(field),
                "{server}: {resource} {name}: {field}"
            );
        }
    }
}

#[tokio::test]
async fn upstream_objects_round_trip_unchanged() {
    let Some(shared) = shared_dir("foundation::upstream_objects_round_trip_unchanged") else { return };
    let env = env();
    let ns = env.namespace("round-trip");
    let objects = round_trip_objects(&shared, &ns);
    assert!(
        objects
            .iter()
            .any(|(o, _)| o["kind"] == "Workspace" && o["status"]["atProvider"]["outputs"].is_object())
    );

    // The objects are valid for the upstream CRDs (real/ for Cluster and Workspace) and an API
    // server serving those keeps every field...
    let upstream_env = TestEnv::start(&["--no-crds"]);
    for crd in upstream::served_crds(&shared) {
        upstream_env.kubectl_ok(&["apply", "--server-side", "-f", &crd.path.to_string_lossy()]);
    }
    upstream_env.kubectl_ok(&["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);
    let up_ns = upstream_env.namespace("round-trip");
    assert_round_trip(&upstream_env, &up_ns, &objects, "upstream CRDs").await;

    // ...and so does the project's own CRDs.
    assert_round_trip(env, &ns, &objects, "project CRDs").await;
}

/// The admin kubeconfig with `edit` applied to its only cluster and user entries, written to `dir`.
pub(crate) fn kubeconfig_variant(
    env: &TestEnv,
    dir: &std::path::Path,
    name: &str,
    edit: &dyn Fn(&mut Value, &mut Value),
) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&env.kubeconfig).expect("admin kubeconfig");
    let mut doc: Value = serde_yaml_ng::from_str(&text).expect("kubeconfig YAML");
    let mut cluster = doc["clusters"][0]["cluster"].take();
    let mut user = doc["users"][0]["user"].take();
    edit(&mut cluster, &mut user);
    doc["clusters"][0]["cluster"] = cluster;
    doc["users"][0]["user"] = user;
    let path = dir.join(name);
    std::fs::write(&path, serde_yaml_ng::to_string(&doc).expect("YAML")).expect("write kubeconfig");
    path
}

pub(crate) fn decoded(user: &Value, field: &str) -> String {
    use base64::Engine as _;
    let data = user[field].as_str().unwrap_or_else(|| panic!("admin kubeconfig has no {field}"));
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(data).expect("base64")).expect("PEM")
}

/// The TLS and auth settings of a kubeconfig that the HTTPS client (src/k8s/transport.rs, not
/// kube's TLS feature) must honour, each against the real API server: `version` reaches it or
/// fails with a TLS error.
#[test]
fn kubeconfig_tls_settings_and_exec_client_certificates_are_honoured() {
    let env = env();
    let dir = tempfile::tempdir().expect("tempdir");
    let server_version = |kubeconfig: &std::path::Path| {
        let out = env
            .capt()
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["version", "-o", "json"])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), v["serverVersion"].as_str().map(str::to_string), stderr)
    };
    let reaches = |name: &str, kubeconfig: &std::path::Path| {
        let (code, version, stderr) = server_version(kubeconfig);
        assert_eq!((code, version.as_deref()), (Some(0), Some("v1.36.3")), "{name}: {stderr}");
    };
    let refused = |name: &str, kubeconfig: &std::path::Path, needle: &str| {
        let (code, version, stderr) = server_version(kubeconfig);
        assert_eq!((code, version), (Some(1), None), "{name} reached the server: {stderr}");
        assert!(stderr.to_lowercase().contains(needle), "{name}: no '{needle}' in: {stderr}");
    };

    // An exec plugin answering with a client certificate and key instead of a token.
    let admin: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&env.kubeconfig).unwrap()).unwrap();
    let admin_user = &admin["users"][0]["user"];
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {
            "clientCertificateData": decoded(admin_user, "client-certificate-data"),
            "clientKeyData": decoded(admin_user, "client-key-data"),
        },
    });
    let credential_file = dir.path().join("credential.json");
    std::fs::write(&credential_file, credential.to_string()).unwrap();
    let exec = kubeconfig_variant(env, dir.path(), "exec", &|_, user| {
        *user = serde_yaml_ng::from_str(&format!(
            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: cat\n  args: ['{}']\n  interactiveMode: Never\n",
            credential_file.display()
        ))
        .unwrap();
    });
    reaches("exec client certificate", &exec);
    // The same plugin with nothing usable in its answer: the API server sees no user.
    std::fs::write(
        &credential_file,
        r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}"#,
    )
    .unwrap();
    let (code, _, stderr) = server_version(&exec);
    assert_eq!(code, Some(1), "empty ExecCredential accepted: {stderr}");

    // insecure-skip-tls-verify without a CA reaches the server; without either, the bundled
    // public roots do not trust the test environment's own CA.
    let insecure = kubeconfig_variant(env, dir.path(), "insecure", &|cluster, _| {
        cluster.as_object_mut().unwrap().remove("certificate-authority-data");
        cluster["insecure-skip-tls-verify"] = Value::Bool(true);
    });
    reaches("insecure-skip-tls-verify", &insecure);
    let no_ca = kubeconfig_variant(env, dir.path(), "no-ca", &|cluster, _| {
        cluster.as_object_mut().unwrap().remove("certificate-authority-data");
    });
    refused("no CA", &no_ca, "certificate");

    // tls-server-name: verified against that name instead of the URL's host.
    let named = kubeconfig_variant(env, dir.path(), "named", &|cluster, _| {
        cluster["tls-server-name"] = Value::from("localhost");
    });
    reaches("tls-server-name localhost", &named);
    let misnamed = kubeconfig_variant(env, dir.path(), "misnamed", &|cluster, _| {
        cluster["tls-server-name"] = Value::from("not-the-server.example");
    });
    refused("tls-server-name not-the-server.example", &misnamed, "certificate");

    // A client certificate without its key is a configuration error, and says so.
    let keyless = kubeconfig_variant(env, dir.path(), "keyless", &|_, user| {
        user.as_object_mut().unwrap().remove("client-key-data");
    });
    let (code, _, stderr) = server_version(&keyless);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("client certificate but no client key"), "{stderr}");
}
