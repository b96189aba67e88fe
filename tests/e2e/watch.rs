//! e2e: `kubectl capt watch` against the real test environment, with the legacy loop generator
//! (examples/legacy_loop.rs) making real writes.

#[path = "watch_helpers.rs"]
pub(crate) mod helpers;

use std::time::Duration;

use helpers::{Finished, calm_yaml, generator, millis, now_ms, run_generator, start};

use crate::support::{env, shared_dir};

const LISTED: &str = "captcontrolplanes.controlplane.cluster.x-k8s.io: watching";

#[tokio::test(flavor = "multi_thread")]
async fn loop_is_hot_with_flip_flop_within_5s_and_calm_object_is_ok() {
    let env = env();
    let ns = env.namespace("watch-hot");
    env.apply_objects(&ns, &calm_yaml("b")).await;
    env.apply_objects(&ns, &calm_yaml("a")).await;

    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "15s", "-o", "json", "--no-logs"]);
    let watch = start(cmd);
    watch.wait_for(LISTED, Duration::from_secs(10));
    let loop_start = now_ms();
    let mut gen_cmd = generator(env, &ns, "a", &["--duration", "9s"]);
    let gen_out = tokio::task::spawn_blocking(move || gen_cmd.output().expect("legacy_loop")).await.unwrap();
    assert!(gen_out.status.success(), "{}", String::from_utf8_lossy(&gen_out.stderr));
    let written = helpers::writes_of(&String::from_utf8_lossy(&gen_out.stderr));
    let w: Finished = tokio::task::spawn_blocking(move || watch.finish()).await.unwrap();

    assert_eq!(w.code, Some(3), "exit 3 when an object was HOT; stderr:\n{}", w.stderr);
    let a = w.finding("CAPTControlPlane", "a");
    assert_eq!(a["verdict"], "HOT", "{a}");
    assert_eq!(a["cause"], "status-flip-flop", "{a}");
    let managers: Vec<&str> =
        a["managers"].as_array().unwrap().iter().filter_map(|m| m["manager"].as_str()).collect();
    assert!(managers.contains(&"legacy-capt-manager"), "{a}");
    let hot_after = millis(&a["observedAt"]) - loop_start;
    assert!((0..=5_000).contains(&hot_after), "HOT {hot_after} ms after the loop started: {a}");
    assert!(a["evidence"][0].as_str().unwrap().contains("Ready"), "{a}");
    // Every write the generator made was seen, and none was invented.
    assert_eq!(a["totals"]["writes"].as_u64(), Some(written), "{a}");
    let b = w.finding("CAPTControlPlane", "b");
    assert_eq!((b["verdict"].as_str(), b["peakVerdict"].as_str()), (Some("OK"), Some("OK")), "{b}");
    assert_eq!(b["totals"]["writes"], 0, "the initial list is a baseline, not a write: {b}");
    assert_eq!(w.summary["everHot"], 1);
    assert_eq!(w.summary["sources"]["logs"], "off (--no-logs)");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_managers_fighting_is_a_writer_fight() {
    let env = env();
    let ns = env.namespace("watch-fight");
    env.apply_objects(&ns, &calm_yaml("f")).await;
    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "10s", "-o", "json", "--no-logs", "--no-events"]);
    let watch = start(cmd);
    watch.wait_for(LISTED, Duration::from_secs(10));
    let written = tokio::task::spawn_blocking({
        let ns = ns.clone();
        move || run_generator(crate::support::env(), &ns, "f", &["--scenario", "fight", "--duration", "6s"])
    })
    .await
    .unwrap();
    let w = tokio::task::spawn_blocking(move || watch.finish()).await.unwrap();
    let f = w.finding("CAPTControlPlane", "f");
    assert_eq!(f["cause"], "writer-fight", "{f}");
    assert_eq!(f["verdict"], "HOT", "{f}");
    let ev = f["evidence"][0].as_str().unwrap();
    assert!(
        ev.contains("legacy-capt-manager") && ev.contains("other-writer") && ev.contains("spec.version"),
        "{ev}"
    );
    assert_eq!(f["totals"]["writes"].as_u64(), Some(written));
    assert_eq!(w.code, Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn controller_log_file_gives_the_reconcile_rate() {
    let env = env();
    let ns = env.namespace("watch-logs");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("manager.log");
    let log_arg = log.to_string_lossy().into_owned();
    let ns2 = ns.clone();
    tokio::task::spawn_blocking(move || {
        run_generator(crate::support::env(), &ns2, "l", &["--passes", "120", "--log", &log_arg])
    })
    .await
    .unwrap();
    let lines = std::fs::read_to_string(&log).unwrap().lines().count();
    assert_eq!(lines, 120);

    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "3s", "-o", "json", "--no-events", "--controller-logs"])
        .arg(&log);
    let w = tokio::task::spawn_blocking(move || start(cmd).finish()).await.unwrap();
    let l = w.finding("CAPTControlPlane", "l");
    // All 120 passes happened in the last minute: 120 per minute, each pass counted once.
    assert_eq!(l["reconcilesPerMinute"], 120.0, "{l}");
    assert_eq!(l["totals"]["reconciles"], 120, "{l}");
    assert_eq!(l["totals"]["writes"], 0, "the writes happened before the watch started: {l}");
    assert_eq!(l["verdict"], "HOT", "{l}");
    // The passes (and their writes) happened before the object watch began: whether they wrote
    // is unknown to the watch, so no cause is stated (v0.1.0 said no-write-loop here).
    assert_eq!(l["cause"], serde_json::Value::Null, "{l}");
    let evidence = l["evidence"][0].as_str().unwrap_or_default();
    assert!(
        evidence.contains("120 reconcile passes and 0 writes seen") && evidence.contains("no cause"),
        "{l}"
    );
    let logs = w.summary["sources"]["logs"].as_str().unwrap();
    assert!(logs.starts_with("reading (120 lines, 120 reconcile lines"), "{logs}");
    assert!(!logs.contains("malformed"), "{logs}");
}

