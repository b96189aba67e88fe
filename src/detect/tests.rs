//! The detector on synthetic streams: exact verdicts and times.

use super::*;
use crate::observe::{FieldChange, Manager};

const T0: Millis = 1_800_000_000_000; // whole second

fn cp(name: &str) -> ObjectKey {
    ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", Some("ns"), name)
}

fn deploy(name: &str) -> ObjectKey {
    ObjectKey::new("apps", "Deployment", Some("ns"), name)
}

fn mgr(name: &str, sub: Option<&str>) -> Option<Manager> {
    Some(Manager {
        name: name.into(),
        operation: "Update".into(),
        subresource: sub.map(Into::into),
        time: None,
    })
}

fn change(path: &str, value: &str) -> FieldChange {
    FieldChange::new(path, Some(value.to_string()))
}

/// HL1: one pass writes Ready/True, then Failed/SecretError.
fn hl1_write(k: usize, at: Millis) -> ObservedWrite {
    let (status, reason, phase) =
        if k.is_multiple_of(2) { ("True", "Ready", "Ready") } else { ("False", "SecretError", "Failed") };
    ObservedWrite {
        state: ObjectState { phase: Some(phase.into()), generation: Some(1), ..Default::default() },
        manager: mgr("legacy-capt-manager", Some("status")),
        changes: vec![
            change("status.conditions[Ready].status", status),
            change("status.conditions[Ready].reason", reason),
            change("status.conditions[Ready].lastTransitionTime", &rfc3339(at)),
            change("status.phase", phase),
        ]
        .into(),
        ..Default::default()
    }
}

fn kind_scope(key: &ObjectKey) -> WriteScope {
    WriteScope::Kind { group: key.group.clone(), kind: key.kind.clone() }
}

fn changes_of(d: &mut Detector, obs: impl IntoIterator<Item = Observation>) -> Vec<VerdictChange> {
    obs.into_iter().filter_map(|o| d.observe(&o)).collect()
}

#[test]
fn calm_ready_object_every_30s_is_never_elevated() {
    for key in [cp("calm"), deploy("calm")] {
        let mut d = Detector::new(Config::default());
        for k in 0..40 {
            let at = T0 + k * 30_000;
            let w = ObservedWrite {
                state: ObjectState { phase: Some("Ready".into()), generation: Some(1), ..Default::default() },
                manager: mgr("manager", Some("status")),
                changes: vec![change("status.workspaceStatus.state", &format!("s{k}"))].into(),
                ..Default::default()
            };
            assert_eq!(d.observe(&Observation::write(at, key.clone(), w)), None, "{key} at write {k}");
            assert_eq!(
                d.observe(&Observation::reconcile(at + 5, key.clone(), Some(format!("id-{k}")))),
                None
            );
            assert!(d.tick(at + 15_000).is_empty());
        }
        let f = d.finding(&key, T0 + 40 * 30_000).unwrap();
        assert_eq!(f.peak_verdict, Verdict::Ok);
        assert_eq!(f.totals.writes, 40);
    }
}

#[test]
fn hl1_flip_flop_is_hot_after_31_writes() {
    let mut d = Detector::new(Config::default());
    let a = cp("a");
    let changes = changes_of(
        &mut d,
        (0..40).map(|k| Observation::write(T0 + k as i64 * 50, a.clone(), hl1_write(k, T0 + k as i64 * 50))),
    );
    // ObservedWrite 5 (200 ms) is a burst of half the hot rate. The object flips between Ready (30 s)
    // and Failed (10 s), so it is judged against 10 s: write 31 (1.5 s) is more than 5x 6/min.
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!((changes[0].at, changes[0].to), (T0 + 200, Verdict::Elevated));
    assert_eq!((changes[1].at, changes[1].to), (T0 + 1_500, Verdict::Hot));
    assert_eq!(changes[1].cause, Some(Cause::StatusFlipFlop));

    let f = d.finding(&a, T0 + 2_000).unwrap();
    assert_eq!(f.verdict, Verdict::Hot);
    assert_eq!(f.cause, Some(Cause::StatusFlipFlop));
    assert_eq!(f.observed_at, rfc3339(T0 + 1_500));
    assert_eq!(f.first_hot_at, Some(rfc3339(T0 + 1_500)));
    assert_eq!(f.writes_per_minute, 40.0);
    assert_eq!(f.expected_interval_seconds, Some(10), "last write was Failed");
    assert!(f.evidence[0].contains("status.conditions[Ready].reason alternates"), "{:?}", f.evidence);
    assert!(f.evidence[0].contains("Ready") && f.evidence[0].contains("SecretError"));
    assert!(f.evidence[1].contains("legacy-capt-manager"), "{:?}", f.evidence);
    assert_eq!(f.managers.len(), 1);
    assert_eq!(f.managers[0].manager, "legacy-capt-manager");
    assert_eq!(f.managers[0].subresource.as_deref(), Some("status"));
    assert_eq!(f.managers[0].writes, 40);
    assert!(f.changed_fields.contains(&"status.conditions[Ready].reason".to_string()));
}

