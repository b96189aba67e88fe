//! Per-object state of fixed size: time buckets, the last few writes, the last few writers.

use std::collections::HashMap;

use super::window::{EVENTS, History, RECONCILES, Ring, WRITES};
use super::{Cause, Config, ManagerStat, Series, Totals, Verdict};
use crate::hash::{FxBuild, hash_str};
use crate::observe::{Millis, ObjectKey, ObjectState, ObservedWrite, rfc3339};

/// Writes remembered for cause classification.
pub const RECENT: usize = 8;
const MANAGERS: usize = 4;
const CHANGED: usize = 8;
const RECONCILE_IDS: usize = 4;
/// Recreates (a create after a delete of the same name) remembered.
pub const RECREATES: usize = 8;
/// Event reasons counted per object.
const EVENT_REASONS: usize = 4;
/// Longest value text kept for evidence.
const VALUE_CHARS: usize = 48;
pub const NONE: u32 = u32::MAX;

/// Whether a changed field is a timestamp or counter, whose change alone means nothing.
pub fn is_volatile(path: &str) -> bool {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    matches!(
        leaf,
        "lastTransitionTime"
            | "lastUpdateTime"
            | "lastHeartbeatTime"
            | "lastProbeTime"
            | "renewTime"
            | "acquireTime"
            | "observedGeneration"
            | "timestamp"
            | "time"
            | "count"
            | "resourceVersion"
    ) || leaf.ends_with("Time")
        || leaf.ends_with("Timestamp")
        || leaf.ends_with("Count")
        || (leaf.ends_with("At") && leaf.len() > 2)
}

/// Strings seen often (field paths, manager identities) stored once.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<Box<str>, u32, FxBuild>,
    names: Vec<Box<str>>,
    scratch: String,
}

impl Interner {
    const CAP: usize = 1 << 16;
    /// Id of the shared "<other>" entry once the interner is full.
    const OTHER: u32 = u32::MAX - 1;

    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        if self.names.len() >= Self::CAP {
            return Self::OTHER;
        }
        let id = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// Id of several parts joined by a separator (no allocation when already known).
    pub fn id_parts(&mut self, parts: &[&str]) -> u32 {
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                key.push('\u{1f}');
            }
            key.push_str(p);
        }
        let id = self.id(&key);
        self.scratch = key;
        id
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("<other>", |s| s)
    }
}

/// Field paths stored once, with what folding a write asks of each path, worked out once.
#[derive(Debug, Default)]
pub struct PathIds {
    names: Interner,
    facts: Vec<PathFacts>,
}

/// What folding a write asks of a changed path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathFacts {
    pub id: u32,
    pub hash: u64,
    pub volatile: bool,
    /// A condition's `reason` (a change to show before others).
    pub reason: bool,
}

impl PathIds {
    pub fn get(&mut self, path: &str) -> PathFacts {
        let id = self.names.id(path);
        if let Some(f) = self.facts.get(id as usize) {
            return *f;
        }
        let f = PathFacts {
            id,
            hash: hash_str(path),
            volatile: is_volatile(path),
            reason: path.ends_with(".reason"),
        };
        // Not kept for the shared "<other>" id of a full interner: worked out each time.
        if id as usize == self.facts.len() {
            self.facts.push(f);
        }
        f
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.name(id)
    }
}

/// One remembered write.
#[derive(Clone, Copy, Debug)]
pub struct WriteSig {
    pub at: Millis,
    pub manager: u32,
    /// Hash of the set of (non-volatile) paths changed.
    pub paths: u64,
    /// Hash of the non-volatile (path, value) pairs.
    pub values: u64,
    pub headline: u32,
    pub generation_moved: bool,
    pub volatile_only: bool,
}