/// One controller-runtime pass line for `name`, timed now.
fn pass_line(ns: &str, name: &str, id: &str) -> String {
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        "{ts}\tINFO\tReconciling CAPTControlPlane\t{{\"controller\": \"captcontrolplane\", \"controllerGroup\": \"controlplane.cluster.x-k8s.io\", \"controllerKind\": \"CAPTControlPlane\", \"namespace\": \"{ns}\", \"name\": \"{name}\", \"reconcileID\": \"{id}\"}}\n"
    )
}

/// A backlog of passes read before the object watch began gets no cause; passes that go on
/// without writes while the watch covers them become a no-write loop, printed as a cause change
/// of the HOT object. The last line has no newline and is still counted.
#[tokio::test(flavor = "multi_thread")]
async fn no_write_loop_only_after_the_object_watch_covered_the_passes() {
    use std::io::Write as _;
    let env = env();
    let ns = env.namespace("watch-nwl");
    env.apply_objects(&ns, &calm_yaml("n")).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("manager.log");
    let mut file = std::fs::File::create(&log).unwrap();
    for k in 0..100 {
        file.write_all(pass_line(&ns, "n", &format!("backlog-{k}")).as_bytes()).unwrap();
    }
    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "14s", "--no-events", "--controller-logs"]).arg(&log);
    let watch = start(cmd);
    watch.wait_for(LISTED, Duration::from_secs(10));
    // 10 passes a second for 9 s, no writes; the last line is left without its newline.
    for k in 0..90 {
        let line = pass_line(&ns, "n", &format!("live-{k}"));
        let line = if k == 89 { line.trim_end() } else { &line };
        file.write_all(line.as_bytes()).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let w = tokio::task::spawn_blocking(move || watch.finish_raw()).await.unwrap();
    assert_eq!(w.code, Some(3), "stderr:\n{}", w.stderr);
    let lines: Vec<&str> =
        w.stdout.lines().filter(|l| l.contains(&format!("CAPTControlPlane {ns}/n "))).collect();
    let hot = lines.iter().position(|l| l.contains("→ HOT")).unwrap_or_else(|| panic!("{}", w.stdout));
    assert!(!lines[hot].contains("no-write-loop"), "the backlog alone states no cause: {}", w.stdout);
    let cause = lines[hot..]
        .iter()
        .find(|l| l.contains("HOT, cause - → no-write-loop"))
        .unwrap_or_else(|| panic!("no cause change line in:\n{}", w.stdout));
    assert!(cause.contains("but 0 writes in the last"), "{cause}");
    assert!(lines.iter().all(|l| !l.contains("→ no-write-loop") || l == cause), "{}", w.stdout);
    assert!(
        w.stderr.contains("190 lines, 190 reconcile lines"),
        "unterminated last line parsed: {}",
        w.stderr
    );
}