#[test]
fn a_stopped_loop_cools_down_on_tick() {
    let mut d = Detector::new(Config::default());
    let a = cp("a");
    changes_of(
        &mut d,
        (0..40).map(|k| Observation::write(T0 + k as i64 * 50, a.clone(), hl1_write(k, T0 + k as i64 * 50))),
    );
    // Still more than 5x expected while the writes are in the last minute.
    assert!(d.tick(T0 + 59_000).is_empty());
    let c = d.tick(T0 + 61_000);
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].from, c[0].to, c[0].at), (Verdict::Hot, Verdict::Ok, T0 + 61_000));
    let f = d.finding(&a, T0 + 61_000).unwrap();
    assert_eq!((f.verdict, f.peak_verdict), (Verdict::Ok, Verdict::Hot));
    assert_eq!(f.cause, None);
}

#[test]
fn writer_fight_on_unknown_kind_uses_absolute_threshold() {
    let mut d = Detector::new(Config::default());
    let x = deploy("x");
    let obs = (0..30).map(|k| {
        let who = if k % 2 == 0 { "kubectl-edit" } else { "autoscaler" };
        let w = ObservedWrite {
            state: ObjectState { generation: Some(1 + k), ..Default::default() },
            manager: mgr(who, None),
            changes: vec![change("spec.replicas", if k % 2 == 0 { "3" } else { "5" })].into(),
            ..Default::default()
        };
        Observation::write(T0 + k * 500, x.clone(), w)
    });
    let changes = changes_of(&mut d, obs);
    // 2 writes/s: 5 writes make a burst (ELEVATED at 2 s); HOT once 10 writes spread over 8 of
    // the last 10 seconds (7 s).
    assert_eq!(
        changes.iter().map(|c| (c.at - T0, c.to)).collect::<Vec<_>>(),
        vec![(2_000, Verdict::Elevated), (7_000, Verdict::Hot)]
    );
    let f = d.finding(&x, T0 + 14_500).unwrap();
    assert_eq!(f.expected_interval_seconds, None);
    assert_eq!(f.cause, Some(Cause::WriterFight));
    assert!(
        f.evidence[0].contains("autoscaler and kubectl-edit alternately write spec.replicas"),
        "{:?}",
        f.evidence
    );
    assert_eq!(f.evidence[1], "30 writes in the last minute");
}

#[test]
fn one_controller_updating_and_patching_status_is_not_a_writer_fight() {
    // Upstream CAPT in an audit log: every pass a (no-op) Update of the object and a status
    // patch, from the same client. Two operations, one writer.
    let mut d = Detector::new(Config::default());
    let a = cp("a");
    let obs = (0..40).map(|k| {
        let mut w = ObservedWrite {
            state: ObjectState { phase: Some("Failed".into()), generation: Some(1), ..Default::default() },
            manager: mgr("capt-admin (manager/v0.0.0)", if k % 2 == 0 { Some("status") } else { None }),
            ..Default::default()
        };
        if let Some(m) = w.manager.as_mut() {
            m.operation = if k % 2 == 0 { "patch".into() } else { "update".into() };
        }
        Observation::write(T0 + k * 200, a.clone(), w)
    });
    changes_of(&mut d, obs);
    let f = d.finding(&a, T0 + 8_000).unwrap();
    assert_eq!(f.verdict, Verdict::Hot);
    assert_ne!(f.cause, Some(Cause::WriterFight), "{:?}", f.evidence);
    assert_eq!(f.managers.len(), 2, "both operations are listed: {:?}", f.managers);
}

