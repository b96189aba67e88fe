//! Turns successive versions of Kubernetes objects (watch events, watch dumps) and Events into
//! [`Observation`]s: what changed, who wrote it, whether `generation` moved. Pure: JSON and a
//! time in, observations out.
//!
//! Secret values are never kept: for Secrets only a hash of each field is held (to tell which
//! keys changed) and every reported value is `None`.

use std::collections::HashMap;

use serde_json::Value;

use super::body::Keep;
use super::group_of;
use crate::hash::{FxBuild, hash_str};
use crate::observe::{Changes, Manager, Millis, ObjectKey, ObjectState, Observation, ObservedWrite};

/// Longest value text reported as is.
const SHORT: usize = 64;
/// Paths kept per object; the rest are summarised in one hash.
const MAX_PATHS: usize = 2000;

/// The object's key from its `apiVersion`, `kind` and metadata.
pub fn key_of(obj: &Value) -> Option<ObjectKey> {
    let kind = obj.get("kind")?.as_str()?;
    let meta = obj.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    let ns = meta.get("namespace").and_then(Value::as_str);
    Some(ObjectKey::new(
        group_of(obj.get("apiVersion").and_then(Value::as_str).unwrap_or("")),
        kind,
        ns,
        name,
    ))
}

fn is_secret(key: &ObjectKey) -> bool {
    key.kind == "Secret" && key.group.is_empty()
}

/// A managedFields entry, its strings interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    manager: u32,
    operation: u32,
    subresource: Option<u32>,
    time: Option<Millis>,
    fields: u64,
}

/// What is kept of an object's last version: enough to tell which fields the next one changes
/// and who changed them. Compact (a watch holds one per object of the cluster): interned paths
/// and hashes of values, never the values.
#[derive(Clone, Debug, Default)]
struct Version {
    resource_version: Option<Box<str>>,
    /// (path id, hash of the value), sorted by path id.
    fields: Box<[(u32, u64)]>,
    managers: Box<[Entry]>,
}

/// Strings seen in every object (field paths, manager names) stored once.
#[derive(Debug, Default)]
struct Names {
    ids: HashMap<Box<str>, u32, FxBuild>,
    names: Vec<Box<str>>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// One leaf of the version being read: its path, the hash of its text, and the value to show
/// if it changed (`None` for Secrets).
struct Leaf<'a> {
    path: u32,
    hash: u64,
    value: Shown<'a>,
}

enum Shown<'a> {
    Hidden,
    Value(&'a Value),
    /// The summary of the paths over the cap.
    Text(String),
}

/// A fold over object versions.
#[derive(Debug, Default)]
pub struct ObjectTracker {
    /// By [`cache_key`]: one string, not an [`ObjectKey`]'s four.
    cache: HashMap<Box<str>, Version, FxBuild>,
    paths: Names,
    managers: Names,
    scratch: String,
}

/// `group`, `kind`, `namespace`, `name`, joined by a separator no name contains.
fn cache_key(out: &mut String, key: &ObjectKey) {
    out.clear();
    for part in [&key.group, &key.kind, key.namespace.as_deref().unwrap_or_default(), &key.name] {
        out.push_str(part);
        out.push('\u{1f}');
    }
}

