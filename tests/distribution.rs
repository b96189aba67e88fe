//! Distribution checks that need no API server: the committed completion scripts match the CLI,
//! `kubectl_complete-capt` answers kubectl's protocol, the krew manifest follows krew's rules, and
//! `scripts/release` writes the sha256 of the archive it actually built.
//!
//! What runs here is the packaging step on the already built test binary (`--binary`); the
//! cross builds of the release targets are too slow for every test run and are exercised by
//! `make release` and `scripts/check-platforms` (CI builds the Windows one: `.ci/run`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kubectl_capt::cli::Shell;
use kubectl_capt::commands::completion;
use serde_yaml_ng::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-capt");
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const SHELLS: &[(Shell, &str)] = &[
    (Shell::Bash, "kubectl-capt.bash"),
    (Shell::Zsh, "_kubectl-capt"),
    (Shell::Fish, "kubectl-capt.fish"),
    (Shell::Powershell, "_kubectl-capt.ps1"),
];

#[test]
fn committed_completion_scripts_match_the_cli() {
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let path = repo().join("completions").join(file);
        let committed = std::fs::read(&path).unwrap_or_default();
        let fresh = completion::script(*shell);
        assert!(fresh.contains("kubectl-capt"), "{file}: generated script does not name the binary");
        if committed != fresh.as_bytes() {
            stale.push(file.to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "completions/{{{}}} differ from what the CLI generates; regenerate with `make completions` \
         (or: for s in bash zsh fish powershell; do cargo run -q -- completion $s; done, into the \
         files named in tests/distribution.rs)",
        stale.join(",")
    );
}

/// COMPREPLY of the committed bash script for `kubectl-capt WORDS` (the last word is completed).
fn bash_complete(words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cur = words.last().copied().unwrap_or_default();
    let prev = if words.len() > 1 { words[words.len() - 2] } else { "kubectl-capt" };
    let script = format!(
        "source completions/kubectl-capt.bash; COMP_WORDS=(kubectl-capt {}); COMP_CWORD={}; \
         _kubectl__capt kubectl-capt '{cur}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        quoted.join(" "),
        words.len()
    );
    let out = Command::new("bash").arg("-c").arg(script).current_dir(repo()).output().expect("run bash");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[test]
fn bash_script_completes_past_the_subcommand() {
    assert_eq!(bash_complete(&["sta"]), ["status"]);
    assert_eq!(bash_complete(&["status", "-o", ""]), ["table", "wide", "json", "yaml"]);
    assert_eq!(bash_complete(&["reconcile", "--dry"]), ["--dry-run"]);
    assert_eq!(bash_complete(&["completion", "f"]), ["fish"]);
}

#[test]
fn completion_command_prints_the_committed_script() {
    let out = Command::new(BIN).args(["completion", "fish"]).env("NO_COLOR", "1").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let committed = std::fs::read(repo().join("completions/kubectl-capt.fish")).unwrap();
    assert_eq!(out.stdout, committed);
}

/// A PATH with only the plugin binary, the completion executable and the system tools.
fn plugin_path(dir: &Path) -> String {
    std::os::unix::fs::symlink(BIN, dir.join("kubectl-capt")).unwrap();
    // A symlink, not a copy: writing an executable while other test threads fork can leave the
    // write descriptor open in a child for a moment, and exec then fails with ETXTBSY.
    std::os::unix::fs::symlink(
        repo().join("completions/kubectl_complete-capt"),
        dir.join("kubectl_complete-capt"),
    )
    .unwrap();
    format!("{}:/usr/bin:/bin", dir.display())
}

fn complete(path: &str, kubeconfig: &Path, words: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new("kubectl_complete-capt")
        .args(words)
        .env_clear()
        .env("PATH", path)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run kubectl_complete-capt");
    (out, start.elapsed())
}

#[test]
fn kubectl_complete_capt_offers_subcommands_flags_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = plugin_path(dir.path());
    let none = dir.path().join("no-kubeconfig");

    let (out, _) = complete(&path, &none, &[""]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let words: Vec<&str> = text.lines().map(|l| l.split('\t').next().unwrap_or_default()).collect();
    assert_eq!(words.last(), Some(&":4"), "directive line missing: {text}");
    for sub in ["analyze", "completion", "reconcile", "status", "version", "watch"] {
        assert!(words.contains(&sub), "{sub} not offered: {text}");
    }
    assert!(!words.contains(&"__complete") && !words.contains(&"crds"), "hidden command offered");

    let (out, _) = complete(&path, &none, &["reconcile", "--dry"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "--dry-run\tPrint (client) or validate (server) the plan without changing anything\n:4\n"
    );

    let (out, _) = complete(&path, &none, &["-n", "x", "status", "-o", "y"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "yaml\tYAML document\n:4\n");

    // A path lets the shell complete files (directive 0).
    let (out, _) = complete(&path, &none, &["analyze", ""]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), ":0\n");
}

#[test]
fn kubectl_complete_capt_is_silent_and_quick_when_the_cluster_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let path = plugin_path(dir.path());
    let kubeconfig = dir.path().join("kubeconfig");
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n\
         contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n    namespace: demo\n\
         current-context: ctx\nusers:\n- name: u\n  user:\n    token: t\n",
    )
    .unwrap();
    for words in [&["status", ""][..], &["-n", "x", "reconcile", "d"], &["status", "-n", ""]] {
        let (out, took) = complete(&path, &kubeconfig, words);
        assert!(out.status.success(), "{words:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), ":4\n", "{words:?}");
        assert!(out.stderr.is_empty(), "{words:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(took < Duration::from_secs(5), "{words:?} took {took:?}");
    }
    // Contexts come from the kubeconfig without contacting the server.
    let (out, _) = complete(&path, &kubeconfig, &["--context", ""]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ctx\n:4\n");
    // Without kubectl-capt on PATH the completer offers nothing and does not fail.
    let bare = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("completions/kubectl_complete-capt"),
        bare.path().join("kubectl_complete-capt"),
    )
    .unwrap();
    let (out, _) = complete(&format!("{}:/usr/bin:/bin", bare.path().display()), &kubeconfig, &[""]);
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
}

// --- krew manifest --------------------------------------------------------------------------

fn load_manifest(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for key in path {
        cur = cur.get(*key).unwrap_or_else(|| panic!("missing field {}", path.join(".")));
    }
    cur.as_str().unwrap_or_else(|| panic!("{} is not a string", path.join(".")))
}

/// Does a krew `from` pattern (a path with `*` globs) match `name`?
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|i| glob(tail, &name[head.len() + i..]))
        }
    }
}