#[test]
fn volatile_field_only_timestamps_change() {
    let mut d = Detector::new(Config::default());
    let x = deploy("v");
    for k in 0..60 {
        let at = T0 + k * 200;
        let w = ObservedWrite {
            manager: mgr("operator", Some("status")),
            changes: vec![
                change("status.conditions[Ready].lastTransitionTime", &rfc3339(at)),
                change("status.lastSyncTime", &rfc3339(at)),
            ]
            .into(),
            ..Default::default()
        };
        d.observe(&Observation::write(at, x.clone(), w));
    }
    let f = d.finding(&x, T0 + 12_000).unwrap();
    assert_eq!(f.verdict, Verdict::Hot);
    assert_eq!(f.cause, Some(Cause::VolatileField));
    assert!(f.evidence[0].contains("lastTransitionTime"), "{:?}", f.evidence);
}

#[test]
fn spec_churn_generation_rises() {
    let mut d = Detector::new(Config::default());
    let a = cp("gen");
    for k in 0..30 {
        let w = ObservedWrite {
            state: ObjectState { phase: Some("Ready".into()), generation: Some(1 + k), ..Default::default() },
            manager: mgr("manager", None),
            changes: vec![change("spec.controlPlaneEndpoint.host", &format!("h{k}.example"))].into(),
            ..Default::default()
        };
        d.observe(&Observation::write(T0 + k * 100, a.clone(), w));
    }
    let f = d.finding(&a, T0 + 3_000).unwrap();
    assert_eq!(f.verdict, Verdict::Hot);
    assert_eq!(f.cause, Some(Cause::SpecChurn));
    assert!(f.evidence[0].contains("now 30"), "{:?}", f.evidence);
}

#[test]
fn before_endpoint_flip_flop_is_a_flip_flop_with_generation_rising() {
    let mut d = Detector::new(Config::default());
    let a = cp("before");
    for k in 0..30 {
        let host = if k % 2 == 0 { "https://abc.eks.amazonaws.com" } else { "abc.eks.amazonaws.com" };
        let w = ObservedWrite {
            state: ObjectState { phase: Some("Ready".into()), generation: Some(1 + k), ..Default::default() },
            manager: mgr("manager", None),
            changes: vec![change("spec.controlPlaneEndpoint.host", host)].into(),
            ..Default::default()
        };
        d.observe(&Observation::write(T0 + k * 100, a.clone(), w));
    }
    let f = d.finding(&a, T0 + 3_000).unwrap();
    assert_eq!(f.cause, Some(Cause::StatusFlipFlop));
    assert!(f.evidence[1].contains("generation rising"), "{:?}", f.evidence);
}

#[test]
fn no_write_loop_counts_distinct_reconcile_ids() {
    let mut d = Detector::new(Config::default());
    let a = cp("quiet");
    d.observe(&Observation::coverage(T0 - 60_000, kind_scope(&a), Some(T0 - 60_000)));
    d.observe(&Observation::baseline(
        T0,
        a.clone(),
        ObjectState { phase: Some("Ready".into()), ..Default::default() },
    ));
    // Three log lines per pass share one reconcileID: 50 passes at 5/s.
    for k in 0..50 {
        for line in 0..3 {
            d.observe(&Observation::reconcile(T0 + k * 200 + line, a.clone(), Some(format!("pass-{k}"))));
        }
    }
    let f = d.finding(&a, T0 + 10_000).unwrap();
    assert_eq!(f.totals.reconciles, 50);
    assert_eq!(f.reconciles_per_minute, 50.0);
    assert_eq!(f.verdict, Verdict::Hot);
    assert_eq!(f.first_hot_at, Some(rfc3339(T0 + 2_000)), "the 11th pass is > 5x the ready rate");
    assert_eq!(f.cause, Some(Cause::NoWriteLoop));
    assert_eq!(f.totals.writes, 0);
}

#[test]
fn owned_object_churn() {
    let mut d = Detector::new(Config::default());
    let owner = cp("own");
    d.observe(&Observation::coverage(T0 - 60_000, WriteScope::All, Some(T0 - 60_000)));
    let child =
        ObjectKey::new("infrastructure.cluster.x-k8s.io", "WorkspaceTemplateApply", Some("ns"), "own-apply");
    for k in 0..40 {
        let at = T0 + k * 250;
        let w = ObservedWrite {
            state: ObjectState { owner: Some(owner.clone()), generation: Some(1), ..Default::default() },
            manager: mgr("terraform", Some("status")),
            changes: vec![change("status.atProvider.outputs.digest", &format!("d{k}"))].into(),
            ..Default::default()
        };
        d.observe(&Observation::write(at, child.clone(), w));
        d.observe(&Observation::reconcile(at + 10, owner.clone(), Some(format!("r{k}"))));
    }
    let now = T0 + 10_000;
    let fc = d.finding(&child, now).unwrap();
    assert_eq!(fc.verdict, Verdict::Hot);
    assert_eq!(fc.cause, Some(Cause::OwnedObjectChurn));
    assert!(fc.evidence[0].contains("CAPTControlPlane ns/own"), "{:?}", fc.evidence);
    let fo = d.finding(&owner, now).unwrap();
    assert_eq!(fo.verdict, Verdict::Hot);
    // The owner only reconciles: it is a no-write loop fed by the child.
    assert_eq!(fo.cause, Some(Cause::NoWriteLoop));
}