impl ObjectTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Objects currently known.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// A version seen by a list or relist: remembered, reported as a baseline (never a write).
    pub fn baseline(&mut self, at: Millis, obj: &Value) -> Option<Observation> {
        let key = key_of(obj)?;
        let leaves = self.leaves(&key, obj);
        let version = self.version_of(obj, &leaves);
        let state = state_of(obj);
        self.remember(&key, version);
        Some(Observation::baseline(at, key, state))
    }

    /// A version seen as ADDED or MODIFIED on a running watch: a write (a create when the object
    /// was unknown). A repeat of the known resourceVersion is not a write.
    pub fn applied(&mut self, at: Millis, obj: &Value) -> Option<Observation> {
        let key = key_of(obj)?;
        let rv = obj.pointer("/metadata/resourceVersion").and_then(Value::as_str);
        cache_key(&mut self.scratch, &key);
        let old = self.cache.get(self.scratch.as_str());
        if let (Some(old), Some(rv)) = (old, rv)
            && old.resource_version.as_deref() == Some(rv)
        {
            return None;
        }
        let leaves = self.leaves(&key, obj);
        let new = self.version_of(obj, &leaves);
        cache_key(&mut self.scratch, &key);
        let old = self.cache.get(self.scratch.as_str());
        let changes = self.diff(old.map(|o| &o.fields[..]).unwrap_or_default(), &leaves);
        let status = self.managers.ids.get("status").copied();
        let manager =
            writer(old.map(|o| &o.managers[..]).unwrap_or_default(), &new.managers, &changes, status).map(
                |e| Manager {
                    name: self.managers.name(e.manager).to_string(),
                    operation: self.managers.name(e.operation).to_string(),
                    subresource: e.subresource.map(|s| self.managers.name(s).to_string()),
                    time: e.time,
                },
            );
        let write = ObservedWrite { state: state_of(obj), create: old.is_none(), manager, changes };
        self.remember(&key, new);
        Some(Observation::write(at, key, write))
    }

    /// A DELETED event.
    pub fn deleted(&mut self, at: Millis, obj: &Value) -> Option<Observation> {
        let key = key_of(obj)?;
        cache_key(&mut self.scratch, &key);
        self.cache.remove(self.scratch.as_str());
        Some(Observation::delete(at, key))
    }

    fn remember(&mut self, key: &ObjectKey, version: Version) {
        cache_key(&mut self.scratch, key);
        match self.cache.get_mut(self.scratch.as_str()) {
            Some(v) => *v = version,
            None => {
                self.cache.insert(self.scratch.as_str().into(), version);
            }
        }
    }

    /// The object's leaves, sorted by path id; over [`MAX_PATHS`], the rest summarised in one.
    fn leaves<'a>(&mut self, key: &ObjectKey, obj: &'a Value) -> Vec<Leaf<'a>> {
        let mut raw = Vec::new();
        let secret = is_secret(key);
        let mut path = String::new();
        if let Value::Object(map) = obj {
            for (k, v) in map {
                if matches!(k.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                path.clear();
                path.push_str(k);
                flatten(&mut path, v, &mut self.paths, &mut raw);
            }
        }
        let mut rest = 0u64;
        let mut over = 0usize;
        if raw.len() > MAX_PATHS {
            let tail = raw.split_off(MAX_PATHS - 1);
            over = tail.len();
            rest = tail.iter().fold(0u64, |a, (p, h, _)| a.wrapping_add(hash_str(self.paths.name(*p)) ^ h));
        }
        let mut out: Vec<Leaf<'a>> = raw
            .into_iter()
            .map(|(path, hash, v)| Leaf {
                path,
                hash,
                value: if secret { Shown::Hidden } else { Shown::Value(v) },
            })
            .collect();
        if over > 0 {
            let value = if secret { Shown::Hidden } else { Shown::Text(format!("{over} more fields")) };
            out.push(Leaf { path: self.paths.id("…"), hash: rest, value });
        }
        out.sort_by_key(|l| l.path);
        out
    }

    fn version_of(&mut self, obj: &Value, leaves: &[Leaf<'_>]) -> Version {
        let names = &mut self.managers;
        let managers = obj
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .map(|entries| {
                let text =
                    |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                entries
                    .iter()
                    .map(|e| Entry {
                        manager: names.id(&text(e, "manager")),
                        operation: names.id(&text(e, "operation")),
                        subresource: e
                            .get("subresource")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                            .map(|s| names.id(s)),
                        time: e.get("time").and_then(Value::as_str).and_then(super::logs::parse_time),
                        fields: e.get("fieldsV1").map_or(0, |f| hash_str(&f.to_string())),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Version {
            resource_version: obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(Box::from),
            fields: leaves.iter().map(|l| (l.path, l.hash)).collect(),
            managers,
        }
    }

    /// The fields of `new` that differ from `old` (both sorted by path id), with their new values,
    /// and the fields it no longer has; in path order.
    fn diff(&self, old: &[(u32, u64)], new: &[Leaf<'_>]) -> Changes {
        let mut out = Changes::default();
        let (mut i, mut j) = (0, 0);
        let changed =
            |out: &mut Changes, l: &Leaf<'_>| out.push(self.paths.name(l.path), shown(&l.value).as_deref());
        while i < old.len() || j < new.len() {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a.0 == b.path => {
                    if a.1 != b.hash {
                        changed(&mut out, b);
                    }
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a.0 < b.path => {
                    out.push(self.paths.name(a.0), None);
                    i += 1;
                }
                (Some(_), Some(b)) | (None, Some(b)) => {
                    changed(&mut out, b);
                    j += 1;
                }
                (Some(a), None) => {
                    out.push(self.paths.name(a.0), None);
                    i += 1;
                }
                (None, None) => break,
            }
        }
        out.sorted()
    }
}

fn shown(v: &Shown<'_>) -> Option<String> {
    match v {
        Shown::Hidden => None,
        Shown::Value(v) => Some(match v {
            Value::String(s) => short(s),
            other => short(&other.to_string()),
        }),
        Shown::Text(t) => Some(t.clone()),
    }
}

/// `status.phase`, else the Ready condition's reason (or status), when the object has them.
pub fn phase_of(obj: &Value) -> Option<String> {
    let status = obj.get("status")?;
    if let Some(p) = status.get("phase").and_then(Value::as_str) {
        return Some(p.to_string());
    }
    let ready = status
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))?;
    let s = ready.get("reason").or_else(|| ready.get("status"))?.as_str()?;
    Some(s.to_string())
}

/// Every field [`state_of`] reads (with [`phase_of`]): an audit body is turned into a `Value`
/// of these only (`Body::select`).
pub const STATE_FIELDS: &[(&str, Keep)] = &[
    ("kind", Keep::All),
    ("apiVersion", Keep::All),
    (
        "metadata",
        Keep::Members(&[
            ("ownerReferences", Keep::All),
            ("namespace", Keep::All),
            ("generation", Keep::All),
            ("resourceVersion", Keep::All),
        ]),
    ),
    (
        "status",
        Keep::Members(&[("phase", Keep::All), ("conditions", Keep::All), ("workspaceName", Keep::All)]),
    ),
];

/// What the detector needs of an object's state. Reads only [`STATE_FIELDS`].
pub fn state_of(obj: &Value) -> ObjectState {
    let meta = obj.get("metadata");
    let owner = meta.and_then(|m| m.get("ownerReferences")).and_then(Value::as_array).and_then(|refs| {
        let r =
            refs.iter().find(|r| r.get("controller") == Some(&Value::Bool(true))).or_else(|| refs.first())?;
        let ns = meta.and_then(|m| m.get("namespace")).and_then(Value::as_str);
        Some(ObjectKey::new(
            group_of(r.get("apiVersion").and_then(Value::as_str).unwrap_or("")),
            r.get("kind")?.as_str()?,
            ns,
            r.get("name")?.as_str()?,
        ))
    });
    ObjectState {
        phase: phase_of(obj),
        generation: meta.and_then(|m| m.get("generation")).and_then(Value::as_i64),
        resource_version: meta
            .and_then(|m| m.get("resourceVersion"))
            .and_then(Value::as_str)
            .map(str::to_string),
        owner,
        names: named_workspace(obj),
    }
}

/// The Workspace a WorkspaceTemplateApply names in `status.workspaceName`.
fn named_workspace(obj: &Value) -> Option<ObjectKey> {
    use crate::model::{CaptKind, Workspace, WorkspaceTemplateApply};
    let (wta, ws) = (WorkspaceTemplateApply::INFO, Workspace::INFO);
    if obj.get("kind")?.as_str()? != wta.kind || group_of(obj.get("apiVersion")?.as_str()?) != wta.group {
        return None;
    }
    let name = obj.pointer("/status/workspaceName")?.as_str().filter(|n| !n.is_empty())?;
    Some(ObjectKey::new(ws.group, ws.kind, None, name))
}

fn skipped(path: &str) -> bool {
    matches!(
        path,
        "metadata.resourceVersion"
            | "metadata.managedFields"
            | "metadata.generation"
            | "metadata.creationTimestamp"
            | "metadata.uid"
            | "metadata.selfLink"
            | "metadata.name"
            | "metadata.namespace"
    )
}

/// Appends the leaves under `path` (extended in place: no allocation per node) as
/// (path id, hash of the value's text, value).
fn flatten<'a>(path: &mut String, v: &'a Value, names: &mut Names, out: &mut Vec<(u32, u64, &'a Value)>) {
    if skipped(path) || out.len() > MAX_PATHS {
        return;
    }
    let len = path.len();
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                path.push('.');
                path.push_str(k);
                flatten(path, child, names, out);
                path.truncate(len);
            }
        }
        Value::Array(items)
            if path.ends_with("conditions") && items.iter().all(|c| c.get("type").is_some()) =>
        {
            for c in items {
                let t = c.get("type").and_then(Value::as_str).unwrap_or("?");
                path.push('[');
                path.push_str(t);
                path.push(']');
                flatten(path, c, names, out);
                path.truncate(len);
            }
        }
        Value::String(s) => out.push((names.id(path), hash_str(s), v)),
        leaf => out.push((names.id(path), hash_str(&leaf.to_string()), v)),
    }
}

