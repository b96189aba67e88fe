//! e2e: `kubectl capt <TAB>` through the real kubectl of the test environment. kubectl (1.26+)
//! finds `kubectl_complete-capt` on PATH and runs it with the words after `kubectl capt`; ours
//! runs `kubectl-capt __complete`, which lists CAPTControlPlanes from the real API server.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{capt_bin, env, repo};

const CONTROL_PLANE: &str = r#"
apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: CAPTControlPlane
metadata:
  name: ${NAME}
spec:
  version: "1.31"
  workspaceTemplateRef:
    name: ${NAME}-eks-controlplane-template
"#;

/// A directory holding only `kubectl-capt` and `kubectl_complete-capt`, as an install leaves them.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(capt_bin(), dir.path().join("kubectl-capt")).expect("symlink plugin");
    std::fs::copy(repo().join("completions/kubectl_complete-capt"), dir.path().join("kubectl_complete-capt"))
        .expect("copy kubectl_complete-capt");
    dir
}

/// `kubectl __complete capt WORDS...` (what the shell runs on <TAB>): the candidates (values
/// without descriptions) and the directive line.
fn kubectl_complete(dir: &Path, kubeconfig: &Path, words: &[&str]) -> (Vec<String>, String) {
    let out = Command::new(&env().kubectl)
        .args(["__complete", "capt"])
        .args(words)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
        .env("HOME", dir)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run kubectl __complete");
    assert!(out.status.success(), "kubectl __complete failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines: Vec<String> =
        stdout.lines().map(|l| l.split('\t').next().unwrap_or_default().to_string()).collect();
    let directive = lines.pop().unwrap_or_default();
    (lines, directive)
}

#[test]
fn kubectl_completes_capt_subcommands_through_kubectl_complete_capt() {
    let dir = plugin_dir();
    let (words, directive) = kubectl_complete(dir.path(), &env().kubeconfig, &[""]);
    assert_eq!(directive, ":4", "candidates: {words:?}");
    for sub in ["analyze", "completion", "reconcile", "status", "version", "watch"] {
        assert!(words.iter().any(|w| w == sub), "{sub} not offered: {words:?}");
    }
    assert!(!words.iter().any(|w| w == "__complete" || w == "crds"), "hidden commands offered: {words:?}");

    let (words, _) = kubectl_complete(dir.path(), &env().kubeconfig, &["st"]);
    assert_eq!(words, ["status"]);

    // Without the completion executable, kubectl has nothing to offer past the plugin name.
    let bare = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(capt_bin(), bare.path().join("kubectl-capt")).expect("symlink");
    let (words, _) = kubectl_complete(bare.path(), &env().kubeconfig, &["st"]);
    assert!(words.is_empty(), "completions without kubectl_complete-capt: {words:?}");
}

#[tokio::test]
async fn kubectl_completes_control_plane_names_in_the_namespace_given() {
    let env = env();
    let ns = env.namespace("completion");
    let other = env.namespace("completion-other");
    for name in ["alpha", "alpine", "beta"] {
        env.apply_objects(&ns, &CONTROL_PLANE.replace("${NAME}", name)).await;
    }
    env.apply_objects(&other, &CONTROL_PLANE.replace("${NAME}", "elsewhere")).await;
    let dir = plugin_dir();
    let kc = &env.kubeconfig;

    // kubectl hands the plugin's flags over as words, wherever they stand.
    let (words, directive) = kubectl_complete(dir.path(), kc, &["status", "-n", &ns, ""]);
    assert_eq!(words, ["alpha", "alpine", "beta"]);
    assert_eq!(directive, ":4");
    let (words, _) = kubectl_complete(dir.path(), kc, &["-n", &ns, "reconcile", "alp"]);
    assert_eq!(words, ["alpha", "alpine"]);
    let ns_flag = format!("--namespace={other}");
    let (words, _) = kubectl_complete(dir.path(), kc, &["reconcile", &ns_flag, ""]);
    assert_eq!(words, ["elsewhere"]);
    // A name is already there: nothing more to complete.
    let (words, _) = kubectl_complete(dir.path(), kc, &["status", "-n", &ns, "alpha", ""]);
    assert!(words.is_empty(), "{words:?}");
    // Namespaces for -n come from the server too.
    let (words, _) = kubectl_complete(dir.path(), kc, &["status", "-n", "completion-other"]);
    assert!(words.contains(&other), "{other} not in {words:?}");
}

#[test]
fn completion_gives_up_quietly_and_quickly_on_an_unreachable_server() {
    let dir = plugin_dir();
    // A kubeconfig for this environment's server with the port moved to one nothing listens on.
    let text = std::fs::read_to_string(&env().kubeconfig).expect("read kubeconfig");
    let port = env().server.rsplit(':').next().expect("server port").trim_end_matches('/');
    let dead = text.replace(&format!(":{port}"), ":1");
    assert_ne!(dead, text, "port {port} not found in the kubeconfig");
    let kubeconfig = dir.path().join("dead-kubeconfig");
    std::fs::write(&kubeconfig, dead).expect("write kubeconfig");

    let start = Instant::now();
    let (words, directive) = kubectl_complete(dir.path(), &kubeconfig, &["status", ""]);
    assert!(start.elapsed() < Duration::from_secs(6), "took {:?}", start.elapsed());
    assert!(words.is_empty(), "{words:?}");
    assert_eq!(directive, ":4");
}

#[test]
fn the_read_only_user_gets_names_too() {
    // capt-viewer may list CAPTControlPlanes; completion needs nothing more.
    let env = env();
    let ns = env.namespace("completion-ro");
    let yaml = CONTROL_PLANE.replace("${NAME}", "viewer-sees-me");
    let file = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(file.path(), yaml).expect("write");
    env.kubectl_ok(&["apply", "-n", &ns, "-f", &file.path().display().to_string()]);
    let dir = plugin_dir();
    let (words, _) = kubectl_complete(dir.path(), &env.readonly_kubeconfig, &["status", "-n", &ns, ""]);
    assert_eq!(words, ["viewer-sees-me"]);
}