/// stdin: a line over the 1 MiB cap is skipped and counted in the summary, and a last line
/// without a newline is parsed at the end of the input.
#[tokio::test(flavor = "multi_thread")]
async fn stdin_logs_cap_line_length_and_read_an_unterminated_last_line() {
    use std::io::Write as _;
    let env = env();
    let ns = env.namespace("watch-stdin");
    let mut input = pass_line(&ns, "s", "first").into_bytes();
    input.extend(std::iter::repeat_n(b'x', 2 << 20));
    input.push(b'\n');
    input.extend(pass_line(&ns, "s", "last").trim_end().as_bytes());
    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "3s", "-o", "json", "--no-events", "--controller-logs", "-"]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("summary").cloned())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(
        summary["sources"]["logs"], "done (3 lines, 2 reconcile lines; 1 line over 1 MiB skipped)",
        "{summary}"
    );
    assert_eq!(summary["reconciles"], 2, "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn readonly_user_works_and_forbidden_sources_are_reported() {
    let env = env();
    let ns = env.namespace("watch-ro");
    env.apply_objects(&ns, &calm_yaml("r")).await;
    let mut cmd = env.capt_readonly();
    cmd.args(["watch", "-n", &ns, "--duration", "4s", "-o", "json"]);
    let w = tokio::task::spawn_blocking(move || start(cmd).finish()).await.unwrap();
    assert_eq!(w.code, Some(0), "stderr:\n{}", w.stderr);
    let s = &w.summary["sources"];
    assert_eq!(s["captcontrolplanes.controlplane.cluster.x-k8s.io"], "watching", "{s}");
    assert_eq!(s["workspaces.tf.upbound.io"], "watching", "{s}");
    assert_eq!(s["secrets"], format!("unavailable (403 on list/watch secrets in {ns})"), "{s}");
    assert_eq!(s["events"], format!("unavailable (403 on list/watch events in {ns})"), "{s}");
    assert_eq!(s["logs"], "unavailable (403 on list pods in capt-system)", "{s}");
    assert!(w.stderr.contains("watch: logs: unavailable (403 on list pods in capt-system)"), "{}", w.stderr);
    // The blind sources are named in the summary, JSON and table, and warned about.
    let blind = w.summary["blind"].as_object().unwrap_or_else(|| panic!("{}", w.summary));
    let names: Vec<&str> = blind.keys().map(String::as_str).collect();
    assert_eq!(names, ["events", "logs", "secrets"], "{}", w.summary);
    assert!(w.stderr.contains("warning: blind to events (403 on list/watch events in"), "{}", w.stderr);
    let mut cmd = env.capt_readonly();
    cmd.args(["watch", "-n", &ns, "--duration", "3s"]);
    let w = tokio::task::spawn_blocking(move || start(cmd).finish_raw()).await.unwrap();
    assert_eq!(w.code, Some(0), "stderr:\n{}", w.stderr);
    assert!(w.stderr.contains("; blind: events, logs, secrets"), "{}", w.stderr);
}

/// A kubeconfig of this environment changed by `edit`, in the state directory.
fn kubeconfig_with(
    env: &crate::support::TestEnv,
    name: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&env.kubeconfig).expect("read kubeconfig");
    let mut doc: serde_json::Value = serde_yaml_ng::from_str(&text).expect("kubeconfig YAML");
    edit(&mut doc);
    let path = env.state_dir.join(name);
    std::fs::write(&path, serde_yaml_ng::to_string(&doc).expect("yaml")).expect("write kubeconfig");
    path
}