/// 40 rounds, 250 ms apart, of a status write to each child (in order), then one to the owner.
fn children_and_owner_churn(d: &mut Detector, owner: &ObjectKey, children: &[&ObjectKey]) {
    for k in 0..40 {
        let at = T0 + k * 250;
        for &child in children {
            let cw = ObservedWrite {
                state: ObjectState { owner: Some(owner.clone()), ..Default::default() },
                manager: mgr("rs-controller", Some("status")),
                changes: vec![change("status.observedReplicas", &format!("{k}"))].into(),
                ..Default::default()
            };
            d.observe(&Observation::write(at, child.clone(), cw));
        }
        let ow = ObservedWrite {
            manager: mgr("deploy-controller", Some("status")),
            changes: vec![change("status.replicas", &format!("{k}"))].into(),
            ..Default::default()
        };
        d.observe(&Observation::write(at + 5, owner.clone(), ow));
    }
}

#[test]
fn owner_without_its_own_pattern_blames_the_child() {
    let mut d = Detector::new(Config::default());
    let owner = deploy("parent");
    let child = ObjectKey::new("apps", "ReplicaSet", Some("ns"), "parent-1");
    children_and_owner_churn(&mut d, &owner, &[&child]);
    let fo = d.finding(&owner, T0 + 10_000).unwrap();
    assert_eq!(fo.cause, Some(Cause::OwnedObjectChurn));
    assert!(fo.evidence[0].contains("ReplicaSet ns/parent-1"), "{:?}", fo.evidence);
}

/// Of two churning children, the owner names the one tracked first, whichever became its child
/// first (the order a scan of every object gives).
#[test]
fn an_owner_blames_its_first_tracked_churning_child() {
    let mut d = Detector::new(Config::default());
    let owner = deploy("parent");
    let (early, late) = (
        ObjectKey::new("apps", "ReplicaSet", Some("ns"), "early"),
        ObjectKey::new("apps", "ReplicaSet", Some("ns"), "late"),
    );
    // `early` is tracked first but names its owner only from its second write on.
    d.observe(&Observation::write(T0 - 1_000, early.clone(), ObservedWrite::default()));
    children_and_owner_churn(&mut d, &owner, &[&late, &early]);
    let now = T0 + 10_000;
    assert!(d.finding(&late, now).unwrap().verdict > Verdict::Ok);
    let fo = d.finding(&owner, now).unwrap();
    assert_eq!(fo.cause, Some(Cause::OwnedObjectChurn));
    assert!(fo.evidence[0].contains("ReplicaSet ns/early"), "{:?}", fo.evidence);
}

#[test]
fn event_storm() {
    let mut d = Detector::new(Config::default());
    let p = ObjectKey::new("", "Pod", Some("ns"), "crashy");
    for s in 0..12 {
        d.observe(&Observation::events(T0 + s * 1000, p.clone(), 4, Some("BackOff".into())));
    }
    let f = d.finding(&p, T0 + 11_000).unwrap();
    assert_eq!(f.events_per_minute, 48.0);
    assert_eq!(f.verdict, Verdict::Hot);
    assert_eq!(f.cause, Some(Cause::EventStorm));
    assert!(f.evidence[0].contains("dampens"));
}

#[test]
fn relists_are_never_writes() {
    let mut d = Detector::new(Config::default());
    let a = cp("relisted");
    // A reconnect storm: 200 relists of the same object in 2 s.
    for k in 0..200 {
        let st = ObjectState {
            phase: Some("Ready".into()),
            resource_version: Some(format!("{k}")),
            ..Default::default()
        };
        assert_eq!(d.observe(&Observation::baseline(T0 + k * 10, a.clone(), st)), None);
    }
    let f = d.finding(&a, T0 + 2_000).unwrap();
    assert_eq!((f.verdict, f.totals.writes, f.totals.baselines), (Verdict::Ok, 0, 200));
    assert_eq!(f.phase.as_deref(), Some("Ready"));
}

