//! Changed field paths between versions of an object, as leaf paths with value hashes (memory per
//! object stays bounded; Secret values are compared by hash and never kept).

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::observe::{ChangeRef, Changes};
use serde_json::Value;

use super::body::Body;
use crate::hash::FxBuild;

/// Mixes a path into [`Flat::paths_hash`].
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// Leaves kept per object; deeper objects are compared on the first ones only.
pub const MAX_LEAVES: usize = 4096;

/// Longest string value a change carries.
const MAX_VALUE_CHARS: usize = 256;

/// The leaves of a flattened object, in one buffer: each leaf's path, then its shown value (`s`
/// and a string, or `j` and JSON; nothing when it is not shown), so that flattening allocates
/// nothing per leaf. Most leaves of most versions are never shown (they did not change).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flat {
    text: String,
    /// Per leaf: where its path ends, where its value ends, its value hash.
    ends: Vec<(usize, usize, u64)>,
    /// A hash of the paths in order: versions of one shape find it by this (see [`to_map`]).
    paths_hash: u64,
}

/// One leaf of a [`Flat`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leaf<'a> {
    pub path: &'a str,
    pub hash: u64,
    shown: &'a str,
}

impl<'a> Leaf<'a> {
    /// Its value when it is shown: a small scalar, never for a Secret. (The tests' reference
    /// for [`Leaf::text`].)
    #[cfg(test)]
    pub fn value(&self) -> Option<Value> {
        match self.shown.split_at_checked(1)? {
            ("s", s) => Some(Value::String(s.to_string())),
            (_, json) => serde_json::from_str(json).ok(),
        }
    }

    /// Its value as a change shows it: a string as itself, anything else as JSON. The same text
    /// as [`Leaf::value`] written out, without making the `Value`.
    pub fn text(&self) -> Option<&'a str> {
        self.shown.get(1..)
    }

    fn change(&self) -> ChangeRef<'a> {
        ChangeRef { path: self.path, value: self.text() }
    }
}

impl Flat {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Leaf<'_>> {
        let mut start = 0;
        self.ends.iter().map(move |&(path_end, value_end, hash)| {
            let leaf =
                Leaf { path: &self.text[start..path_end], hash, shown: &self.text[path_end..value_end] };
            start = value_end;
            leaf
        })
    }

    /// Adds a leaf that is only shown, never compared (a JSON patch operation's path and value).
    pub fn push_change(&mut self, path: &str, value: Option<&Value>) {
        match value {
            Some(Value::String(s)) => self.push(path, 0, Shown::Str(s)),
            Some(v) => self.push(path, 0, Shown::Json(v)),
            None => self.push(path, 0, Shown::Not),
        }
    }

    fn push(&mut self, path: &str, hash: u64, shown: Shown<'_>) {
        use std::fmt::Write;
        self.text.push_str(path);
        self.paths_hash = (self.paths_hash.rotate_left(5) ^ crate::hash::hash_str(path)).wrapping_mul(K);
        let path_end = self.text.len();
        match shown {
            Shown::Str(s) => {
                self.text.push('s');
                self.text.push_str(s);
            }
            Shown::Json(v) => {
                let _ = write!(self.text, "j{v}");
            }
            Shown::Not => {}
        }
        self.ends.push((path_end, self.text.len(), hash));
    }
}