/// `-v` says once when every object watch has delivered its initial list, after each source's
/// own "watching" line, with the number of objects listed (the namespace's three; cluster-scoped
/// Workspaces of other tests are not in scope). Without `-v`, nothing is said.
#[tokio::test(flavor = "multi_thread")]
async fn verbose_watch_says_when_the_initial_sync_is_done() {
    let env = env();
    let ns = env.namespace("watch-sync");
    for name in ["s1", "s2", "s3"] {
        env.apply_objects(&ns, &calm_yaml(name)).await;
    }
    let run = |verbose: bool| {
        let mut cmd = env.capt();
        cmd.args(["watch", "-n", &ns, "--duration", "3s", "-o", "json", "--no-logs", "--no-events"]);
        if verbose {
            cmd.arg("-v");
        }
        tokio::task::spawn_blocking(move || start(cmd).finish())
    };
    let w = run(true).await.unwrap();
    let lines: Vec<&str> = w.stderr.lines().collect();
    let sync: Vec<usize> =
        (0..lines.len()).filter(|&i| lines[i].starts_with("watch: initial sync: ")).collect();
    assert_eq!(sync.len(), 1, "said once: {}", w.stderr);
    assert!(lines[sync[0]].starts_with("watch: initial sync: 3 objects listed in "), "{}", w.stderr);
    let watching = lines.iter().position(|l| l.ends_with(": watching")).expect("a watching line");
    let last_watching = lines.iter().rposition(|l| l.ends_with(": watching")).unwrap();
    assert!(watching < sync[0] && last_watching < sync[0], "after every source listed: {}", w.stderr);
    assert_eq!(lines.iter().filter(|l| l.ends_with(": watching")).count(), 5, "{}", w.stderr);
    let quiet = run(false).await.unwrap();
    assert!(!quiet.stderr.contains("initial sync"), "{}", quiet.stderr);
}

