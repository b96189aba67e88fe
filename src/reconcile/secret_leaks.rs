//! Adversarial connection-Secret values through whole passes: no part of a bad value reaches a
//! write body, a field change, a finding, the requeue or the status; a good value with a path or
//! query is written as scheme, host and port only.

use base64::Engine;
use serde_json::json;

use super::fixtures::*;
use super::*;

const MARKER: &str = "Qx7LEAKMARKERz3";

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// `(label, value)`: every shape the issue names.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("userinfo", format!("https://admin:{MARKER}@h.example.com").into_bytes()),
        ("not-a-url", format!("{MARKER} is not a url").into_bytes()),
        ("bare-word", MARKER.as_bytes().to_vec()),
        ("huge", {
            let mut v = format!("https://h.example.com/{MARKER}").into_bytes();
            v.resize(1 << 20, b'a');
            v
        }),
        ("ansi", format!("\x1b[2J\x1b]0;{MARKER}\x07https://h.example.com").into_bytes()),
        ("invalid-utf8", [b"https://h.example.com:".as_slice(), MARKER.as_bytes(), &[0xff, 0xfe]].concat()),
        ("base64-of-marker", b64(MARKER.as_bytes()).into_bytes()),
        ("base64-userinfo", b64(format!("https://u:{MARKER}@h.example.com").as_bytes()).into_bytes()),
        ("port", format!("https://h.example.com:{MARKER}").into_bytes()),
        ("path", format!("https://h.example.com:6443/{MARKER}").into_bytes()),
        ("query", format!("https://h.example.com/?token={MARKER}#{MARKER}").into_bytes()),
    ]
}

/// Everything a pass produces, as text.
fn everything(p: &Plan) -> String {
    let mut out = format!("{:?}\n{}\n{:?}\n", p.status, p.requeue.display(), p.findings);
    for w in &p.writes {
        let body = match &w.body {
            WriteBody::Json(v) => v.clone(),
            WriteBody::Secret { object, data } => {
                json!({"object": object, "data": data.values().map(|d| String::from_utf8_lossy(d.expose()).into_owned()).collect::<Vec<_>>()})
            }
        };
        out.push_str(&format!("{} {:?} {body}\n", w.target, w.fields));
    }
    out
}

fn assert_clean(label: &str, text: &str) {
    for needle in [MARKER.to_string(), MARKER.to_ascii_lowercase(), b64(MARKER.as_bytes())[..12].to_string()]
    {
        assert!(!text.contains(&needle), "{label}: {needle} leaked:\n{text}");
    }
    assert!(!text.contains('\x1b'), "{label}: escape leaked");
}

/// S10 (apply Ready) with `outputs` as the Workspace outputs and `value` as the connection
/// Secret's `cluster_endpoint`.
fn with_endpoint(outputs: serde_json::Value, value: &[u8]) -> Snapshot {
    let mut snap = Snapshot { workspace: Some(workspace(outputs, true)), ..s10() };
    snap.connection_secret
        .as_mut()
        .unwrap()
        .data
        .insert("cluster_endpoint".into(), SecretBytes::new(value.to_vec()));
    snap
}

/// The kubeconfig apply's `cluster_endpoint` variable the plan writes.
fn kubeconfig_variable(p: &Plan) -> serde_json::Value {
    let w = p.writes.iter().find(|w| w.target.name == "demo-kubeconfig-apply").expect("kubeconfig apply");
    let WriteBody::Json(body) = &w.body else { panic!("not JSON") };
    body["spec"]["variables"]["cluster_endpoint"].clone()
}

#[test]
fn adversarial_secret_endpoint_never_leaks() {
    for (label, value) in corpus() {
        // The Secret is the only source (no Workspace output) or the fallback behind a good output.
        for with_output in [false, true] {
            let outputs =
                if with_output { json!({"cluster_endpoint": format!("https://{HOST}")}) } else { json!({}) };
            let snap = with_endpoint(outputs, &value);
            let p = plan(&snap, now());
            let label = format!("{label} (output: {with_output})");
            assert_clean(&label, &everything(&p));
            let next = apply(&snap, &p);
            assert_clean(&label, &everything(&plan(&next, later())));
            let good = matches!(value.as_slice(), v if v.starts_with(b"https://h.example.com:6443/") || v.starts_with(b"https://h.example.com/?"));
            if with_output || good {
                assert_eq!(p.phase, Some(Phase::Ready), "{label}");
            } else {
                assert_eq!(p.phase, Some(Phase::Failed), "{label}");
                let msg = p.status.failure_message.clone().unwrap_or_default();
                assert!(
                    msg.starts_with("Failed to get cluster endpoint: Secret default/demo-eks-connection key cluster_endpoint is not an https URL: "),
                    "{label}: {msg}"
                );
            }
        }
    }
}

#[test]
fn path_and_query_are_dropped_and_said_so() {
    let value = format!("https://H.example.com:6443/p?q={MARKER}");
    let p = plan(&with_endpoint(json!({}), value.as_bytes()), now());
    assert_eq!(p.phase, Some(Phase::Ready));
    assert_eq!(kubeconfig_variable(&p), "https://H.example.com:6443");
    let cp = &p.writes[0];
    let WriteBody::Json(body) = &cp.body else { panic!() };
    assert_eq!(body["spec"]["controlPlaneEndpoint"], json!({"host": "h.example.com", "port": 6443}));
    assert!(
        p.findings.iter().any(|f| f.message
            == "Secret default/demo-eks-connection key cluster_endpoint: the URL's path, query or fragment is ignored and never written"),
        "{:#?}",
        p.findings
    );
}

#[test]
fn bad_secret_endpoint_behind_a_good_output_is_named_and_not_copied() {
    let outputs = json!({"cluster_endpoint": format!("https://{HOST}")});
    let value = format!("https://admin:{MARKER}@h.example.com");
    let p = plan(&with_endpoint(outputs, value.as_bytes()), now());
    assert_eq!(p.phase, Some(Phase::Ready));
    assert_eq!(kubeconfig_variable(&p), json!(format!("https://{HOST}")));
    assert!(p.findings.iter().any(|f| f.message.starts_with(
        "Secret default/demo-eks-connection key cluster_endpoint is not an https URL: it holds a user name or password"
    )));
}

#[test]
fn a_stored_secret_label_is_not_shown_in_the_diff() {
    let mut snap = ready();
    let stored = snap.kubeconfig_secret.as_mut().expect("ready has the kubeconfig Secret");
    stored.labels.insert(crate::model::CLUSTER_NAME_LABEL.into(), MARKER.into());
    let p = plan(&snap, now());
    let w = p.writes.iter().find(|w| w.target.name == "demo-kubeconfig").expect("label patch");
    let label = w.fields.iter().find(|f| f.path.starts_with("metadata.labels.")).expect("label change");
    assert_eq!(label.stored, Some(json!(REDACTED)));
    assert_eq!(label.desired, Some(json!("demo")));
    assert_clean("label", &everything(&p));
}
