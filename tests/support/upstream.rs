//! The upstream CRDs and samples in `../shared/capt-crds`, and objects filled from an upstream
//! schema: every property the schema defines, with values of the declared type (and of every
//! JSON type where the schema keeps unknown fields), valid for the upstream CRD.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Upstream CRDs the project does not model: CAPT's machine kinds, which the CAPTControlPlane
/// controller never reads. A new upstream kind fails the tests until it is listed or modelled.
pub const NOT_MODELLED: &[&str] =
    &["CaptMachine", "CaptMachineSet", "CaptMachineDeployment", "CaptMachineTemplate"];

/// Top-level stub CRDs that `real/` replaces (the Workspace stub is even namespaced).
pub const STUBS: &[&str] = &["cluster.x-k8s.io_clusters.yaml", "tf.upbound.io_workspaces.yaml"];

/// One upstream CRD file.
pub struct UpstreamCrd {
    pub path: PathBuf,
    pub crd: Value,
    /// Replaced by a file in `real/`.
    pub stub: bool,
}

impl UpstreamCrd {
    pub fn group(&self) -> &str {
        self.crd["spec"]["group"].as_str().unwrap_or_default()
    }
    pub fn kind(&self) -> &str {
        self.crd["spec"]["names"]["kind"].as_str().unwrap_or_default()
    }
    pub fn plural(&self) -> &str {
        self.crd["spec"]["names"]["plural"].as_str().unwrap_or_default()
    }
    pub fn scope(&self) -> &str {
        self.crd["spec"]["scope"].as_str().unwrap_or_default()
    }
    /// The storage version entry.
    pub fn storage_version(&self) -> &Value {
        let versions = self.crd["spec"]["versions"].as_array().expect("spec.versions");
        versions
            .iter()
            .find(|v| v["storage"] == json!(true) && v["served"] == json!(true))
            .unwrap_or_else(|| panic!("{}: no served storage version", self.path.display()))
    }
    pub fn schema(&self) -> &Value {
        &self.storage_version()["schema"]["openAPIV3Schema"]
    }
    pub fn has_status_subresource(&self) -> bool {
        self.storage_version()["subresources"].get("status").is_some()
    }
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group(), self.storage_version()["name"].as_str().unwrap_or_default())
    }

    /// A complete object of this kind: every spec and status property of the upstream schema.
    pub fn full_object(&self, name: &str) -> Value {
        let schema = self.schema();
        let mut obj = json!({
            "apiVersion": self.api_version(),
            "kind": self.kind(),
            "metadata": {
                "name": name,
                "labels": {"app.kubernetes.io/name": "capt-round-trip"},
                "annotations": {"example.com/note": "kept as is"},
            },
        });
        for part in ["spec", "status"] {
            if let Some(s) = schema["properties"].get(part) {
                obj[part] = fill(s, part);
            }
        }
        obj
    }
}

/// Every CRD file in `<shared>/capt-crds` and `<shared>/capt-crds/real`.
pub fn crds(shared: &Path) -> Vec<UpstreamCrd> {
    let root = shared.join("capt-crds");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("real")] {
        for path in yaml_files(&dir) {
            let stub = dir == root && STUBS.iter().any(|s| path.ends_with(s));
            for doc in documents(&path) {
                if doc["kind"] == "CustomResourceDefinition" {
                    out.push(UpstreamCrd { path: path.clone(), crd: doc, stub });
                }
            }
        }
    }
    assert!(!out.is_empty(), "no CRDs found under {}", root.display());
    out
}

/// The CRDs a faithful test server would serve: real/ instead of the stubs.
pub fn served_crds(shared: &Path) -> Vec<UpstreamCrd> {
    crds(shared).into_iter().filter(|c| !c.stub).collect()
}

/// The sample manifests, per file. `clustertopology/` is left out: it is a ClusterClass
/// template whose `${...}` placeholders (some in boolean fields) are not valid values.
pub fn samples(shared: &Path) -> Vec<(PathBuf, Vec<Value>)> {
    let root = shared.join("capt-crds/samples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !p.ends_with("clustertopology"))
        .collect();
    dirs.sort();
    let out: Vec<_> = dirs.iter().flat_map(|d| yaml_files(d)).map(|p| (p.clone(), documents(&p))).collect();
    assert!(!out.is_empty(), "no samples found under {}", root.display());
    out
}

/// `*.yaml` files of a directory, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// The non-empty YAML documents of a file as JSON.
pub fn documents(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{}: invalid YAML: {e}", path.display())))
        .filter(|v| !v.is_null())
        .collect()
}

/// A value of every JSON type, for fields that keep unknown fields.
pub fn any_json() -> Value {
    json!({
        "string": "text",
        "object": {"nested": {"deeper": ["a", 1]}},
        "bool": true,
        "int": 42,
        "float": 1.5,
        "list": [1, "two", {"three": 3}, false],
    })
}

/// A value for `schema` that the upstream API server accepts and keeps unchanged.
pub fn fill(schema: &Value, field: &str) -> Value {
    let preserve = schema["x-kubernetes-preserve-unknown-fields"] == json!(true);
    if schema["x-kubernetes-int-or-string"] == json!(true) {
        return json!(1);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut out = Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (k, s) in props {
                    out.insert(k.clone(), fill(s, k));
                }
                if preserve {
                    out.insert("extraField".into(), any_json());
                }
            } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                if extra.get("type").is_none() && extra["x-kubernetes-preserve-unknown-fields"] == json!(true)
                {
                    // A map of arbitrary values (Terraform outputs): one entry of each JSON type.
                    return any_json();
                }
                out.insert("first".into(), fill(extra, field));
                out.insert("second".into(), fill(extra, field));
            } else if preserve || schema["additionalProperties"] == json!(true) {
                return any_json();
            }
            Value::Object(out)
        }
        Some("array") => json!([fill(&schema["items"], field)]),
        Some("string") => string_for(schema, field),
        Some("integer") => json!(3),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        None if preserve => any_json(),
        other => panic!("no value for schema type {other:?} of field {field}"),
    }
}

