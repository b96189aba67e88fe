//! The text views of `status`: one table row per CAPTControlPlane, or one object's tree with
//! its conditions, drift, findings and requeue.

use serde_json::Value;

use super::{Palette, sanitize};
use crate::reconcile::report::{NOT_READ, Node, Report};
use crate::reconcile::{ReadFailure, Severity};

fn phase_colored(phase: Option<&str>, p: Palette) -> String {
    let s = sanitize(phase.unwrap_or("<none>"));
    match phase {
        Some("Ready") => p.good(&s),
        Some("Failed") => p.bad(&s),
        _ => p.warn(&s),
    }
}

fn age_of(secs: Option<i64>) -> String {
    secs.map(super::age).unwrap_or_else(|| "-".into())
}

/// One row per CAPTControlPlane, kubectl style.
pub fn list_text(reports: &[Report], wide: bool, all_namespaces: bool, p: Palette) -> String {
    let mut headers = vec![];
    if all_namespaces {
        headers.push("namespace");
    }
    headers.extend(["name", "phase", "ready", "endpoint", "requeue", "drift", "age"]);
    if wide {
        headers.extend(["reason", "stored-phase", "secrets", "findings", "requeue-reason"]);
    }
    let mut t = super::table(&headers);
    for r in reports {
        let mut row = vec![];
        if all_namespaces {
            row.push(sanitize(&r.namespace));
        }
        row.push(sanitize(&r.name));
        row.push(phase_colored(r.phase.as_deref(), p));
        row.push(if r.ready { p.good("true") } else { "false".into() });
        row.push(r.endpoint.as_deref().map(sanitize).unwrap_or_else(|| "<none>".into()));
        row.push(r.requeue_after_seconds.map(|s| format!("{s}s")).unwrap_or_else(|| "-".into()));
        row.push(match r.in_sync {
            Some(true) => "0".into(),
            Some(false) => p.warn(&r.drift.len().to_string()),
            None => "?".into(),
        });
        row.push(age_of(r.age_seconds));
        if wide {
            row.push(sanitize(r.reason.as_deref().unwrap_or("-")));
            row.push(sanitize(r.stored.phase.as_deref().unwrap_or("<none>")));
            row.push(r.secrets_ready.to_string());
            row.push(r.findings.iter().filter(|f| f.severity >= Severity::Warning).count().to_string());
            row.push(sanitize(&r.requeue_reason));
        }
        t.add_row(row);
    }
    super::table_to_string(&t)
}

fn flatten<'a>(n: &'a Node, prefix: &str, last: bool, root: bool, out: &mut Vec<(String, &'a Node)>) {
    let branch = if root {
        String::new()
    } else if last {
        format!("{prefix}└─ ")
    } else {
        format!("{prefix}├─ ")
    };
    out.push((branch, n));
    let child_prefix = if root {
        String::new()
    } else if last {
        format!("{prefix}   ")
    } else {
        format!("{prefix}│  ")
    };
    for (i, c) in n.children.iter().enumerate() {
        flatten(c, &child_prefix, i + 1 == n.children.len(), false, out);
    }
}

fn show(v: &Option<Value>) -> String {
    match v {
        None => "<none>".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
    }
}

