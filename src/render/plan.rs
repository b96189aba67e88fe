//! Views of reconcile passes: the plan as a diff per object, the one-line summary of a pass,
//! and the JSON/YAML document. Secret values never appear: fields under a Secret's `data` or
//! `stringData` are shown as `<redacted>` whatever the core put there.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Palette, sanitize};
use crate::reconcile::{FieldDiff, ObjectRef, Operation, Plan, SendMode, Write};

/// What shows in place of a Secret value.
pub const REDACTED: &str = "<redacted>";

/// What happened to one write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WriteResult {
    /// Client dry run: computed, not sent.
    Planned,
    /// Sent and stored.
    Applied,
    /// Server dry run: the API server accepted it (nothing stored).
    Accepted,
    /// The API server refused it.
    Rejected,
    /// 409: the object had changed; the pass re-read and re-planned.
    Conflict,
    /// Not sent (an earlier write failed or the pass was interrupted).
    NotMade,
}

impl WriteResult {
    pub fn as_str(&self) -> &'static str {
        match self {
            WriteResult::Planned => "planned",
            WriteResult::Applied => "applied",
            WriteResult::Accepted => "accepted",
            WriteResult::Rejected => "rejected",
            WriteResult::Conflict => "conflict",
            WriteResult::NotMade => "not made",
        }
    }
}

/// One write as reported: `{kind, namespace, name, operation, fields, result}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteReport {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub operation: Operation,
    pub fields: Vec<FieldDiff>,
    pub result: WriteResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl WriteReport {
    pub fn new(write: &Write, result: WriteResult) -> Self {
        WriteReport {
            kind: write.target.kind.clone(),
            namespace: write.target.namespace.clone(),
            name: write.target.name.clone(),
            operation: write.operation,
            fields: redact(&write.target, &write.fields),
            result,
            error: None,
        }
    }
    pub fn with_error(mut self, error: String) -> Self {
        self.error = Some(error);
        self
    }
    pub fn target(&self) -> ObjectRef {
        ObjectRef::new(&self.kind, self.namespace.as_deref(), &self.name)
    }
}

/// Field changes with every Secret value replaced by [`REDACTED`].
pub fn redact(target: &ObjectRef, fields: &[FieldDiff]) -> Vec<FieldDiff> {
    let secret = target.kind == "Secret";
    fields
        .iter()
        .map(|f| {
            let hide = secret && (is_under(&f.path, "data") || is_under(&f.path, "stringData"));
            let mask = |v: &Option<Value>| v.as_ref().map(|_| Value::String(REDACTED.into()));
            if hide {
                FieldDiff { path: f.path.clone(), stored: mask(&f.stored), desired: mask(&f.desired) }
            } else {
                f.clone()
            }
        })
        .collect()
}

fn is_under(path: &str, root: &str) -> bool {
    path == root || path.strip_prefix(root).is_some_and(|rest| rest.starts_with(['.', '[']))
}

/// One pass, as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassView {
    #[serde(serialize_with = "ser_time")]
    pub time: DateTime<Utc>,
    /// 1 + the number of conflict retries.
    pub attempts: u32,
    pub writes: Vec<WriteReport>,
    pub phase: Option<String>,
    pub requeue_after_seconds: Option<u64>,
    pub requeue_reason: String,
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

impl PassView {
    /// Writes that changed (or, in a server dry run, would change) the cluster.
    pub fn made(&self) -> usize {
        self.writes
            .iter()
            .filter(|w| matches!(w.result, WriteResult::Applied | WriteResult::Accepted))
            .count()
    }

    /// `10:00:05  2 writes  phase Ready  next 30s (ready)`.
    pub fn summary_line(&self) -> String {
        let writes = match self.made() {
            0 => "no writes".to_string(),
            1 => "1 write".to_string(),
            n => format!("{n} writes"),
        };
        let conflicts = match self.attempts.saturating_sub(1) {
            0 => String::new(),
            1 => "  (1 conflict retried)".into(),
            n => format!("  ({n} conflicts retried)"),
        };
        format!(
            "{}  {writes}  phase {}  next {}{conflicts}",
            self.time.format("%H:%M:%S"),
            self.phase.as_deref().unwrap_or("-"),
            requeue_text(self.requeue_after_seconds, &self.requeue_reason)
        )
    }
}