#[test]
fn deletes_are_counted_and_marked() {
    let mut d = Detector::new(Config::default());
    let a = cp("gone");
    d.observe(&Observation::write(T0, a.clone(), ObservedWrite { create: true, ..Default::default() }));
    d.observe(&Observation::delete(T0 + 1, a.clone()));
    let f = d.finding(&a, T0 + 2).unwrap();
    assert!(f.deleted);
    assert_eq!((f.totals.writes, f.totals.deletes, f.verdict), (1, 1, Verdict::Ok));
}

#[test]
fn thresholds_are_configurable() {
    let strict = Config { hot_rate: 0.2, hot_for: Duration::from_secs(10), ..Config::default() };
    let mut d = Detector::new(strict);
    let x = deploy("slow");
    let writes = || {
        (0..10).map(|k| {
            Observation::write(
                T0 + k * 1500,
                deploy("slow"),
                ObservedWrite {
                    changes: vec![change("spec.a", &k.to_string())].into(),
                    ..Default::default()
                },
            )
        })
    };
    for o in writes() {
        d.observe(&o);
    }
    assert_eq!(d.finding(&x, T0 + 13_500).unwrap().verdict, Verdict::Hot);
    let mut d = Detector::new(Config::default());
    for o in writes() {
        d.observe(&o);
    }
    assert_eq!(d.finding(&x, T0 + 13_500).unwrap().verdict, Verdict::Elevated, "0.67/s is not 1/s");
}