/// How a leaf's value is shown in a [`Flat`].
enum Shown<'a> {
    Str(&'a str),
    Json(&'a dyn std::fmt::Display),
    Not,
}

/// Bookkeeping that changes on every write and says nothing about what the writer changed.
fn skipped(path: &str) -> bool {
    matches!(path, "metadata.resourceVersion" | "metadata.generation" | "metadata.selfLink")
        || path.starts_with("metadata.managedFields")
}

/// A JSON tree [`flatten`] walks: serde_json's `Value` (watch dumps) or an audit [`Body`].
pub trait Tree: Sized {
    /// A non-empty object's members, in key order.
    fn members(&self) -> Option<impl Iterator<Item = (&str, &Self)>>;
    /// A non-empty array's items.
    fn items(&self) -> Option<&[Self]>;
    /// The string value of member `key`.
    fn member_str(&self, key: &str) -> Option<&str>;
    /// The node as a leaf (called when it is neither a non-empty object nor a non-empty array).
    fn leaf(&self) -> Scalar<'_>;
}

/// A leaf, whatever the tree: its hash and its shown value are made here, once for both.
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Number(&'a serde_json::Number),
    Str(&'a str),
    EmptyArray,
    EmptyObject,
}

impl Scalar<'_> {
    fn hash(&self) -> u64 {
        // Fx: a version's hashes are compared, never shown or kept beyond the run.
        let mut h = crate::hash::Fx::default();
        match self {
            Scalar::Null => 0u8.hash(&mut h),
            Scalar::Bool(b) => b.hash(&mut h),
            Scalar::Number(n) => n.to_string().hash(&mut h),
            Scalar::Str(s) => s.hash(&mut h),
            Scalar::EmptyArray => 1u8.hash(&mut h),
            Scalar::EmptyObject => 2u8.hash(&mut h),
        }
        h.finish()
    }

    fn to_value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Number(n) => Value::Number((*n).clone()),
            Scalar::Str(s) => Value::String(s.to_string()),
            Scalar::EmptyArray => Value::Array(Vec::new()),
            Scalar::EmptyObject => Value::Object(Default::default()),
        }
    }
}

impl Tree for Value {
    fn members(&self) -> Option<impl Iterator<Item = (&str, &Self)>> {
        self.as_object().filter(|m| !m.is_empty()).map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
    }

    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice).filter(|a| !a.is_empty())
    }

    fn member_str(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    fn leaf(&self) -> Scalar<'_> {
        match self {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => Scalar::Number(n),
            Value::String(s) => Scalar::Str(s),
            Value::Array(_) => Scalar::EmptyArray,
            Value::Object(_) => Scalar::EmptyObject,
        }
    }
}

impl Tree for Body<'_> {
    fn members(&self) -> Option<impl Iterator<Item = (&str, &Self)>> {
        match self {
            Body::Object(m) if !m.is_empty() => Some(m.iter().map(|(k, v)| (&**k, v))),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            Body::Array(a) if !a.is_empty() => Some(a),
            _ => None,
        }
    }

    fn member_str(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    fn leaf(&self) -> Scalar<'_> {
        match self {
            Body::Null => Scalar::Null,
            Body::Bool(b) => Scalar::Bool(*b),
            Body::Number(n) => Scalar::Number(n),
            Body::String(s) => Scalar::Str(s),
            Body::Array(_) => Scalar::EmptyArray,
            Body::Object(_) => Scalar::EmptyObject,
        }
    }
}

/// Flattens `v` into leaves. For a Secret (`secret`) every value is hidden, not only `data` and
/// `stringData`: annotations (`last-applied-configuration`), labels and any other field may
/// hold Secret bytes. Only key names remain, and list items are numbered rather than named by
/// their values.
pub fn flatten<T: Tree>(v: &T, secret: bool) -> Flat {
    thread_local! {
        static SCRATCH: std::cell::RefCell<(Flat, String)> = Default::default();
    }
    // Built in a buffer kept by the thread, then copied at its size: two allocations per
    // object instead of a chain of reallocations.
    SCRATCH.with_borrow_mut(|(out, path)| {
        out.text.clear();
        out.ends.clear();
        out.paths_hash = 0;
        path.clear();
        walk(v, path, secret, out);
        Flat { text: out.text.as_str().into(), ends: out.ends.as_slice().into(), paths_hash: out.paths_hash }
    })
}

