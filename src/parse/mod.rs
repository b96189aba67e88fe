//! Parsers for what users have on disk or stream: controller logs, audit logs, watch dumps,
//! Events, Prometheus scrapes. Pure: bytes in, records and counted failures out.
//!
//! Every parser streams (line by line or record by record, each record capped in size) and
//! accounts for every input piece: it becomes a [`Record`], is counted as ignored (read but not
//! relevant, e.g. a `get` in an audit log), or is counted in the [`ParseReport`] as malformed,
//! unknown or truncated with the first few line numbers. Nothing panics and nothing is dropped
//! silently.

pub mod audit;
pub mod body;
pub mod chunks;
pub mod container;
pub mod events;
pub mod fields;
pub mod format;
pub mod input;
pub mod kubectl_text;
pub mod lines;
pub mod log_lines;
pub mod logs;
pub mod metrics;
pub mod objects;
pub mod scan;
pub mod skim;
pub mod watch_dump;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

pub use crate::observe::{ObjectKey, ObjectState};

pub use format::Format;
pub use input::{InputOptions, InputParser, Restrict};

/// Longest text line or JSON/YAML record kept; longer ones are counted as truncated.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// How many line numbers a report keeps per kind of problem.
pub const FIRST_LINES: usize = 5;

/// One thing read from an input.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// When it happened; `None` when the input does not say (the caller decides what to do).
    pub at: Option<DateTime<Utc>>,
    /// 1-based line where the record starts.
    pub line: u64,
    pub body: RecordBody,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RecordBody {
    /// A write to an object (audit log, or a new version in a watch dump).
    Write(WriteRecord),
    /// A version of an object seen for the first time (watch dump, object list): the baseline,
    /// not a write.
    Seen(SeenRecord),
    /// One reconcile pass of one object (controller logs).
    Reconcile(ReconcileRecord),
    /// An Event occurrence (or several, for an aggregated Event).
    Event(EventRecord),
    /// One Prometheus sample.
    Sample(MetricSample),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Create,
    Update,
    Patch,
    Delete,
}

impl Verb {
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "create" | "ADDED" => Verb::Create,
            "update" | "MODIFIED" => Verb::Update,
            "patch" | "apply" => Verb::Patch,
            "delete" | "deletecollection" | "DELETED" => Verb::Delete,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// Who wrote: the authenticated user, whom it impersonated, its user agent, and the field
/// manager when the request named one (audit), or the managedFields manager (watch dumps).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Writer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
}

impl std::fmt::Display for Writer {
    /// `manager (user as impersonated, agent)`: the parts that are known, most specific first.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let agent = self.user_agent.as_deref().map(short_agent);
        let mut who = String::new();
        if let Some(u) = &self.user {
            who.push_str(u);
        }
        if let Some(i) = &self.impersonated {
            who.push_str(" as ");
            who.push_str(i);
        }
        let mut extra: Vec<&str> = Vec::new();
        if !who.is_empty() {
            extra.push(&who);
        }
        if let Some(a) = agent.filter(|a| Some(*a) != self.manager.as_deref()) {
            extra.push(a);
        }
        match (&self.manager, extra.is_empty()) {
            (Some(m), true) => f.write_str(m),
            (Some(m), false) => write!(f, "{m} ({})", extra.join(", ")),
            (None, true) => f.write_str("unknown"),
            (None, false) => {
                let (first, rest) = extra.split_at(1);
                if rest.is_empty() {
                    f.write_str(first[0])
                } else {
                    write!(f, "{} ({})", first[0], rest.join(", "))
                }
            }
        }
    }
}

/// `kube-controller-manager/v1.30.0 (linux/amd64) kubernetes/abc` → `kube-controller-manager/v1.30.0`.
fn short_agent(ua: &str) -> &str {
    ua.split_whitespace().next().unwrap_or(ua)
}

