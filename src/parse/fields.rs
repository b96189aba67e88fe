//! Changed field paths between versions of an object, as leaf paths with value hashes (memory per
//! object stays bounded; Secret values are compared by hash and never kept).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

/// Leaves kept per object; deeper objects are compared on the first ones only.
pub const MAX_LEAVES: usize = 4096;

/// Longest string value carried in a [`ChangedField`].
const MAX_VALUE_CHARS: usize = 256;

/// One changed leaf: `status.conditions[Ready].reason`, with its new value when it is a small
/// scalar (never for Secret data). `value` is `None` when the field was removed or is large.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangedField {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A leaf of a flattened object.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    pub path: String,
    pub hash: u64,
    pub value: Option<Value>,
}

/// Bookkeeping that changes on every write and says nothing about what the writer changed.
fn skipped(path: &str) -> bool {
    matches!(path, "metadata.resourceVersion" | "metadata.generation" | "metadata.selfLink")
        || path.starts_with("metadata.managedFields")
}

/// Flattens `v` into leaves. For a Secret (`secret`) every value is hidden, not only `data` and
/// `stringData`: annotations (`last-applied-configuration`), labels and any other field may
/// hold Secret bytes. Only key names remain, and list items are numbered rather than named by
/// their values.
pub fn flatten(v: &Value, secret: bool) -> Vec<Leaf> {
    let mut out = Vec::new();
    let mut path = String::new();
    walk(v, &mut path, secret, &mut out);
    out
}

fn walk(v: &Value, path: &mut String, secret: bool, out: &mut Vec<Leaf>) {
    if out.len() >= MAX_LEAVES || skipped(path) {
        return;
    }
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(child, path, secret, out);
                path.truncate(len);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let key = ["type", "name"].into_iter().filter(|_| !secret).find(|k| {
                a.iter().all(|e| e.get(k).and_then(Value::as_str).is_some())
                    && a.iter()
                        .filter_map(|e| e.get(k)?.as_str())
                        .collect::<std::collections::HashSet<_>>()
                        .len()
                        == a.len()
            });
            for (i, child) in a.iter().enumerate() {
                let len = path.len();
                match key.and_then(|k| child.get(k)?.as_str()) {
                    Some(id) => {
                        path.push('[');
                        path.push_str(id);
                        path.push(']');
                    }
                    None => {
                        use std::fmt::Write;
                        let _ = write!(path, "[{i}]");
                    }
                }
                walk(child, path, secret, out);
                path.truncate(len);
            }
        }
        leaf => {
            let mut h = DefaultHasher::new();
            hash_value(leaf, &mut h);
            let value = if secret { None } else { small(leaf) };
            out.push(Leaf { path: path.clone(), hash: h.finish(), value });
        }
    }
}

fn hash_value(v: &Value, h: &mut DefaultHasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => b.hash(h),
        Value::Number(n) => n.to_string().hash(h),
        Value::String(s) => s.hash(h),
        // Empty containers.
        Value::Array(_) => 1u8.hash(h),
        Value::Object(_) => 2u8.hash(h),
    }
}

fn small(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) if s.chars().count() > MAX_VALUE_CHARS => None,
        other => Some(other.clone()),
    }
}

/// The last version of an object: its leaves' paths and value hashes, sorted by path. Paths
/// are shared between objects through a [`PathPool`] (most objects of a kind have the same
/// ones), so a kept version costs about 24 bytes per leaf.
#[derive(Clone, Debug, Default)]
pub struct Leaves(Box<[(Arc<str>, u64)]>);

impl Leaves {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn get(&self, path: &str) -> Option<u64> {
        self.0.binary_search_by(|(p, _)| (**p).cmp(path)).ok().map(|i| self.0[i].1)
    }

    fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(p, _)| &**p)
    }

    /// From (path, hash) pairs; a path given twice keeps its last hash.
    fn from_pairs(mut pairs: Vec<(Arc<str>, u64)>) -> Self {
        pairs.reverse();
        // Stable: the first of equal paths is now the last given.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        Leaves(pairs.into_boxed_slice())
    }
}

impl FromIterator<(String, u64)> for Leaves {
    fn from_iter<I: IntoIterator<Item = (String, u64)>>(iter: I) -> Self {
        Leaves::from_pairs(iter.into_iter().map(|(p, h)| (Arc::from(p), h)).collect())
    }
}

/// Field paths stored once for all kept versions, up to a bound (beyond it, a path is stored
/// with its version: correct, only larger).
#[derive(Debug, Default)]
pub struct PathPool {
    paths: HashSet<Arc<str>>,
}

impl PathPool {
    const CAP: usize = 1 << 16;

    fn get(&mut self, path: &str) -> Arc<str> {
        if let Some(p) = self.paths.get(path) {
            return Arc::clone(p);
        }
        let p: Arc<str> = Arc::from(path);
        if self.paths.len() < Self::CAP {
            self.paths.insert(Arc::clone(&p));
        }
        p
    }
}