fn short(text: &str) -> String {
    if text.chars().count() <= SHORT {
        text.to_string()
    } else {
        let head: String = text.chars().take(32).collect();
        format!("{head}…#{:08x}", hash_str(text) as u32)
    }
}

/// Who made this write: the managedFields entry that is new or changed (latest time first);
/// when none changed (same second, same fields), the latest entry for the part that changed
/// (the status subresource for status changes).
fn writer(old: &[Entry], new: &[Entry], changes: &Changes, status: Option<u32>) -> Option<Entry> {
    let changed: Vec<&Entry> = new.iter().filter(|e| !old.contains(e)).collect();
    fn pick<'a>(c: &[&'a Entry]) -> Option<&'a Entry> {
        c.iter().max_by_key(|e| e.time).copied()
    }
    let status_change = !changes.is_empty() && changes.iter().all(|c| c.path.starts_with("status"));
    let by_part: Vec<&Entry> = new
        .iter()
        .filter(|e| (e.subresource.is_some() && e.subresource == status) == status_change)
        .collect();
    pick(&changed).or_else(|| pick(&by_part)).or_else(|| new.iter().max_by_key(|e| e.time)).copied()
}

/// A fold over core/v1 (or events.k8s.io/v1) Events: each new occurrence becomes an
/// [`Observation::events`] about the regarding object.
#[derive(Debug, Default)]
pub struct EventTracker {
    counts: HashMap<String, u64, FxBuild>,
}