#[test]
fn findings_are_hot_first_and_deterministic() {
    let run = || {
        let mut d = Detector::new(Config::default());
        let calm = cp("b-calm");
        d.observe(&Observation::write(T0, calm.clone(), ObservedWrite::default()));
        for k in 0..40 {
            d.observe(&Observation::write(T0 + k * 50, cp("z-hot"), hl1_write(k as usize, T0 + k * 50)));
        }
        d.findings(T0 + 3_000)
    };
    let a = run();
    assert_eq!(a, run());
    assert_eq!(a[0].name, "z-hot");
    assert_eq!(a[1].name, "b-calm");
    let s: Vec<String> = a.iter().map(|f| serde_json::to_string(f).unwrap()).collect();
    assert!(s[0].contains(r#""verdict":"HOT","peakVerdict":"HOT","cause":"status-flip-flop""#), "{}", s[0]);
    for key in [
        "writesPerMinute",
        "reconcilesPerMinute",
        "eventsPerMinute",
        "expectedIntervalSeconds",
        "managers",
        "changedFields",
        "observedAt",
        "evidence",
    ] {
        assert!(s[0].contains(&format!("\"{key}\"")), "{key} in {}", s[0]);
    }
}

#[test]
fn summary_and_metrics_rates() {
    let mut d = Detector::new(Config::default());
    let sample = |t: f64, a: f64| MetricsSample {
        controller: "captcontrolplane".into(),
        reconcile_total: Some(t),
        reconcile_errors: Some(0.0),
        workqueue_adds: Some(a),
        process_start: None,
    };
    d.observe(&Observation { at: T0, signal: Signal::Metrics(sample(100.0, 120.0)) });
    let s = d.summary(T0);
    assert_eq!(s.controllers[0].reconciles_per_second, None, "one scrape gives totals only");
    d.observe(&Observation { at: T0 + 10_000, signal: Signal::Metrics(sample(150.0, 200.0)) });
    let s = d.summary(T0 + 10_000);
    assert_eq!(s.controllers[0].reconciles_per_second, Some(5.0));
    assert_eq!(s.controllers[0].workqueue_adds_per_second, Some(8.0));
    d.observe(&Observation { at: T0 + 20_000, signal: Signal::Metrics(sample(3.0, 4.0)) });
    assert_eq!(d.summary(T0 + 20_000).controllers[0].reconciles_per_second, None, "counter reset");
    assert_eq!(s.objects, 0);
    // One scrape with the process start time: lifetime averages, labelled as such.
    let mut d = Detector::new(Config::default());
    let start = (T0 - 200_000) as f64 / 1000.0;
    let one = MetricsSample { process_start: Some(start), ..sample(100.0, 400.0) };
    d.observe(&Observation { at: T0, signal: Signal::Metrics(one) });
    let c = &d.summary(T0).controllers[0];
    assert_eq!((c.reconciles_per_second, c.workqueue_adds_per_second), (Some(0.5), Some(2.0)));
    assert!(c.lifetime_average);
}

#[test]
fn series_buckets_last_five_minutes() {
    let mut d = Detector::new(Config::default());
    let a = cp("s");
    for k in 0..6 {
        d.observe(&Observation::write(T0 + k * 10_000, a.clone(), ObservedWrite::default()));
    }
    let s = d.series(&a, T0 + 50_000).unwrap();
    assert_eq!(s.writes.len(), 30);
    assert_eq!(&s.writes[24..], &[1, 1, 1, 1, 1, 1]);
    assert_eq!(s.start, T0 + 50_000 - 290_000);
}

#[test]
fn history_covers_a_long_run_in_bounded_buckets() {
    let mut d = Detector::new(Config { history_buckets: 16, ..Config::default() });
    let a = cp("h");
    for k in 0..3600 {
        d.observe(&Observation::write(T0 + k * 1000, a.clone(), ObservedWrite::default()));
    }
    let id = d.ids().find(|&id| d.key(id) == &a).unwrap();
    let h = d.history(id).unwrap();
    assert!(h.dense().len() <= 16);
    assert_eq!(h.buckets().map(|(_, b)| u64::from(b[0])).sum::<u64>(), 3600);
}

#[test]
fn per_object_state_is_small_and_bounded() {
    assert!(
        std::mem::size_of::<state::TrackedObject>() < 1800,
        "{}",
        std::mem::size_of::<state::TrackedObject>()
    );
    let mut d = Detector::new(Config::default());
    for k in 0..1000 {
        for j in 0..20 {
            d.observe(&Observation::write(T0 + j * 100, cp(&format!("cp-{k}")), hl1_write(j as usize, T0)));
        }
    }
    let per = d.bytes_per_object();
    assert!(per < 2048, "{per} bytes per object");
}

#[test]
fn volatile_paths() {
    for p in [
        "status.conditions[Ready].lastTransitionTime",
        "status.lastSyncTime",
        "metadata.annotations.requestedAt",
        "status.observedGeneration",
        "status.restartCount",
    ] {
        assert!(is_volatile(p), "{p}");
    }
    for p in ["status.conditions[Ready].reason", "status.phase", "spec.controlPlaneEndpoint.host", "data.At"]
    {
        assert!(!is_volatile(p), "{p}");
    }
}

/// 80 passes of `a` from T0, one every `every_ms`, read before any write source covers them.
fn backlog(d: &mut Detector, a: &ObjectKey, every_ms: i64) -> Vec<VerdictChange> {
    changes_of(
        d,
        (0..80).map(|k| Observation::reconcile(T0 + k * every_ms, a.clone(), Some(format!("p{k}")))),
    )
}

/// Passes read from a log backlog before the object watch started: nobody saw whether they
/// wrote, so no cause is stated; once the watch has covered 5 s without writes, they are a
/// no-write loop over that time only.
#[test]
fn no_write_loop_only_over_covered_time() {
    let mut d = Detector::new(Config::default());
    let a = cp("backlog");
    let changes = backlog(&mut d, &a, 25);
    let hot = changes.iter().find(|c| c.to == Verdict::Hot).expect("HOT from the pass rate");
    assert_eq!(hot.cause, None, "{changes:?}");
    let f = d.finding(&a, T0 + 2_000).unwrap();
    assert_eq!((f.verdict, f.cause), (Verdict::Hot, None));
    assert!(f.evidence[0].contains("no source covers the writes of CAPTControlPlane"), "{:?}", f.evidence);

    // The object watch starts at T0 + 2 s; passes go on, still without writes.
    d.observe(&Observation::coverage(T0 + 2_000, kind_scope(&a), Some(T0 + 2_000)));
    for k in 0..60 {
        d.observe(&Observation::reconcile(T0 + 2_000 + k * 100, a.clone(), Some(format!("q{k}"))));
        let now = T0 + 2_000 + k * 100;
        let f = d.finding(&a, now).unwrap();
        // Whole seconds from T0 + 3 s on: 5 of them by T0 + 7 s.
        if now < T0 + 7_000 {
            assert_eq!(f.cause, None, "at +{} ms: {:?}", now - T0, f.evidence);
            assert!(f.evidence[0].contains("watched only for"), "{:?}", f.evidence);
        }
    }
    let f = d.finding(&a, T0 + 7_900).unwrap();
    assert_eq!(f.cause, Some(Cause::NoWriteLoop), "{:?}", f.evidence);
    assert!(f.evidence[0].starts_with("50 reconcile passes but 0 writes in the last 5s"), "{:?}", f.evidence);
    // The cause that became known is reported as a change of a HOT object.
    let c = d.tick(T0 + 7_900);
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0].cause_only(), "{c:?}");
    assert_eq!((c[0].to, c[0].previous_cause, c[0].cause), (Verdict::Hot, None, Some(Cause::NoWriteLoop)));
    assert!(d.tick(T0 + 8_900).is_empty(), "reported once");

    // A relist after a gap ends the coverage: no claim over the time since.
    d.observe(&Observation::coverage(T0 + 9_000, kind_scope(&a), None));
    let f = d.finding(&a, T0 + 9_000).unwrap();
    assert_eq!(f.cause, None, "{:?}", f.evidence);
    // Coverage of another kind says nothing about this one; an audit log (all kinds) does.
    d.observe(&Observation::coverage(T0, kind_scope(&deploy("x")), Some(T0)));
    assert_eq!(d.covered_since(&a), None);
    d.observe(&Observation::coverage(T0, WriteScope::All, Some(T0)));
    assert_eq!(d.covered_since(&a), Some(T0));
}

