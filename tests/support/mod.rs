//! Test environment: a real etcd + kube-apiserver started by `scripts/testenv`, one per test
//! binary, each test in its own namespace.
//!
//! Teardown does not depend on Rust destructors (statics are never dropped, and a killed test
//! binary runs none): `scripts/testenv up --owner-pid <this pid>` leaves a watchdog that stops
//! etcd and kube-apiserver and deletes the state dir when this process exits, however it exits.
#![allow(dead_code)]

pub mod upstream;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use kube::api::{Api, DynamicObject, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use serde::Deserialize;
use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `kubectl-capt` binary under test.
pub fn capt_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-capt"))
}

/// `../shared` beside the repository (CI has it; `CAPT_SHARED_DIR` overrides, e.g. in a git
/// worktree), or `None` after printing that the caller skipped. Tests return early on `None`.
/// Under `CI=true` a missing `../shared` is a failure, never a skip: a test that returned early
/// there would pass without asserting anything.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir =
        std::env::var_os("CAPT_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared"));
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(
        !ci,
        "{test} needs ../shared ({}), which is missing; under CI=true that fails instead of skipping \
         (put the shared checkout beside the repository or set CAPT_SHARED_DIR)",
        dir.display()
    );
    eprintln!("skipped: ../shared not found ({test} needs {}; set CAPT_SHARED_DIR)", dir.display());
    println!("skipped: ../shared not found ({test})");
    None
}

/// Loads `tests/fixtures/states/<state>.yaml` with `${NAME}` replaced by `name`.
pub fn fixture(state: &str, name: &str) -> String {
    let path = repo().join("tests/fixtures/states").join(format!("{state}.yaml"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    text.replace("${NAME}", name)
}

/// The one environment of this test binary, started on first use.
pub fn env() -> &'static TestEnv {
    static ENV: OnceLock<TestEnv> = OnceLock::new();
    ENV.get_or_init(|| TestEnv::start_shared(&[]))
}

/// The environment of a test binary that runs on the upstream CRDs (`scripts/testenv up --crds
/// upstream`), started on first use; `None` (after saying the test skipped) without `../shared`.
pub fn upstream_env(test: &str) -> Option<&'static TestEnv> {
    static ENV: OnceLock<TestEnv> = OnceLock::new();
    shared_dir(test)?;
    Some(ENV.get_or_init(|| TestEnv::start_shared(&["--crds", "upstream"])))
}

/// A running etcd + kube-apiserver.
pub struct TestEnv {
    /// Admin (system:masters) kubeconfig.
    pub kubeconfig: PathBuf,
    /// User `capt-viewer`: get/list/watch on the CAPT API groups, nothing else.
    pub readonly_kubeconfig: PathBuf,
    /// The kubectl built with the environment.
    pub kubectl: PathBuf,
    /// kube-apiserver audit log: Metadata level, except writes to CAPTControlPlanes, Clusters and
    /// WorkspaceTemplateApplies (RequestResponse, so tests can read the bodies sent); Secrets never
    /// have bodies recorded.
    pub audit_log: PathBuf,
    /// `https://127.0.0.1:<port>`.
    pub server: String,
    pub state_dir: PathBuf,
    /// Stopped on drop (environments from [`TestEnv::start`]; the shared one is never dropped and
    /// is stopped by its watchdog instead).
    owned: bool,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{}-{:x}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed), nanos & 0xffff)
}

impl TestEnv {
    /// Starts a private environment (extra `scripts/testenv up` flags, e.g. `--no-crds`), stopped
    /// when the value is dropped, or at the latest when this process exits.
    pub fn start(extra_args: &[&str]) -> TestEnv {
        Self::start_with_env(extra_args, &[])
    }

    /// [`TestEnv::start`] with environment variables for `scripts/testenv` (e.g.
    /// `CAPT_TESTENV_APISERVER_ARGS=--disable-http2-serving`).
    pub fn start_with_env(extra_args: &[&str], vars: &[(&str, &str)]) -> TestEnv {
        let mut env = Self::start_env(extra_args, vars);
        env.owned = true;
        env
    }

    fn start_shared(extra_args: &[&str]) -> TestEnv {
        Self::start_env(extra_args, &[])
    }