#[derive(Clone, Debug, PartialEq)]
pub struct WriteRecord {
    pub object: ObjectKey,
    pub verb: Verb,
    /// `status`, `scale`, ... when the write went through a subresource.
    pub subresource: Option<String>,
    pub writer: Writer,
    /// Changed leaf fields (values only for small scalars, never Secret data); empty when the
    /// input does not say (e.g. a Metadata-level audit event).
    pub fields: crate::observe::Changes,
    /// `Update` / `Apply` from managedFields, or the audit verb.
    pub operation: String,
    /// The object after the write, as far as the input shows it.
    pub state: ObjectState,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SeenRecord {
    pub object: ObjectKey,
    pub state: ObjectState,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReconcileRecord {
    pub object: ObjectKey,
    pub reconcile_id: Option<String>,
    pub controller: Option<String>,
    /// The pass ended in "Reconciler error".
    pub error: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// The object the Event is about (`involvedObject` / `regarding`).
    pub object: ObjectKey,
    pub reason: String,
    /// Occurrences this record adds (a count delta for aggregated Events).
    pub count: u64,
    /// When an aggregated Event is first seen with count > 1, its first occurrence: the
    /// occurrences are spread over `[first, at]`.
    pub first: Option<DateTime<Utc>>,
    pub warning: bool,
    /// Who reported it (`source.component`, `reportingController`, describe's `From`).
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetricSample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// Milliseconds since the epoch, when the scrape carried timestamps.
    pub timestamp_ms: Option<i64>,
    /// Which scrape in the file (0-based): a new scrape starts when a series repeats.
    pub scrape: u32,
}

/// A count of one kind of problem with the first few line numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_lines: Vec<u64>,
}

impl Problem {
    pub fn add(&mut self, line: u64) {
        self.count += 1;
        if self.first_lines.len() < FIRST_LINES {
            self.first_lines.push(line);
        }
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// What one input held and what could not be read out of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParseReport {
    pub source: String,
    pub format: Format,
    pub bytes: u64,
    pub lines: u64,
    /// Records produced, by kind (`audit`, `watch`, `object`, `event`, `log`, `metric`).
    pub records: BTreeMap<String, u64>,
    /// Read and understood, but not about writes, passes or events (reads in an audit log, log
    /// lines that are not reconcile passes, the second stage of an audit request, ...).
    pub ignored: u64,
    /// Syntax errors: a line or record that is not valid JSON/YAML/text of its format.
    pub malformed: Problem,
    /// Well-formed records of a shape no parser knows.
    pub unknown: Problem,
    /// Records longer than the size limit, or cut off at the end of the input.
    pub truncated: Problem,
    /// Lines with invalid UTF-8 (text lines are still read, with U+FFFD in place).
    pub invalid_utf8: Problem,
    /// Records with no timestamp; they take the time of the record before them.
    pub untimed: u64,
    /// Objects whose last version an audit log's reader forgot to stay within its memory cap
    /// (their next write was read from its request body).
    #[serde(skip_serializing_if = "is_zero")]
    pub versions_forgotten: u64,
    /// Why nothing was read (an unknown format), or a read error that ended the input early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The compression the input was stored with (`gzip`, `zstd`, `bzip2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// The reference time kubectl ages (`5m`, `13s (x120 over 10m)`) were read against, and
    /// where it came from; only when the input had any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ages_relative_to: Option<String>,
}

/// Where the reference time for kubectl ages came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceFrom {
    /// `--now`.
    Flag,
    /// The file's (or archive member's) modification time.
    Modified,
    /// The time the input was read (stdin without `--now`).
    ReadTime,
}

/// The time kubectl ages are relative to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reference {
    pub at: DateTime<Utc>,
    pub from: ReferenceFrom,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let from = match self.from {
            ReferenceFrom::Flag => "--now",
            ReferenceFrom::Modified => "the file's modification time; --now sets it",
            ReferenceFrom::ReadTime => "the time it was read; --now sets it",
        };
        write!(f, "{} ({from})", self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ParseReport {
    pub fn new(source: &str) -> Self {
        ParseReport { source: source.to_string(), ..Default::default() }
    }
    pub fn count(&mut self, kind: &str) {
        // Looked up first: no allocation per record.
        match self.records.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.records.insert(kind.to_string(), 1);
            }
        }
    }
    pub fn total_records(&self) -> u64 {
        self.records.values().sum()
    }
    /// Malformed + unknown + truncated: what could not be read out.
    pub fn unread(&self) -> u64 {
        self.malformed.count + self.unknown.count + self.truncated.count
    }
}

/// Parses the timestamps Kubernetes writes: RFC 3339 with or without fractional seconds.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// A timestamp field that may be RFC 3339 text or epoch seconds (zap's older `ts`).
pub fn value_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_time(s),
        Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() || !(0.0..4.0e9).contains(&secs) {
                return None;
            }
            DateTime::from_timestamp_micros((secs * 1e6) as i64)
        }
        _ => None,
    }
}