/// Leaves that differ from `prev` (changed, added, removed), in path order.
pub fn diff(prev: &Leaves, next: &[Leaf]) -> Vec<ChangedField> {
    let mut out: Vec<ChangedField> = next
        .iter()
        .filter(|l| prev.get(&l.path) != Some(l.hash))
        .map(|l| ChangedField { path: l.path.clone(), value: l.value.clone() })
        .collect();
    if prev.len() + out.len() > next.len() {
        let now: HashSet<&str> = next.iter().map(|l| l.path.as_str()).collect();
        out.extend(
            prev.paths()
                .filter(|p| !now.contains(p))
                .map(|p| ChangedField { path: p.to_string(), value: None }),
        );
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Every leaf as a change (a patch body: what the writer sent).
pub fn as_changes(leaves: Vec<Leaf>) -> Vec<ChangedField> {
    leaves.into_iter().map(|l| ChangedField { path: l.path, value: l.value }).collect()
}

pub fn to_map(leaves: &[Leaf], pool: &mut PathPool) -> Leaves {
    Leaves::from_pairs(leaves.iter().map(|l| (pool.get(&l.path), l.hash)).collect())
}

pub use super::objects::phase_of;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_are_keyed_by_type() {
        let v =
            json!({"status": {"conditions": [{"type": "Ready", "reason": "SecretError"}], "ready": false}});
        let paths: Vec<String> = flatten(&v, false).into_iter().map(|l| l.path).collect();
        assert_eq!(
            paths,
            ["status.conditions[Ready].reason", "status.conditions[Ready].type", "status.ready"]
        );
    }

    #[test]
    fn diff_ignores_bookkeeping_and_reports_values() {
        let a = json!({"metadata": {"resourceVersion": "1", "managedFields": [{"manager": "x"}]},
                       "status": {"conditions": [{"type": "Ready", "reason": "Ready"}]}});
        let b = json!({"metadata": {"resourceVersion": "2", "managedFields": [{"manager": "y"}]},
                       "status": {"conditions": [{"type": "Ready", "reason": "SecretError"}]}});
        let prev = to_map(&flatten(&a, false), &mut PathPool::default());
        let d = diff(&prev, &flatten(&b, false));
        assert_eq!(
            d,
            vec![ChangedField {
                path: "status.conditions[Ready].reason".into(),
                value: Some(json!("SecretError"))
            }]
        );
        assert!(diff(&prev, &flatten(&a, false)).is_empty());
    }

    #[test]
    fn removed_fields_show_without_value() {
        let prev = to_map(&flatten(&json!({"spec": {"a": 1, "b": 2}}), false), &mut PathPool::default());
        let d = diff(&prev, &flatten(&json!({"spec": {"a": 1}}), false));
        assert_eq!(d, vec![ChangedField { path: "spec.b".into(), value: None }]);
    }

    #[test]
    fn secret_values_are_never_kept() {
        let v = json!({"kind": "Secret", "data": {"value": "c2VjcmV0"}, "metadata": {"name": "s"}});
        let leaves = flatten(&v, true);
        let data = leaves.iter().find(|l| l.path == "data.value").unwrap();
        assert_eq!(data.value, None);
        let changed = diff(&Leaves::default(), &leaves);
        assert!(!serde_json::to_string(&changed).unwrap().contains("c2VjcmV0"));
    }

    #[test]
    fn every_secret_field_is_hidden_and_list_items_are_numbered() {
        let v = json!({"kind": "Secret", "metadata": {"name": "s",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"k\":\"MARK\"}}"},
            "labels": {"l": "MARK"}, "ownerReferences": [{"name": "MARK", "kind": "X"}]},
            "stringData": {"k": "MARK"}, "type": "MARK", "status": {"phase": "MARK"}});
        let leaves = flatten(&v, true);
        assert!(leaves.iter().all(|l| l.value.is_none()), "{leaves:?}");
        let text = serde_json::to_string(&as_changes(leaves)).unwrap();
        assert!(!text.contains("MARK"), "{text}");
        assert!(
            text.contains("metadata.ownerReferences[0].name") && text.contains("metadata.labels.l"),
            "{text}"
        );
    }

    #[test]
    fn kept_versions_share_their_paths_and_keep_the_last_hash_of_a_repeated_path() {
        let mut pool = PathPool::default();
        let a = to_map(&flatten(&json!({"data": {"k": "1", "l": "2"}}), false), &mut pool);
        let b = to_map(&flatten(&json!({"data": {"l": "3", "k": "1"}}), false), &mut pool);
        assert!(Arc::ptr_eq(&a.0[0].0, &b.0[0].0) && Arc::ptr_eq(&a.0[1].0, &b.0[1].0));
        assert_eq!(
            (a.get("data.k"), a.get("data.l"), a.get("data.m")),
            (b.get("data.k"), Some(a.0[1].1), None)
        );
        assert_ne!(a.get("data.l"), b.get("data.l"));
        // `{"a.b": 1, "a": {"b": 2}}` flattens to the same path twice: the last one counts.
        let twice: Leaves =
            [("a.b".to_string(), 1), ("c".to_string(), 5), ("a.b".to_string(), 2)].into_iter().collect();
        assert_eq!((twice.len(), twice.get("a.b"), twice.get("c")), (2, Some(2), Some(5)));
        let leaves = flatten(&json!({"a.b": 1, "a": {"b": 2}}), false);
        let kept = to_map(&leaves, &mut pool);
        assert_eq!(kept.get("a.b"), Some(leaves[1].hash));
        assert!(diff(&kept, &leaves[1..]).is_empty());
    }

    #[test]
    fn leaves_are_bounded() {
        let big: serde_json::Map<String, Value> = (0..10_000).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(flatten(&Value::Object(big), false).len(), MAX_LEAVES);
    }

    #[test]
    fn phases() {
        assert_eq!(phase_of(&json!({"status": {"phase": "Ready"}})).as_deref(), Some("Ready"));
        assert_eq!(
            phase_of(&json!({"status": {"conditions": [{"type": "Ready", "reason": "Creating"}]}}))
                .as_deref(),
            Some("Creating")
        );
        assert_eq!(phase_of(&json!({})), None);
    }
}