/// `30s (ready)`, or `none (deleted)` when the controller would not requeue.
pub fn requeue_text(after: Option<u64>, reason: &str) -> String {
    let reason = sanitize(reason);
    match after {
        Some(s) => format!("{s}s ({reason})"),
        None => format!("none ({reason})"),
    }
}

/// A pass view from a plan and what happened to its writes.
pub fn pass_view(time: DateTime<Utc>, attempts: u32, plan: &Plan, writes: Vec<WriteReport>) -> PassView {
    PassView {
        time,
        attempts,
        writes,
        phase: plan.phase.map(|p| p.as_str().to_string()).or_else(|| plan.status.phase.clone()),
        requeue_after_seconds: plan.requeue.after.map(|d| d.as_secs()),
        requeue_reason: plan.requeue.reason.clone(),
    }
}

/// The machine-readable document of a `reconcile` run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileDocument {
    pub namespace: String,
    pub name: String,
    /// `apply`, `client-dry-run`, `server-dry-run`.
    pub mode: &'static str,
    /// The writes of the last pass.
    pub writes: Vec<WriteReport>,
    pub phase: Option<String>,
    pub requeue_after_seconds: Option<u64>,
    pub requeue_reason: String,
    /// The other-writer guard's evidence (first pass).
    pub guard: Vec<crate::reconcile::guard::Evidence>,
    /// Every pass, with `--follow`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passes: Option<Vec<PassView>>,
}

/// The plan as a diff, one block per write:
///
/// ```text
/// ~ CAPTControlPlane team-a/demo  patch status
///     status.phase: "Creating" → "Ready"
/// + Secret team-a/demo-ca  create
///     data.ca.crt: <redacted>
/// ```
pub fn plan_diff(writes: &[WriteReport], palette: Palette) -> String {
    let mut out = String::new();
    for w in writes {
        let (mark, verb) = match w.operation {
            Operation::Create => (palette.good("+"), "create"),
            Operation::Patch => (palette.warn("~"), "patch"),
            Operation::PatchStatus => (palette.warn("~"), "patch status"),
            Operation::Delete => (palette.bad("-"), "delete"),
        };
        out.push_str(&format!("{mark} {}  {}\n", palette.bold(&sanitize(&w.target().to_string())), verb));
        if w.fields.is_empty() {
            out.push_str(&format!("    {}\n", palette.dim("(no field details)")));
        }
        for f in &w.fields {
            out.push_str(&format!("    {}\n", field_line(f, w.operation, palette)));
        }
    }
    out
}

fn field_line(f: &FieldDiff, op: Operation, palette: Palette) -> String {
    let path = sanitize(&f.path);
    match (&f.stored, &f.desired) {
        (_, Some(d)) if op == Operation::Create => format!("{path}: {}", palette.good(&value_text(d))),
        (Some(s), Some(d)) => {
            format!("{path}: {} → {}", palette.bad(&value_text(s)), palette.good(&value_text(d)))
        }
        (None, Some(d)) => format!("{path}: {} → {}", palette.dim("(absent)"), palette.good(&value_text(d))),
        (Some(s), None) => format!("{path}: {} → {}", palette.bad(&value_text(s)), palette.dim("(absent)")),
        (None, None) => format!("{path}: {}", palette.dim("(absent)")),
    }
}

/// Longest value shown inline; longer ones are cut with their length noted.
const MAX_VALUE: usize = 100;

fn value_text(v: &Value) -> String {
    let s = match v {
        Value::String(s) if s == REDACTED => return REDACTED.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    let s = sanitize(&s);
    if s.chars().count() > MAX_VALUE {
        let cut: String = s.chars().take(MAX_VALUE).collect();
        format!("{cut}… ({} chars)", s.chars().count())
    } else {
        s
    }
}

/// The verb of a write as the pass reports it.
pub fn op_text(op: Operation) -> &'static str {
    match op {
        Operation::Create => "create",
        Operation::Patch => "patch",
        Operation::PatchStatus => "patch status",
        Operation::Delete => "delete",
    }
}