/// Nothing watched is not "OK": an unreachable server and rejected credentials end the run at
/// once with the usual one-line error (exit 1), whatever `--duration` says.
#[test]
fn watch_exits_1_when_nothing_can_be_watched() {
    let env = env();
    let port = env.server.rsplit(':').next().expect("server port").trim_end_matches('/').to_string();
    let dead = kubeconfig_with(env, "watch-dead-kubeconfig", |d| {
        let server =
            d["clusters"][0]["cluster"]["server"].as_str().unwrap().replace(&format!(":{port}"), ":1");
        d["clusters"][0]["cluster"]["server"] = server.into();
    });
    let bad_token = kubeconfig_with(env, "watch-bad-token-kubeconfig", |d| {
        d["users"][0]["user"] = serde_json::json!({"token": "not-a-valid-token"});
    });
    for (kubeconfig, first_line, hint) in [
        (&dead, "kubectl-capt: cannot reach the API server at", "hint: check the context"),
        (&bad_token, "kubectl-capt: unauthorized (401)", "hint: re-authenticate"),
    ] {
        let started = std::time::Instant::now();
        let out = env
            .capt()
            .env("KUBECONFIG", kubeconfig)
            .args(["watch", "--duration", "3s", "-o", "json"])
            .output()
            .expect("run kubectl-capt");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", kubeconfig.display());
        assert!(stderr.starts_with(first_line), "{stderr}");
        assert!(stderr.lines().any(|l| l.starts_with(hint)), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "no summary claims a result: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    }
}

/// Thresholds that make no sense are usage errors naming the accepted range.
#[test]
fn nonsense_thresholds_exit_2() {
    let env = env();
    for (args, range) in [
        (&["--hot-rate", "0"][..], "more than 0 and at most 1000"),
        (&["--hot-factor", "-1"], "1 to 1000"),
        (&["--hot-for", "90s"], "1s to 60s"),
    ] {
        let out = env.capt().args(["watch", "--once"]).args(args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(range), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn table_output_prints_verdict_changes_and_a_final_table() {
    let env = env();
    let ns = env.namespace("watch-table");
    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "8s", "--no-logs"]);
    let watch = start(cmd);
    watch.wait_for(LISTED, Duration::from_secs(10));
    let ns2 = ns.clone();
    tokio::task::spawn_blocking(move || {
        run_generator(crate::support::env(), &ns2, "t", &["--duration", "4s"])
    })
    .await
    .unwrap();
    let w = tokio::task::spawn_blocking(move || watch.finish_raw()).await.unwrap();
    assert_eq!(w.code, Some(3));
    let lines: Vec<&str> = w.stdout.lines().collect();
    let change = lines.iter().find(|l| l.contains("→ HOT")).unwrap_or_else(|| panic!("{}", w.stdout));
    assert!(
        change.contains(&format!("CAPTControlPlane {ns}/t")) && change.contains("status-flip-flop"),
        "{change}"
    );
    let header = lines.iter().position(|l| l.starts_with("KIND")).unwrap_or_else(|| panic!("{}", w.stdout));
    assert!(
        lines[header + 1].contains(&format!("{ns}/t")) && lines[header + 1].contains("HOT"),
        "{}",
        w.stdout
    );
    assert!(!w.stdout.contains('\x1b'), "no colour or cursor codes when not a terminal");
    assert!(w.stderr.contains("sources: "), "{}", w.stderr);
}

/// The controller logs in `../shared/real-samples` (real controllers, no loop) parse without a
/// malformed line and give no HOT verdict.
#[tokio::test(flavor = "multi_thread")]
async fn real_sample_controller_logs_are_not_hot() {
    let Some(shared) = shared_dir("real_sample_controller_logs_are_not_hot") else { return };
    let env = env();
    let ns = env.namespace("watch-real");
    let mut files = 0;
    for entry in std::fs::read_dir(shared.join("real-samples/controller-logs")).unwrap().flatten() {
        files += 1;
        let mut cmd = env.capt();
        cmd.args(["watch", "-n", &ns, "--duration", "2s", "-o", "json", "--no-events", "--controller-logs"])
            .arg(entry.path());
        let w = tokio::task::spawn_blocking(move || start(cmd).finish()).await.unwrap();
        assert_eq!(w.code, Some(0), "{}: {}", entry.path().display(), w.stdout);
        let logs = w.summary["sources"]["logs"].as_str().unwrap();
        assert!(
            logs.starts_with("reading (") && !logs.contains("malformed") && !logs.contains("unrecognised"),
            "{logs}"
        );
        assert!(w.findings.iter().all(|f| f["peakVerdict"] != "HOT"), "{}", w.stdout);
    }
    assert!(files > 0, "no controller logs in {}", shared.join("real-samples/controller-logs").display());
}

/// `--metrics-url` through the API server: kube-apiserver's own `/metrics` has
/// `workqueue_adds_total` series, so the scrape is real; a bad URL is reported, not fatal.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_scraped_through_the_api_server_and_a_bad_url_is_reported() {
    let env = env();
    let ns = env.namespace("watch-metrics");
    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "20s", "-o", "json", "--no-logs", "--no-events"]);
    cmd.args(["--metrics-url", "/metrics"]);
    let w: Finished = tokio::task::spawn_blocking(move || start(cmd).finish()).await.unwrap();
    assert_eq!(w.code, Some(0), "stderr:\n{}", w.stderr);
    let source = w.summary["sources"]["metrics"].as_str().unwrap_or_default().to_string();
    assert!(source.starts_with("reading ("), "{source}");
    let controllers = w.summary["controllers"].as_array().cloned().unwrap_or_default();
    assert!(!controllers.is_empty(), "{}", w.summary);
    assert!(
        controllers
            .iter()
            .any(|c| c["scrapes"].as_u64().unwrap_or(0) >= 2 && c["workqueueAddsTotal"].is_number()),
        "{controllers:?}"
    );

    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "3s", "-o", "json", "--no-logs", "--no-events"]);
    cmd.args(["--metrics-url", "http://127.0.0.1:1/metrics"]);
    let w: Finished = tokio::task::spawn_blocking(move || start(cmd).finish()).await.unwrap();
    assert_eq!(w.code, Some(0), "an unreadable source is not an error; stderr:\n{}", w.stderr);
    let source = w.summary["sources"]["metrics"].as_str().unwrap_or_default();
    assert!(source.starts_with("unavailable (http://127.0.0.1:1/metrics"), "{source}");
}

