//! The hot-loop detector: a pure, deterministic fold over timestamped [`Observation`]s.
//!
//! Sources (watch streams, controller logs, events, metrics scrapes, audit logs, dumps) turn
//! what they read into observations; [`Detector::observe`] folds them into per-object state of
//! fixed size (time buckets, a few recent writes), and [`Detector::findings`] says, for a given
//! `now`, which objects are `OK`, `ELEVATED` or `HOT` and why. Nothing here reads a clock.
//!
//! Time is milliseconds since the Unix epoch ([`Millis`]). Observations may arrive slightly out
//! of order; the detector's `now` is the latest time it has seen (or was told with
//! [`Detector::tick`]).

mod classify;
pub mod recent;
mod state;
pub mod window;

use std::hash::BuildHasher;
use std::time::Duration;

use hashbrown::hash_table::{Entry, HashTable};
use serde::Serialize;

use crate::hash::FxBuild;
use crate::model::{CaptControlPlane, CaptKind, expected_interval};
use crate::observe::{
    MetricsSample, Millis, ObjectKey, ObjectState, Observation, ObservedWrite, Signal, WriteScope, rfc3339,
};
pub use state::is_volatile;
use state::{Interner, PathIds, TrackedObject};
pub use window::History;

/// When an object is HOT or ELEVATED.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// HOT: at least this many writes or passes per second...
    pub hot_rate: f64,
    /// ...sustained this long (clamped to 1..=60 s).
    pub hot_for: Duration,
    /// HOT: or more than this many times the expected rate over one minute.
    pub hot_factor: f64,
    /// Keep a whole-run timeline of this many buckets per object (0: none). For `analyze`.
    pub history_buckets: usize,
    /// Stop tracking new objects beyond this many (they are counted in the summary).
    pub max_objects: usize,
    /// The requeue interval controllers should use, per kind and phase: the yardstick for
    /// "more often than expected". Kinds not listed get only the absolute thresholds.
    pub expected: Vec<ExpectedInterval>,
}

/// The interval a controller should requeue objects of one kind at, by `status.phase`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedInterval {
    /// Also matches objects whose group is unknown (log lines name only the kind).
    pub group: String,
    pub kind: String,
    /// Intervals for named phases.
    pub phases: Vec<(String, Duration)>,
    /// For any other phase, or none.
    pub otherwise: Duration,
}

impl ExpectedInterval {
    /// CAPTControlPlane's intervals (CAPTEP-0016).
    pub fn capt_control_plane() -> Self {
        let info = <CaptControlPlane as CaptKind>::INFO;
        ExpectedInterval {
            group: info.group.to_string(),
            kind: info.kind.to_string(),
            phases: ["Ready", "Failed"]
                .iter()
                .map(|&p| (p.to_string(), expected_interval(Some(p))))
                .collect(),
            otherwise: expected_interval(None),
        }
    }
}

impl Config {
    /// The interval expected for `key` in `phase`, for kinds that have one.
    pub fn expected_for(&self, key: &ObjectKey, phase: Option<&str>) -> Option<Duration> {
        let e = self
            .expected
            .iter()
            .find(|e| key.kind == e.kind && (key.group.is_empty() || key.group == e.group))?;
        let by_phase = phase.and_then(|p| e.phases.iter().find(|(name, _)| name == p));
        Some(by_phase.map_or(e.otherwise, |(_, d)| *d))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hot_rate: 1.0,
            hot_for: Duration::from_secs(10),
            hot_factor: 5.0,
            history_buckets: 0,
            max_objects: 1_000_000,
            expected: vec![ExpectedInterval::capt_control_plane()],
        }
    }
}

