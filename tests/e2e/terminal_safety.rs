//! e2e: text from the cluster (condition messages, annotations, Event messages, API error
//! messages) never reaches the terminal with its control characters: an ESC from the cluster
//! could clear or rewrite the screen. Every command, every output format, stdout and stderr.

use std::process::Output;

use crate::support::{env, fixture};

const ESC: u8 = 0x1b;

/// A YAML double-quoted string with ESC sequences (`\e` is ESC in YAML).
const HOSTILE: &str = r#""\e[2J\e]0;pwned\a screen cleared \e[31m""#;

fn assert_clean(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !bytes.contains(&ESC) && !bytes.contains(&0x07),
            "{what}: a control character reached {stream}:\n{}",
            String::from_utf8_lossy(bytes).escape_debug()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn escape_sequences_from_the_cluster_never_reach_the_terminal() {
    let env = env();
    let ns = env.namespace("esc");
    // The apply's failure message is what the decided status quotes.
    let yaml = fixture("workspace-error", "esc")
        .replace(
            r#"message: "apply failed: AccessDenied: not authorized to perform eks:CreateCluster""#,
            &format!("message: {HOSTILE}"),
        )
        .replacen("  name: esc\n", &format!("  name: esc\n  annotations:\n    note: {HOSTILE}\n"), 1);
    env.apply_objects(&ns, &yaml).await;
    let event = format!(
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: esc.1\ninvolvedObject:\n  apiVersion: controlplane.cluster.x-k8s.io/v1beta1\n  kind: CAPTControlPlane\n  name: esc\n  namespace: {ns}\nreason: {HOSTILE}\nmessage: {HOSTILE}\ntype: Warning\ncount: 3\nfirstTimestamp: \"2026-03-01T10:00:00Z\"\nlastTimestamp: \"2026-03-01T10:00:05Z\"\n"
    );
    env.apply_objects(&ns, &event).await;
    let stored = env.kubectl_ok(&["get", "captcontrolplane", "esc", "-n", &ns, "-o", "json"]);
    assert!(stored.contains("\\u001b[2J"), "the hostile message is stored: {stored}");

    let run = |args: &[&str]| {
        let out = env.capt().args(args).output().unwrap();
        assert_clean(&args.join(" "), &out);
        out
    };
    for o in ["table", "wide", "json", "yaml"] {
        let out = run(&["status", "esc", "-n", &ns, "-o", o]);
        assert!(out.status.success() || out.status.code() == Some(3), "{out:?}");
        run(&["status", "-n", &ns, "-o", o]);
    }
    let out = run(&["status", "esc", "-n", &ns]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\\u{1b}[2J\\u{1b}]0;pwned\\u{7} screen cleared"),
        "the message is shown, escaped: {text}"
    );
    let out = run(&["reconcile", "esc", "-n", &ns, "--dry-run", "--force"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\\u001b[2J") || text.contains("\\u{1b}[2J"),
        "the message is shown, escaped: {text}"
    );

    // A name with an ESC in an error message (main's error path; API error messages from the
    // server go through the same path, unit-tested in error.rs).
    let out = run(&["status", "x\x1b[2Jy", "-n", &ns]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    // watch: the hostile message is written while it watches (evidence values), piped and NDJSON.
    for o in ["table", "json"] {
        let mut cmd = env.capt();
        cmd.args(["watch", "-n", &ns, "--duration", "4s", "--no-logs", "-o", o]);
        let child =
            cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        for k in 0..6 {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let msg = if k % 2 == 0 { r#"\u001b[2J flip"# } else { r#"\u001b[31m flop"# };
            let r = k % 2;
            let patch = format!(
                r#"{{"status":{{"conditions":[{{"type":"Ready","status":"True","reason":"R{r}\u001b[2J","message":"{msg}","lastTransitionTime":"2024-11-22T04:10:00Z"}}]}}}}"#
            );
            env.kubectl_ok(&[
                "patch",
                "captcontrolplane",
                "esc",
                "-n",
                &ns,
                "--subresource=status",
                "--type=merge",
                "-p",
                &patch,
            ]);
        }
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
        assert_clean(&format!("watch -o {o}"), &out);
        let text = String::from_utf8_lossy(&out.stdout);
        let escaped = if o == "json" { "\\u001b[2J" } else { "\\u{1b}[2J" };
        assert!(text.contains(&format!("R0{escaped}")), "the values are shown, escaped: {text}");
    }

    // analyze: a watch dump and the Events, as files.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.json");
    std::fs::write(&dump, env.kubectl_ok(&["get", "captcontrolplanes,events", "-n", &ns, "-o", "json"]))
        .unwrap();
    for o in ["table", "wide", "json", "yaml"] {
        run(&["analyze", "-o", o, dump.to_str().unwrap()]);
    }
}