/// The five platforms every release serves: krew's os/arch and the Rust target of the archive.
const PLATFORMS: &[(&str, &str, &str)] = &[
    ("linux", "amd64", "x86_64-unknown-linux-musl"),
    ("linux", "arm64", "aarch64-unknown-linux-musl"),
    ("darwin", "amd64", "x86_64-apple-darwin"),
    ("darwin", "arm64", "aarch64-apple-darwin"),
    ("windows", "amd64", "x86_64-pc-windows-gnu"),
];

/// The rules krew's validation applies to a plugin manifest, plus this project's own.
fn check_manifest(m: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let mut err = |s: String| errors.push(s);
    if str_at(m, &["apiVersion"]) != "krew.googlecontainertools.github.com/v1alpha2" {
        err("apiVersion".into());
    }
    if str_at(m, &["kind"]) != "Plugin" {
        err("kind".into());
    }
    let name = str_at(m, &["metadata", "name"]);
    if name != "capt" || !name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        err(format!("metadata.name {name:?}"));
    }
    let version = str_at(m, &["spec", "version"]);
    let semver = version
        .strip_prefix('v')
        .is_some_and(|v| v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u64>().is_ok()));
    if !semver {
        err(format!("spec.version {version:?} is not vMAJOR.MINOR.PATCH"));
    }
    if !str_at(m, &["spec", "homepage"]).starts_with("https://") {
        err("spec.homepage is not an https URL".into());
    }
    let short = str_at(m, &["spec", "shortDescription"]);
    if short.is_empty() || short.chars().count() >= 50 {
        err(format!("shortDescription must be 1..49 characters: {short:?}"));
    }
    let description = str_at(m, &["spec", "description"]);
    if !description.contains("appthrust/capt") || !description.contains("Tinkerbell") {
        err("description must say this is appthrust/capt, not Cluster API Provider Tinkerbell".into());
    }
    let caveats = str_at(m, &["spec", "caveats"]);
    for needle in ["status", "reconcile", "watch", "analyze", "kubectl_complete-capt"] {
        if !caveats.contains(needle) {
            err(format!("caveats do not mention {needle}"));
        }
    }
    let Some(platforms) = m.get("spec").and_then(|s| s.get("platforms")).and_then(Value::as_sequence) else {
        err("spec.platforms missing".into());
        return errors;
    };
    if platforms.is_empty() {
        err("spec.platforms is empty".into());
    }
    let mut selectors = BTreeSet::new();
    for (i, p) in platforms.iter().enumerate() {
        let os = p.get("selector").and_then(|s| s.get("matchLabels")).and_then(|l| l.get("os"));
        let arch = p.get("selector").and_then(|s| s.get("matchLabels")).and_then(|l| l.get("arch"));
        let (Some(os), Some(arch)) = (os.and_then(Value::as_str), arch.and_then(Value::as_str)) else {
            err(format!("platforms[{i}].selector.matchLabels needs os and arch"));
            continue;
        };
        if !selectors.insert((os.to_string(), arch.to_string())) {
            err(format!("platforms[{i}]: selector {os}/{arch} is not unique"));
        }
        let uri = p.get("uri").and_then(Value::as_str).unwrap_or_default();
        if !uri.starts_with("https://") || !uri.ends_with(".tar.gz") || !uri.contains(version) {
            err(format!("platforms[{i}].uri {uri:?}"));
        }
        match PLATFORMS.iter().find(|(o, a, _)| (*o, *a) == (os, arch)) {
            Some((_, _, target)) if !uri.ends_with(&format!("-{target}.tar.gz")) => {
                err(format!("platforms[{i}]: {os}/{arch} serves {uri:?}, not the {target} archive"))
            }
            Some(_) => {}
            None => err(format!("platforms[{i}]: {os}/{arch} is not a platform this project builds")),
        }
        let sha = p.get("sha256").and_then(Value::as_str).unwrap_or_default();
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
            err(format!("platforms[{i}].sha256 {sha:?} is not 64 lowercase hex characters"));
        }
        let bin = p.get("bin").and_then(Value::as_str).unwrap_or_default();
        let froms: Vec<(&str, &str)> = p
            .get("files")
            .and_then(Value::as_sequence)
            .map(|files| {
                files
                    .iter()
                    .map(|f| {
                        let s = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default();
                        (s("from"), s("to"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if froms.is_empty() || froms.iter().any(|(from, to)| from.is_empty() || to.is_empty()) {
            err(format!("platforms[{i}].files must be a non-empty list of from/to"));
        }
        if bin.is_empty() || !froms.iter().any(|(from, to)| *to == "." && glob(from, bin)) {
            err(format!("platforms[{i}].bin {bin:?} is not among the files copied to ."));
        }
        // Windows only runs `.exe` files; elsewhere the name kubectl looks up has no suffix.
        if (os == "windows") != bin.ends_with(".exe") {
            err(format!("platforms[{i}].bin {bin:?} on {os}"));
        }
        if os == "windows" && froms.iter().any(|(from, _)| glob(from, "kubectl_complete-capt")) {
            err(format!("platforms[{i}]: the sh completion helper is useless on windows"));
        }
        if !froms.iter().any(|(from, _)| glob(from, "LICENSE")) {
            err(format!("platforms[{i}] does not install the LICENSE"));
        }
    }
    errors
}

#[test]
fn committed_krew_manifest_follows_krew_rules() {
    let m = load_manifest(&repo().join("krew-manifest.yaml"));
    let errors = check_manifest(&m);
    assert!(errors.is_empty(), "krew-manifest.yaml:\n  {}", errors.join("\n  "));
    assert_eq!(str_at(&m, &["spec", "version"]), format!("v{VERSION}"), "manifest version vs Cargo.toml");
    // `make release` serves all five platforms, in this order, from the release of this version.
    assert_eq!(
        selectors(&m),
        PLATFORMS.iter().map(|(o, a, _)| format!("{o}/{a}")).collect::<Vec<_>>(),
        "krew-manifest.yaml must serve every platform (regenerate with `make release VERSION={VERSION}`)"
    );
    let homepage = str_at(&m, &["spec", "homepage"]);
    let mut shas = BTreeSet::new();
    for (p, (os, _, target)) in m["spec"]["platforms"].as_sequence().unwrap().iter().zip(PLATFORMS) {
        assert_eq!(
            p["uri"].as_str(),
            Some(
                format!("{homepage}/releases/download/v{VERSION}/kubectl-capt-v{VERSION}-{target}.tar.gz")
                    .as_str()
            ),
            "{target}: not the name scripts/release gives the archive"
        );
        let exe = if *os == "windows" { "kubectl-capt.exe" } else { "kubectl-capt" };
        assert_eq!(p["bin"].as_str(), Some(exe), "{target}");
        // check_manifest has checked the form; distinct archives have distinct digests.
        assert!(shas.insert(p["sha256"].as_str().unwrap()), "{target}: sha256 shared with another platform");
    }
}

/// `os/arch` of each platform entry, in order.
fn selectors(m: &Value) -> Vec<String> {
    m["spec"]["platforms"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| {
            let l = &p["selector"]["matchLabels"];
            format!("{}/{}", l["os"].as_str().unwrap_or("?"), l["arch"].as_str().unwrap_or("?"))
        })
        .collect()
}

#[test]
fn manifest_checker_rejects_broken_manifests() {
    let good = load_manifest(&repo().join("krew-manifest.yaml"));
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut m = good.clone();
        edit(&mut m);
        check_manifest(&m)
    };
    assert!(!broken(&|m| m["spec"]["platforms"][0]["sha256"] = Value::from("abc")).is_empty());
    assert!(!broken(&|m| m["spec"]["platforms"][0]["bin"] = Value::from("kubectl-other")).is_empty());
    assert!(!broken(&|m| m["spec"]["shortDescription"] = Value::from("x".repeat(50))).is_empty());
    assert!(!broken(&|m| m["spec"]["description"] = Value::from("CAPT plugin")).is_empty());
    assert!(!broken(&|m| m["spec"]["version"] = Value::from("0.1")).is_empty());
    // A Windows entry must name the .exe, and only it does: the committed one is replaced by one
    // made from the linux/amd64 entry.
    let as_windows = |m: &mut Value, bin: &str| {
        let mut p = m["spec"]["platforms"][0].clone();
        let uri = p["uri"].as_str().unwrap().replace("x86_64-unknown-linux-musl", "x86_64-pc-windows-gnu");
        p["uri"] = Value::from(uri);
        p["selector"]["matchLabels"]["os"] = Value::from("windows");
        p["bin"] = Value::from(bin);
        p["files"] =
            serde_yaml_ng::from_str(&format!("- {{from: {bin}, to: .}}\n- {{from: LICENSE, to: .}}\n"))
                .unwrap();
        let platforms = m["spec"]["platforms"].as_sequence_mut().unwrap();
        platforms.retain(|q| q["selector"]["matchLabels"]["os"].as_str() != Some("windows"));
        platforms.push(p);
    };
    assert!(broken(&|m| as_windows(m, "kubectl-capt.exe")).is_empty(), "a valid windows entry rejected");
    assert!(!broken(&|m| as_windows(m, "kubectl-capt")).is_empty(), "windows bin without .exe accepted");
    assert!(!broken(&|m| m["spec"]["platforms"][0]["bin"] = Value::from("kubectl-capt.exe")).is_empty());
    assert!(
        !broken(&|m| {
            let uri = m["spec"]["platforms"][0]["uri"].as_str().unwrap().replace("x86_64", "aarch64");
            m["spec"]["platforms"][0]["uri"] = Value::from(uri);
        })
        .is_empty(),
        "linux/amd64 serving the arm64 archive accepted"
    );
    assert!(
        !broken(&|m| {
            let first = m["spec"]["platforms"][0].clone();
            m["spec"]["platforms"].as_sequence_mut().unwrap().push(first);
        })
        .is_empty(),
        "duplicate selector accepted"
    );
}

// --- scripts/release -------------------------------------------------------------------------

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn release(dist: &Path, manifest: &Path, extra: &[&str]) -> Output {
    release_cmd(dist, manifest, extra).output().expect("run scripts/release")
}

fn release_cmd(dist: &Path, manifest: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/release"))
        .arg(VERSION)
        .args(["--dist".as_ref(), dist.as_os_str(), "--manifest".as_ref(), manifest.as_os_str()])
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1700000000");
    cmd
}

fn tar_list(archive: &Path) -> BTreeSet<String> {
    let list = Command::new("tar").arg("-tzf").arg(archive).output().unwrap();
    assert!(list.status.success());
    String::from_utf8(list.stdout).unwrap().lines().map(str::to_string).collect()
}

#[test]
fn release_script_writes_the_sha256_of_the_archive_it_built() {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    let manifest = tmp.path().join("capt.yaml");
    let target = "x86_64-unknown-linux-musl";
    // The test binary without its debug info (140 MB would make gzip the slowest part of the suite).
    let stripped = tmp.path().join("kubectl-capt");
    std::fs::copy(BIN, &stripped).unwrap();
    let strip = Command::new("strip").arg(&stripped).status().expect("run strip (binutils)");
    assert!(strip.success());
    let binary = format!("{target}={}", stripped.display());
    let out = release(&dist, &manifest, &["--binary", &binary, "--base-url", "https://example.com/dl"]);
    assert!(out.status.success(), "scripts/release failed:\n{}", String::from_utf8_lossy(&out.stderr));

    let name = format!("kubectl-capt-v{VERSION}-{target}.tar.gz");
    let archive = std::fs::read(dist.join(&name)).expect("archive written");
    let sha = sha256_hex(&archive);
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert_eq!(sums, format!("{sha}  {name}\n"));

    let m = load_manifest(&manifest);
    let errors = check_manifest(&m);
    assert!(errors.is_empty(), "generated manifest:\n  {}", errors.join("\n  "));
    let platforms = m["spec"]["platforms"].as_sequence().unwrap();
    assert_eq!(platforms.len(), 1);
    assert_eq!(platforms[0]["sha256"].as_str(), Some(sha.as_str()));
    assert_eq!(platforms[0]["uri"].as_str(), Some(format!("https://example.com/dl/{name}").as_str()));
    assert_eq!(platforms[0]["selector"]["matchLabels"]["arch"].as_str(), Some("amd64"));

    // The committed manifest came from this script: everything but the platforms agrees.
    let committed = load_manifest(&repo().join("krew-manifest.yaml"));
    for field in ["version", "homepage", "shortDescription", "description", "caveats"] {
        assert_eq!(m["spec"][field], committed["spec"][field], "spec.{field} drifted from scripts/release");
    }

    // The archive holds what the manifest's files list copies, and the binary runs.
    let entries = tar_list(&dist.join(&name));
    let expected: BTreeSet<String> = [
        "LICENSE",
        "completions/",
        "completions/_kubectl-capt",
        "completions/_kubectl-capt.ps1",
        "completions/kubectl-capt.bash",
        "completions/kubectl-capt.fish",
        "kubectl-capt",
        "kubectl_complete-capt",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(entries, expected);
    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let x = Command::new("tar").arg("-xzf").arg(dist.join(&name)).arg("-C").arg(&unpacked).status().unwrap();
    assert!(x.success());
    assert_eq!(
        std::fs::read(unpacked.join("LICENSE")).unwrap(),
        std::fs::read(repo().join("LICENSE")).unwrap()
    );
    let v = Command::new(unpacked.join("kubectl-capt")).args(["version", "--client"]).output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).contains(VERSION), "{}", String::from_utf8_lossy(&v.stdout));

    // Reproducible: the same inputs give the same bytes, so the sha256 can be checked by anyone.
    let again = tmp.path().join("again");
    let out = release(&again, &tmp.path().join("again.yaml"), &["--binary", &binary]);
    assert!(out.status.success());
    assert_eq!(sha256_hex(&std::fs::read(again.join(&name)).unwrap()), sha);
}

#[test]
fn release_script_says_which_target_it_skipped_and_why() {
    let tmp = tempfile::tempdir().unwrap();
    // --no-install and a PATH without rustup: the script must not fetch a toolchain here.
    let out = release_cmd(
        &tmp.path().join("dist"),
        &tmp.path().join("m.yaml"),
        &["--no-install", "--targets", "x86_64-apple-darwin"],
    )
    .env("PATH", "/usr/bin:/bin")
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SKIPPING x86_64-apple-darwin: "), "{stderr}");
    assert!(stderr.contains("no archive was built"), "{stderr}");
    assert!(!tmp.path().join("m.yaml").exists(), "manifest written without archives");

    let out = release(
        &tmp.path().join("dist"),
        &tmp.path().join("m.yaml"),
        &["--targets", "x86_64-unknown-linux-musl", "9.9.9"],
    );
    assert_eq!(out.status.code(), Some(2), "two versions accepted");
}

#[test]
fn release_script_packages_all_five_platforms_with_an_exe_on_windows() {
    let tmp = tempfile::tempdir().unwrap();
    // Packaging only: a small executable stands in for each cross-built binary.
    let fake = tmp.path().join("fake-bin");
    std::fs::write(&fake, "#!/bin/sh\necho fake\n").unwrap();
    let chmod = Command::new("chmod").arg("755").arg(&fake).status().unwrap();
    assert!(chmod.success());
    let binaries: Vec<String> = PLATFORMS.iter().map(|(_, _, t)| format!("{t}={}", fake.display())).collect();
    let mut args: Vec<&str> = Vec::new();
    for b in &binaries {
        args.extend(["--binary", b.as_str()]);
    }
    args.extend(["--targets", "x86_64-unknown-linux-musl,aarch64-unknown-linux-musl,x86_64-apple-darwin,aarch64-apple-darwin,x86_64-pc-windows-gnu"]);
    let dist = tmp.path().join("dist");
    let manifest = tmp.path().join("capt.yaml");
    let out = release(&dist, &manifest, &args);
    assert!(out.status.success(), "scripts/release failed:\n{}", String::from_utf8_lossy(&out.stderr));

    let m = load_manifest(&manifest);
    let errors = check_manifest(&m);
    assert!(errors.is_empty(), "generated manifest:\n  {}", errors.join("\n  "));
    assert_eq!(selectors(&m), PLATFORMS.iter().map(|(o, a, _)| format!("{o}/{a}")).collect::<Vec<_>>());
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 5, "{sums}");
    for (p, (os, _, target)) in m["spec"]["platforms"].as_sequence().unwrap().iter().zip(PLATFORMS) {
        let name = format!("kubectl-capt-v{VERSION}-{target}.tar.gz");
        let sha = sha256_hex(&std::fs::read(dist.join(&name)).unwrap());
        assert_eq!(p["sha256"].as_str(), Some(sha.as_str()), "{target}");
        assert!(sums.contains(&format!("{sha}  {name}\n")), "{target} missing from SHA256SUMS");
        let entries = tar_list(&dist.join(&name));
        let (exe, helper) =
            if *os == "windows" { ("kubectl-capt.exe", false) } else { ("kubectl-capt", true) };
        assert_eq!(p["bin"].as_str(), Some(exe), "{target}");
        assert!(entries.contains(exe), "{target}: {entries:?}");
        assert_eq!(entries.contains("kubectl_complete-capt"), helper, "{target}: {entries:?}");
        assert!(entries.contains("completions/_kubectl-capt.ps1") && entries.contains("LICENSE"), "{target}");
    }
}

/// The macOS binaries are linked on Linux without a macOS SDK (docs/install.md), which works only
/// while no crate in their graph links a macOS framework; this catches one creeping back in
/// (e.g. kube's `rustls-tls`, or chrono's `clock` through iana-time-zone) on every test run.
#[test]
fn macos_release_graph_links_no_framework() {
    const FRAMEWORK_CRATES: &[&str] = &[
        "core-foundation",
        "core-foundation-sys",
        "security-framework",
        "security-framework-sys",
        "iana-time-zone",
        "rustls-platform-verifier",
        "rustls-native-certs",
    ];
    for target in ["x86_64-apple-darwin", "aarch64-apple-darwin"] {
        let out = Command::new(env!("CARGO"))
            .current_dir(repo())
            .args([
                "tree", "--locked", "--target", target, "-e", "normal", "--prefix", "none", "--format", "{p}",
            ])
            .output()
            .expect("run cargo tree");
        assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
        let tree = String::from_utf8(out.stdout).unwrap();
        assert!(tree.lines().any(|l| l.starts_with("kube-client ")), "{target}: unexpected tree:\n{tree}");
        let offenders: BTreeSet<&str> = tree
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|name| FRAMEWORK_CRATES.contains(name))
            .collect();
        assert!(offenders.is_empty(), "{target} would link macOS frameworks through {offenders:?}");
    }
}