/// How hot an object is. Ordered: `Ok < Elevated < Hot`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Verdict {
    #[default]
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ELEVATED")]
    Elevated,
    #[serde(rename = "HOT")]
    Hot,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::Elevated => "ELEVATED",
            Verdict::Hot => "HOT",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an object is not OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// Consecutive writes alternate between two or more values of the same fields.
    StatusFlipFlop,
    /// Two managers alternately write the same fields.
    WriterFight,
    /// Every write changes only timestamps or counters.
    VolatileField,
    /// `metadata.generation` keeps rising.
    SpecChurn,
    /// Many reconcile passes, (almost) no writes.
    NoWriteLoop,
    /// An owned object churns in step with its owner.
    OwnedObjectChurn,
    /// Fast-growing Event counts.
    EventStorm,
    /// The same name is deleted and created again, again and again.
    RecreateChurn,
    /// Frequent writes with changing values that fit none of the patterns above.
    WriteChurn,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::StatusFlipFlop => "status-flip-flop",
            Cause::WriterFight => "writer-fight",
            Cause::VolatileField => "volatile-field",
            Cause::SpecChurn => "spec-churn",
            Cause::NoWriteLoop => "no-write-loop",
            Cause::OwnedObjectChurn => "owned-object-churn",
            Cause::EventStorm => "event-storm",
            Cause::RecreateChurn => "recreate-churn",
            Cause::WriteChurn => "write-churn",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A writer of one object, with how often it wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagerStat {
    pub manager: String,
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Writes attributed to this manager since the object was first seen.
    pub writes: u64,
    /// RFC 3339 time of its last write.
    pub last_write: String,
}

/// Counts per window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rates {
    /// Count in the last 10 s, scaled to per minute.
    pub last_10s: f64,
    /// Count in the last minute.
    pub last_1m: f64,
    /// Count in the last 5 minutes, scaled to per minute.
    pub last_5m: f64,
}

/// Totals since the object was first seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub writes: u64,
    pub reconciles: u64,
    pub events: u64,
    /// Relist/baseline observations (never counted as writes).
    pub baselines: u64,
    pub deletes: u64,
}

/// The detector's view of one object at `now`: one NDJSON line of `watch -o json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: String,
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    pub verdict: Verdict,
    /// The worst verdict since the object was first seen.
    pub peak_verdict: Verdict,
    pub cause: Option<Cause>,
    pub evidence: Vec<String>,
    /// Writes in the last minute.
    pub writes_per_minute: f64,
    /// Distinct reconcile passes in the last minute.
    pub reconciles_per_minute: f64,
    /// Event occurrences in the last minute (dampened by client-go).
    pub events_per_minute: f64,
    /// The interval the controller should use for this object's phase; `None` for kinds without
    /// one (only the absolute thresholds apply).
    pub expected_interval_seconds: Option<u64>,
    pub managers: Vec<ManagerStat>,
    /// The most recently changed field paths (newest first).
    pub changed_fields: Vec<String>,
    /// RFC 3339: when the object entered its current verdict.
    pub observed_at: String,
    /// RFC 3339: when the object first became HOT, if it ever did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_hot_at: Option<String>,
    /// RFC 3339: the last observation of the object.
    pub last_seen: String,
    pub writes: Rates,
    pub reconciles: Rates,
    pub events: Rates,
    pub totals: Totals,
    pub deleted: bool,
    /// Activity (writes or passes, whichever is higher, plus events) per 10 s over the last
    /// 5 minutes, oldest first: the sparkline.
    pub series: Vec<u32>,
}

impl Finding {
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// An object's verdict changed, or (`from == to`) the cause of a HOT or ELEVATED object did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictChange {
    pub object: ObjectKey,
    #[serde(skip)]
    pub at: Millis,
    pub from: Verdict,
    pub to: Verdict,
    pub cause: Option<Cause>,
    /// The cause reported before (meaningful for a cause change).
    pub previous_cause: Option<Cause>,
}

impl VerdictChange {
    /// Only the cause changed, the verdict did not.
    pub fn cause_only(&self) -> bool {
        self.from == self.to
    }
}

/// Controller-wide rates from metrics scrapes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControllerRates {
    pub controller: String,
    pub scrapes: u64,
    /// Between the last two scrapes; with a single scrape, the lifetime average when the
    /// process start time is known (`lifetime_average`), else `None`.
    pub reconciles_per_second: Option<f64>,
    pub errors_per_second: Option<f64>,
    pub workqueue_adds_per_second: Option<f64>,
    /// Totals at the last scrape.
    pub reconcile_total: Option<f64>,
    pub workqueue_adds_total: Option<f64>,
    /// The rates are averages since the process started (one scrape), not between scrapes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lifetime_average: bool,
}

/// The run as a whole: the last NDJSON line of `watch -o json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub objects: usize,
    pub hot: usize,
    pub elevated: usize,
    pub ok: usize,
    /// Objects that were HOT at some point.
    pub ever_hot: usize,
    pub observations: u64,
    pub writes: u64,
    pub reconciles: u64,
    pub events: u64,
    pub baselines: u64,
    pub deletes: u64,
    /// Objects not tracked because `max_objects` was reached.
    pub untracked_observations: u64,
    pub controllers: Vec<ControllerRates>,
    pub now: String,
}

