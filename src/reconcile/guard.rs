//! The other-writer guard: before `reconcile` writes, is someone else (the in-cluster CAPT
//! controller) writing the same CAPTControlPlane? Two writers of one status are the hot-loop
//! pattern itself: each overwrites the other, every write is a watch event, and every event
//! starts the other's next pass.
//!
//! Pure: the object's managedFields, what the Lease lookup found, and `now` in; a [`GuardReport`]
//! with its evidence out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
use serde::Serialize;

use crate::observe::{MetricsSample, Millis, Observation, Signal};

/// The field manager kubectl-capt writes with; its own entries are never evidence.
pub const OWN_MANAGER: &str = "kubectl-capt";
/// A write by another manager this recent blocks a write.
pub const RECENT_WRITE_WINDOW: Duration = Duration::from_secs(60);
/// The Lease CAPT's manager takes when run with `--leader-elect` (`LeaderElectionID` in
/// upstream `cmd/main.go`); it lives in the manager's namespace, `capt-system` by default.
pub const CAPT_LEASE_NAME: &str = "capt-controller-lock";
/// Pod-name prefix of CAPT's manager (kustomize `namePrefix: capt-` + `controller-manager`);
/// controller-runtime uses `<pod name>_<uuid>` as the holder identity.
pub const CAPT_HOLDER_PREFIX: &str = "capt-controller-manager";

/// What reading the Leases in the controller namespace gave.
#[derive(Clone, Debug)]
pub enum LeaseLookup {
    /// The list succeeded (possibly empty).
    Listed { namespace: String, leases: Vec<Lease> },
    /// The read was refused: the evidence is unknown, not absent.
    Forbidden { namespace: String, message: String },
    /// Any other failure (server error, timeout).
    Failed { namespace: String, message: String },
    /// Not looked up (for example, the caller only needs the managedFields part).
    Skipped,
}

/// One thing the guard saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Evidence {
    /// Another field manager wrote the object within [`RECENT_WRITE_WINDOW`].
    RecentWrite {
        manager: String,
        operation: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        subresource: Option<String>,
        #[serde(rename = "ageSeconds")]
        age_secs: u64,
    },
    /// Another field manager wrote the object, but longer ago than the window.
    OldWrite {
        manager: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        subresource: Option<String>,
        #[serde(rename = "ageSeconds")]
        age_secs: u64,
    },
    /// CAPT's leader-election Lease is held and was renewed within its duration.
    LiveLease {
        namespace: String,
        name: String,
        holder: String,
        #[serde(rename = "renewedSecondsAgo")]
        renewed_secs_ago: u64,
        #[serde(rename = "leaseDurationSeconds")]
        duration_secs: u64,
    },
    /// CAPT's Lease exists but is released or expired: no live leader.
    ExpiredLease { namespace: String, name: String, holder: Option<String> },
    /// No CAPT Lease in the namespace.
    NoLease { namespace: String },
    /// Whether a leader is live could not be told.
    LeaseUnknown { namespace: String, reason: String },
}

impl Evidence {
    /// Whether this piece of evidence alone stops a write (without `--force`).
    pub fn blocks(&self) -> bool {
        matches!(self, Evidence::RecentWrite { .. } | Evidence::LiveLease { .. })
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            Evidence::RecentWrite { manager, operation, subresource, age_secs } => format!(
                "field manager {manager:?} wrote {} ({operation}) {age_secs}s ago",
                what(subresource.as_deref())
            ),
            Evidence::OldWrite { manager, subresource, age_secs } => format!(
                "field manager {manager:?} last wrote {} {age_secs}s ago (outside the {}s window)",
                what(subresource.as_deref()),
                RECENT_WRITE_WINDOW.as_secs()
            ),
            Evidence::LiveLease { namespace, name, holder, renewed_secs_ago, duration_secs } => format!(
                "leader-election Lease {namespace}/{name} is held by {holder:?} (renewed {renewed_secs_ago}s ago, valid for {duration_secs}s)"
            ),
            Evidence::ExpiredLease { namespace, name, holder } => match holder {
                Some(h) if !h.is_empty() => {
                    format!("leader-election Lease {namespace}/{name} has expired (last holder {h:?})")
                }
                _ => format!("leader-election Lease {namespace}/{name} is released (no holder)"),
            },
            Evidence::NoLease { namespace } => {
                format!("no CAPT leader-election Lease in namespace {namespace:?}")
            }
            Evidence::LeaseUnknown { namespace, reason } => {
                format!("unknown whether a CAPT leader is live in namespace {namespace:?}: {reason}")
            }
        }
    }
}

