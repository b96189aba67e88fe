//! e2e: the live `watch` screen in a real terminal. tmux runs the real binary at 80×24 and
//! 200×50 against the test environment with 1,500 watched objects in the namespace (one of
//! them a control plane on the HL1 input, hot-looping through examples/legacy_loop.rs) and a
//! Workspace named only by another namespace's apply; keys go in with `send-keys`, the screen
//! comes back with `capture-pane`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthStr;

use crate::support::{TestEnv, capt_bin, env, fixture};
use crate::watch::helpers::generator;

/// One tmux server of its own (no user configuration, no status line), killed on drop.
struct Tmux {
    socket: String,
    config: PathBuf,
}

impl Tmux {
    fn new(dir: &Path) -> Tmux {
        let config = dir.join("tmux.conf");
        std::fs::write(&config, "set -g status off\nset -g history-limit 0\n").unwrap();
        Tmux { socket: format!("capt-screen-{}", std::process::id()), config }
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f"])
            .arg(&self.config)
            .args(args)
            .output()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Starts `command` in a detached session of `w`×`h`; after it ends, the shell prints its
    /// exit code and keeps the pane open.
    fn start(&self, session: &str, (w, h): (usize, usize), command: &str) {
        let shell = format!("{command}; echo EXIT=$?; sleep 300");
        self.run(&["new-session", "-d", "-s", session, "-x", &w.to_string(), "-y", &h.to_string(), &shell]);
    }

    fn capture(&self, session: &str) -> Vec<String> {
        let out = self.run(&["capture-pane", "-p", "-t", session]);
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
    }

    fn keys(&self, session: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", session];
        args.extend(keys);
        self.run(&args);
    }

    fn alternate_on(&self, session: &str) -> bool {
        let out = self.run(&["display-message", "-p", "-t", session, "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Waits until the screen satisfies `ok`; returns it and how long that took.
    fn wait(
        &self,
        session: &str,
        within: Duration,
        what: &str,
        ok: impl Fn(&[String]) -> bool,
    ) -> (Vec<String>, Duration) {
        let start = Instant::now();
        loop {
            let screen = self.capture(session);
            if ok(&screen) {
                return (screen, start.elapsed());
            }
            assert!(
                start.elapsed() < within,
                "{session}: not within {within:?}: {what}; the screen:\n{}",
                screen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

fn has(screen: &[String], needle: &str) -> bool {
    screen.iter().any(|l| l.contains(needle))
}

/// The frame's layout holds: title, sources and summary on the first three rows, the footer
/// present, nothing wider than the terminal (a wrapped line would push the title off).
fn fits(screen: &[String], w: usize, h: usize) -> bool {
    screen.len() <= h
        && screen.iter().all(|l| l.width() <= w)
        && screen.first().is_some_and(|l| l.starts_with("kubectl capt watch · namespace"))
        && screen.get(1).is_some_and(|l| l.starts_with("sources: "))
        && screen
            .iter()
            .any(|l| l.starts_with("q quit") || l.starts_with("Esc back") || l.starts_with("filter: "))
}

/// Creates `count` quiet objects in `ns`: a quarter each of CAPTControlPlanes, Clusters,
/// WorkspaceTemplateApplies and connection Secrets, through four `kubectl create` at once.
fn bulk(env: &TestEnv, ns: &str, count: usize, dir: &Path) {
    let mut docs: Vec<Vec<String>> = vec![Vec::new(); 4];
    for i in 0..count {
        let n = format!("cp{:04}", i / 4);
        docs[i % 4].push(match i % 4 {
            0 => format!("apiVersion: controlplane.cluster.x-k8s.io/v1beta1\nkind: CAPTControlPlane\nmetadata:\n  name: {n}\nspec:\n  version: \"1.31\"\n  workspaceTemplateRef:\n    name: t\n"),
            1 => format!("apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: {n}\nspec: {{}}\n"),
            2 => format!("apiVersion: infrastructure.cluster.x-k8s.io/v1beta1\nkind: WorkspaceTemplateApply\nmetadata:\n  name: {n}-apply\nspec:\n  templateRef:\n    name: t\n"),
            _ => format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {n}-eks-connection\nstringData:\n  cluster_endpoint: \"https://{n}.example.com\"\n"),
        });
    }
    let children: Vec<Child> = docs
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let file = dir.join(format!("bulk-{k}.yaml"));
            std::fs::write(&file, d.join("---\n")).unwrap();
            Command::new(&env.kubectl)
                .env("KUBECONFIG", &env.kubeconfig)
                .args(["create", "-n", ns, "-f"])
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("kubectl create")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "kubectl create: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The objects the HL1 fixture puts in the namespace and `watch` sees: the control plane, its
/// Cluster, two applies, the Workspace the main apply names, four CAPT Secrets.
const FIXTURE_OBJECTS: usize = 9;
const OBJECTS: usize = 1_500;
const SMALL: (usize, usize) = (80, 24);
const BIG: (usize, usize) = (200, 50);

#[tokio::test(flavor = "multi_thread")]
async fn watch_screen_fits_80x24_and_200x50_with_1500_objects_and_one_hot_loop() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let setup = Instant::now();
    let ns = env.namespace("screen");
    env.apply_objects(&ns, &fixture("ready-no-ca", "hot")).await;
    // A Workspace of another namespace's control plane: not this namespace's to show.
    let other = env.namespace("screen-other");
    let mut other_yaml = fixture("ready-no-ca", "elsewhere");
    other_yaml.push_str("\n---\napiVersion: tf.upbound.io/v1beta1\nkind: Workspace\nmetadata:\n  name: unnamed-ws\nspec:\n  forProvider:\n    source: Inline\n    module: \"# none\"\n");
    env.apply_objects(&other, &other_yaml).await;
    let (dir_path, env_c, ns_c) = (dir.path().to_path_buf(), env, ns.clone());
    tokio::task::spawn_blocking(move || bulk(env_c, &ns_c, OBJECTS - FIXTURE_OBJECTS, &dir_path))
        .await
        .unwrap();
    eprintln!("watch_screen: setup of {OBJECTS} objects took {:?}", setup.elapsed());

    let log = dir.path().join("manager.log");
    let log_arg = log.to_string_lossy().into_owned();
    let mut hot =
        generator(env, &ns, "hot", &["--duration", "80s", "--log", &log_arg]).spawn().expect("legacy_loop");
    let command = format!(
        "KUBECONFIG='{}' NO_COLOR=1 '{}' watch -n {ns} --controller-logs '{}'",
        env.kubeconfig.display(),
        capt_bin().display(),
        log.display()
    );
    let dir_path = dir.path().to_path_buf();
    let ns_c = ns.clone();
    let result = tokio::task::spawn_blocking(move || drive(&dir_path, &ns_c, &command)).await;
    let _ = hot.kill();
    let _ = hot.wait();
    result.unwrap();
}

fn drive(dir: &Path, ns: &str, command: &str) {
    let tmux = Tmux::new(dir);
    let started = Instant::now();
    tmux.start("small", SMALL, command);
    tmux.start("big", BIG, command);
    let hot_row = format!("{ns}/hot ");
    for (s, (w, h)) in [("small", SMALL), ("big", BIG)] {
        // The header and the HOT row within 5 s of starting.
        let left = Duration::from_secs(5).saturating_sub(started.elapsed());
        tmux.wait(s, left, "the header and the HOT row within 5 s", |l| {
            fits(l, w, h) && l.iter().any(|r| r.contains(&hot_row) && r.contains(" HOT "))
        });
        eprintln!(
            "watch_screen: {s} ({w}x{h}): header and HOT row on screen {:?} after start",
            started.elapsed()
        );
        // Every object listed; the other namespace's Workspaces are not among them.
        let (screen, _) = tmux.wait(s, Duration::from_secs(20), "1,500 objects", |l| {
            fits(l, w, h) && l[2].starts_with("1,500 objects: 1 HOT")
        });
        assert!(has(&screen, "1,4") && has(&screen, "quiet objects (a: show)"), "{}", screen.join("\n"));
        assert!(!has(&screen, "elsewhere") && !has(&screen, "unnamed-ws"), "{}", screen.join("\n"));
        assert!(tmux.alternate_on(s), "{s}: the alternate screen");
    }
    let (screen, _) = tmux.wait("big", Duration::from_secs(5), "all columns at 200", |l| fits(l, 200, 50));
    assert!(screen[3].starts_with("KIND") && screen[3].ends_with("LAST 5M"), "{}", screen.join("\n"));

    // `/` filters by name: the HOT row goes (no stale line), the matches come.
    tmux.keys("big", &["/", "cp0001", "Enter"]);
    let (screen, _) = tmux.wait("big", Duration::from_secs(5), "filtered", |l| {
        fits(l, 200, 50) && l[2].contains("(filter: cp0001)") && has(l, &format!("{ns}/cp0001 "))
    });
    assert!(!has(&screen, &hot_row), "a row of the earlier frame stayed:\n{}", screen.join("\n"));
    let matching = screen.iter().filter(|l| l.contains(&format!("{ns}/cp0001"))).count();
    assert_eq!(matching, 4, "a control plane, a Cluster, an apply and a Secret:\n{}", screen.join("\n"));
    tmux.keys("big", &["Escape"]);
    tmux.wait("big", Duration::from_secs(5), "filter cleared", |l| fits(l, 200, 50) && has(l, &hot_row));

    // Enter opens the first row's history: the flip-flopping field with both values, the
    // writer, and the diagnosis naming the Secret and key to fix.
    for (s, (w, h)) in [("small", SMALL), ("big", BIG)] {
        tmux.keys(s, &["Enter"]);
        let (screen, _) = tmux.wait(s, Duration::from_secs(10), "the history with its diagnosis", |l| {
            fits(l, w, h)
                && has(l, &format!("history of CAPTControlPlane {ns}/hot"))
                && has(l, "diagnosis: one pass decides")
                && (has(l, "status.conditions[Ready].reason: Ready → SecretError")
                    || has(l, "status.conditions[Ready].reason: SecretError → Ready"))
        });
        assert!(has(&screen, "write  by legacy-capt-manager (Update, status)"), "{}", screen.join("\n"));
        let diagnosis: Vec<&str> = screen
            .iter()
            .skip_while(|l| !l.starts_with("diagnosis: "))
            .take_while(|l| l.starts_with("diagnosis: ") || l.starts_with("           "))
            .map(|l| l.trim_start_matches("diagnosis: ").trim())
            .collect();
        let diagnosis = diagnosis.join(" ");
        assert!(
            diagnosis.contains(&format!(
                "Secret {ns}/hot-eks-connection has no cluster_certificate_authority_data"
            )),
            "{s}: {diagnosis}\n{}",
            screen.join("\n")
        );
        assert!(diagnosis.contains("HL1: Ready ↔ SecretError"), "{s}: {diagnosis}");
        // Esc goes back; nothing of the history stays.
        tmux.keys(s, &["Escape"]);
        let (screen, _) =
            tmux.wait(s, Duration::from_secs(5), "back to the table", |l| fits(l, w, h) && has(l, &hot_row));
        assert!(!has(&screen, "write  by") && !has(&screen, "diagnosis:"), "{}", screen.join("\n"));
    }

    // A resize redraws at the new size: 200×50 → 100×30 drops the sparkline column.
    tmux.run(&["resize-window", "-t", "big", "-x", "100", "-y", "30"]);
    let (screen, _) = tmux.wait("big", Duration::from_secs(5), "redrawn at 100x30", |l| {
        fits(l, 100, 30) && l.get(3).is_some_and(|h| h.contains("VERDICT") && !h.contains("LAST 5M"))
    });
    assert!(has(&screen, &hot_row), "{}", screen.join("\n"));

    // q restores the screen: the final table on the normal screen, exit 3 (something was HOT).
    tmux.keys("big", &["q"]);
    let (screen, _) = tmux.wait("big", Duration::from_secs(10), "exit after q", |l| has(l, "EXIT="));
    assert!(has(&screen, "EXIT=3"), "{}", screen.join("\n"));
    assert!(!tmux.alternate_on("big"), "q left the alternate screen on");
    assert!(!has(&screen, "q quit") && has(&screen, "1500 objects: 1 HOT"), "{}", screen.join("\n"));
    // Ctrl-C restores it too, exit 130.
    tmux.keys("small", &["C-c"]);
    let (screen, _) = tmux.wait("small", Duration::from_secs(10), "exit after Ctrl-C", |l| has(l, "EXIT="));
    assert!(has(&screen, "EXIT=130"), "{}", screen.join("\n"));
    assert!(!tmux.alternate_on("small"), "Ctrl-C left the alternate screen on");
}