impl EventTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// An Event seen by a list or relist: its count is remembered, nothing is reported.
    pub fn baseline(&mut self, ev: &Value) {
        if let Some(id) = event_id(ev) {
            self.counts.insert(id, event_count(ev));
        }
    }

    /// An Event ADDED or MODIFIED on a running watch: the new occurrences.
    pub fn applied(&mut self, at: Millis, ev: &Value) -> Option<Observation> {
        let id = event_id(ev)?;
        let count = event_count(ev);
        let before = self.counts.insert(id, count).unwrap_or(0);
        let delta = count.saturating_sub(before);
        if delta == 0 {
            return None;
        }
        let object = regarding(ev)?;
        let reason = ev.get("reason").and_then(Value::as_str).map(str::to_string);
        Some(Observation::events(at, object, delta.min(u64::from(u32::MAX)) as u32, reason))
    }

    pub fn deleted(&mut self, ev: &Value) {
        if let Some(id) = event_id(ev) {
            self.counts.remove(&id);
        }
    }
}

fn event_id(ev: &Value) -> Option<String> {
    let m = ev.get("metadata")?;
    m.get("uid")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| Some(format!("{}/{}", m.get("namespace")?.as_str()?, m.get("name")?.as_str()?)))
}

/// `series.count` (events.k8s.io, or core/v1 `series`), else `count`, else 1.
pub fn event_count(ev: &Value) -> u64 {
    ev.pointer("/series/count")
        .and_then(Value::as_u64)
        .or_else(|| ev.get("count").and_then(Value::as_u64))
        .or_else(|| ev.get("deprecatedCount").and_then(Value::as_u64))
        .unwrap_or(1)
        .max(1)
}

