//! Watch dumps (`kubectl get -w --output-watch-events -o json|yaml`, also without
//! `--output-watch-events`) and plain object lists. Each new version of an object is a write:
//! its changed field paths come from a diff against the previous version (resourceVersion and
//! managedFields bookkeeping ignored), its writer and time from the newest managedFields entry.
//! The first version of an object is its baseline, and a repeated resourceVersion (a relist)
//! is not a write.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::fields::{self, Leaves};
use super::{
    ObjectKey, ParseReport, Record, RecordBody, SeenRecord, Verb, WriteRecord, Writer, group_of, object_key,
    parse_time,
};

/// A watch event's type, or `None` for a bare object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

/// `{"type": ..., "object": {...}}`: the type and the object.
pub fn as_watch_event(v: &Value) -> Option<(Option<EventType>, &Value)> {
    let t = v.get("type")?.as_str()?;
    let obj = v.get("object").filter(|o| o.is_object())?;
    let t = match t {
        "ADDED" => Some(EventType::Added),
        "MODIFIED" => Some(EventType::Modified),
        "DELETED" => Some(EventType::Deleted),
        _ => None,
    };
    Some((t, obj))
}

/// Whether a JSON object is a Kubernetes object (kind, metadata.name).
pub fn is_object(v: &Value) -> bool {
    v.get("kind").is_some_and(Value::is_string) && v.pointer("/metadata/name").is_some_and(Value::is_string)
}

/// Items of a raw API list carry no `kind`/`apiVersion`; their `metadata.selfLink` (older
/// servers) names the resource: fill them in from it.
pub fn with_kind_from_self_link(mut v: Value) -> Value {
    if v.get("kind").is_some() {
        return v;
    }
    let Some(link) = v.pointer("/metadata/selfLink").and_then(Value::as_str) else { return v };
    let parts: Vec<&str> = link.trim_start_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return v,
    };
    let resource = match rest {
        ["namespaces", _, resource, _name, ..] | [resource, _name] => *resource,
        _ => return v,
    };
    let kind = super::kind_for_resource(resource, group);
    let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    if let Some(m) = v.as_object_mut() {
        m.insert("kind".into(), Value::String(kind));
        m.entry("apiVersion").or_insert(Value::String(api_version));
    }
    v
}

struct Version {
    uid: Option<String>,
    resource_version: Option<String>,
    leaves: Leaves,
}

#[derive(Default)]
pub struct WatchState {
    objects: HashMap<ObjectKey, Version>,
    paths: fields::PathPool,
    /// Names deleted in this dump: a new version of one is a create (recreate), not a baseline.
    deleted: HashSet<ObjectKey>,
}

impl WatchState {
    /// Reads one version of an object. `kind` is the object's kind (a List item may lack it;
    /// the caller passes what it knows).
    pub fn version(
        &mut self,
        obj: &Value,
        event: Option<EventType>,
        line: u64,
        report: &mut ParseReport,
    ) -> Option<Record> {
        report.count(if event.is_some() { "watch" } else { "object" });
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let (Some(kind), Some(name)) = (s("/kind"), s("/metadata/name")) else {
            report.unknown.add(line);
            return None;
        };
        let object =
            object_key(group_of(s("/apiVersion").unwrap_or("")), kind, s("/metadata/namespace"), name);
        let secret = kind == "Secret";
        let leaves = fields::flatten(obj, secret);
        let rv = s("/metadata/resourceVersion").map(str::to_string);
        let uid = s("/metadata/uid").map(str::to_string);
        let mut state = super::objects::state_of(obj);
        if secret {
            // A Secret has no phase; one in a hostile dump would be a value.
            state.phase = None;
        }
        let (manager_time, writer, operation, subresource) = newest_manager(obj);
        let deleted = event == Some(EventType::Deleted);
        let prev = self.objects.get(&object);
        let record = match prev {
            None if !deleted && self.deleted.remove(&object) => Some(Record {
                at: manager_time.or_else(|| s("/metadata/creationTimestamp").and_then(parse_time)),
                line,
                body: RecordBody::Write(WriteRecord {
                    object: object.clone(),
                    verb: Verb::Create,
                    subresource,
                    writer,
                    fields: Default::default(),
                    operation,
                    state,
                }),
            }),
            None if !deleted => {
                let at = manager_time.or_else(|| s("/metadata/creationTimestamp").and_then(parse_time));
                Some(Record {
                    at,
                    line,
                    body: RecordBody::Seen(SeenRecord { object: object.clone(), state }),
                })
            }
            Some(p)
                if !deleted && p.resource_version.is_some() && p.resource_version == rv && p.uid == uid =>
            {
                report.ignored += 1;
                None
            }
            _ => {
                let recreated = prev.is_some_and(|p| p.uid.is_some() && uid.is_some() && p.uid != uid);
                let verb = if deleted {
                    Verb::Delete
                } else if recreated {
                    Verb::Create
                } else {
                    Verb::Update
                };
                let changed = match prev {
                    Some(p) if !deleted && !recreated => fields::diff(&p.leaves, &leaves),
                    _ => Default::default(),
                };
                let at = if deleted {
                    s("/metadata/deletionTimestamp").and_then(parse_time).or(manager_time)
                } else {
                    manager_time
                };
                Some(Record {
                    at,
                    line,
                    body: RecordBody::Write(WriteRecord {
                        object: object.clone(),
                        verb,
                        subresource,
                        writer,
                        fields: changed,
                        operation,
                        state,
                    }),
                })
            }
        };
        if deleted {
            self.objects.remove(&object);
            self.deleted.insert(object);
        } else if record.is_some() {
            let leaves = fields::to_map(&leaves, &mut self.paths);
            self.objects.insert(object, Version { uid, resource_version: rv, leaves });
        }
        record
    }
}