/// The demo's order: a backlog of passes makes the object HOT before its writes are watched;
/// once they are, the flip-flop is found and printed as a cause change, never a no-write loop.
#[test]
fn cause_changes_of_a_hot_object_are_reported() {
    let mut d = Detector::new(Config::default());
    let a = cp("legacy");
    let mut changes = backlog(&mut d, &a, 18);
    changes.extend(d.tick(T0 + 1_500));
    assert!(changes.iter().any(|c| c.to == Verdict::Hot), "{changes:?}");
    assert!(changes.iter().all(|c| c.cause.is_none()), "{changes:?}");
    let t1 = T0 + 2_000;
    d.observe(&Observation::coverage(t1, kind_scope(&a), Some(t1)));
    for k in 0..40 {
        let at = t1 + 10 + k as i64 * 20;
        d.observe(&Observation::reconcile(at, a.clone(), Some(format!("r{k}"))));
        changes.extend(d.observe(&Observation::write(at + 5, a.clone(), hl1_write(2 * k, at))));
        changes.extend(d.observe(&Observation::write(at + 10, a.clone(), hl1_write(2 * k + 1, at))));
    }
    changes.extend(d.tick(t1 + 1_000));
    let last = changes.last().unwrap();
    assert!(last.cause_only(), "{changes:?}");
    assert_eq!((last.from, last.to, last.cause), (Verdict::Hot, Verdict::Hot, Some(Cause::StatusFlipFlop)));
    assert!(changes.iter().all(|c| c.cause != Some(Cause::NoWriteLoop)), "{changes:?}");
    assert!(d.tick(t1 + 2_000).is_empty(), "an unchanged cause is not repeated");
}

#[test]
fn recreate_churn_names_the_pattern() {
    let mut d = Detector::new(Config::default());
    let a = deploy("phoenix");
    let create =
        || ObservedWrite { create: true, manager: mgr("owner-controller", None), ..Default::default() };
    d.observe(&Observation::write(T0, a.clone(), create()));
    // Deleted and created again every second for 20 s.
    for k in 1..=20 {
        d.observe(&Observation::delete(T0 + k * 1000, a.clone()));
        d.observe(&Observation::write(T0 + k * 1000 + 500, a.clone(), create()));
    }
    let f = d.finding(&a, T0 + 20_600).unwrap();
    assert_eq!(f.verdict, Verdict::Hot, "two writes a second: {f:?}");
    assert_eq!(f.cause, Some(Cause::RecreateChurn));
    assert!(f.evidence[0].contains("deleted and created again 8 or more times"), "{:?}", f.evidence);
    assert!(f.evidence[0].contains("owner-controller"), "{:?}", f.evidence);
    // Writes alone, or one recreate, are not recreate churn.
    let mut d = Detector::new(Config::default());
    d.observe(&Observation::write(T0, a.clone(), create()));
    d.observe(&Observation::delete(T0 + 1000, a.clone()));
    d.observe(&Observation::write(T0 + 2000, a.clone(), create()));
    for k in 3..30 {
        d.observe(&Observation::write(T0 + k * 1000, a.clone(), ObservedWrite::default()));
    }
    let f = d.finding(&a, T0 + 29_000).unwrap();
    assert_ne!(f.cause, Some(Cause::RecreateChurn));
}