impl Default for WriteSig {
    fn default() -> Self {
        WriteSig {
            at: i64::MIN,
            manager: NONE,
            paths: 0,
            values: 0,
            headline: NONE,
            generation_moved: false,
            volatile_only: false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct ManagerSlot {
    id: u32,
    writes: u32,
    last: Millis,
}

impl Default for ManagerSlot {
    fn default() -> Self {
        ManagerSlot { id: NONE, writes: 0, last: i64::MIN }
    }
}

/// What only some objects have: reconcile passes (controller logs), recreates, Events.
#[derive(Clone, Debug)]
struct Rare {
    reconcile_ids: [u64; RECONCILE_IDS],
    reconcile_next: u8,
    /// When the object was created again after a delete (ring, `i64::MIN` empty).
    recreates: [Millis; RECREATES],
    recreate_next: u8,
    /// Event reasons and sources (`BackOff from kubelet`) with their counts, the few largest
    /// kept, for the evidence.
    event_reasons: Vec<(Box<str>, u64)>,
}

impl Default for Rare {
    fn default() -> Self {
        Rare {
            reconcile_ids: [0; RECONCILE_IDS],
            reconcile_next: 0,
            recreates: [i64::MIN; RECREATES],
            recreate_next: 0,
            event_reasons: Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TrackedObject {
    pub key: ObjectKey,
    /// Observed directly (not only named as an owner).
    pub seen: bool,
    pub deleted: bool,
    pub phase: Option<Box<str>>,
    pub generation: Option<i64>,
    pub owner: Option<u32>,
    /// 1 s buckets: the 10 s and 1 min windows.
    pub fine: Ring<64>,
    /// 10 s buckets: the 5 min window and the sparkline.
    pub coarse: Ring<32>,
    pub totals: Totals,
    /// Allocated on the first write: most objects a watch lists are never written.
    recent: Option<Box<[WriteSig; RECENT]>>,
    recent_len: u8,
    recent_next: u8,
    managers: [ManagerSlot; MANAGERS],
    changed: [u32; CHANGED],
    /// Allocated when first needed: most objects of an audit log never have any of it.
    rare: Option<Box<Rare>>,
    /// The headline field of the last writes and its last two distinct values (evidence for a
    /// flip-flop without keeping a history of values).
    pub head_path: u32,
    pub head_cur: String,
    pub head_prev: String,
    pub verdict: Verdict,
    pub verdict_since: Millis,
    /// The cause last reported (with a verdict change or a cause change).
    pub cause: Option<Cause>,
    pub peak: Verdict,
    pub first_hot: Option<Millis>,
    /// The shortest expected interval (ms) of a phase seen recently, and when it was seen (every
    /// object of a kind with an expected interval has one).
    pub shortest_interval: Option<(i64, Millis)>,
    pub first_seen: Millis,
    pub last_seen: Millis,
    pub history: Option<Box<History>>,
}

impl TrackedObject {
    pub fn new(key: ObjectKey) -> Self {
        TrackedObject {
            key,
            seen: false,
            deleted: false,
            phase: None,
            generation: None,
            owner: None,
            fine: Ring::default(),
            coarse: Ring::default(),
            totals: Totals::default(),
            recent: None,
            recent_len: 0,
            recent_next: 0,
            managers: [ManagerSlot::default(); MANAGERS],
            changed: [NONE; CHANGED],
            rare: None,
            head_path: NONE,
            head_cur: String::new(),
            head_prev: String::new(),
            verdict: Verdict::Ok,
            verdict_since: i64::MIN,
            cause: None,
            peak: Verdict::Ok,
            first_hot: None,
            shortest_interval: None,
            first_seen: i64::MIN,
            last_seen: i64::MIN,
            history: None,
        }
    }

    pub fn touch(&mut self, at: Millis, history: usize) {
        if self.first_seen == i64::MIN {
            self.first_seen = at;
            self.verdict_since = at;
            if history > 0 {
                self.history = Some(Box::new(History::new(at.div_euclid(1000) * 1000, 1000, history)));
            }
        }
        self.last_seen = self.last_seen.max(at);
    }

    fn count(&mut self, at: Millis, signal: usize, n: u32) {
        let n16 = n.min(u32::from(u16::MAX)) as u16;
        self.fine.add(at.div_euclid(1000), signal, n16);
        self.coarse.add(at.div_euclid(10_000), signal, n16);
        if let Some(h) = &mut self.history {
            h.add(at, signal, n);
        }
    }

    fn set_state(&mut self, at: Millis, state: &ObjectState, config: &Config) -> bool {
        let moved = matches!((self.generation, state.generation), (Some(a), Some(b)) if b > a);
        if state.generation.is_some() {
            self.generation = state.generation;
        }
        if let Some(p) = &state.phase
            && self.phase.as_deref() != Some(p.as_str())
        {
            self.phase = Some(p.as_str().into());
        }
        if let Some(iv) = config.expected_for(&self.key, self.phase.as_deref()) {
            let ms = iv.as_millis() as i64;
            self.shortest_interval = match self.shortest_interval {
                Some((old, t)) if old < ms && at - t < 60_000 => Some((old, t)),
                _ => Some((ms, at)),
            };
        }
        self.deleted = false;
        moved
    }

    pub fn record_baseline(&mut self, at: Millis, state: &ObjectState, config: &Config) {
        self.totals.baselines += 1;
        self.set_state(at, state, config);
    }

    pub fn record_delete(&mut self, at: Millis) {
        self.totals.deletes += 1;
        self.deleted = true;
        // A delete is a write to the API server: it counts towards the rate.
        self.count(at, WRITES, 1);
    }

    pub fn record_events(&mut self, at: Millis, count: u32, reason: Option<&str>) {
        if count == 0 {
            return;
        }
        if let Some(r) = reason.filter(|r| !r.is_empty()) {
            let reasons = &mut self.rare().event_reasons;
            match reasons.iter_mut().find(|(k, _)| &**k == r) {
                Some((_, n)) => *n += u64::from(count),
                None => {
                    let entry = (r.chars().take(120).collect::<String>().into_boxed_str(), u64::from(count));
                    if reasons.len() < EVENT_REASONS {
                        reasons.push(entry);
                    } else if let Some(min) = reasons.iter_mut().min_by_key(|(_, n)| *n) {
                        *min = entry;
                    }
                }
            }
        }
        self.totals.events += u64::from(count);
        self.count(at, EVENTS, count);
    }

    pub fn record_reconcile(&mut self, at: Millis, id: Option<&str>) {
        if let Some(id) = id {
            let h = hash_str(id);
            let rare = self.rare();
            if rare.reconcile_ids.contains(&h) {
                return;
            }
            rare.reconcile_ids[rare.reconcile_next as usize] = h;
            rare.reconcile_next = ((rare.reconcile_next as usize + 1) % RECONCILE_IDS) as u8;
        }
        self.totals.reconciles += 1;
        self.count(at, RECONCILES, 1);
    }

    pub fn record_write(
        &mut self,
        at: Millis,
        write: &ObservedWrite,
        config: &Config,
        paths: &mut PathIds,
        managers: &mut Interner,
    ) {
        if write.create && self.deleted {
            let rare = self.rare();
            rare.recreates[rare.recreate_next as usize] = at;
            rare.recreate_next = ((rare.recreate_next as usize + 1) % RECREATES) as u8;
        }
        self.totals.writes += 1;
        self.count(at, WRITES, 1);
        let generation_moved = self.set_state(at, &write.state, config);

        let mut path_set = 0u64;
        let mut all_paths = 0u64;
        let mut values = 0u64;
        let mut headline: Option<(u32, &str)> = None;
        let mut headline_is_reason = false;
        let mut volatile_only = !write.changes.is_empty();
        for (k, change) in write.changes.iter().enumerate() {
            let PathFacts { id, hash: ph, volatile, reason: is_reason } = paths.get(change.path);
            all_paths = all_paths.wrapping_add(ph);
            if k < CHANGED {
                self.note_changed(id);
            }
            if volatile {
                continue;
            }
            volatile_only = false;
            path_set = path_set.wrapping_add(ph);
            let vh = change.value.map_or(0x9e37_79b9, hash_str);
            values = values.wrapping_add(ph.rotate_left(17) ^ vh);
            if let Some(v) = change.value
                && (headline.is_none() || (is_reason && !headline_is_reason))
            {
                headline = Some((id, v));
                headline_is_reason = is_reason;
            }
        }
        if path_set == 0 {
            path_set = all_paths;
        }
        if let Some((id, v)) = headline {
            self.note_headline(id, v);
        }
        let manager = match &write.manager {
            Some(m) => {
                let id =
                    managers.id_parts(&[&m.name, &m.operation, m.subresource.as_deref().unwrap_or_default()]);
                self.note_manager(id, at);
                id
            }
            None => NONE,
        };
        let recent = self.recent.get_or_insert_with(|| Box::new([WriteSig::default(); RECENT]));
        recent[self.recent_next as usize] = WriteSig {
            at,
            manager,
            paths: path_set,
            values,
            headline: headline.map_or(NONE, |(id, _)| id),
            generation_moved,
            volatile_only,
        };
        self.recent_next = ((self.recent_next as usize + 1) % RECENT) as u8;
        self.recent_len = (self.recent_len + 1).min(RECENT as u8);
    }

    fn note_changed(&mut self, id: u32) {
        let pos = self.changed.iter().position(|&c| c == id).unwrap_or(CHANGED - 1);
        self.changed.copy_within(0..pos, 1);
        self.changed[0] = id;
    }

    fn note_headline(&mut self, id: u32, value: &str) {
        let value = truncate(value, VALUE_CHARS);
        if id != self.head_path {
            self.head_path = id;
            self.head_cur.clear();
            self.head_cur.push_str(value);
            self.head_prev.clear();
        } else if value == self.head_prev {
            std::mem::swap(&mut self.head_cur, &mut self.head_prev);
        } else if value != self.head_cur {
            std::mem::swap(&mut self.head_cur, &mut self.head_prev);
            self.head_cur.clear();
            self.head_cur.push_str(value);
        }
    }

    fn note_manager(&mut self, id: u32, at: Millis) {
        let slot = match self.managers.iter().position(|m| m.id == id) {
            Some(i) => i,
            None => {
                // Replace the least recent writer.
                let i = (0..MANAGERS).min_by_key(|&i| self.managers[i].last).unwrap_or(0);
                self.managers[i] = ManagerSlot { id, writes: 0, last: at };
                i
            }
        };
        let m = &mut self.managers[slot];
        m.writes = m.writes.saturating_add(1);
        m.last = m.last.max(at);
    }

    /// The remembered writes at or after `since`, oldest first.
    /// The Event reason seen most often (`SecretError from capt-controller`).
    pub fn main_event_reason(&self) -> Option<&str> {
        self.rare.as_ref()?.event_reasons.iter().max_by_key(|(_, n)| *n).map(|(r, _)| &**r)
    }

    /// Recreates at or after `since`.
    pub fn recreates_since(&self, since: Millis) -> usize {
        self.rare.as_ref().map_or(0, |r| r.recreates.iter().filter(|&&t| t != i64::MIN && t >= since).count())
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }

    pub fn recent_writes(&self, since: Millis) -> Vec<WriteSig> {
        let Some(recent) = &self.recent else { return Vec::new() };
        let n = self.recent_len as usize;
        let start = (self.recent_next as usize + RECENT - n) % RECENT;
        let mut v: Vec<WriteSig> =
            (0..n).map(|k| recent[(start + k) % RECENT]).filter(|w| w.at >= since).collect();
        v.sort_by_key(|w| w.at);
        v
    }

    pub fn manager_stats(&self, interner: &Interner) -> Vec<ManagerStat> {
        let mut slots: Vec<&ManagerSlot> = self.managers.iter().filter(|m| m.id != NONE).collect();
        slots.sort_by(|a, b| b.writes.cmp(&a.writes).then(b.last.cmp(&a.last)));
        slots.into_iter().map(|m| manager_stat(interner, m.id, m.writes, m.last)).collect()
    }

    pub fn manager_name(interner: &Interner, id: u32) -> String {
        interner.name(id).split('\u{1f}').next().unwrap_or_default().to_string()
    }

    pub fn changed_fields(&self, interner: &PathIds) -> Vec<String> {
        self.changed.iter().filter(|&&c| c != NONE).map(|&c| interner.name(c).to_string()).collect()
    }

    pub fn series(&self, now: Millis) -> Series {
        let last = now.div_euclid(10_000);
        let first = last - 29;
        let col = |sig| (first..=last).map(|i| self.coarse.get(i, sig)).collect();
        Series {
            start: first * 10_000,
            bucket_ms: 10_000,
            writes: col(WRITES),
            reconciles: col(RECONCILES),
            events: col(EVENTS),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let k = &self.key;
        k.group.capacity()
            + k.kind.capacity()
            + k.namespace.as_ref().map_or(0, String::capacity)
            + k.name.capacity()
            + self.phase.as_ref().map_or(0, |p| p.len())
            + self.rare.as_ref().map_or(0, |r| {
                std::mem::size_of::<Rare>() + r.event_reasons.iter().map(|(r, _)| r.len() + 24).sum::<usize>()
            })
            + self.head_cur.capacity()
            + self.head_prev.capacity()
            + self.history.as_ref().map_or(0, |h| std::mem::size_of::<History>() + h.heap_bytes())
    }
}

fn manager_stat(interner: &Interner, id: u32, writes: u32, last: Millis) -> ManagerStat {
    let mut parts = interner.name(id).split('\u{1f}');
    let manager = parts.next().unwrap_or_default().to_string();
    let operation = parts.next().unwrap_or_default().to_string();
    let subresource = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    ManagerStat { manager, operation, subresource, writes: u64::from(writes), last_write: rfc3339(last) }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_looked_at_once_and_answers_the_same_when_the_interner_is_full() {
        let mut p = PathIds::default();
        let reason = p.get("status.conditions[Ready].reason");
        assert_eq!(
            reason,
            PathFacts {
                id: 0,
                hash: hash_str("status.conditions[Ready].reason"),
                volatile: false,
                reason: true
            }
        );
        let time = p.get("status.conditions[Ready].lastTransitionTime");
        assert_eq!((time.id, time.volatile, time.reason), (1, true, false));
        assert_eq!(p.get("status.conditions[Ready].reason"), reason);
        assert_eq!((p.facts.len(), p.name(1)), (2, "status.conditions[Ready].lastTransitionTime"));
        for i in 2..Interner::CAP {
            p.get(&format!("data.k{i}"));
        }
        let other = p.get("spec.renewTime");
        assert_eq!(
            other,
            PathFacts {
                id: Interner::OTHER,
                hash: hash_str("spec.renewTime"),
                volatile: true,
                reason: false
            }
        );
        assert_eq!((p.facts.len(), p.name(other.id)), (Interner::CAP, "<other>"));
    }
}