/// The tree, the decision, the drift, the requeue and the findings of one object.
pub fn object_text(r: &Report, wide: bool, p: Palette) -> String {
    let mut rows = Vec::new();
    flatten(&r.tree, "", true, true, &mut rows);
    let mut t = super::table(&["object", "ready", "condition", "age", "detail"]);
    for (branch, n) in rows {
        let name = match &n.namespace {
            Some(ns) => format!("{}/{}", ns, n.name),
            None => n.name.clone(),
        };
        let ready = match (n.state.as_str(), n.ready) {
            ("missing", _) => p.bad("missing"),
            ("unreadable", _) => p.bad("unreadable"),
            (NOT_READ, _) => p.dim("not read"),
            (_, Some(true)) => p.good("True"),
            (_, Some(false)) => p.warn("False"),
            (_, None) => "-".into(),
        };
        let mut detail = n.detail.as_deref().map(sanitize).unwrap_or_default();
        if let Some(keys) = &n.keys {
            let keys = if keys.is_empty() { "<no keys>".to_string() } else { keys.join(", ") };
            detail = format!("keys: {}", sanitize(&keys));
        }
        t.add_row(vec![
            format!("{branch}{} {}", n.kind, sanitize(&name)),
            ready,
            sanitize(n.condition.as_deref().unwrap_or("-")),
            age_of(n.age_seconds),
            detail,
        ]);
    }
    let mut out = super::table_to_string(&t);
    out.push('\n');
    let stored = r.stored.phase.as_deref().unwrap_or("<none>");
    out.push_str(&format!(
        "Phase:     {} (stored: {})\n",
        phase_colored(r.phase.as_deref(), p),
        sanitize(stored)
    ));
    if let Some(reason) = &r.reason {
        out.push_str(&format!(
            "Ready:     {} {} {}\n",
            r.ready,
            sanitize(reason),
            p.dim(&format!("\"{}\"", sanitize(r.message.as_deref().unwrap_or(""))))
        ));
    }
    out.push_str(&format!(
        "Endpoint:  {}\n",
        r.endpoint.as_deref().map(sanitize).unwrap_or_else(|| "<none>".into())
    ));
    out.push_str(&format!("Requeue:   {}\n", sanitize(&r.requeue)));
    if !r.determined {
        out.push_str(&format!("Drift:     {}\n", p.warn("unknown (undetermined)")));
        for u in &r.unreadable {
            let why = match &u.rbac {
                Some(rbac) => format!("forbidden (403); kubectl-capt needs {rbac}"),
                None => match &u.failure {
                    ReadFailure::ServerError { code } => format!("the API server answered {code}"),
                    ReadFailure::Failed { detail } => detail.clone(),
                    ReadFailure::Forbidden { .. } => "forbidden (403)".into(),
                    ReadFailure::NotRead => "not read".into(),
                },
            };
            out.push_str(&format!(
                "Unreadable: {}: {}{}\n",
                sanitize(&u.object.to_string()),
                sanitize(&why),
                if u.needed { " (the decision needs it)" } else { "" }
            ));
        }
    } else if r.in_sync == Some(true) {
        out.push_str(&format!("Drift:     {}\n", p.good("in sync")));
    } else {
        let objects: std::collections::BTreeSet<String> =
            r.drift.iter().map(|d| d.object.to_string()).collect();
        out.push_str(&format!(
            "Drift:     {} would be written to {} object(s)\n",
            p.warn(&format!("{} field(s)", r.drift.len())),
            objects.len()
        ));
        let mut dt = super::table(&["object", "op", "path", "stored", "desired"]);
        for d in &r.drift {
            let clip = |s: String| {
                if wide || s.chars().count() <= 60 {
                    s
                } else {
                    format!("{}…", s.chars().take(59).collect::<String>())
                }
            };
            dt.add_row(vec![
                sanitize(&d.object.to_string()),
                format!("{:?}", d.operation),
                sanitize(&d.path),
                clip(sanitize(&show(&d.stored))),
                clip(sanitize(&show(&d.desired))),
            ]);
        }
        for line in super::table_to_string(&dt).lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    if !r.findings.is_empty() {
        out.push_str("Findings:\n");
        for f in &r.findings {
            let sev = match f.severity {
                Severity::Error => p.bad("error  "),
                Severity::Warning => p.warn("warning"),
                Severity::Info => p.dim("info   "),
            };
            let obj = f.object.as_ref().map(|o| format!("{o}: ")).unwrap_or_default();
            out.push_str(&format!("  {sev} {}{}\n", sanitize(&obj), sanitize(&f.message)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::plan;
    use crate::reconcile::report::report;
    use crate::reconcile::snapshot_from_yaml;

    fn fixture(state: &str) -> Report {
        let path = format!("{}/tests/fixtures/states/{state}.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("${NAME}", "demo")
            .replace("${NAMESPACE}", "default");
        let snap = snapshot_from_yaml(&text, "default", "demo").unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2024-11-22T05:00:00Z").unwrap().to_utc();
        report(&snap, &plan(&snap, now), now)
    }

    #[test]
    fn object_text_shows_tree_drift_and_requeue_without_secret_values() {
        let r = fixture("ready-no-ca");
        let text = object_text(&r, false, Palette::new(false));
        assert!(text.contains("Cluster default/demo"), "{text}");
        assert!(text.contains("└─ CAPTControlPlane default/demo"), "{text}");
        assert!(text.contains("Secret default/demo-eks-connection"), "{text}");
        assert!(text.contains("keys: cluster_endpoint"), "{text}");
        assert!(text.contains("Requeue:   10s: SecretError"), "{text}");
        assert!(text.contains("status.conditions[Ready].reason"), "{text}");
        assert!(text.contains("HL1"), "{text}");
        assert!(!text.contains("TEST-KUBECONFIG-TOKEN") && !text.contains("TEST-CA-CERTIFICATE"), "{text}");
    }

    #[test]
    fn list_text_has_one_row_per_object() {
        let rows = vec![fixture("ready"), fixture("missing-template")];
        let text = list_text(&rows, true, true, Palette::new(false));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("NAMESPACE   NAME"), "{text}");
        assert!(lines[2].contains("Failed") && lines[2].contains("10s"), "{text}");
    }
}