    fn start_env(extra_args: &[&str], vars: &[(&str, &str)]) -> TestEnv {
        let state_dir = std::env::temp_dir().join(unique("kubectl-capt-e2e"));
        let pid = std::process::id().to_string();
        let state = state_dir.to_string_lossy().into_owned();
        let mut args = vec!["up", "--state-dir", state.as_str(), "--owner-pid", pid.as_str()];
        args.extend_from_slice(extra_args);
        let out = Command::new(repo().join("scripts/testenv"))
            .args(&args)
            .env("CAPT_BIN", capt_bin())
            .envs(vars.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/testenv: {e}"));
        if !out.status.success() {
            panic!(
                "the test environment did not start (scripts/testenv {}: {}):\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let exports = parse_exports(&String::from_utf8_lossy(&out.stdout));
        let get = |k: &str| {
            exports.get(k).cloned().unwrap_or_else(|| {
                panic!(
                    "scripts/testenv up printed no {k}; stdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            })
        };
        TestEnv {
            kubeconfig: get("KUBECONFIG").into(),
            readonly_kubeconfig: get("KUBECONFIG_READONLY").into(),
            kubectl: get("KUBECTL").into(),
            audit_log: get("CAPT_TESTENV_AUDIT_LOG").into(),
            server: get("CAPT_TESTENV_SERVER"),
            state_dir: get("CAPT_TESTENV_STATE_DIR").into(),
            owned: false,
        }
    }

    /// Creates a fresh namespace `<prefix>-<pid>-<n>-<hex>` and returns its name.
    pub fn namespace(&self, prefix: &str) -> String {
        let clean: String = prefix
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(32)
            .collect();
        let clean = clean.trim_matches('-');
        let name = unique(if clean.is_empty() { "t" } else { clean });
        self.kubectl_ok(&["create", "namespace", &name]);
        name
    }

    /// Runs kubectl with the admin kubeconfig.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.kubectl);
        scrub(&mut cmd);
        cmd.env("KUBECONFIG", &self.kubeconfig).args(args);
        cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.kubectl.display()))
    }

    /// Runs kubectl with the admin kubeconfig; panics with its stderr on failure.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        if !out.status.success() {
            panic!(
                "kubectl {} failed ({}):\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The `kubectl-capt` binary as the admin user, with a clean environment and NO_COLOR=1.
    pub fn capt(&self) -> Command {
        capt_with(&self.kubeconfig)
    }

    /// The `kubectl-capt` binary as the read-only user `capt-viewer`.
    pub fn capt_readonly(&self) -> Command {
        capt_with(&self.readonly_kubeconfig)
    }

    /// A client for the admin user.
    pub async fn client(&self) -> kube::Client {
        client_for(&self.kubeconfig).await
    }

    /// A client for the read-only user `capt-viewer`.
    pub async fn readonly_client(&self) -> kube::Client {
        client_for(&self.readonly_kubeconfig).await
    }

    /// Restarts kube-apiserver only (same port, etcd data kept). Every test of this binary shares
    /// [`env()`]: fault tests should use their own [`TestEnv::start`].
    pub fn restart_apiserver(&self) {
        let out = Command::new(repo().join("scripts/testenv"))
            .args(["restart-apiserver", "--state-dir"])
            .arg(&self.state_dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/testenv: {e}"));
        if !out.status.success() {
            panic!("scripts/testenv restart-apiserver failed:\n{}", String::from_utf8_lossy(&out.stderr));
        }
    }

    /// Creates or replaces every object of a multi-document YAML. Namespaced kinds go into
    /// `namespace`; cluster-scoped kinds keep no namespace. A document with `status` then gets
    /// that status written through the status subresource when the kind has one (a create or
    /// update of the main resource ignores it). `${NAMESPACE}` in the text becomes `namespace`
    /// (fixtures use it in references such as `writeConnectionSecretToRef.namespace`).
    pub async fn apply_objects(&self, namespace: &str, yaml: &str) {
        let yaml = &yaml.replace("${NAMESPACE}", namespace);
        let client = self.client().await;
        let mut kinds: HashMap<(String, String), (ApiResource, ApiCapabilities)> = HashMap::new();
        for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
            let obj = Value::deserialize(doc).unwrap_or_else(|e| panic!("apply_objects: invalid YAML: {e}"));
            if obj.is_null() {
                continue;
            }
            let api_version = obj["apiVersion"].as_str().unwrap_or_else(|| panic!("no apiVersion in {obj}"));
            let kind = obj["kind"].as_str().unwrap_or_else(|| panic!("no kind in {obj}"));
            let key = (api_version.to_string(), kind.to_string());
            if !kinds.contains_key(&key) {
                let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
                let gvk = GroupVersionKind::gvk(group, version, kind);
                let found = kube::discovery::pinned_kind(&client, &gvk)
                    .await
                    .unwrap_or_else(|e| panic!("apply_objects: discovery of {api_version} {kind}: {e}"));
                kinds.insert(key.clone(), found);
            }
            let (resource, caps) = &kinds[&key];
            apply_one(&client, resource, caps, namespace, obj).await;
        }
    }
}

async fn apply_one(
    client: &kube::Client,
    ar: &ApiResource,
    caps: &ApiCapabilities,
    namespace: &str,
    mut obj: Value,
) {
    let namespaced = caps.scope == Scope::Namespaced;
    let meta = obj
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("apply_objects: {} without metadata", ar.kind));
    for server_owned in ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"] {
        meta.remove(server_owned);
    }
    if namespaced {
        meta.insert("namespace".into(), Value::String(namespace.into()));
    } else {
        meta.remove("namespace");
    }
    let name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("apply_objects: {} without metadata.name", ar.kind))
        .to_string();
    let has_status_subresource = caps.subresources.iter().any(|(r, _)| r.plural == "status");
    // With the subresource, create and update ignore `status`; without it, it goes in as is.
    let status =
        if has_status_subresource { obj.as_object_mut().and_then(|o| o.remove("status")) } else { None };
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client.clone(), namespace, ar)
    } else {
        Api::all_with(client.clone(), ar)
    };
    let what = format!("{} {name}", ar.kind);
    let body: DynamicObject =
        serde_json::from_value(obj).unwrap_or_else(|e| panic!("apply_objects: {what}: {e}"));
    let pp = PostParams::default();
    let stored = match api.create(&pp, &body).await {
        Ok(o) => o,
        Err(kube::Error::Api(s)) if s.code == 409 => api
            .replace(&name, &pp, &body)
            .await
            .unwrap_or_else(|e| panic!("apply_objects: replace {what}: {e}")),
        Err(e) => panic!("apply_objects: create {what}: {e}"),
    };
    let Some(status) = status else { return };
    let mut with_status = stored;
    with_status.data["status"] = status;
    api.replace_status(&name, &pp, &with_status)
        .await
        .unwrap_or_else(|e| panic!("apply_objects: write status of {what}: {e}"));
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if self.owned {
            let _ = Command::new(repo().join("scripts/testenv"))
                .args(["down", "--state-dir"])
                .arg(&self.state_dir)
                .output();
        }
    }
}