fn what(subresource: Option<&str>) -> String {
    match subresource {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "the object".to_string(),
    }
}

/// The guard's decision and everything it is based on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GuardReport {
    pub evidence: Vec<Evidence>,
}

impl GuardReport {
    /// Whether a write must be refused without `--force`.
    pub fn blocked(&self) -> bool {
        self.evidence.iter().any(Evidence::blocks)
    }
    pub fn blocking(&self) -> impl Iterator<Item = &Evidence> {
        self.evidence.iter().filter(|e| e.blocks())
    }
    /// The live writers, short: `field manager "manager" (status), Lease capt-system/capt-controller-lock held by "pod_1"`.
    pub fn writers(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for e in self.blocking() {
            let w = match e {
                Evidence::RecentWrite { manager, subresource, .. } => match subresource {
                    Some(s) => format!("field manager {manager:?} ({s})"),
                    None => format!("field manager {manager:?}"),
                },
                Evidence::LiveLease { namespace, name, holder, .. } => {
                    format!("Lease {namespace}/{name} held by {holder:?}")
                }
                _ => continue,
            };
            if !out.contains(&w) {
                out.push(w);
            }
        }
        out.join(", ")
    }
    /// Blocking evidence here that `earlier` did not have (a writer that started since).
    pub fn new_writers(&self, earlier: &GuardReport) -> Vec<&Evidence> {
        let key = |e: &Evidence| match e {
            Evidence::RecentWrite { manager, subresource, .. } => {
                Some(format!("w {manager} {subresource:?}"))
            }
            Evidence::LiveLease { namespace, name, holder, .. } => {
                Some(format!("l {namespace} {name} {holder}"))
            }
            _ => None,
        };
        let before: Vec<Option<String>> = earlier.blocking().map(key).collect();
        self.blocking().filter(|e| !before.contains(&key(e))).collect()
    }
}

/// Why two writers are a problem, for the refusal message.
pub const HAZARD: &str = "Two writers of one CAPTControlPlane status are a hot loop: each pass overwrites what the \
other wrote, every write is a watch event, and every event starts the other writer's next pass. \
Stop the controller first (scale its Deployment to 0), or use --nudge to make the controller \
itself reconcile now. If the recent writer was you (kubectl apply, edit), wait out the 60 s \
window; --force writes anyway.";

/// Decides whether another writer is live.
///
/// `lease_name` is the Lease to recognise besides any whose holder is a CAPT manager pod.
pub fn check(
    managed_fields: &[ManagedFieldsEntry],
    leases: &LeaseLookup,
    lease_name: &str,
    now: DateTime<Utc>,
) -> GuardReport {
    let mut evidence = Vec::new();
    // The newest entry per (manager, subresource); our own entries never count.
    let mut writes: Vec<(&ManagedFieldsEntry, DateTime<Utc>)> = managed_fields
        .iter()
        .filter(|e| e.manager.as_deref() != Some(OWN_MANAGER))
        .filter_map(|e| Some((e, to_chrono(&e.time.as_ref()?.0)?)))
        .collect();
    writes.sort_by_key(|w| std::cmp::Reverse(w.1));
    for (entry, at) in writes {
        let age = age_secs(now, at);
        let manager = entry.manager.clone().unwrap_or_else(|| "<unnamed>".into());
        let subresource = entry.subresource.clone().filter(|s| !s.is_empty());
        if age < RECENT_WRITE_WINDOW.as_secs() {
            evidence.push(Evidence::RecentWrite {
                manager,
                operation: entry.operation.clone().unwrap_or_else(|| "Update".into()),
                subresource,
                age_secs: age,
            });
        } else {
            evidence.push(Evidence::OldWrite { manager, subresource, age_secs: age });
        }
    }
    match leases {
        LeaseLookup::Listed { namespace, leases } => {
            let capt: Vec<&Lease> = leases.iter().filter(|l| is_capt_lease(l, lease_name)).collect();
            if capt.is_empty() {
                evidence.push(Evidence::NoLease { namespace: namespace.clone() });
            }
            for lease in capt {
                evidence.push(lease_evidence(lease, namespace, now));
            }
        }
        LeaseLookup::Forbidden { namespace, message } => evidence.push(Evidence::LeaseUnknown {
            namespace: namespace.clone(),
            reason: format!("reading Leases is forbidden ({message})"),
        }),
        LeaseLookup::Failed { namespace, message } => {
            evidence.push(Evidence::LeaseUnknown { namespace: namespace.clone(), reason: message.clone() })
        }
        LeaseLookup::Skipped => {}
    }
    GuardReport { evidence }
}