fn string_for(schema: &Value, field: &str) -> Value {
    if schema["format"] == "date-time" {
        return json!("2026-01-02T03:04:05Z");
    }
    match schema["pattern"].as_str() {
        None => json!(format!("{field}-value")),
        Some("^[a-z]{2}-[a-z]+-[0-9]$") => json!("ap-northeast-1"),
        Some("^\\[[0-9]+-[0-9]+\\]$") => json!("[1-5]"),
        // Condition type and reason patterns.
        Some(p) if p.starts_with("^[A-Za-z]") || p.starts_with("^([a-z0-9]([-a-z0-9]*") => json!("Ready"),
        Some(p) => panic!("no sample value for pattern {p:?} of field {field}: add one"),
    }
}

/// The upstream CAPT manager (`../shared/upstream-capt`, built by `scripts/testenv build`) as a
/// real process on a test environment: the CAPTControlPlane controller only, no leader
/// election, metrics and probes on free loopback ports, its log in a file
/// (`scripts/testenv start-manager`). Stopped on drop, and by the environment's watchdog if the
/// test binary dies.
pub struct Manager {
    state_dir: PathBuf,
    /// Its log (zap console lines on stderr).
    pub log: PathBuf,
    /// `http://127.0.0.1:<port>/metrics` (controller-runtime's, plain HTTP).
    pub metrics_url: String,
    pub pid: u32,
    /// When `start` returned, in Unix milliseconds.
    pub started_ms: i64,
    running: bool,
}

impl Manager {
    pub fn start(env: &super::TestEnv) -> Manager {
        let out = std::process::Command::new(super::repo().join("scripts/testenv"))
            .args(["start-manager", "--state-dir"])
            .arg(&env.state_dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/testenv: {e}"));
        assert!(
            out.status.success(),
            "scripts/testenv start-manager failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exports = super::parse_exports(&String::from_utf8_lossy(&out.stdout));
        let get = |k: &str| exports.get(k).cloned().unwrap_or_else(|| panic!("start-manager printed no {k}"));
        Manager {
            state_dir: env.state_dir.clone(),
            log: get("CAPT_MANAGER_LOG").into(),
            metrics_url: get("CAPT_MANAGER_METRICS_URL"),
            pid: get("CAPT_MANAGER_PID").parse().expect("pid"),
            started_ms: chrono::Utc::now().timestamp_millis(),
            running: true,
        }
    }

    /// Stops it (SIGTERM, then SIGKILL after 10 s) and waits until it is gone.
    pub fn stop(&mut self) {
        if !std::mem::replace(&mut self.running, false) {
            return;
        }
        let out = std::process::Command::new(super::repo().join("scripts/testenv"))
            .args(["stop-manager", "--state-dir"])
            .arg(&self.state_dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/testenv: {e}"));
        assert!(out.status.success(), "stop-manager failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its `Reconciling CAPTControlPlane` lines for `namespace/name` so far: one per pass.
    pub fn passes(&self, namespace: &str, name: &str) -> usize {
        self.log_text().lines().filter(|l| reconciles(l, namespace, name)).count()
    }

    /// Waits until the log shows at least `n` passes of `namespace/name`; returns the count.
    pub fn wait_for_passes(&self, namespace: &str, name: &str, n: usize, timeout: Duration) -> usize {
        let start = Instant::now();
        loop {
            let seen = self.passes(namespace, name);
            if seen >= n {
                return seen;
            }
            assert!(
                start.elapsed() < timeout,
                "{seen} of {n} passes of {namespace}/{name} after {timeout:?}; log tail:\n{}",
                tail(&self.log_text(), 20)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `controller_runtime_reconcile_total{controller="captcontrolplane"}`, all results, from
    /// its /metrics.
    pub fn reconcile_total(&self) -> f64 {
        let text = http_get(&self.metrics_url);
        text.lines()
            .filter(|l| {
                l.starts_with("controller_runtime_reconcile_total{")
                    && l.contains("controller=\"captcontrolplane\"")
            })
            .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
            .sum()
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        if self.running {
            self.running = false;
            let _ = std::process::Command::new(super::repo().join("scripts/testenv"))
                .args(["stop-manager", "--state-dir"])
                .arg(&self.state_dir)
                .output();
        }
    }
}

/// Whether a manager log line is the start of a pass of `namespace/name`: controller-runtime's
/// request keys in the trailing JSON object of a zap console line.
fn reconciles(line: &str, namespace: &str, name: &str) -> bool {
    if !line.contains("\tReconciling CAPTControlPlane\t") {
        return false;
    }
    let Some(fields) = line.rsplit('\t').next().and_then(|j| serde_json::from_str::<Value>(j).ok()) else {
        return false;
    };
    let obj = &fields["CAPTControlPlane"];
    obj["namespace"] == namespace && obj["name"] == name
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A plain-HTTP GET of a loopback URL (the manager's metrics), body as text.
pub fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap_or_else(|| panic!("not an http:// URL: {url}"));
    let (authority, path) =
        rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(authority)
        .unwrap_or_else(|e| panic!("cannot connect to {authority}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP body from {url}"));
    assert!(head.starts_with("HTTP/1.") && head.contains(" 200 "), "{url}: {head}");
    body.to_string()
}
