//! Kubernetes Events (core/v1 and events.k8s.io/v1), from `kubectl get events -o json`, a JSON
//! array, or a watch. An Event's `count` / `series.count` is cumulative: each record carries the
//! delta since the same Event was last seen (client-go dampens repeats, so counts are a floor).

use std::collections::HashMap;

use serde_json::Value;

use super::{EventRecord, ParseReport, Record, RecordBody, group_of, object_key, parse_time};

/// Whether a JSON object is an Event.
pub fn is_event(v: &Value) -> bool {
    let kind = v.get("kind").and_then(Value::as_str);
    (kind == Some("Event") || kind.is_none())
        && (v.get("involvedObject").is_some_and(Value::is_object)
            || v.get("regarding").is_some_and(Value::is_object))
}

#[derive(Default)]
pub struct EventState {
    counts: HashMap<String, u64>,
}

impl EventState {
    /// Reads one Event; `deleted` for a watch DELETED (not an occurrence).
    pub fn event(&mut self, v: &Value, line: u64, deleted: bool, report: &mut ParseReport) -> Option<Record> {
        report.count("event");
        let about = v.get("involvedObject").or_else(|| v.get("regarding")).filter(|o| o.is_object())?;
        let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(kind), Some(name)) = (s(about, "kind"), s(about, "name")) else {
            report.unknown.add(line);
            return None;
        };
        if deleted {
            report.ignored += 1;
            return None;
        }
        let meta = v.get("metadata");
        let id = meta
            .and_then(|m| s(m, "uid").or_else(|| Some(format!("{}/{}", s(m, "namespace")?, s(m, "name")?))))
            .unwrap_or_else(|| format!("{kind}/{name}/{}", s(v, "reason").unwrap_or_default()));
        let series = v.get("series");
        let total = series
            .and_then(|x| x.get("count"))
            .or_else(|| v.get("count"))
            .or_else(|| v.get("deprecatedCount"))
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1);
        let last = self.counts.insert(id, total);
        let delta = match last {
            Some(l) if total <= l => {
                report.ignored += 1;
                return None;
            }
            Some(l) => total - l,
            None => total,
        };
        let time = |k: &str, o: Option<&Value>| {
            o.and_then(|o| o.get(k)).and_then(Value::as_str).and_then(parse_time)
        };
        let at = time("lastObservedTime", series)
            .or_else(|| time("lastTimestamp", Some(v)))
            .or_else(|| time("deprecatedLastTimestamp", Some(v)))
            .or_else(|| time("eventTime", Some(v)))
            .or_else(|| time("creationTimestamp", meta));
        let first = if last.is_none() && delta > 1 {
            time("firstTimestamp", Some(v)).or_else(|| time("deprecatedFirstTimestamp", Some(v)))
        } else {
            None
        };
        Some(Record {
            at,
            line,
            body: RecordBody::Event(EventRecord {
                object: object_key(
                    group_of(about.get("apiVersion").and_then(Value::as_str).unwrap_or("")),
                    &kind,
                    about.get("namespace").and_then(Value::as_str),
                    &name,
                ),
                reason: s(v, "reason").unwrap_or_default(),
                count: delta,
                first,
                warning: v.get("type").and_then(Value::as_str) == Some("Warning"),
                source: v
                    .pointer("/source/component")
                    .or_else(|| v.get("reportingController"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn count(r: &Option<Record>) -> u64 {
        match r {
            Some(Record { body: RecordBody::Event(e), .. }) => e.count,
            _ => 0,
        }
    }

    #[test]
    fn counts_are_deltas() {
        let mut st = EventState::default();
        let mut rep = ParseReport::default();
        let ev = |n: u64| {
            json!({"kind": "Event", "metadata": {"name": "a.1", "namespace": "ns", "uid": "u1"},
                   "involvedObject": {"kind": "CAPTControlPlane", "namespace": "ns", "name": "a"},
                   "reason": "SecretError", "type": "Warning", "count": n,
                   "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z"})
        };
        let r = st.event(&ev(3), 1, false, &mut rep);
        assert_eq!(count(&r), 3);
        let Some(Record { body: RecordBody::Event(e), at, .. }) = &r else { panic!() };
        assert!(e.first.is_some() && e.warning && at.is_some());
        assert_eq!(e.object.to_string(), "CAPTControlPlane ns/a");
        assert_eq!(count(&st.event(&ev(3), 2, false, &mut rep)), 0);
        assert_eq!(count(&st.event(&ev(7), 3, false, &mut rep)), 4);
        assert_eq!(rep.ignored, 1);
    }

    #[test]
    fn events_k8s_io_series() {
        let mut st = EventState::default();
        let mut rep = ParseReport::default();
        let v = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "x", "namespace": "d"},
                       "regarding": {"kind": "Deployment", "namespace": "d", "name": "web"}, "reason": "ScalingReplicaSet",
                       "eventTime": "2026-01-01T00:00:00.000000Z", "series": {"count": 5, "lastObservedTime": "2026-01-01T00:05:00.000000Z"}});
        assert!(is_event(&v));
        let r = st.event(&v, 1, false, &mut rep).unwrap();
        assert_eq!(r.at, parse_time("2026-01-01T00:05:00Z"));
        assert_eq!(count(&Some(r)), 5);
    }

    #[test]
    fn event_without_object_name_is_unknown() {
        let mut st = EventState::default();
        let mut rep = ParseReport::default();
        assert!(st.event(&json!({"involvedObject": {"kind": "Pod"}}), 4, false, &mut rep).is_none());
        assert_eq!(rep.unknown.first_lines, vec![4]);
    }
}