/// Per-object time series for sparklines and plots.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    /// Start of the first bucket.
    pub start: Millis,
    pub bucket_ms: i64,
    pub writes: Vec<u32>,
    pub reconciles: Vec<u32>,
    pub events: Vec<u32>,
}

#[derive(Clone, Debug, Default)]
struct ControllerState {
    name: String,
    scrapes: u64,
    last: Option<(Millis, MetricsSample)>,
    prev: Option<(Millis, MetricsSample)>,
}

/// A tracked object of one [`Detector`], valid for as long as that detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectId(u32);

impl ObjectId {
    /// Its position among the detector's objects (dense from 0: an index into a `Vec` of what
    /// callers keep per object).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

fn key_hash(key: &ObjectKey) -> u64 {
    FxBuild.hash_one(key)
}

/// The detector. See the module docs.
#[derive(Debug)]
pub struct Detector {
    config: Config,
    objects: Vec<TrackedObject>,
    /// Positions in `objects`, found by the hash of their key (stored once, in the object).
    index: HashTable<u32>,
    /// The objects each owner owns (only owners have an entry): an owner's cause looks at its
    /// children without scanning every object.
    children: std::collections::HashMap<u32, Vec<u32>, FxBuild>,
    paths: PathIds,
    managers: Interner,
    controllers: Vec<ControllerState>,
    /// Since when each object-write source has seen every write of its scope.
    coverage: Vec<(WriteScope, Millis)>,
    now: Millis,
    observations: u64,
    untracked: u64,
}

impl Detector {
    pub fn new(config: Config) -> Self {
        Detector {
            config,
            objects: Vec::new(),
            index: HashTable::new(),
            children: Default::default(),
            paths: PathIds::default(),
            managers: Interner::default(),
            controllers: Vec::new(),
            coverage: Vec::new(),
            now: i64::MIN,
            observations: 0,
            untracked: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The latest time seen (`i64::MIN` before the first observation).
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Objects tracked.
    pub fn len(&self) -> usize {
        self.objects.iter().filter(|o| o.seen).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Folds one observation in. Returns the object's verdict change, if this observation
    /// caused one.
    pub fn observe(&mut self, obs: &Observation) -> Option<VerdictChange> {
        self.observations += 1;
        self.now = self.now.max(obs.at);
        let object = match &obs.signal {
            Signal::Metrics(sample) => {
                self.observe_metrics(obs.at, sample);
                return None;
            }
            Signal::Coverage { scope, since } => {
                self.coverage.retain(|(s, _)| s != scope);
                if let Some(since) = since {
                    self.coverage.push((scope.clone(), *since));
                }
                return None;
            }
            Signal::Write { object, .. }
            | Signal::Baseline { object, .. }
            | Signal::Reconcile { object, .. }
            | Signal::Events { object, .. }
            | Signal::Delete { object } => object,
        };
        let idx = self.slot(object)?;
        let owner_idx = match &obs.signal {
            Signal::Write {
                write: ObservedWrite { state: ObjectState { owner: Some(o), .. }, .. }, ..
            }
            | Signal::Baseline { state: ObjectState { owner: Some(o), .. }, .. }
                if self.objects[idx].owner.is_none() =>
            {
                self.slot_unseen(o)
            }
            _ => None,
        };
        if let Some(o) = owner_idx {
            self.objects[idx].owner = Some(o as u32);
            // In position order, as a scan of every object finds them.
            let children = self.children.entry(o as u32).or_default();
            let at = children.partition_point(|&c| c < idx as u32);
            children.insert(at, idx as u32);
        }
        let history = self.config.history_buckets;
        let st = &mut self.objects[idx];
        st.touch(obs.at, history);
        match &obs.signal {
            Signal::Write { write, .. } => {
                st.record_write(obs.at, write, &self.config, &mut self.paths, &mut self.managers)
            }
            Signal::Baseline { state, .. } => st.record_baseline(obs.at, state, &self.config),
            Signal::Reconcile { reconcile_id, .. } => st.record_reconcile(obs.at, reconcile_id.as_deref()),
            Signal::Events { count, reason, .. } => st.record_events(obs.at, *count, reason.as_deref()),
            Signal::Delete { .. } => st.record_delete(obs.at),
            Signal::Metrics(_) | Signal::Coverage { .. } => {}
        }
        self.reassess(idx, obs.at)
    }

    /// Advances `now` without an observation and returns the verdicts that changed (a loop that
    /// stopped cools down here), and the causes of HOT or ELEVATED objects that changed since
    /// they were last reported (checked here, at most once per tick, not per observation).
    pub fn tick(&mut self, now: Millis) -> Vec<VerdictChange> {
        self.now = self.now.max(now);
        let now = self.now;
        let mut changes = Vec::new();
        for i in 0..self.objects.len() {
            let st = &self.objects[i];
            if !st.seen || (st.verdict == Verdict::Ok && classify::stays_ok(&self.config, st, now)) {
                continue;
            }
            if let Some(c) = self.reassess(i, now).or_else(|| self.recause(i, now)) {
                changes.push(c);
            }
        }
        changes
    }

    /// Since when writes of `key` have been seen by an object-write source, if one covers it.
    pub fn covered_since(&self, key: &ObjectKey) -> Option<Millis> {
        let kind =
            self.coverage.iter().find(|(s, _)| matches!(s, WriteScope::Kind { .. }) && s.contains(key));
        kind.or_else(|| self.coverage.iter().find(|(s, _)| *s == WriteScope::All)).map(|&(_, t)| t)
    }

    /// The objects `i` owns.
    fn children_of(&self, i: usize) -> impl Iterator<Item = &TrackedObject> {
        let children = self.children.get(&(i as u32)).map_or(&[][..], Vec::as_slice);
        children.iter().map(|&c| &self.objects[c as usize])
    }

    /// Every tracked object's finding at `now`, hottest first.
    pub fn findings(&self, now: Millis) -> Vec<Finding> {
        let mut out: Vec<Finding> = (0..self.objects.len())
            .filter(|&i| self.objects[i].seen)
            .map(|i| self.finding_at(i, now))
            .collect();
        sort_findings(&mut out);
        out
    }

    /// One object's finding at `now`.
    pub fn finding(&self, key: &ObjectKey, now: Millis) -> Option<Finding> {
        let i = self.position(key)?;
        self.objects[i].seen.then(|| self.finding_at(i, now))
    }

    /// The last 5 minutes of one object in 10 s buckets.
    pub fn series(&self, key: &ObjectKey, now: Millis) -> Option<Series> {
        let i = self.position(key)?;
        Some(self.objects[i].series(now))
    }

    /// Every object observed directly (not only named as an owner), in the order first seen.
    pub fn ids(&self) -> impl Iterator<Item = ObjectId> + '_ {
        (0..self.objects.len()).filter(|&i| self.objects[i].seen).map(|i| ObjectId(i as u32))
    }

    /// The id of a tracked object.
    pub fn id(&self, key: &ObjectKey) -> Option<ObjectId> {
        self.position(key).map(|i| ObjectId(i as u32))
    }

    pub fn key(&self, id: ObjectId) -> &ObjectKey {
        &self.objects[id.0 as usize].key
    }

    /// An object's verdict at `now` (its finding's, without building the finding).
    pub fn verdict(&self, id: ObjectId, now: Millis) -> Verdict {
        self.assess(id.0 as usize, now).0
    }

    pub fn totals(&self, id: ObjectId) -> Totals {
        self.objects[id.0 as usize].totals
    }

    /// An object's finding at `now`.
    pub fn finding_of(&self, id: ObjectId, now: Millis) -> Finding {
        self.finding_at(id.0 as usize, now)
    }

    /// The whole-run timeline of one object (only with `Config::history_buckets > 0`).
    pub fn history(&self, id: ObjectId) -> Option<&History> {
        self.objects[id.0 as usize].history.as_deref()
    }

    /// Totals and verdict counts at `now`.
    pub fn summary(&self, now: Millis) -> Summary {
        let mut s = Summary {
            observations: self.observations,
            untracked_observations: self.untracked,
            ..Summary::default()
        };
        for (i, o) in self.objects.iter().enumerate().filter(|(_, o)| o.seen) {
            s.objects += 1;
            match self.assess(i, now).0 {
                Verdict::Hot => s.hot += 1,
                Verdict::Elevated => s.elevated += 1,
                Verdict::Ok => s.ok += 1,
            }
            if o.first_hot.is_some() {
                s.ever_hot += 1;
            }
            s.writes += o.totals.writes;
            s.reconciles += o.totals.reconciles;
            s.events += o.totals.events;
            s.baselines += o.totals.baselines;
            s.deletes += o.totals.deletes;
        }
        s.controllers = self.controllers.iter().map(controller_rates).collect();
        s.now = rfc3339(now);
        s
    }

    /// Approximate bytes held for one tracked object: the fixed-size state plus its heap
    /// (key strings, phase, evidence values, history).
    pub fn bytes_per_object(&self) -> usize {
        let n = self.objects.len().max(1);
        let heap: usize = self.objects.iter().map(TrackedObject::heap_bytes).sum();
        let index = self.index.capacity() * (std::mem::size_of::<u32>() + 1) / n;
        std::mem::size_of::<TrackedObject>() + heap / n + index
    }

    fn slot(&mut self, key: &ObjectKey) -> Option<usize> {
        let i = self.slot_unseen(key)?;
        self.objects[i].seen = true;
        Some(i)
    }

    fn position(&self, key: &ObjectKey) -> Option<usize> {
        let objects = &self.objects;
        let &i = self.index.find(key_hash(key), |&i| objects[i as usize].key == *key)?;
        Some(i as usize)
    }

    fn slot_unseen(&mut self, key: &ObjectKey) -> Option<usize> {
        // One hash of the key, whether it is found or added.
        let objects = &self.objects;
        let entry = self.index.entry(
            key_hash(key),
            |&i| objects[i as usize].key == *key,
            |&i| key_hash(&objects[i as usize].key),
        );
        let vacant = match entry {
            Entry::Occupied(found) => return Some(*found.get() as usize),
            Entry::Vacant(vacant) => vacant,
        };
        if self.objects.len() >= self.config.max_objects {
            self.untracked += 1;
            return None;
        }
        let i = self.objects.len();
        self.objects.push(TrackedObject::new(key.clone()));
        vacant.insert(i as u32);
        Some(i)
    }

    fn observe_metrics(&mut self, at: Millis, sample: &MetricsSample) {
        let c = match self.controllers.iter().position(|c| c.name == sample.controller) {
            Some(i) => &mut self.controllers[i],
            None => {
                self.controllers
                    .push(ControllerState { name: sample.controller.clone(), ..Default::default() });
                self.controllers.last_mut().expect("just pushed")
            }
        };
        c.scrapes += 1;
        c.prev = c.last.take();
        c.last = Some((at, sample.clone()));
    }

    /// Re-evaluates object `i` at `now`, records a verdict change.
    fn reassess(&mut self, i: usize, now: Millis) -> Option<VerdictChange> {
        let (verdict, _) = self.assess(i, now);
        let st = &self.objects[i];
        // A verdict drops only after being held for `hot_for`: no flapping at a threshold.
        let hold = self.config.hot_for.as_millis().clamp(1000, 60_000) as i64;
        if verdict == st.verdict || (verdict < st.verdict && now - st.verdict_since < hold) {
            return None;
        }
        let cause = if verdict == Verdict::Ok { None } else { classify::cause(self, i, now).0 };
        let st = &mut self.objects[i];
        let from = st.verdict;
        let previous_cause = st.cause;
        st.verdict = verdict;
        st.verdict_since = now;
        st.cause = cause;
        st.peak = st.peak.max(verdict);
        if verdict == Verdict::Hot && st.first_hot.is_none() {
            st.first_hot = Some(now);
        }
        Some(VerdictChange { object: st.key.clone(), at: now, from, to: verdict, cause, previous_cause })
    }

    /// The cause of a HOT or ELEVATED object whose verdict holds, when it differs from the one
    /// reported. A cause that cannot be determined (yet) does not replace a reported one.
    fn recause(&mut self, i: usize, now: Millis) -> Option<VerdictChange> {
        let st = &self.objects[i];
        if st.verdict == Verdict::Ok {
            return None;
        }
        let cause = classify::cause(self, i, now).0;
        let st = &mut self.objects[i];
        if cause.is_none() || cause == st.cause {
            return None;
        }
        let previous_cause = std::mem::replace(&mut st.cause, cause);
        Some(VerdictChange {
            object: st.key.clone(),
            at: now,
            from: st.verdict,
            to: st.verdict,
            cause,
            previous_cause,
        })
    }

    /// The verdict of object `i` at `now` and the expected interval used.
    fn assess(&self, i: usize, now: Millis) -> (Verdict, Option<Duration>) {
        classify::verdict(&self.config, &self.objects[i], now)
    }

    fn finding_at(&self, i: usize, now: Millis) -> Finding {
        let st = &self.objects[i];
        let (verdict, expected) = self.assess(i, now);
        let (cause, evidence) =
            if verdict == Verdict::Ok { (None, Vec::new()) } else { classify::cause(self, i, now) };
        let sec = now.div_euclid(1000);
        let rates = |sig| Rates {
            last_10s: f64::from(st.fine.sum(sec - 9, sec, sig)) * 6.0,
            last_1m: f64::from(st.fine.sum(sec - 59, sec, sig)),
            last_5m: f64::from(st.coarse.sum(now.div_euclid(10_000) - 29, now.div_euclid(10_000), sig)) / 5.0,
        };
        let writes = rates(window::WRITES);
        let reconciles = rates(window::RECONCILES);
        let events = rates(window::EVENTS);
        let observed_at = if verdict == st.verdict { st.verdict_since } else { now };
        let series = st.series(now);
        let series = (0..series.writes.len())
            .map(|k| series.writes[k].max(series.reconciles[k]).saturating_add(series.events[k]))
            .collect();
        Finding {
            kind: st.key.kind.clone(),
            group: st.key.group.clone(),
            namespace: st.key.namespace.clone(),
            name: st.key.name.clone(),
            phase: st.phase.as_deref().map(str::to_string),
            verdict,
            peak_verdict: st.peak.max(verdict),
            cause,
            evidence,
            writes_per_minute: writes.last_1m,
            reconciles_per_minute: reconciles.last_1m,
            events_per_minute: events.last_1m,
            expected_interval_seconds: expected.map(|d| d.as_secs()),
            managers: st.manager_stats(&self.managers),
            changed_fields: st.changed_fields(&self.paths),
            observed_at: rfc3339(observed_at),
            first_hot_at: st.first_hot.map(rfc3339),
            last_seen: rfc3339(st.last_seen),
            writes,
            reconciles,
            events,
            totals: st.totals,
            deleted: st.deleted,
            series,
        }
    }
}

fn controller_rates(c: &ControllerState) -> ControllerRates {
    let mut r = ControllerRates { controller: c.name.clone(), scrapes: c.scrapes, ..Default::default() };
    if let Some((_, last)) = &c.last {
        r.reconcile_total = last.reconcile_total;
        r.workqueue_adds_total = last.workqueue_adds;
    }
    if let (Some((t1, last)), Some((t0, prev))) = (&c.last, &c.prev) {
        let secs = (t1 - t0) as f64 / 1000.0;
        if secs > 0.0 {
            let rate = |a: Option<f64>, b: Option<f64>| match (a, b) {
                // A counter that went down was reset (controller restart): no rate from this pair.
                (Some(a), Some(b)) if a >= b => Some((a - b) / secs),
                _ => None,
            };
            r.reconciles_per_second = rate(last.reconcile_total, prev.reconcile_total);
            r.errors_per_second = rate(last.reconcile_errors, prev.reconcile_errors);
            r.workqueue_adds_per_second = rate(last.workqueue_adds, prev.workqueue_adds);
        }
    }
    // One scrape: counters since the process started are lifetime averages.
    if let (Some((t, last)), None) = (&c.last, &c.prev)
        && let Some(start) = last.process_start
    {
        let secs = *t as f64 / 1000.0 - start;
        if secs >= 1.0 && secs.is_finite() {
            let avg = |v: Option<f64>| v.filter(|v| *v >= 0.0).map(|v| v / secs);
            r.reconciles_per_second = avg(last.reconcile_total);
            r.errors_per_second = avg(last.reconcile_errors);
            r.workqueue_adds_per_second = avg(last.workqueue_adds);
            r.lifetime_average = true;
        }
    }
    r
}

/// Hot first, then by activity, then by name.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.verdict
            .cmp(&a.verdict)
            .then(b.peak_verdict.cmp(&a.peak_verdict))
            .then(activity(b).total_cmp(&activity(a)))
            .then_with(|| (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name)))
    });
}

fn activity(f: &Finding) -> f64 {
    f.writes_per_minute.max(f.reconciles_per_minute) + f.events_per_minute
}

#[cfg(test)]
mod tests;