/// CAPT's Lease: the configured name, or held by a CAPT manager pod under another name.
pub fn is_capt_lease(lease: &Lease, lease_name: &str) -> bool {
    let holder = lease.spec.as_ref().and_then(|s| s.holder_identity.as_deref()).unwrap_or("");
    lease.metadata.name.as_deref() == Some(lease_name) || holder.starts_with(CAPT_HOLDER_PREFIX)
}

fn lease_evidence(lease: &Lease, namespace: &str, now: DateTime<Utc>) -> Evidence {
    let name = lease.metadata.name.clone().unwrap_or_default();
    let namespace = lease.metadata.namespace.clone().unwrap_or_else(|| namespace.to_string());
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()).and_then(|t| to_chrono(&t.0));
    let duration = spec.lease_duration_seconds.map(|d| d.max(0) as u64);
    match (holder, renewed, duration) {
        (Some(holder), Some(renewed), Some(duration)) => {
            let ago = age_secs(now, renewed);
            if ago < duration {
                Evidence::LiveLease {
                    namespace,
                    name,
                    holder,
                    renewed_secs_ago: ago,
                    duration_secs: duration,
                }
            } else {
                Evidence::ExpiredLease { namespace, name, holder: Some(holder) }
            }
        }
        (None, _, _) => Evidence::ExpiredLease { namespace, name, holder: None },
        (Some(holder), _, _) => Evidence::LeaseUnknown {
            namespace,
            reason: format!("Lease {name} is held by {holder:?} but has no renew time or duration"),
        },
    }
}

/// Whole seconds from `then` to `now`; a time in the future (clock skew) counts as 0.
fn age_secs(now: DateTime<Utc>, then: DateTime<Utc>) -> u64 {
    (now - then).num_seconds().max(0) as u64
}

/// Converts a Kubernetes timestamp to chrono.
pub fn to_chrono(ts: &k8s_openapi::jiff::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().max(0) as u32)
}

/// What shows that another writer (the controller) acted on the object after `--nudge`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum PassSign {
    /// A managedFields entry of another manager is new or changed.
    ManagerWrote {
        manager: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        subresource: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        time: Option<String>,
    },
    /// The resourceVersion moved and our own entries did not: someone else wrote, within the
    /// same second as their previous write (managedFields times have second resolution).
    VersionChanged { from: String, to: String },
    /// The controller's log shows a pass of the object after the nudge (a converged controller
    /// writes nothing, but still logs each pass).
    ControllerLog { file: String, time: String },
    /// controller-runtime's reconcile counter rose after the nudge. Controller-wide: metrics
    /// do not name the object.
    ReconcileCounter { controller: String, from: f64, to: f64 },
}

impl PassSign {
    pub fn describe(&self) -> String {
        match self {
            PassSign::ManagerWrote { manager, subresource, time } => format!(
                "field manager {manager:?} wrote {}{}",
                what(subresource.as_deref()),
                time.as_deref().map(|t| format!(" at {t}")).unwrap_or_default()
            ),
            PassSign::VersionChanged { from, to } => {
                format!("resourceVersion changed {from} → {to} by a writer other than {OWN_MANAGER}")
            }
            PassSign::ControllerLog { file, time } => {
                format!("the controller log {file} shows a pass of the object at {time}")
            }
            PassSign::ReconcileCounter { controller, from, to } => format!(
                "controller_runtime_reconcile_total{{controller={controller:?}}} rose from {from} to {to} \
                 (controller-wide: metrics do not name the object)"
            ),
        }
    }
}

/// Whether a controller log observation is a pass of the CAPTControlPlane `namespace/name`
/// stamped at or after `since`'s second (zap console times have one-second resolution).
pub fn log_pass(o: &Observation, namespace: &str, name: &str, since: Millis) -> bool {
    matches!(o.signal, Signal::Reconcile { .. })
        && o.at >= since - since.rem_euclid(1000)
        && o.object().is_some_and(|k| {
            k.kind == "CAPTControlPlane" && k.namespace.as_deref() == Some(namespace) && k.name == name
        })
}