/// The kind for an audit `objectRef` (plural resource + group): the CAPT kinds and the common
/// built-in ones by name, anything else as `resource.group` (what `kubectl get` accepts).
pub fn kind_for_resource(resource: &str, group: &str) -> String {
    for k in crate::model::ALL_KINDS {
        if k.plural == resource && k.group == group {
            return k.kind.to_string();
        }
    }
    let builtin = match (group, resource) {
        ("", "pods") => "Pod",
        ("", "secrets") => "Secret",
        ("", "configmaps") => "ConfigMap",
        ("", "services") => "Service",
        ("", "endpoints") => "Endpoints",
        ("", "events") | ("events.k8s.io", "events") => "Event",
        ("", "namespaces") => "Namespace",
        ("", "nodes") => "Node",
        ("", "serviceaccounts") => "ServiceAccount",
        ("", "persistentvolumeclaims") => "PersistentVolumeClaim",
        ("", "persistentvolumes") => "PersistentVolume",
        ("apps", "deployments") => "Deployment",
        ("apps", "replicasets") => "ReplicaSet",
        ("apps", "statefulsets") => "StatefulSet",
        ("apps", "daemonsets") => "DaemonSet",
        ("batch", "jobs") => "Job",
        ("batch", "cronjobs") => "CronJob",
        ("coordination.k8s.io", "leases") => "Lease",
        ("rbac.authorization.k8s.io", "clusterroles") => "ClusterRole",
        ("rbac.authorization.k8s.io", "clusterrolebindings") => "ClusterRoleBinding",
        ("rbac.authorization.k8s.io", "roles") => "Role",
        ("rbac.authorization.k8s.io", "rolebindings") => "RoleBinding",
        ("apiextensions.k8s.io", "customresourcedefinitions") => "CustomResourceDefinition",
        ("discovery.k8s.io", "endpointslices") => "EndpointSlice",
        _ => "",
    };
    if !builtin.is_empty() {
        builtin.to_string()
    } else if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// Builds an [`ObjectKey`], treating an empty namespace as cluster-scoped and filling in the
/// group of well-known kinds when the input does not give it (log lines, Events).
pub fn object_key(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectKey {
    let group = if group.is_empty() { known_group(kind) } else { group };
    ObjectKey::new(group, kind, namespace, name)
}

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn known_group(kind: &str) -> &'static str {
    if let Some(k) = crate::model::ALL_KINDS.iter().find(|k| k.kind == kind) {
        return k.group;
    }
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps",
        "Job" | "CronJob" => "batch",
        "Lease" => "coordination.k8s.io",
        "EndpointSlice" => "discovery.k8s.io",
        "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding" => "rbac.authorization.k8s.io",
        "CustomResourceDefinition" => "apiextensions.k8s.io",
        _ => "",
    }
}

/// Returns a short, printable excerpt of raw input for messages.
pub fn excerpt(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]);
    crate::sanitize::sanitize(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_display_prefers_manager() {
        let w = Writer {
            user: Some("system:serviceaccount:capt-system:manager".into()),
            impersonated: None,
            user_agent: Some("manager/v0.0.0 (linux/amd64) kubernetes/$Format".into()),
            manager: Some("capt".into()),
        };
        assert_eq!(w.to_string(), "capt (system:serviceaccount:capt-system:manager, manager/v0.0.0)");
        let w = Writer { user: Some("alice".into()), impersonated: Some("bob".into()), ..Writer::default() };
        assert_eq!(w.to_string(), "alice as bob");
        assert_eq!(Writer::default().to_string(), "unknown");
    }

    #[test]
    fn kinds_for_resources() {
        assert_eq!(
            kind_for_resource("captcontrolplanes", "controlplane.cluster.x-k8s.io"),
            "CAPTControlPlane"
        );
        assert_eq!(kind_for_resource("deployments", "apps"), "Deployment");
        assert_eq!(kind_for_resource("widgets", "example.com"), "widgets.example.com");
        assert_eq!(kind_for_resource("things", ""), "things");
    }

    #[test]
    fn times() {
        assert!(parse_time("2026-01-09T01:36:04.554856435Z").is_some());
        assert!(parse_time("2018-10-26T14:11:51Z").is_some());
        assert!(parse_time("yesterday").is_none());
        assert!(value_time(&serde_json::json!(1_700_000_000.5)).is_some());
        assert!(value_time(&serde_json::json!(-1.0)).is_none());
        assert!(value_time(&serde_json::json!(f64::MAX)).is_none());
    }

    #[test]
    fn problems_keep_first_lines() {
        let mut p = Problem::default();
        for l in 1..=9 {
            p.add(l);
        }
        assert_eq!(p.count, 9);
        assert_eq!(p.first_lines, vec![1, 2, 3, 4, 5]);
    }
}