/// Removes what would make output depend on the developer's shell.
fn scrub(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if matches!(k.as_ref(), "KUBECONFIG" | "NO_COLOR" | "TERM" | "COLUMNS") || k.starts_with("CLICOLOR") {
            cmd.env_remove(&key);
        }
    }
}

fn capt_with(kubeconfig: &Path) -> Command {
    let mut cmd = Command::new(capt_bin());
    scrub(&mut cmd);
    cmd.env("KUBECONFIG", kubeconfig).env("NO_COLOR", "1");
    cmd
}

async fn client_for(kubeconfig: &Path) -> kube::Client {
    let kc = Kubeconfig::read_from(kubeconfig)
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {}: {e}", kubeconfig.display()));
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("kubeconfig {}: {e}", kubeconfig.display()));
    kubectl_capt::k8s::transport::client(&config)
        .unwrap_or_else(|e| panic!("client for {}: {e}", kubeconfig.display()))
}

/// `export KEY='value'` lines into a map.
fn parse_exports(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// `target/<profile>/examples/legacy_loop`, the upstream hot-loop generator
/// (examples/legacy_loop.rs). `cargo test` does not put example binaries there, so it is built
/// on demand, once per test binary (`make test` builds it beforehand).
pub fn legacy_loop_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test binary path");
            let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
            let bin =
                profile_dir.join("examples").join(format!("legacy_loop{}", std::env::consts::EXE_SUFFIX));
            if !bin.exists() {
                let status = Command::new(env!("CARGO"))
                    .args(["build", "--quiet", "--example", "legacy_loop"])
                    .current_dir(env!("CARGO_MANIFEST_DIR"))
                    .status()
                    .expect("cannot run cargo to build examples/legacy_loop.rs");
                assert!(status.success(), "cargo build --example legacy_loop failed");
            }
            bin
        })
        .clone()
}
