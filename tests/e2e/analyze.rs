//! e2e: `kubectl capt analyze` on the real API server's audit log. The legacy loop generator
//! (`examples/legacy_loop.rs`, upstream input HL1) loops one CAPTControlPlane for a few seconds;
//! `analyze` on the audit log must flag that object HOT with the generator's identity as the
//! writer, and a calm object written once stays OK. The generator's own controller log, given
//! as a second input, adds its reconcile passes to the same object.

use std::process::Command;

use serde_json::Value;

use crate::support::env;

/// The generator's field manager (its default).
const MANAGER: &str = "legacy-capt-manager";

fn ndjson(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn find<'a>(rows: &'a [Value], ns: &str, name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["kind"] == "CAPTControlPlane" && r["namespace"] == ns && r["name"] == name)
        .unwrap_or_else(|| panic!("no finding for CAPTControlPlane {ns}/{name}"))
}

#[test]
fn legacy_loop_in_the_audit_log_is_hot_with_the_generators_identity() {
    let env = env();
    let ns = env.namespace("analyze");
    let dir = tempfile::tempdir().expect("temp dir");
    let manager_log = dir.path().join("manager.log");

    // A calm object: written once by kubectl.
    let calm = format!(
        "apiVersion: controlplane.cluster.x-k8s.io/v1beta1\nkind: CAPTControlPlane\nmetadata:\n  name: calm\n  namespace: {ns}\nspec:\n  version: \"1.31\"\n"
    );
    let calm_file = dir.path().join("calm.yaml");
    std::fs::write(&calm_file, calm).expect("write calm.yaml");
    env.kubectl_ok(&["apply", "-f", &calm_file.to_string_lossy()]);

    let out = Command::new(crate::support::legacy_loop_bin())
        .args([
            "--kubeconfig",
            &env.kubeconfig.to_string_lossy(),
            "-n",
            &ns,
            "--name",
            "looper",
            "--duration",
            "8s",
        ])
        .arg("--log")
        .arg(&manager_log)
        .output()
        .expect("run legacy_loop");
    assert!(out.status.success(), "legacy_loop failed: {}", String::from_utf8_lossy(&out.stderr));

    // The audit log alone.
    let out = env.capt().args(["analyze", "-o", "json"]).arg(&env.audit_log).output().expect("run analyze");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "exit 3 when an object is HOT; stderr: {stderr}");
    let lines = ndjson(&out.stdout);
    let (summary, rows) = lines.split_last().expect("at least the summary line");
    let looper = find(rows, &ns, "looper");
    assert_eq!(looper["verdict"], "HOT", "{looper:#}");
    assert!(looper["totals"]["writes"].as_u64().unwrap_or(0) >= 10, "{looper:#}");
    let top = looper["managers"][0]["manager"].as_str().unwrap_or("");
    assert!(top.starts_with(MANAGER), "the generator is the top writer: {looper:#}");
    assert_eq!(looper["managers"][0]["subresource"], "status");
    assert!(looper["cause"].is_string(), "a HOT object names a cause: {looper:#}");
    assert!(!looper["hotPeriods"].as_array().map(Vec::is_empty).unwrap_or(true));
    let calm = find(rows, &ns, "calm");
    assert_eq!(calm["verdict"], "OK", "{calm:#}");
    assert!(calm["totals"]["writes"].as_u64().unwrap_or(0) >= 1, "{calm:#}");
    let input = &summary["summary"]["inputs"][0];
    assert_eq!(input["format"], "json");
    assert_eq!(input["malformed"]["count"], 0, "the API server's audit log parses cleanly: {input:#}");
    assert_eq!(input["unknown"]["count"], 0, "{input:#}");

    // With the generator's controller log: the same object also shows its reconcile passes, and
    // the table, the timeline and the plot name it.
    let plot = dir.path().join("timeline.svg");
    let out = env
        .capt()
        .args(["analyze", "--top", "50"])
        .arg(&env.audit_log)
        .arg(&manager_log)
        .arg("--plot")
        .arg(&plot)
        .output()
        .expect("run analyze");
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.contains(&format!("{ns}/looper")) && l.starts_with("CAPTControlPlane"))
        .unwrap_or_else(|| panic!("no table row for {ns}/looper:\n{table}"));
    assert!(row.contains("HOT") && row.contains(MANAGER), "{row}");
    let cols: Vec<&str> = row.split_whitespace().collect();
    let passes: u64 = cols[3].parse().unwrap_or(0);
    assert!(passes >= 5, "reconcile passes from the controller log: {row}");
    assert!(table.contains("TIMELINE"), "{table}");
    assert!(table.contains(&manager_log.display().to_string()), "footer names each input:\n{table}");
    let svg = std::fs::read_to_string(&plot).expect("plot written");
    assert!(svg.contains("<svg") && svg.contains(&format!("{ns}/looper")));

    // A PNG is refused before any work, with the way out.
    let out =
        env.capt().args(["analyze", "--plot", "x.png"]).arg(&env.audit_log).output().expect("run analyze");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".svg"));
}
