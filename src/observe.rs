//! The vocabulary every layer shares: which object ([`ObjectKey`]), what is known of its state
//! ([`ObjectState`]), what a source saw ([`Observation`], [`Signal`]) and when ([`Millis`]).
//! Sources (k8s watches, the parsers) produce observations; the detector folds them. Plain data:
//! nothing here imports another module of the crate.

use serde::Serialize;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Which object an observation is about. `group` is empty for the core API group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    pub fn new(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            group: group.to_string(),
            kind: kind.to_string(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One timestamped thing a source saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub at: Millis,
    pub signal: Signal,
}

/// What was seen.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// The object was created or modified (a watch ADDED after the initial list, a MODIFIED, an
    /// audited create/update/patch).
    Write { object: ObjectKey, write: ObservedWrite },
    /// The object's state as seen by a list or relist (initial list, reconnect, 410 Gone). Sets
    /// what the detector knows (phase, generation, owner); never counted as a write.
    Baseline { object: ObjectKey, state: ObjectState },
    /// A reconcile pass for the object (from controller logs). Lines of one pass share a
    /// `reconcile_id` and count once.
    Reconcile { object: ObjectKey, reconcile_id: Option<String> },
    /// `count` new occurrences of Events about the object (the delta of `count`/`series.count`).
    Events { object: ObjectKey, count: u32, reason: Option<String> },
    /// The object was deleted.
    Delete { object: ObjectKey },
    /// A controller-wide metrics scrape (no object identity).
    Metrics(MetricsSample),
    /// An object-write source sees every write of `scope` from `since` on (`None`: it stopped
    /// seeing them, e.g. a relist after writes were missed). Passes are called a no-write loop
    /// only over time a source covered: without one, nobody knows whether they wrote.
    Coverage { scope: WriteScope, since: Option<Millis> },
}

/// Which objects' writes a source sees.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WriteScope {
    /// Every object (an audit log).
    All,
    /// Objects of one kind (a watch; `group` is empty for the core API group).
    Kind { group: String, kind: String },
}

impl WriteScope {
    pub fn contains(&self, key: &ObjectKey) -> bool {
        match self {
            WriteScope::All => true,
            WriteScope::Kind { group, kind } => *group == key.group && *kind == key.kind,
        }
    }
}

/// What is known about an object's state at a point in time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectState {
    /// `status.phase` (used for the expected interval of kinds that have one).
    pub phase: Option<String>,
    pub generation: Option<i64>,
    pub resource_version: Option<String>,
    /// The controlling owner (ownerReferences with `controller: true`, else the first).
    pub owner: Option<ObjectKey>,
    /// A cluster-scoped object this one names (a WorkspaceTemplateApply's Workspace,
    /// `status.workspaceName`): `watch -n NS` keeps only the cluster-scoped objects so named.
    pub names: Option<ObjectKey>,
}

/// One write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedWrite {
    pub state: ObjectState,
    /// A create rather than a modification.
    pub create: bool,
    /// Who wrote it, from managedFields (or the audit user).
    pub manager: Option<Manager>,
    /// The fields that changed against the previous version (resourceVersion and managedFields
    /// bookkeeping excluded), with their new values.
    pub changes: Changes,
}

/// A field manager entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    pub name: String,
    /// `Update` or `Apply` (audit: the verb).
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    #[serde(skip)]
    pub time: Option<Millis>,
}

/// One changed field, owned: how tests and small sources spell a change. [`Changes`] holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// Dotted path, conditions keyed by type: `status.conditions[Ready].reason`.
    pub path: String,
    /// The new value as short text (or a hash of a long value); `None` when the field was
    /// removed, or when it must not be kept (Secret data: only the key name is given).
    pub value: Option<String>,
}

impl FieldChange {
    pub fn new(path: impl Into<String>, value: Option<String>) -> Self {
        FieldChange { path: path.into(), value }
    }
}

/// One changed field of a [`Changes`], borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeRef<'a> {
    pub path: &'a str,
    pub value: Option<&'a str>,
}

/// The fields one write changed, in one buffer: each path, then its value when it has one.
/// A write of a whole object can change every field it has, and a `String` per path and value
/// made a quarter of the work of reading a RequestResponse audit log (docs/performance.md).
#[derive(Clone, Default)]
pub struct Changes {
    text: String,
    /// Per change: where its path ends, where its value ends. A value follows its path after a
    /// one-byte ASCII tag; a change without one ends where its path does.
    ends: Vec<(usize, usize)>,
}

impl Changes {
    /// Changes already laid out as [`Changes`] keeps them (a flattened body's leaves): taken
    /// over without copying the text.
    pub fn from_tagged(text: String, ends: Vec<(usize, usize)>) -> Changes {
        Changes { text, ends }
    }

    pub fn push(&mut self, path: &str, value: Option<&str>) {
        self.text.push_str(path);
        let path_end = self.text.len();
        if let Some(v) = value {
            self.text.push('=');
            self.text.push_str(v);
        }
        self.ends.push((path_end, self.text.len()));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    #[cfg(test)]
    pub fn get(&self, i: usize) -> Option<ChangeRef<'_>> {
        self.iter().nth(i)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = ChangeRef<'_>> + Clone + '_ {
        self.ends.iter().enumerate().map(|(i, &(path_end, value_end))| {
            let start = if i == 0 { 0 } else { self.ends[i - 1].1 };
            let text = |r: std::ops::Range<usize>| self.text.get(r).unwrap_or_default();
            ChangeRef {
                path: text(start..path_end),
                value: (value_end > path_end).then(|| text(path_end + 1..value_end)),
            }
        })
    }

    /// Sorted by path (stable), as a diff reports them.
    pub fn sorted(self) -> Changes {
        if self.iter().is_sorted_by(|a, b| a.path <= b.path) {
            return self;
        }
        let mut all: Vec<ChangeRef<'_>> = self.iter().collect();
        all.sort_by(|a, b| a.path.cmp(b.path));
        all.into_iter().collect()
    }
}

impl PartialEq for Changes {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Changes {}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> FromIterator<ChangeRef<'a>> for Changes {
    fn from_iter<I: IntoIterator<Item = ChangeRef<'a>>>(iter: I) -> Self {
        let mut out = Changes::default();
        for c in iter {
            out.push(c.path, c.value);
        }
        out
    }
}

