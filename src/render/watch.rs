//! The text views of `watch`: the sources header, one line per verdict change, the findings
//! table with its sparkline.

use std::collections::BTreeMap;

use comfy_table::Cell;

use super::{Palette, palette, sanitize, spark};
use crate::detect::{Detector, Finding, VerdictChange};
use crate::observe::{SourceState, rfc3339};

/// `sources: captcontrolplanes watching · logs unavailable (403 on pods/log) · …`
pub fn header(states: &BTreeMap<String, SourceState>, palette: Palette) -> String {
    let parts: Vec<String> = states
        .iter()
        .map(|(name, state)| {
            let short = name.split('.').next().unwrap_or(name);
            let text = sanitize(&format!("{short}: {state}"));
            match state {
                SourceState::Watching | SourceState::Done(_) => text,
                SourceState::Unavailable(_) => palette.warn(&text),
                SourceState::Reconnecting { .. } => palette.bad(&text),
                _ => palette.dim(&text),
            }
        })
        .collect();
    format!("sources: {}\n", parts.join(" · "))
}

/// One line per verdict change, or per cause change of an object that stays HOT or ELEVATED
/// (not a terminal).
pub fn change_line(detector: &Detector, change: &VerdictChange, palette: Palette) -> String {
    let evidence = detector
        .finding(&change.object, change.at)
        .and_then(|f| f.evidence.first().cloned())
        .map(|e| format!(": {}", sanitize(&e)))
        .unwrap_or_default();
    let to = palette.verdict(change.to, change.to.as_str());
    let cause = |c: Option<crate::detect::Cause>| c.map_or("-", |c| c.as_str());
    let what = if change.cause_only() {
        format!("{to}, cause {} → {}", cause(change.previous_cause), cause(change.cause))
    } else {
        format!("{} → {to}{}", change.from, change.cause.map(|c| format!(" {c}")).unwrap_or_default())
    };
    format!("{} {} {what}{evidence}\n", rfc3339(change.at), sanitize(&change.object.to_string()))
}

/// A sparkline of `values` scaled to their maximum (blank for zero, trailing blanks trimmed):
/// any activity shows at least the lowest bar.
pub fn sparkline(values: &[u32]) -> String {
    let values: Vec<f64> = values.iter().copied().map(f64::from).collect();
    spark::line(&values, spark::Bars::AtLeastOne).trim_end().to_string()
}

fn rate(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// The findings table.
pub fn table(findings: &[Finding], wide: bool, palette: Palette) -> String {
    let mut headers = vec![
        "kind",
        "name",
        "phase",
        "writes/min",
        "passes/min",
        "events/min",
        "expected",
        "verdict",
        "cause",
        "last 5m",
    ];
    if wide {
        headers.extend(["managers", "evidence"]);
    }
    let mut t = super::table(&headers);
    if palette.enabled {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    for f in findings {
        let name = match &f.namespace {
            Some(ns) => format!("{ns}/{}", f.name),
            None => f.name.clone(),
        };
        let verdict = if f.verdict == f.peak_verdict {
            f.verdict.to_string()
        } else {
            format!("{} (was {})", f.verdict, f.peak_verdict)
        };
        let mut verdict_cell = Cell::new(verdict);
        if palette.enabled {
            verdict_cell = verdict_cell.fg(palette::verdict_color(f.verdict));
        }
        let mut row = vec![
            Cell::new(sanitize(&f.kind)),
            Cell::new(sanitize(&name)),
            Cell::new(sanitize(f.phase.as_deref().unwrap_or("-"))),
            Cell::new(rate(f.writes_per_minute)),
            Cell::new(rate(f.reconciles_per_minute)),
            Cell::new(rate(f.events_per_minute)),
            Cell::new(f.expected_interval_seconds.map_or("-".into(), |s| format!("{s}s"))),
            verdict_cell,
            Cell::new(f.cause.map_or("-".into(), |c| c.to_string())),
            Cell::new(sparkline(&f.series)),
        ];
        if wide {
            let managers: Vec<String> =
                f.managers.iter().map(|m| format!("{} ({})", m.manager, m.writes)).collect();
            row.push(Cell::new(sanitize(&managers.join(", "))));
            row.push(Cell::new(sanitize(&f.evidence.join("; "))));
        }
        t.add_row(row);
    }
    super::table_to_string(&t)
}

/// The `k`th write of an HL1 loop at `at`: the status alternates Ready and SecretError, by
/// legacy-capt-manager (for the view tests here and in `live`).
#[cfg(test)]
pub(crate) fn hl1_write(
    at: crate::observe::Millis,
    k: i64,
    key: &crate::observe::ObjectKey,
) -> crate::observe::Observation {
    use crate::observe::{FieldChange, Manager, ObjectState, Observation, ObservedWrite};
    let reason = if k % 2 == 0 { "Ready" } else { "SecretError" };
    let write = ObservedWrite {
        state: ObjectState {
            phase: Some(if k % 2 == 0 { "Ready" } else { "Failed" }.into()),
            ..Default::default()
        },
        manager: Some(Manager {
            name: "legacy-capt-manager".into(),
            operation: "Update".into(),
            subresource: Some("status".into()),
            time: None,
        }),
        changes: vec![FieldChange::new("status.conditions[Ready].reason", Some(reason.into()))].into(),
        ..Default::default()
    };
    Observation::write(at, key.clone(), write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Config;
    use crate::observe::ObjectKey;

    #[test]
    fn sparklines_scale_to_the_maximum() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8]), " ▁▂▄█");
        assert_eq!(sparkline(&[0, 0]), "");
        assert_eq!(sparkline(&[3, 0, 0]), "█");
    }

    #[test]
    fn header_names_unavailable_sources() {
        let mut s = BTreeMap::new();
        s.insert("captcontrolplanes.controlplane.cluster.x-k8s.io".to_string(), SourceState::Watching);
        s.insert("logs".to_string(), SourceState::Unavailable("403 on pods/log".into()));
        assert_eq!(
            header(&s, Palette::new(false)),
            "sources: captcontrolplanes: watching · logs: unavailable (403 on pods/log)\n"
        );
    }

    #[test]
    fn table_and_change_lines() {
        let mut d = Detector::new(Config::default());
        let key = ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", Some("demo"), "a");
        let t0 = 1_800_000_000_000;
        let mut changes = Vec::new();
        for k in 0..40i64 {
            changes.extend(d.observe(&hl1_write(t0 + k * 50, k, &key)));
        }
        let line = change_line(&d, changes.last().unwrap(), Palette::new(false));
        assert!(line.starts_with("2027-01-15T08:00:01.500Z CAPTControlPlane demo/a ELEVATED → HOT status-flip-flop: status.conditions[Ready].reason alternates"), "{line}");
        let text = table(&d.findings(t0 + 2_000), false, Palette::new(false));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("KIND"), "{text}");
        assert!(
            lines[1].contains("demo/a")
                && lines[1].contains("HOT")
                && lines[1].contains("status-flip-flop")
                && lines[1].contains("10s"),
            "{text}"
        );
        assert!(lines[1].ends_with('█'), "{text}");
    }
}