/// The plan block printed before applying.
pub fn plan_text(object: &ObjectRef, planned: &[WriteReport], attempt: u32, palette: Palette) -> String {
    let head = if attempt > 1 { "Re-planned" } else { "Plan" };
    if planned.is_empty() {
        return format!("{head} for {}: in sync, no writes\n", sanitize(&object.to_string()));
    }
    let n = planned.len();
    format!(
        "{head} for {}: {n} write{}\n{}",
        sanitize(&object.to_string()),
        if n == 1 { "" } else { "s" },
        plan_diff(planned, palette)
    )
}

/// The closing lines of a single pass.
pub fn final_text(view: &PassView, mode: SendMode, palette: Palette) -> String {
    let mut out = String::new();
    match mode {
        SendMode::ClientDryRun => {
            if !view.writes.is_empty() {
                out.push_str("Dry run (client): nothing was sent.\n");
            }
        }
        SendMode::ServerDryRun => {
            for r in &view.writes {
                let result = match r.result {
                    WriteResult::Accepted => palette.good("accepted"),
                    _ => palette.bad(r.result.as_str()),
                };
                out.push_str(&format!(
                    "{result}  {} {}{}\n",
                    op_text(r.operation),
                    sanitize(&r.target().to_string()),
                    r.error.as_deref().map(|e| format!(": {}", sanitize(e))).unwrap_or_default()
                ));
            }
            if !view.writes.is_empty() {
                out.push_str("Dry run (server, dryRun=All): nothing was stored.\n");
            }
        }
        SendMode::Apply => match view.made() {
            0 => out.push_str("No writes: already in sync.\n"),
            n => out.push_str(&format!(
                "Applied {n} write{}{}.\n",
                if n == 1 { "" } else { "s" },
                match view.attempts {
                    1 => String::new(),
                    2 => " (after 1 conflict, re-planned)".to_string(),
                    a => format!(" (after {} conflicts, re-planned)", a - 1),
                }
            )),
        },
    }
    let next = match view.requeue_after_seconds {
        Some(s) => format!("next pass in {s}s: {}", sanitize(&view.requeue_reason)),
        None => format!("no requeue: {}", sanitize(&view.requeue_reason)),
    };
    out.push_str(&format!("Phase {}; {next}\n", view.phase.as_deref().unwrap_or("-")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{SecretBytes, WriteBody};
    use serde_json::json;

    fn change(path: &str, stored: Option<Value>, desired: Option<Value>) -> FieldDiff {
        FieldDiff { path: path.into(), stored, desired }
    }

    fn write(kind: &str, name: &str, operation: Operation, fields: Vec<FieldDiff>) -> Write {
        Write {
            target: ObjectRef::new(kind, Some("team-a"), name),
            operation,
            body: WriteBody::Json(json!({})),
            resource_version: None,
            fields,
        }
    }

    #[test]
    fn diff_shows_each_object_and_field() {
        let writes = vec![
            WriteReport::new(
                &write(
                    "CAPTControlPlane",
                    "demo",
                    Operation::PatchStatus,
                    vec![
                        change("status.phase", Some(json!("Creating")), Some(json!("Ready"))),
                        change("status.secretsReady", None, Some(json!(true))),
                        change("status.failureReason", Some(json!("SecretError")), None),
                    ],
                ),
                WriteResult::Planned,
            ),
            WriteReport::new(
                &write("WorkspaceTemplateApply", "demo-kubeconfig-apply", Operation::Create, vec![]),
                WriteResult::Planned,
            ),
        ];
        let text = plan_diff(&writes, Palette::new(false));
        assert_eq!(
            text,
            "~ CAPTControlPlane team-a/demo  patch status\n\
             \x20   status.phase: \"Creating\" → \"Ready\"\n\
             \x20   status.secretsReady: (absent) → true\n\
             \x20   status.failureReason: \"SecretError\" → (absent)\n\
             + WorkspaceTemplateApply team-a/demo-kubeconfig-apply  create\n\
             \x20   (no field details)\n"
        );
    }

    #[test]
    fn secret_values_are_redacted_even_if_the_core_leaks_them() {
        let mut w = write(
            "Secret",
            "demo-ca",
            Operation::Patch,
            vec![
                change("data.ca.crt", Some(json!("T0xEU0VDUkVU")), Some(json!("TkVXU0VDUkVU"))),
                change("data[tls.key]", None, Some(json!("LEAK"))),
                change("metadata.labels.app", None, Some(json!("capt"))),
                change("database", None, Some(json!("visible"))),
            ],
        );
        w.body = WriteBody::Secret {
            object: json!({}),
            data: [("ca.crt".to_string(), SecretBytes::new(b"NEWSECRET".to_vec()))].into(),
        };
        let rec = WriteReport::new(&w, WriteResult::Applied);
        let text = plan_diff(std::slice::from_ref(&rec), Palette::new(false));
        let doc = serde_json::to_string(&rec).unwrap();
        for leaked in ["T0xEU0VDUkVU", "TkVXU0VDUkVU", "LEAK", "NEWSECRET"] {
            assert!(!text.contains(leaked), "{text}");
            assert!(!doc.contains(leaked), "{doc}");
        }
        assert!(text.contains("data.ca.crt: <redacted> → <redacted>"), "{text}");
        assert!(text.contains("data[tls.key]: (absent) → <redacted>"), "{text}");
        assert!(text.contains("metadata.labels.app: (absent) → \"capt\""));
        assert!(text.contains("database: (absent) → \"visible\""));
    }

    #[test]
    fn long_and_hostile_values_are_cut_and_escaped() {
        let long = "x".repeat(300);
        let rec = WriteReport::new(
            &write(
                "Cluster",
                "demo\u{1b}[2J",
                Operation::Patch,
                vec![change("spec.controlPlaneEndpoint.host", None, Some(json!(long)))],
            ),
            WriteResult::Planned,
        );
        let text = plan_diff(&[rec], Palette::new(false));
        assert!(text.contains("demo\\u{1b}[2J"), "{text}");
        assert!(text.contains("… (302 chars)"), "{text}");
        assert!(!text.contains(&"x".repeat(101)));
    }

    #[test]
    fn summary_line_counts_made_writes() {
        let rec = |result| {
            WriteReport::new(&write("CAPTControlPlane", "demo", Operation::PatchStatus, vec![]), result)
        };
        let pass = PassView {
            time: DateTime::parse_from_rfc3339("2026-11-27T10:00:05Z").unwrap().to_utc(),
            attempts: 2,
            writes: vec![rec(WriteResult::Conflict), rec(WriteResult::Applied), rec(WriteResult::Applied)],
            phase: Some("Ready".into()),
            requeue_after_seconds: Some(30),
            requeue_reason: "ready".into(),
        };
        assert_eq!(
            pass.summary_line(),
            "10:00:05  2 writes  phase Ready  next 30s (ready)  (1 conflict retried)"
        );
        let idle = PassView { writes: vec![], attempts: 1, requeue_after_seconds: None, ..pass };
        assert_eq!(idle.summary_line(), "10:00:05  no writes  phase Ready  next none (ready)");
        let v = serde_json::to_value(&idle).unwrap();
        assert_eq!(v["time"], "2026-11-27T10:00:05Z");
        assert_eq!(v["requeueAfterSeconds"], Value::Null);
    }

    #[test]
    fn final_text_says_in_sync_and_when_next() {
        let view = PassView {
            time: DateTime::parse_from_rfc3339("2026-11-27T10:00:05Z").unwrap().to_utc(),
            attempts: 1,
            writes: vec![],
            phase: Some("Ready".into()),
            requeue_after_seconds: Some(30),
            requeue_reason: "ready".into(),
        };
        assert_eq!(
            final_text(&view, SendMode::Apply, Palette::new(false)),
            "No writes: already in sync.\nPhase Ready; next pass in 30s: ready\n"
        );
    }
}