#[test]
fn evidence_never_ends_in_an_empty_list() {
    // Metadata-level audit: writes without changed fields.
    let mut d = Detector::new(Config::default());
    let a = deploy("quiet-fields");
    for k in 0..40 {
        d.observe(&Observation::write(
            T0 + k * 500,
            a.clone(),
            ObservedWrite { manager: mgr("m", None), ..Default::default() },
        ));
    }
    let f = d.finding(&a, T0 + 20_000).unwrap();
    assert_eq!((f.verdict, f.cause), (Verdict::Hot, Some(Cause::WriteChurn)));
    assert!(f.evidence.iter().all(|e| !e.trim_end().ends_with(':')), "{:?}", f.evidence);
    assert!(f.evidence[0].contains("does not show which fields changed"), "{:?}", f.evidence);
}

#[test]
fn objects_past_the_bound_are_counted_untracked_and_the_tracked_ones_stay_found() {
    let mut d = Detector::new(Config { max_objects: 2, ..Config::default() });
    for (k, name) in ["a", "b", "c", "a", "c", "b"].into_iter().enumerate() {
        d.observe(&Observation::write(T0 + k as i64, cp(name), hl1_write(k, T0)));
    }
    assert_eq!(d.len(), 2);
    let s = d.summary(T0 + 10);
    assert_eq!(s.untracked_observations, 2, "both observations of c");
    assert_eq!(s.writes, 4, "a and b twice each");
    assert!(d.finding(&cp("a"), T0 + 10).is_some());
    assert!(d.finding(&cp("b"), T0 + 10).is_some());
    assert!(d.finding(&cp("c"), T0 + 10).is_none());
}

#[test]
fn every_object_is_found_after_the_index_grows() {
    let mut d = Detector::new(Config::default());
    // Two kinds with the same names.
    let keys: Vec<ObjectKey> =
        (0..2_500).flat_map(|i| [cp(&format!("o-{i}")), deploy(&format!("o-{i}"))]).collect();
    for (i, key) in keys.iter().enumerate() {
        d.observe(&Observation::write(T0 + i as i64, key.clone(), hl1_write(i, T0)));
    }
    // Seen again: no second entry.
    d.observe(&Observation::write(T0 + 6_000, keys[17].clone(), hl1_write(1, T0)));
    assert_eq!(d.len(), keys.len());
    assert_eq!(d.summary(T0 + 7_000).writes, keys.len() as u64 + 1);
    for key in &keys {
        let found = d.finding(key, T0 + 7_000);
        assert!(found.is_some_and(|f| f.name == key.name && f.kind == key.kind), "{key}");
    }
    assert!(d.finding(&cp("o-2500"), T0 + 7_000).is_none());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// A tick skips the OK objects with nothing counted in the last minute
    /// ([`classify::stays_ok`]): their verdict must be OK, at any thresholds the command line
    /// accepts, for either kind (with and without an expected interval).
    #[test]
    fn an_object_a_tick_skips_is_ok(
        hot_rate in 0.01f64..50.0,
        hot_for in 1u64..120,
        hot_factor in 1.0f64..100.0,
        capt: bool,
        counts in proptest::collection::vec((0i64..120_000, 0u8..3, 1u32..40), 1..200),
        later in proptest::collection::vec(0i64..300_000, 1..20),
    ) {
        let config = Config { hot_rate, hot_for: Duration::from_secs(hot_for), hot_factor, ..Config::default() };
        let mut d = Detector::new(config);
        let key = if capt { cp("x") } else { deploy("x") };
        let mut last = T0;
        for &(t, signal, n) in &counts {
            let at = T0 + t;
            last = last.max(at);
            let obs = match signal {
                0 => Observation::write(at, key.clone(), ObservedWrite::default()),
                1 => Observation::reconcile(at, key.clone(), Some(format!("r{t}"))),
                _ => Observation::events(at, key.clone(), n, Some("Reason".into())),
            };
            d.observe(&obs);
        }
        let i = d.position(&key).unwrap();
        let mut skipped = 0;
        for now in later.into_iter().map(|l| last + l).chain([last + 60_000]) {
            if classify::stays_ok(&d.config, &d.objects[i], now) {
                skipped += 1;
                proptest::prop_assert_eq!(d.assess(i, now).0, Verdict::Ok, "now = last + {}", now - last);
            }
        }
        // A minute after the last count, the object is skipped.
        proptest::prop_assert!(skipped > 0);
    }
}