impl From<Vec<FieldChange>> for Changes {
    fn from(v: Vec<FieldChange>) -> Self {
        v.iter().map(|c| ChangeRef { path: &c.path, value: c.value.as_deref() }).collect()
    }
}

/// One scrape of a controller's metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsSample {
    /// The `controller` label (`captcontrolplane`).
    pub controller: String,
    /// `controller_runtime_reconcile_total` summed over `result`.
    pub reconcile_total: Option<f64>,
    /// `controller_runtime_reconcile_total{result="error"}`.
    pub reconcile_errors: Option<f64>,
    /// `workqueue_adds_total`.
    pub workqueue_adds: Option<f64>,
    /// `process_start_time_seconds` (epoch seconds) of the process the scrape came from: with
    /// a single scrape, the counters over the process's lifetime give average rates.
    pub process_start: Option<f64>,
}

impl Observation {
    pub fn write(at: Millis, object: ObjectKey, write: ObservedWrite) -> Self {
        Observation { at, signal: Signal::Write { object, write } }
    }
    pub fn baseline(at: Millis, object: ObjectKey, state: ObjectState) -> Self {
        Observation { at, signal: Signal::Baseline { object, state } }
    }
    pub fn reconcile(at: Millis, object: ObjectKey, reconcile_id: Option<String>) -> Self {
        Observation { at, signal: Signal::Reconcile { object, reconcile_id } }
    }
    pub fn events(at: Millis, object: ObjectKey, count: u32, reason: Option<String>) -> Self {
        Observation { at, signal: Signal::Events { object, count, reason } }
    }
    pub fn delete(at: Millis, object: ObjectKey) -> Self {
        Observation { at, signal: Signal::Delete { object } }
    }
    pub fn coverage(at: Millis, scope: WriteScope, since: Option<Millis>) -> Self {
        Observation { at, signal: Signal::Coverage { scope, since } }
    }
    pub fn object(&self) -> Option<&ObjectKey> {
        match &self.signal {
            Signal::Write { object, .. }
            | Signal::Baseline { object, .. }
            | Signal::Reconcile { object, .. }
            | Signal::Events { object, .. }
            | Signal::Delete { object } => Some(object),
            Signal::Metrics(_) | Signal::Coverage { .. } => None,
        }
    }
}

/// The state of one source, shown in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceState {
    Starting,
    /// Listing (the first time, or a relist after 410 Gone / a reconnect).
    Listing {
        relist: bool,
    },
    Watching,
    Reconnecting {
        attempt: u32,
        reason: String,
    },
    Unavailable(String),
    Off(String),
    /// Following a file: what was read so far.
    Reading(String),
    /// A finite source (a file, stdin) was read to the end.
    Done(String),
}

impl std::fmt::Display for SourceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceState::Starting => f.write_str("starting"),
            SourceState::Listing { relist: false } => f.write_str("listing"),
            SourceState::Listing { relist: true } => f.write_str("relisting"),
            SourceState::Watching => f.write_str("watching"),
            SourceState::Reconnecting { attempt, reason } => {
                write!(f, "reconnecting (attempt {attempt}: {reason})")
            }
            SourceState::Unavailable(why) => write!(f, "unavailable ({why})"),
            SourceState::Off(why) => write!(f, "off ({why})"),
            SourceState::Reading(what) => write!(f, "reading ({what})"),
            SourceState::Done(what) => write!(f, "done ({what})"),
        }
    }
}

/// RFC 3339 text of a [`Millis`].
pub fn rfc3339(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_keep_paths_values_and_their_absence() {
        let mut c = Changes::default();
        assert!(c.is_empty() && c.get(0).is_none());
        c.push("status.phase", Some("Ready"));
        c.push("data.k", None);
        c.push("data.e", Some(""));
        let all: Vec<_> = c.iter().map(|x| (x.path, x.value)).collect();
        assert_eq!(all, [("status.phase", Some("Ready")), ("data.k", None), ("data.e", Some(""))]);
        assert_eq!((c.len(), c.get(1).map(|x| x.path)), (3, Some("data.k")));
        // Sorted by path, stably: two changes of one path keep their order.
        c.push("data.e", Some("2"));
        let sorted = c.clone().sorted();
        let sorted: Vec<_> = sorted.iter().map(|x| (x.path, x.value)).collect();
        assert_eq!(
            sorted,
            [("data.e", Some("")), ("data.e", Some("2")), ("data.k", None), ("status.phase", Some("Ready"))]
        );
        let owned = Changes::from(vec![FieldChange::new("a", Some("1".into())), FieldChange::new("b", None)]);
        assert_eq!(
            format!("{owned:?}"),
            r#"[ChangeRef { path: "a", value: Some("1") }, ChangeRef { path: "b", value: None }]"#
        );
    }
}