/// A metrics body over the 16 MiB cap is refused with an error naming the cap, not read whole.
#[tokio::test(flavor = "multi_thread")]
async fn a_metrics_body_over_the_cap_is_refused() {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten().take(4) {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut req = [0u8; 4096];
                let _ = conn.read(&mut req);
                let size: usize = 64 << 20;
                let _ = write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
                let chunk = b"workqueue_adds_total{name=\"x\"} 1\n".repeat(1024);
                let mut sent = 0;
                while sent < size && conn.write_all(&chunk).is_ok() {
                    sent += chunk.len();
                }
            });
        }
    });
    let env = env();
    let ns = env.namespace("watch-metrics-cap");
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "3s", "-o", "json", "--no-logs", "--no-events"]);
    cmd.args(["--metrics-url", &url]);
    let w: Finished = tokio::task::spawn_blocking(move || start(cmd).finish()).await.unwrap();
    let source = w.summary["sources"]["metrics"].as_str().unwrap_or_default();
    assert_eq!(
        source,
        format!("unavailable ({url}: the metrics body is over 16 MiB; not read)"),
        "{}",
        w.stderr
    );
}

/// The API server's record (audit log) of the requests whose URI contains `path`: verb, URI and
/// response code, once their final stage is logged.
fn requests_for(env: &crate::support::TestEnv, path: &str) -> Vec<(String, String, i64)> {
    let text = std::fs::read_to_string(&env.audit_log).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["stage"] == "ResponseComplete")
        .filter_map(|e| {
            let uri = e["requestURI"].as_str()?.to_string();
            uri.contains(path).then(|| {
                (
                    e["verb"].as_str().unwrap_or("").to_string(),
                    uri,
                    e["responseStatus"]["code"].as_i64().unwrap_or(0),
                )
            })
        })
        .collect()
}

/// The initial lists are streamed (a watch with `sendInitialEvents`, served from the API
/// server's watch cache); a server without streaming lists (WatchList off) refuses that request
/// and the watch falls back to paged lists, with the same result.
#[tokio::test(flavor = "multi_thread")]
async fn initial_lists_are_streamed_and_a_server_without_them_gets_paged_lists() {
    let own = tokio::task::spawn_blocking(|| {
        crate::support::TestEnv::start_with_env(
            &[],
            &[("CAPT_TESTENV_APISERVER_ARGS", "--feature-gates=WatchList=false")],
        )
    })
    .await
    .unwrap();
    for (env, streams) in [(env(), true), (&own, false)] {
        let ns = env.namespace("watch-lists");
        env.apply_objects(&ns, &calm_yaml("a")).await;
        let mut cmd = env.capt();
        cmd.args(["watch", "-n", &ns, "--duration", "4s", "-o", "json", "--no-logs", "--no-events"]);
        let watch = start(cmd);
        watch.wait_for(LISTED, Duration::from_secs(20));
        let w = tokio::task::spawn_blocking(move || watch.finish()).await.unwrap();
        assert_eq!(w.code, Some(0), "streams: {streams}; {}", w.stderr);
        assert_eq!(w.finding("CAPTControlPlane", "a")["verdict"], "OK");
        let path = format!("/namespaces/{ns}/captcontrolplanes");
        let streamed = |requests: &[(String, String, i64)], ok: bool| {
            requests.iter().any(|(verb, uri, code)| {
                verb == "watch" && uri.contains("sendInitialEvents=true") && (*code < 400) == ok
            })
        };
        let listed = |requests: &[(String, String, i64)]| requests.iter().any(|r| r.0 == "list");
        let expected = |r: &[(String, String, i64)]| {
            if streams {
                streamed(r, true) && !streamed(r, false) && !listed(r)
            } else {
                streamed(r, false) && listed(r)
            }
        };
        // The audit log is written asynchronously (a watch's final stage when it closes).
        let mut requests = requests_for(env, &path);
        for _ in 0..100 {
            if expected(&requests) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            requests = requests_for(env, &path);
        }
        assert!(expected(&requests), "streams: {streams}: {requests:#?}");
    }
}
