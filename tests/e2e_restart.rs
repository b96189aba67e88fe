//! e2e (own test binary, own environment): `kubectl capt watch` survives an API server restart.
//! Detection goes on after the restart, and the reconnect (and any relist) invents no writes.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e/watch_helpers.rs"]
mod helpers;

use std::time::{Duration, Instant};

use helpers::{calm_yaml, run_generator, start};
use support::TestEnv;

#[tokio::test(flavor = "multi_thread")]
async fn watch_survives_an_api_server_restart_without_inventing_writes() {
    let env: &'static TestEnv = Box::leak(Box::new(TestEnv::start(&[])));
    let ns = env.namespace("watch-restart");
    for i in 0..20 {
        env.apply_objects(&ns, &calm_yaml(&format!("calm-{i}"))).await;
    }
    env.apply_objects(&ns, &calm_yaml("a")).await;

    let mut cmd = env.capt();
    cmd.args(["watch", "-n", &ns, "--duration", "60s", "-o", "json", "--no-logs"]);
    let watch = start(cmd);
    watch.wait_for("captcontrolplanes.controlplane.cluster.x-k8s.io: watching", Duration::from_secs(15));

    let ns1 = ns.clone();
    let before = tokio::task::spawn_blocking(move || run_generator(env, &ns1, "a", &["--duration", "4s"]))
        .await
        .unwrap();

    tokio::task::spawn_blocking(move || env.restart_apiserver()).await.unwrap();
    // The watch notices the restart and reconnects with back-off. Writes made while it is
    // disconnected are folded into the relist's baseline (never invented), so the generator
    // starts only once the watch is watching again.
    let w = tokio::task::spawn_blocking(move || {
        watch.wait_for("reconnecting", Duration::from_secs(20));
        watch.wait_for_nth(
            "captcontrolplanes.controlplane.cluster.x-k8s.io: watching",
            2,
            Duration::from_secs(60),
        );
        watch
    })
    .await
    .unwrap();
    // Writes after the restart, once the API server answers again.
    let ns2 = ns.clone();
    let after = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        loop {
            let out = env.kubectl(&["get", "--raw", "/readyz"]);
            if out.status.success() {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "API server not ready after restart");
            std::thread::sleep(Duration::from_millis(200));
        }
        run_generator(env, &ns2, "a", &["--duration", "6s"])
    })
    .await
    .unwrap();
    let done = tokio::task::spawn_blocking(move || w.finish()).await.unwrap();

    assert_eq!(done.code, Some(3), "stderr:\n{}", done.stderr);
    let a = done.finding("CAPTControlPlane", "a");
    let seen = a["totals"]["writes"].as_u64().unwrap();
    assert!(seen > before, "writes after the restart were seen ({seen} > {before}): {a}");
    assert!(
        seen <= before + after,
        "no write invented: {seen} <= {} ({before} + {after}): {a}",
        before + after
    );
    assert_eq!(a["verdict"], "HOT", "{a}");
    assert_eq!(a["cause"], "status-flip-flop", "{a}");
    for i in 0..20 {
        let c = done.finding("CAPTControlPlane", &format!("calm-{i}"));
        assert_eq!(c["totals"]["writes"], 0, "a relist is not a write: {c}");
        assert_eq!(c["peakVerdict"], "OK", "{c}");
    }
    assert!(done.stderr.contains("reconnecting (attempt"), "{}", done.stderr);
    eprintln!(
        "restart: {before} writes before, {after} after, {seen} seen; baselines {}",
        done.summary["baselines"]
    );
}