/// The reconcile counter of the CAPTControlPlane controller (`captcontrolplane`; any
/// controller when the scrape has no such one) rose between two scrapes.
pub fn counter_rose(before: &[MetricsSample], after: &[MetricsSample]) -> Option<PassSign> {
    let has_capt = after.iter().any(|m| m.controller == CAPT_CONTROLLER);
    after.iter().filter(|m| !has_capt || m.controller == CAPT_CONTROLLER).find_map(|m| {
        let to = m.reconcile_total?;
        let from = before.iter().find(|b| b.controller == m.controller).and_then(|b| b.reconcile_total)?;
        (to > from).then(|| PassSign::ReconcileCounter { controller: m.controller.clone(), from, to })
    })
}

/// controller-runtime's name for upstream CAPT's CAPTControlPlane controller.
const CAPT_CONTROLLER: &str = "captcontrolplane";

/// Compares the object right after the nudge (`baseline`) with a later read: is there a sign
/// that someone other than kubectl-capt wrote it since?
pub fn pass_sign(baseline: &ObjectMeta, current: &ObjectMeta) -> Option<PassSign> {
    if current.resource_version == baseline.resource_version {
        return None;
    }
    let none = Vec::new();
    let before = baseline.managed_fields.as_ref().unwrap_or(&none);
    let after = current.managed_fields.as_ref().unwrap_or(&none);
    let own = |e: &&ManagedFieldsEntry| e.manager.as_deref() == Some(OWN_MANAGER);
    if let Some(e) = after.iter().filter(|e| !own(e)).find(|e| !before.contains(e)) {
        return Some(PassSign::ManagerWrote {
            manager: e.manager.clone().unwrap_or_else(|| "<unnamed>".into()),
            subresource: e.subresource.clone().filter(|s| !s.is_empty()),
            time: e.time.as_ref().and_then(|t| to_chrono(&t.0)).map(|t| t.to_rfc3339()),
        });
    }
    let own_before: Vec<_> = before.iter().filter(own).collect();
    let own_after: Vec<_> = after.iter().filter(own).collect();
    (own_before == own_after).then(|| PassSign::VersionChanged {
        from: baseline.resource_version.clone().unwrap_or_default(),
        to: current.resource_version.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
    use k8s_openapi::jiff::Timestamp;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z").unwrap().to_utc()
    }

    fn ts(secs_before_now: i64) -> Timestamp {
        Timestamp::from_second(now().timestamp() - secs_before_now).unwrap()
    }

    fn entry(manager: &str, subresource: Option<&str>, secs_ago: i64) -> ManagedFieldsEntry {
        ManagedFieldsEntry {
            manager: Some(manager.into()),
            operation: Some("Update".into()),
            subresource: subresource.map(Into::into),
            time: Some(Time(ts(secs_ago))),
            ..Default::default()
        }
    }

    fn lease(name: &str, holder: Option<&str>, renewed_ago: i64, duration: i32) -> Lease {
        let mut l = Lease::default();
        l.metadata.name = Some(name.into());
        l.metadata.namespace = Some("capt-system".into());
        l.spec = Some(LeaseSpec {
            holder_identity: holder.map(Into::into),
            renew_time: Some(MicroTime(ts(renewed_ago))),
            lease_duration_seconds: Some(duration),
            ..Default::default()
        });
        l
    }

    fn listed(leases: Vec<Lease>) -> LeaseLookup {
        LeaseLookup::Listed { namespace: "capt-system".into(), leases }
    }

    #[test]
    fn a_writer_that_started_since_the_last_attempt_is_new() {
        let quiet = check(&[entry("kubectl-capt", None, 1)], &listed(vec![]), CAPT_LEASE_NAME, now());
        assert!(!quiet.blocked());
        assert_eq!(quiet.writers(), "");
        let busy = check(
            &[entry("kubectl-capt", None, 1), entry("manager", Some("status"), 0)],
            &listed(vec![lease(CAPT_LEASE_NAME, Some("capt-controller-manager-1_a"), 2, 15)]),
            CAPT_LEASE_NAME,
            now(),
        );
        assert_eq!(
            busy.writers(),
            "field manager \"manager\" (status), Lease capt-system/capt-controller-lock held by \"capt-controller-manager-1_a\""
        );
        assert_eq!(busy.new_writers(&quiet).len(), 2);
        assert!(busy.new_writers(&busy).is_empty(), "the same writers again are not new");
    }

    #[test]
    fn recent_write_by_another_manager_blocks() {
        let v = check(&[entry("manager", Some("status"), 12)], &listed(vec![]), CAPT_LEASE_NAME, now());
        assert!(v.blocked());
        let first = v.blocking().next().unwrap();
        assert_eq!(
            first,
            &Evidence::RecentWrite {
                manager: "manager".into(),
                operation: "Update".into(),
                subresource: Some("status".into()),
                age_secs: 12
            }
        );
        assert_eq!(first.describe(), "field manager \"manager\" wrote status (Update) 12s ago");
        assert!(v.evidence.contains(&Evidence::NoLease { namespace: "capt-system".into() }));
    }

    #[test]
    fn own_writes_are_ignored() {
        let v = check(&[entry(OWN_MANAGER, Some("status"), 1)], &listed(vec![]), CAPT_LEASE_NAME, now());
        assert!(!v.blocked(), "{v:?}");
        assert!(!v.evidence.iter().any(|e| matches!(e, Evidence::RecentWrite { .. })));
    }

    #[test]
    fn the_window_is_sixty_seconds() {
        let edge = check(&[entry("manager", None, 59)], &LeaseLookup::Skipped, CAPT_LEASE_NAME, now());
        assert!(edge.blocked());
        let old = check(&[entry("manager", None, 60)], &LeaseLookup::Skipped, CAPT_LEASE_NAME, now());
        assert!(!old.blocked());
        assert!(old.evidence[0].describe().contains("60s ago (outside the 60s window)"));
    }

    #[test]
    fn future_times_count_as_now() {
        let v = check(&[entry("manager", None, -30)], &LeaseLookup::Skipped, CAPT_LEASE_NAME, now());
        assert!(v.blocked());
    }

    #[test]
    fn entries_without_time_are_not_evidence() {
        let mut e = entry("manager", None, 1);
        e.time = None;
        let v = check(&[e], &LeaseLookup::Skipped, CAPT_LEASE_NAME, now());
        assert!(v.evidence.is_empty());
    }

    #[test]
    fn live_lease_blocks_and_expired_does_not() {
        let live = check(
            &[],
            &listed(vec![lease(CAPT_LEASE_NAME, Some("capt-controller-manager-7f9c_1234"), 3, 15)]),
            CAPT_LEASE_NAME,
            now(),
        );
        assert!(live.blocked());
        assert_eq!(
            live.evidence[0].describe(),
            "leader-election Lease capt-system/capt-controller-lock is held by \"capt-controller-manager-7f9c_1234\" (renewed 3s ago, valid for 15s)"
        );
        let expired =
            check(&[], &listed(vec![lease(CAPT_LEASE_NAME, Some("x"), 20, 15)]), CAPT_LEASE_NAME, now());
        assert!(!expired.blocked());
        assert!(matches!(expired.evidence[0], Evidence::ExpiredLease { .. }));
        let released =
            check(&[], &listed(vec![lease(CAPT_LEASE_NAME, Some(""), 1, 15)]), CAPT_LEASE_NAME, now());
        assert!(!released.blocked());
        assert!(released.evidence[0].describe().contains("released"));
    }

    #[test]
    fn leases_are_recognised_by_name_or_holder() {
        let other = lease("cert-manager-controller", Some("cert-manager-abc"), 1, 15);
        let renamed = lease("my-lock", Some("capt-controller-manager-5d_abc"), 1, 15);
        assert!(!is_capt_lease(&other, CAPT_LEASE_NAME));
        assert!(is_capt_lease(&renamed, CAPT_LEASE_NAME));
        assert!(is_capt_lease(&lease("custom", Some("pod-1"), 1, 15), "custom"));
        let v = check(&[], &listed(vec![other]), CAPT_LEASE_NAME, now());
        assert!(!v.blocked());
        assert_eq!(v.evidence, vec![Evidence::NoLease { namespace: "capt-system".into() }]);
        assert!(check(&[], &listed(vec![renamed]), CAPT_LEASE_NAME, now()).blocked());
    }

    #[test]
    fn forbidden_lease_read_is_unknown_not_blocking() {
        let v = check(
            &[],
            &LeaseLookup::Forbidden { namespace: "capt-system".into(), message: "cannot list leases".into() },
            CAPT_LEASE_NAME,
            now(),
        );
        assert!(!v.blocked());
        assert!(
            matches!(&v.evidence[0], Evidence::LeaseUnknown { reason, .. } if reason.contains("forbidden"))
        );
    }

    #[test]
    fn newest_write_comes_first() {
        let v = check(
            &[entry("kubectl-edit", None, 300), entry("manager", Some("status"), 5)],
            &LeaseLookup::Skipped,
            CAPT_LEASE_NAME,
            now(),
        );
        assert!(matches!(&v.evidence[0], Evidence::RecentWrite { manager, .. } if manager == "manager"));
        assert!(matches!(&v.evidence[1], Evidence::OldWrite { manager, .. } if manager == "kubectl-edit"));
    }

    fn meta(rv: &str, entries: Vec<ManagedFieldsEntry>) -> ObjectMeta {
        ObjectMeta { resource_version: Some(rv.into()), managed_fields: Some(entries), ..Default::default() }
    }

    #[test]
    fn nudge_sign_needs_a_new_version_from_someone_else() {
        let base = meta("10", vec![entry(OWN_MANAGER, None, 0), entry("manager", Some("status"), 120)]);
        // Nothing moved.
        assert_eq!(pass_sign(&base, &base.clone()), None);
        // The controller wrote status again.
        let wrote = meta("11", vec![entry(OWN_MANAGER, None, 0), entry("manager", Some("status"), 0)]);
        let sign = pass_sign(&base, &wrote).unwrap();
        assert!(matches!(&sign, PassSign::ManagerWrote { manager, .. } if manager == "manager"), "{sign:?}");
        assert!(sign.describe().starts_with("field manager \"manager\" wrote status at "));
        // Only our own entry moved: that was us, not a pass.
        let ours = meta("12", vec![entry(OWN_MANAGER, None, -5), entry("manager", Some("status"), 120)]);
        assert_eq!(pass_sign(&base, &ours), None);
        // Version moved, no entry changed (same-second rewrite by another writer).
        let same = meta("13", base.managed_fields.clone().unwrap());
        assert_eq!(
            pass_sign(&base, &same),
            Some(PassSign::VersionChanged { from: "10".into(), to: "13".into() })
        );
    }

    #[test]
    fn a_logged_pass_of_the_object_after_the_nudge_is_a_sign() {
        let key = |ns: &str, name: &str| {
            crate::observe::ObjectKey::new(
                "controlplane.cluster.x-k8s.io",
                "CAPTControlPlane",
                Some(ns),
                name,
            )
        };
        let since = 1_800_000_000_400; // the nudge, 400 ms into a second
        let pass = |at, k| Observation::reconcile(at, k, Some("r".into()));
        assert!(log_pass(&pass(since, key("ns", "a")), "ns", "a", since));
        // Stamped in the nudge's second (one-second log resolution).
        assert!(log_pass(&pass(since - 400, key("ns", "a")), "ns", "a", since));
        assert!(!log_pass(&pass(since - 401, key("ns", "a")), "ns", "a", since), "before the nudge");
        assert!(!log_pass(&pass(since, key("ns", "b")), "ns", "a", since), "another object");
        assert!(!log_pass(&pass(since, key("other", "a")), "ns", "a", since), "another namespace");
        let sign =
            PassSign::ControllerLog { file: "manager.log".into(), time: "2027-01-15T08:00:00Z".into() };
        assert_eq!(
            sign.describe(),
            "the controller log manager.log shows a pass of the object at 2027-01-15T08:00:00Z"
        );
    }

    #[test]
    fn the_capt_reconcile_counter_rising_is_a_sign() {
        let sample = |controller: &str, total: f64| MetricsSample {
            controller: controller.into(),
            reconcile_total: Some(total),
            ..Default::default()
        };
        let before = [sample("captcontrolplane", 10.0), sample("other", 5.0)];
        assert_eq!(counter_rose(&before, &before), None);
        // Another controller's passes are not this one's.
        assert_eq!(counter_rose(&before, &[sample("captcontrolplane", 10.0), sample("other", 9.0)]), None);
        let sign = counter_rose(&before, &[sample("captcontrolplane", 12.0), sample("other", 5.0)]).unwrap();
        assert_eq!(
            sign,
            PassSign::ReconcileCounter { controller: "captcontrolplane".into(), from: 10.0, to: 12.0 }
        );
        assert!(sign.describe().contains("controller-wide"), "{}", sign.describe());
        // A scrape without the CAPT controller: any controller's counter.
        assert!(counter_rose(&[sample("x", 1.0)], &[sample("x", 2.0)]).is_some());
    }
}