/// The managedFields entry written last: its time, manager and subresource.
fn newest_manager(obj: &Value) -> (Option<DateTime<Utc>>, Writer, String, Option<String>) {
    let entries = obj.pointer("/metadata/managedFields").and_then(Value::as_array);
    let newest = entries
        .into_iter()
        .flatten()
        .filter_map(|e| Some((parse_time(e.get("time")?.as_str()?)?, e)))
        .max_by_key(|(t, _)| *t);
    match newest {
        Some((t, e)) => {
            let manager = e.get("manager").and_then(Value::as_str).map(str::to_string);
            let op = e.get("operation").and_then(Value::as_str).unwrap_or("Update").to_string();
            let sub =
                e.get("subresource").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
            (Some(t), Writer { manager, ..Writer::default() }, op, sub)
        }
        None => (None, Writer::default(), "Update".to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{Changes, FieldChange};
    use serde_json::json;

    fn version(rv: &str, reason: &str, t: &str, manager: &str) -> Value {
        json!({"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1", "kind": "CAPTControlPlane",
               "metadata": {"name": "a", "namespace": "ns", "uid": "u", "resourceVersion": rv, "generation": 1,
                            "managedFields": [{"manager": manager, "operation": "Update", "subresource": "status", "time": t}]},
               "status": {"conditions": [{"type": "Ready", "reason": reason}]}})
    }

    #[test]
    fn versions_become_writes_with_diffs() {
        let mut st = WatchState::default();
        let mut rep = ParseReport::default();
        let r1 = st.version(
            &version("1", "Ready", "2026-01-01T00:00:00Z", "m"),
            Some(EventType::Added),
            1,
            &mut rep,
        );
        assert!(matches!(r1, Some(Record { body: RecordBody::Seen(_), .. })));
        let r2 = st
            .version(
                &version("2", "SecretError", "2026-01-01T00:00:01Z", "legacy"),
                Some(EventType::Modified),
                9,
                &mut rep,
            )
            .unwrap();
        let RecordBody::Write(w) = &r2.body else { panic!("not a write") };
        assert_eq!(w.verb, Verb::Update);
        assert_eq!(w.writer.manager.as_deref(), Some("legacy"));
        assert_eq!(w.subresource.as_deref(), Some("status"));
        assert_eq!(w.state.generation, Some(1));
        assert_eq!(w.operation, "Update");
        assert_eq!(
            w.fields,
            Changes::from(vec![FieldChange::new(
                "status.conditions[Ready].reason",
                Some("SecretError".into())
            )])
        );
        assert_eq!(r2.at, parse_time("2026-01-01T00:00:01Z"));
        // A relist of the same resourceVersion is not a write.
        let again = version("2", "SecretError", "2026-01-01T00:00:01Z", "legacy");
        assert!(st.version(&again, Some(EventType::Added), 20, &mut rep).is_none());
        assert_eq!(rep.ignored, 1);
        let del = st.version(&again, Some(EventType::Deleted), 30, &mut rep).unwrap();
        assert!(matches!(del.body, RecordBody::Write(WriteRecord { verb: Verb::Delete, .. })));
    }

    #[test]
    fn shapes() {
        let v = json!({"type": "MODIFIED", "object": {"kind": "X", "metadata": {"name": "n"}}});
        let (t, o) = as_watch_event(&v).unwrap();
        assert_eq!(t, Some(EventType::Modified));
        assert!(is_object(o));
        assert!(!is_object(&json!({"kind": "X"})));
    }

    #[test]
    fn kind_from_self_link() {
        let v = with_kind_from_self_link(
            json!({"metadata": {"name": "d", "selfLink": "/apis/apps/v1beta2/namespaces/kube-system/deployments/d"}}),
        );
        assert_eq!(v["kind"], "Deployment");
        assert_eq!(v["apiVersion"], "apps/v1beta2");
        let v = with_kind_from_self_link(json!({"metadata": {"name": "n", "selfLink": "/api/v1/nodes/n"}}));
        assert_eq!(v["kind"], "Node");
        let v = with_kind_from_self_link(json!({"metadata": {"name": "n", "selfLink": "/weird"}}));
        assert!(v.get("kind").is_none());
    }

    #[test]
    fn object_without_name_is_unknown() {
        let mut st = WatchState::default();
        let mut rep = ParseReport::default();
        assert!(st.version(&json!({"kind": "X", "metadata": {}}), None, 3, &mut rep).is_none());
        assert_eq!(rep.unknown.count, 1);
    }
}
