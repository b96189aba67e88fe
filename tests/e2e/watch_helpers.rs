//! Helpers for the watch e2e tests (shared with tests/e2e_restart.rs): run the legacy loop
//! generator and `kubectl-capt watch` as real processes and read what they print.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::TestEnv;

pub use crate::support::legacy_loop_bin;

/// The generator as a child process.
pub fn generator(env: &TestEnv, namespace: &str, name: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(legacy_loop_bin());
    cmd.args(["--kubeconfig"]).arg(&env.kubeconfig).args(["-n", namespace, "--name", name]).args(extra);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

/// Runs the generator to the end; returns how many writes it made.
pub fn run_generator(env: &TestEnv, namespace: &str, name: &str, extra: &[&str]) -> u64 {
    let out = generator(env, namespace, name, extra).output().expect("run legacy_loop");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "legacy_loop failed: {err}");
    writes_of(&err)
}

/// "legacy_loop: 430 passes, 860 writes (…)" → 860.
pub fn writes_of(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("legacy_loop:"))
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    line.split(", ")
        .nth(1)
        .and_then(|w| w.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

/// A running `kubectl-capt watch`.
pub struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    stdout: std::thread::JoinHandle<String>,
}

/// What a finished watch printed.
pub struct Finished {
    pub code: Option<i32>,
    pub findings: Vec<Value>,
    pub summary: Value,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn finding(&self, kind: &str, name: &str) -> &Value {
        self.findings.iter().find(|f| f["kind"] == kind && f["name"] == name).unwrap_or_else(|| {
            panic!("no finding for {kind} {name} in:\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

pub fn start(mut cmd: Command) -> Running {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kubectl-capt watch");
    let mut out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    let stderr = Arc::new(Mutex::new(String::new()));
    let sink = stderr.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    Running { child, stderr, stdout }
}

impl Running {
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.stderr().contains(needle) {
            assert!(start.elapsed() < timeout, "watch never printed {needle:?}; stderr:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `needle` has been printed `n` times (a source that reconnects prints its state again).
    pub fn wait_for_nth(&self, needle: &str, n: usize, timeout: Duration) {
        let start = Instant::now();
        while self.stderr().matches(needle).count() < n {
            assert!(
                start.elapsed() < timeout,
                "watch printed {needle:?} fewer than {n} times; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the end; stdout is left as text.
    pub fn finish_raw(mut self) -> Finished {
        let status = self.child.wait().expect("wait for watch");
        let stdout = self.stdout.join().expect("stdout reader");
        std::thread::sleep(Duration::from_millis(50));
        let stderr = self.stderr.lock().unwrap().clone();
        Finished { code: status.code(), findings: Vec::new(), summary: Value::Null, stdout, stderr }
    }

    /// Waits for the end and reads stdout as NDJSON findings and a summary line.
    pub fn finish(self) -> Finished {
        let Finished { code, stdout, stderr, .. } = self.finish_raw();
        let mut findings = Vec::new();
        let mut summary = Value::Null;
        for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not NDJSON ({e}): {line}"));
            if let Some(s) = v.get("summary") {
                summary = s.clone();
            } else {
                findings.push(v);
            }
        }
        Finished { code, findings, summary, stdout, stderr }
    }
}

/// RFC 3339 text → milliseconds.
pub fn millis(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).timestamp_millis()
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A calm CAPTControlPlane (created, never touched again).
pub fn calm_yaml(name: &str) -> String {
    format!(
        "apiVersion: controlplane.cluster.x-k8s.io/v1beta1\nkind: CAPTControlPlane\nmetadata:\n  name: {name}\nspec:\n  version: \"1.31\"\n  workspaceTemplateRef:\n    name: t\nstatus:\n  phase: Ready\n  ready: true\n"
    )
}