fn walk<T: Tree>(v: &T, path: &mut String, secret: bool, out: &mut Flat) {
    if out.len() >= MAX_LEAVES || skipped(path) {
        return;
    }
    if let Some(members) = v.members() {
        for (k, child) in members {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            walk(child, path, secret, out);
            path.truncate(len);
        }
    } else if let Some(a) = v.items() {
        let key = ["type", "name"].into_iter().filter(|_| !secret).find(|k| {
            a.iter().all(|e| e.member_str(k).is_some())
                && a.iter().filter_map(|e| e.member_str(k)).collect::<HashSet<_>>().len() == a.len()
        });
        for (i, child) in a.iter().enumerate() {
            let len = path.len();
            match key.and_then(|k| child.member_str(k)) {
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
    } else {
        let leaf = v.leaf();
        let hash = leaf.hash();
        match leaf {
            _ if secret => out.push(path, hash, Shown::Not),
            Scalar::Str(s) if s.chars().count() > MAX_VALUE_CHARS => out.push(path, hash, Shown::Not),
            Scalar::Str(s) => out.push(path, hash, Shown::Str(s)),
            other => out.push(path, hash, Shown::Json(&other.to_value())),
        }
    }
}

/// The sorted leaf paths of a version.
type Shape = Arc<[Arc<str>]>;

/// The last version of an object: its leaves' paths (its shape) and their value hashes, in path
/// order. Shapes are shared between versions through a [`PathPool`] (most objects of a kind have
/// the same leaves), so a kept version costs about 8 bytes per leaf.
#[derive(Clone, Debug)]
pub struct Leaves {
    shape: Shape,
    hashes: Box<[u64]>,
}

impl Default for Leaves {
    fn default() -> Self {
        Leaves { shape: Arc::new([]), hashes: Box::new([]) }
    }
}

impl Leaves {
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    fn get(&self, path: &str) -> Option<u64> {
        self.shape.binary_search_by(|p| (**p).cmp(path)).ok().map(|i| self.hashes[i])
    }

    fn paths(&self) -> impl Iterator<Item = &str> {
        self.shape.iter().map(|p| &**p)
    }

    /// From (path, hash) pairs; a path given twice keeps its last hash.
    fn from_pairs(mut pairs: Vec<(Arc<str>, u64)>, pool: &mut PathPool) -> Self {
        pairs.reverse();
        // Stable: the first of equal paths is now the last given.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        let hashes = pairs.iter().map(|&(_, h)| h).collect();
        let paths: Vec<Arc<str>> = pairs.into_iter().map(|(p, _)| p).collect();
        Leaves { shape: pool.shape(&paths), hashes }
    }
}

impl FromIterator<(String, u64)> for Leaves {
    fn from_iter<I: IntoIterator<Item = (String, u64)>>(iter: I) -> Self {
        let pairs = iter.into_iter().map(|(p, h)| (Arc::from(p), h)).collect();
        Leaves::from_pairs(pairs, &mut PathPool::default())
    }
}

/// Field paths and shapes stored once for all kept versions, up to a bound each (beyond it, a
/// path or shape is stored with its version: correct, only larger).
#[derive(Debug, Default)]
pub struct PathPool {
    // Fx: every leaf of every write is looked up, and the sets compare what they find.
    paths: HashSet<Arc<str>, FxBuild>,
    shapes: HashSet<Shape, FxBuild>,
    /// By [`Flat::paths_hash`]: the shape of leaves with those paths, and each leaf's place in
    /// it, so that a version of a known shape is kept without looking up or sorting its paths.
    slots: std::collections::HashMap<u64, (Shape, Arc<[u32]>), FxBuild>,
}

impl PathPool {
    const CAP: usize = 1 << 16;
    const SHAPES: usize = 1 << 12;

    fn get(&mut self, path: &str) -> Arc<str> {
        intern(&mut self.paths, Self::CAP, path)
    }

    fn shape(&mut self, paths: &[Arc<str>]) -> Shape {
        intern(&mut self.shapes, Self::SHAPES, paths)
    }
}

/// The shared copy of `value` in `set`, added while the set holds fewer than `cap`.
fn intern<T: ?Sized + Hash + Eq>(set: &mut HashSet<Arc<T>, FxBuild>, cap: usize, value: &T) -> Arc<T>
where
    for<'a> &'a T: Into<Arc<T>>,
{
    if let Some(v) = set.get(value) {
        return Arc::clone(v);
    }
    let v: Arc<T> = value.into();
    if set.len() < cap {
        set.insert(Arc::clone(&v));
    }
    v
}

/// Leaves that differ from `prev` (changed, added, removed), in path order.
pub fn diff(prev: &Leaves, next: &Flat) -> Changes {
    let mut out: Changes =
        next.iter().filter(|l| prev.get(l.path) != Some(l.hash)).map(|l| l.change()).collect();
    if prev.len() + out.len() > next.len() {
        let now: HashSet<&str> = next.iter().map(|l| l.path).collect();
        for p in prev.paths().filter(|p| !now.contains(p)) {
            out.push(p, None);
        }
    }
    out.sorted()
}

/// Every leaf as a change (a patch body: what the writer sent).
pub fn as_changes(leaves: Flat) -> Changes {
    // A shown value is its tag and its text, as `Changes` keeps a value.
    Changes::from_tagged(leaves.text, leaves.ends.into_iter().map(|(path, value, _)| (path, value)).collect())
}

/// The version to keep of `leaves`. Most versions have a shape seen before: their paths are
/// checked against it in order (a repeated path's last hash wins, as in [`Leaves::from_pairs`]).
pub fn to_map(leaves: &Flat, pool: &mut PathPool) -> Leaves {
    if let Some((shape, slots)) = pool.slots.get(&leaves.paths_hash)
        && slots.len() == leaves.len()
        && leaves
            .iter()
            .zip(slots.iter())
            .all(|(l, &s)| shape.get(s as usize).is_some_and(|p| **p == *l.path))
    {
        let mut hashes = vec![0; shape.len()].into_boxed_slice();
        for (l, &s) in leaves.iter().zip(slots.iter()) {
            hashes[s as usize] = l.hash;
        }
        return Leaves { shape: Arc::clone(shape), hashes };
    }
    let pairs = leaves.iter().map(|l| (pool.get(l.path), l.hash)).collect();
    let kept = Leaves::from_pairs(pairs, pool);
    if pool.slots.len() < PathPool::SHAPES {
        let slots: Option<Arc<[u32]>> = leaves
            .iter()
            .map(|l| {
                kept.shape.binary_search_by(|p| (**p).cmp(l.path)).ok().and_then(|i| u32::try_from(i).ok())
            })
            .collect();
        if let Some(slots) = slots {
            pool.slots.insert(leaves.paths_hash, (Arc::clone(&kept.shape), slots));
        }
    }
    kept
}

pub use super::objects::phase_of;

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::observe::FieldChange;
    use serde_json::json;

    /// Flattened as an audit body, after checking that a `Value` flattens the same.
    fn flat(v: &Value, secret: bool) -> Flat {
        let leaves = flatten(&Body::parse(&v.to_string()).unwrap(), secret);
        assert_eq!(leaves, flatten(v, secret));
        leaves
    }

    /// JSON texts with what a `Value` normalises: repeated and unordered keys, escapes, numbers
    /// of every kind, lists keyed by `type`/`name` or not, long strings, deep and wide objects.
    pub(in crate::parse) fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("type".to_string()),
            Just("name".to_string()),
            Just("a".to_string()),
            Just("a.b".to_string()),
            Just("a-c".to_string()),
            Just("metadata".to_string()),
            Just("resourceVersion".to_string()),
            Just("managedFields".to_string()),
            "[a-c\\\\é\"]{0,3}",
        ];
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            any::<i64>().prop_map(|i| i.to_string()),
            any::<u64>().prop_map(|u| u.to_string()),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
            Just("-0.0".to_string()),
            "[a-c\\\\é\"\u{1}]{0,4}".prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just("\"\\u00e9\\ud83d\\ude00\"".to_string()),
            (0usize..400).prop_map(|n| format!("\"{}\"", "é".repeat(n))),
            Just("[]".to_string()),
            Just("{}".to_string()),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((key.clone(), inner), 0..6).prop_map(|m| {
                    let members: Vec<String> =
                        m.iter().map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap())).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn a_body_flattens_as_its_value(text in json_text(), secret in proptest::bool::ANY) {
            let value: Value = serde_json::from_str(&text).unwrap();
            let body = Body::parse(&text).unwrap();
            proptest::prop_assert_eq!(body.to_value(), value.clone());
            let flat = flatten(&body, secret);
            proptest::prop_assert_eq!(&flat, &flatten(&value, secret));
            // A change shows a leaf's value as the text of its `Value` (a string as itself). A
            // float's text is the number read from the body, which serde_json may read back one
            // unit off in the last place.
            for l in flat.iter() {
                match l.value() {
                    Some(Value::String(s)) => proptest::prop_assert_eq!(l.text(), Some(s.as_str())),
                    Some(v) if v.is_f64() => proptest::prop_assert!(l.text().is_some()),
                    Some(v) => proptest::prop_assert_eq!(l.text().map(str::to_string), Some(v.to_string())),
                    None => proptest::prop_assert_eq!(l.text(), None),
                }
            }
        }
    }

    /// A kept version's paths and hashes, in order.
    fn kept(l: &Leaves) -> Vec<(String, u64)> {
        l.paths().map(str::to_string).zip(l.hashes.iter().copied()).collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn a_version_of_a_known_shape_is_kept_as_the_first(text in json_text(), secret in proptest::bool::ANY) {
            let flat = flatten(&Body::parse(&text).unwrap(), secret);
            let mut pool = PathPool::default();
            let first = to_map(&flat, &mut pool);
            proptest::prop_assert!(pool.slots.contains_key(&flat.paths_hash));
            let again = to_map(&flat, &mut pool);
            proptest::prop_assert!(Arc::ptr_eq(&first.shape, &again.shape));
            proptest::prop_assert_eq!(kept(&again), kept(&first));
            proptest::prop_assert_eq!(kept(&first), kept(&Leaves::from_pairs(flat.iter().map(|l| (Arc::from(l.path), l.hash)).collect(), &mut PathPool::default())));
        }
    }

    #[test]
    fn versions_of_one_shape_keep_their_own_hashes() {
        let mut pool = PathPool::default();
        let v1 = flat(&json!({"data": {"k": "1", "l": "2"}, "a-c": 1, "a": {"b": 2}, "a.b": 3}), false);
        let v2 = flat(&json!({"data": {"k": "9", "l": "2"}, "a-c": 1, "a": {"b": 2}, "a.b": 4}), false);
        assert_eq!(v1.paths_hash, v2.paths_hash);
        let (k1, k2) = (to_map(&v1, &mut pool), to_map(&v2, &mut pool));
        assert!(Arc::ptr_eq(&k1.shape, &k2.shape) && pool.slots.len() == 1);
        let slow = |f: &Flat| kept(&to_map(f, &mut PathPool::default()));
        assert_eq!((kept(&k1), kept(&k2)), (slow(&v1), slow(&v2)));
        assert_ne!(k1.get("data.k"), k2.get("data.k"));
        assert_eq!(k1.get("data.l"), k2.get("data.l"));
        // `a.b` twice (from `a` and from `a.b`): the last one given counts, as without the pool.
        assert_ne!(k1.get("a.b"), k2.get("a.b"));
        // Other paths, another shape.
        let v3 = flat(&json!({"data": {"k": "1"}}), false);
        assert_ne!(v3.paths_hash, v1.paths_hash);
        assert_eq!(kept(&to_map(&v3, &mut pool)), slow(&v3));
    }

    #[test]
    fn conditions_are_keyed_by_type() {
        let v =
            json!({"status": {"conditions": [{"type": "Ready", "reason": "SecretError"}], "ready": false}});
        let paths: Vec<String> = flat(&v, false).iter().map(|l| l.path.to_string()).collect();
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
        let prev = to_map(&flat(&a, false), &mut PathPool::default());
        let d = diff(&prev, &flat(&b, false));
        assert_eq!(
            d,
            Changes::from(vec![FieldChange::new(
                "status.conditions[Ready].reason",
                Some("SecretError".into())
            )])
        );
        assert!(diff(&prev, &flat(&a, false)).is_empty());
    }

    #[test]
    fn removed_fields_show_without_value() {
        let prev = to_map(&flat(&json!({"spec": {"a": 1, "b": 2}}), false), &mut PathPool::default());
        let d = diff(&prev, &flat(&json!({"spec": {"a": 1}}), false));
        assert_eq!(d, Changes::from(vec![FieldChange::new("spec.b", None)]));
    }

    #[test]
    fn secret_values_are_never_kept() {
        let v = json!({"kind": "Secret", "data": {"value": "c2VjcmV0"}, "metadata": {"name": "s"}});
        let leaves = flat(&v, true);
        let data = leaves.iter().find(|l| l.path == "data.value").unwrap();
        assert_eq!(data.value(), None);
        let changed = diff(&Leaves::default(), &leaves);
        assert_eq!(changed.len(), 3);
        assert!(!format!("{changed:?}").contains("c2VjcmV0"), "{changed:?}");
    }

    #[test]
    fn every_secret_field_is_hidden_and_list_items_are_numbered() {
        let v = json!({"kind": "Secret", "metadata": {"name": "s",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"k\":\"MARK\"}}"},
            "labels": {"l": "MARK"}, "ownerReferences": [{"name": "MARK", "kind": "X"}]},
            "stringData": {"k": "MARK"}, "type": "MARK", "status": {"phase": "MARK"}});
        let leaves = flat(&v, true);
        assert!(leaves.iter().all(|l| l.value().is_none()), "{leaves:?}");
        let text = format!("{:?}", as_changes(leaves.clone()));
        assert!(!text.contains("MARK"), "{text}");
        assert!(
            text.contains("metadata.ownerReferences[0].name") && text.contains("metadata.labels.l"),
            "{text}"
        );
    }

    #[test]
    fn kept_versions_share_their_paths_and_keep_the_last_hash_of_a_repeated_path() {
        let mut pool = PathPool::default();
        let a = to_map(&flat(&json!({"data": {"k": "1", "l": "2"}}), false), &mut pool);
        let b = to_map(&flat(&json!({"data": {"l": "3", "k": "1"}}), false), &mut pool);
        // One shape for both, its paths shared with the pool.
        assert!(Arc::ptr_eq(&a.shape, &b.shape) && Arc::ptr_eq(&a.shape[0], &pool.get("data.k")));
        assert_eq!(
            (a.get("data.k"), a.get("data.l"), a.get("data.m")),
            (b.get("data.k"), Some(a.hashes[1]), None)
        );
        assert_ne!(a.get("data.l"), b.get("data.l"));
        let c = to_map(&flat(&json!({"data": {"k": "1"}}), false), &mut pool);
        assert!(!Arc::ptr_eq(&a.shape, &c.shape));
        assert_eq!((c.len(), c.get("data.k"), c.get("data.l")), (1, a.get("data.k"), None));
        // `{"a.b": 1, "a": {"b": 2}}` flattens to the same path twice: the last one counts.
        let twice: Leaves =
            [("a.b".to_string(), 1), ("c".to_string(), 5), ("a.b".to_string(), 2)].into_iter().collect();
        assert_eq!((twice.len(), twice.get("a.b"), twice.get("c")), (2, Some(2), Some(5)));
        let leaves = flat(&json!({"a.b": 1, "a": {"b": 2}}), false);
        let kept = to_map(&leaves, &mut pool);
        assert_eq!(kept.get("a.b"), leaves.iter().nth(1).map(|l| l.hash));
        assert!(diff(&kept, &flat(&json!({"a.b": 1}), false)).is_empty());
    }

    #[test]
    fn shown_values_are_the_leaves_values() {
        let long = "é".repeat(MAX_VALUE_CHARS + 1);
        let v = json!({"a": "x\"\u{1}", "b": 1.5, "c": -3, "d": true, "e": null, "f": [], "g": {},
                       "h": long, "i": u64::MAX, "j": "é".repeat(MAX_VALUE_CHARS)});
        let shown: Vec<(String, Option<Value>)> =
            flat(&v, false).iter().map(|l| (l.path.to_string(), l.value())).collect();
        let expected: Vec<(String, Option<Value>)> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, x)| (k.clone(), Some(x.clone()).filter(|_| k != "h")))
            .collect();
        assert_eq!(shown, expected);
        assert!(flat(&v, true).iter().all(|l| l.value().is_none()));
        let mut patch = Flat::default();
        patch.push_change("p", Some(&json!("s")));
        patch.push_change("q", Some(&json!(2)));
        patch.push_change("r", None);
        let changes = as_changes(patch);
        assert_eq!(
            changes.iter().map(|c| (c.path, c.value)).collect::<Vec<_>>(),
            [("p", Some("s")), ("q", Some("2")), ("r", None)]
        );
    }

    #[test]
    fn leaves_are_bounded() {
        let big: serde_json::Map<String, Value> = (0..10_000).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(flat(&Value::Object(big), false).len(), MAX_LEAVES);
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
