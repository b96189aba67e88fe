//! Condition upserts with apimachinery's rule: `lastTransitionTime` moves only when `status`
//! changes; reason, message and severity are overwritten in place.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::Condition;

/// The condition a pass wants: type, status and the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Want<'a> {
    pub type_: &'a str,
    pub status: bool,
    pub reason: &'a str,
    pub message: &'a str,
    /// Cluster API conditions carry a severity on False.
    pub severity: Option<&'a str>,
}

pub fn timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Returns `conditions` with `want` set, keeping every other condition as it was.
pub fn upsert(conditions: &[Condition], want: &Want, now: DateTime<Utc>) -> Vec<Condition> {
    let status = if want.status { "True" } else { "False" };
    let mut out = conditions.to_vec();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match out.iter_mut().find(|c| c.type_ == want.type_) {
        Some(c) => {
            if c.status != status || c.last_transition_time.is_none() {
                c.last_transition_time = Some(timestamp(now));
            }
            c.status = status.to_string();
            c.reason = opt(want.reason);
            c.message = opt(want.message);
            c.severity = want.severity.map(str::to_string);
        }
        None => out.push(Condition {
            type_: want.type_.to_string(),
            status: status.to_string(),
            severity: want.severity.map(str::to_string),
            reason: opt(want.reason),
            message: opt(want.message),
            last_transition_time: Some(timestamp(now)),
            observed_generation: None,
        }),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn transition_time_moves_only_on_status_change() {
        let t0 = Utc.with_ymd_and_hms(2024, 11, 22, 4, 0, 0).unwrap();
        let t1 = Utc.with_ymd_and_hms(2024, 11, 22, 5, 0, 0).unwrap();
        let w = Want { type_: "Ready", status: false, reason: "Creating", message: "a", severity: None };
        let c = upsert(&[], &w, t0);
        let c2 = upsert(&c, &Want { reason: "WorkspaceError", message: "b", ..w.clone() }, t1);
        assert_eq!(c2[0].last_transition_time.as_deref(), Some("2024-11-22T04:00:00Z"));
        assert_eq!(c2[0].reason.as_deref(), Some("WorkspaceError"));
        let c3 = upsert(&c2, &Want { status: true, ..w }, t1);
        assert_eq!(c3[0].last_transition_time.as_deref(), Some("2024-11-22T05:00:00Z"));
    }
}