/// The object an Event is about (`involvedObject` or `regarding`).
pub fn regarding(ev: &Value) -> Option<ObjectKey> {
    let r = ev.get("involvedObject").or_else(|| ev.get("regarding"))?;
    Some(ObjectKey::new(
        group_of(r.get("apiVersion").and_then(Value::as_str).unwrap_or("")),
        r.get("kind")?.as_str()?,
        r.get("namespace").and_then(Value::as_str),
        r.get("name")?.as_str()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Signal;
    use serde_json::json;

    #[test]
    fn an_apply_names_its_workspace() {
        let wta = |api: &str, ws: &str| json!({"apiVersion": api, "kind": "WorkspaceTemplateApply", "metadata": {"name": "a", "namespace": "demo"}, "status": {"workspaceName": ws}});
        let named = state_of(&wta("infrastructure.cluster.x-k8s.io/v1beta1", "demo-ws")).names;
        assert_eq!(named, Some(ObjectKey::new("tf.upbound.io", "Workspace", None, "demo-ws")));
        assert_eq!(state_of(&wta("infrastructure.cluster.x-k8s.io/v1beta1", "")).names, None);
        assert_eq!(state_of(&wta("example.com/v1", "demo-ws")).names, None, "another group's kind");
    }

    #[test]
    fn state_fields_are_all_state_of_reads() {
        let dir = format!("{}/tests/fixtures/states", env!("CARGO_MANIFEST_DIR"));
        let mut objects: Vec<Value> = vec![
            json!({"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1", "kind": "WorkspaceTemplateApply",
                   "metadata": {"name": "a", "namespace": "n", "generation": 3, "resourceVersion": "9",
                                "ownerReferences": [{"apiVersion": "v1", "kind": "A", "name": "x"},
                                                    {"apiVersion": "g/v1", "kind": "B", "name": "y", "controller": true}]},
                   "status": {"workspaceName": "ws", "conditions": [{"type": "Ready", "status": "False"}]}}),
            json!({"kind": "X", "metadata": {"ownerReferences": [{"kind": "A", "name": "x"}]}, "status": {"phase": "P"}}),
            json!({"kind": "X", "metadata": [], "status": "odd"}),
        ];
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let text = text.replace("${NAME}", "demo").replace("${NAMESPACE}", "default");
            for doc in serde_yaml_ng::Deserializer::from_str(&text) {
                objects.push(serde::Deserialize::deserialize(doc).unwrap());
            }
        }
        assert!(objects.len() > 40, "{}", objects.len());
        let mut seen = (0, 0, 0);
        for v in &objects {
            let text = v.to_string();
            let selected = crate::parse::body::Body::parse(&text).unwrap().select(STATE_FIELDS);
            let state = state_of(v);
            assert_eq!(state_of(&selected), state, "{v}");
            seen.0 += usize::from(state.owner.is_some());
            seen.1 += usize::from(state.phase.is_some());
            seen.2 += usize::from(state.names.is_some());
        }
        assert!(seen.0 > 0 && seen.1 > 0 && seen.2 > 0, "{seen:?}");
    }

    fn cp(rv: &str, reason: &str, time: &str, fields_tag: &str) -> Value {
        json!({
            "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1", "kind": "CAPTControlPlane",
            "metadata": {"name": "a", "namespace": "ns", "resourceVersion": rv, "generation": 1,
                "ownerReferences": [{"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "name": "a", "controller": true}],
                "managedFields": [
                    {"manager": "kubectl", "operation": "Apply", "time": "2026-01-01T00:00:00Z", "fieldsV1": {"f:spec": {}}},
                    {"manager": "legacy-capt-manager", "operation": "Update", "subresource": "status", "time": time, "fieldsV1": {"f:status": {fields_tag: {}}}}
                ]},
            "spec": {"version": "1.31"},
            "status": {"phase": if reason == "Ready" { "Ready" } else { "Failed" },
                "conditions": [{"type": "Ready", "status": if reason == "Ready" { "True" } else { "False" }, "reason": reason, "lastTransitionTime": time}]}
        })
    }

    #[test]
    fn modified_gives_changed_paths_values_and_writer() {
        let mut t = ObjectTracker::new();
        let b = t.baseline(1, &cp("1", "Ready", "2026-01-01T00:00:01Z", "a")).unwrap();
        assert!(
            matches!(b.signal, Signal::Baseline { ref state, .. } if state.phase.as_deref() == Some("Ready"))
        );
        let o = t.applied(2, &cp("2", "SecretError", "2026-01-01T00:00:02Z", "b")).unwrap();
        let Signal::Write { object, write } = o.signal else { panic!("not a write") };
        assert_eq!(object.to_string(), "CAPTControlPlane ns/a");
        assert!(!write.create);
        let paths: Vec<(&str, Option<&str>)> = write.changes.iter().map(|c| (c.path, c.value)).collect();
        assert_eq!(
            paths,
            vec![
                ("status.conditions[Ready].lastTransitionTime", Some("2026-01-01T00:00:02Z")),
                ("status.conditions[Ready].reason", Some("SecretError")),
                ("status.conditions[Ready].status", Some("False")),
                ("status.phase", Some("Failed")),
            ]
        );
        let m = write.manager.unwrap();
        assert_eq!((m.name.as_str(), m.subresource.as_deref()), ("legacy-capt-manager", Some("status")));
        let owner = write.state.owner.unwrap();
        assert_eq!((owner.to_string().as_str(), owner.group.as_str()), ("Cluster ns/a", "cluster.x-k8s.io"));
        // The same resourceVersion again (a resumed watch replays it) is not a write.
        assert!(t.applied(3, &cp("2", "SecretError", "2026-01-01T00:00:02Z", "b")).is_none());
    }

    #[test]
    fn same_second_same_fields_falls_back_to_the_status_writer() {
        let mut t = ObjectTracker::new();
        t.baseline(1, &cp("1", "Ready", "2026-01-01T00:00:01Z", "a"));
        let o = t.applied(2, &cp("2", "SecretError", "2026-01-01T00:00:01Z", "a")).unwrap();
        let Signal::Write { write, .. } = o.signal else { panic!() };
        assert_eq!(write.manager.unwrap().name, "legacy-capt-manager");
    }

    #[test]
    fn secrets_report_key_names_only() {
        let secret = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "a-ca", "namespace": "ns", "resourceVersion": v,
                                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"data\":{{\"tls.key\":\"{v}-SECRET\"}}}}")}},
                   "data": {"tls.key": format!("{v}-SECRET"), "tls.crt": "same"}})
        };
        let mut t = ObjectTracker::new();
        let created = t.applied(1, &secret("1")).unwrap();
        let o = t.applied(2, &secret("2")).unwrap();
        for obs in [created, o] {
            let Signal::Write { write, .. } = obs.signal else { panic!() };
            assert!(write.changes.iter().all(|c| c.value.is_none()), "{:?}", write.changes);
            let text = format!("{write:?}");
            assert!(!text.contains("SECRET"), "{text}");
        }
        let o = t.applied(3, &secret("3")).unwrap();
        let Signal::Write { write, .. } = o.signal else { panic!() };
        let paths: Vec<&str> = write.changes.iter().map(|c| c.path).collect();
        assert_eq!(
            paths,
            vec!["data.tls.key", "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration"]
        );
    }

    #[test]
    fn creates_removed_fields_and_deletes() {
        let mut t = ObjectTracker::new();
        let v1 = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n", "resourceVersion": "1"}, "spec": {"replicas": 1, "paused": true}});
        let v2 = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n", "resourceVersion": "2"}, "spec": {"replicas": 2}});
        let Signal::Write { write, object } = t.applied(1, &v1).unwrap().signal else { panic!() };
        assert!(write.create);
        assert_eq!(object.group, "apps");
        let Signal::Write { write, .. } = t.applied(2, &v2).unwrap().signal else { panic!() };
        assert_eq!(
            write.changes,
            vec![
                crate::observe::FieldChange::new("spec.paused", None),
                crate::observe::FieldChange::new("spec.replicas", Some("2".into()))
            ]
            .into()
        );
        assert!(matches!(t.deleted(3, &v2).unwrap().signal, Signal::Delete { .. }));
        assert!(t.is_empty());
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(500);
        let mut t = ObjectTracker::new();
        let v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "1"}, "data": {"k": long}});
        let Signal::Write { write, .. } = t.applied(1, &v).unwrap().signal else { panic!() };
        let value = write.changes.get(0).unwrap().value.unwrap();
        assert!(value.chars().count() < 50 && value.contains('…'), "{value}");
    }

    #[test]
    fn event_counts_become_deltas() {
        let ev = |count: u64| {
            json!({"metadata": {"uid": "u1", "namespace": "ns", "name": "a.1"}, "count": count, "reason": "SecretError",
                   "involvedObject": {"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1", "kind": "CAPTControlPlane", "namespace": "ns", "name": "a"}})
        };
        let mut t = EventTracker::new();
        t.baseline(&ev(10));
        assert!(t.applied(1, &ev(10)).is_none());
        let o = t.applied(2, &ev(14)).unwrap();
        let Signal::Events { object, count, reason } = o.signal else { panic!() };
        assert_eq!((object.name.as_str(), count, reason.as_deref()), ("a", 4, Some("SecretError")));
        let series = json!({"metadata": {"uid": "u2"}, "series": {"count": 3}, "regarding": {"kind": "Pod", "namespace": "ns", "name": "p"}});
        let Signal::Events { count, object, .. } = t.applied(3, &series).unwrap().signal else { panic!() };
        assert_eq!((count, object.group.as_str()), (3, ""));
    }
}
