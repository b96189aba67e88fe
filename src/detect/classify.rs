//! Verdicts from rates, causes from the shape of the last writes.

use std::time::Duration;

use super::state::{NONE, TrackedObject, WriteSig};
use super::window::{EVENTS, RECONCILES, WRITES};
use super::{Cause, Config, Detector, Verdict};
use crate::observe::Millis;

/// The expected interval at `now`: the shortest of the current phase's and of any phase seen
/// in the last minute, so an object that flips between phases is judged consistently.
pub fn expected_at(config: &Config, st: &TrackedObject, now: Millis) -> Option<Duration> {
    let current = config.expected_for(&st.key, st.phase.as_deref())?;
    match st.shortest_interval {
        Some((ms, at)) if now - at < 60_000 => Some(current.min(Duration::from_millis(ms as u64))),
        _ => Some(current),
    }
}

struct Window {
    hot_for: i64,
    writes: u32,
    reconciles: u32,
    events: u32,
    busy: u32,
    busy_events: u32,
    w60: u32,
    r60: u32,
    e60: u32,
}

fn window(config: &Config, st: &TrackedObject, now: Millis) -> Window {
    let sec = now.div_euclid(1000);
    let hot_for = config.hot_for.as_secs().clamp(1, 60) as i64;
    let (short, minute) = st.fine.scan_both(sec - hot_for + 1, sec - 59, sec);
    Window {
        hot_for,
        writes: short.sums[WRITES],
        reconciles: short.sums[RECONCILES],
        events: short.sums[EVENTS],
        busy: short.busy,
        busy_events: short.busy_events,
        w60: minute.sums[WRITES],
        r60: minute.sums[RECONCILES],
        e60: minute.sums[EVENTS],
    }
}

/// The verdict for one object at `now`, and the expected interval it was judged against.
pub fn verdict(config: &Config, st: &TrackedObject, now: Millis) -> (Verdict, Option<Duration>) {
    let expected = expected_at(config, st, now);
    let w = window(config, st, now);
    let secs = w.hot_for as f64;
    let need = config.hot_rate * secs;
    // "Sustained": enough activity, spread over most of the window (not one burst).
    let busy_need = (config.hot_rate.min(1.0) * secs * 0.8).ceil().max(1.0) as u32;
    let act = f64::from(w.writes.max(w.reconciles));
    let act60 = f64::from(w.w60.max(w.r60));
    let sustained = act >= need && w.busy >= busy_need;
    let event_storm = f64::from(w.events) >= need && w.busy_events >= busy_need;
    if sustained || event_storm {
        return (Verdict::Hot, expected);
    }
    let abs_elevated = config.hot_rate * 60.0 / 4.0;
    let elevated = match expected {
        Some(iv) => {
            let per_min = 60.0 / iv.as_secs_f64().max(1.0);
            if act60 > config.hot_factor * per_min {
                return (Verdict::Hot, expected);
            }
            act60 > 2.0 * per_min + 1.0
        }
        None => act60 >= abs_elevated,
    };
    let burst = act >= need / 2.0 && act >= 3.0;
    let events = f64::from(w.e60) >= abs_elevated.max(10.0);
    if elevated || burst || events { (Verdict::Elevated, expected) } else { (Verdict::Ok, expected) }
}

/// Whether [`verdict`] is OK at `now` and stays OK until something is counted: nothing was
/// counted in the last minute (the verdict reads no older bucket), and the thresholds are
/// positive (as the command line makes them). Lets a tick skip the objects gone quiet, which
/// in a long log are nearly all of them.
pub fn stays_ok(config: &Config, st: &TrackedObject, now: Millis) -> bool {
    config.hot_rate > 0.0
        && config.hot_factor >= 0.0
        && st.fine.newest().is_none_or(|newest| newest < now.div_euclid(1000) - 59)
}

/// Seconds of object-write coverage needed before passes without writes are called a
/// no-write loop: a pass's writes reach a watch within moments of its log line.
pub const MIN_COVERED_SECS: i64 = 5;

/// Passes and writes over the part of the last minute an object-write source covered.
struct Covered {
    passes: u32,
    writes: u32,
    secs: i64,
}

fn covered(det: &Detector, st: &TrackedObject, now: Millis) -> Option<Covered> {
    let since = det.covered_since(&st.key)?;
    let sec = now.div_euclid(1000);
    // Whole seconds only: the second the source started in is partly uncovered.
    let from = (sec - 59).max(since.div_euclid(1000) + 1);
    let secs = sec - from + 1;
    if secs < MIN_COVERED_SECS {
        return None;
    }
    let scan = st.fine.scan(from, sec);
    Some(Covered { passes: scan.sums[RECONCILES], writes: scan.sums[WRITES], secs })
}

fn over(secs: i64) -> String {
    if secs >= 60 { "in the last minute".into() } else { format!("in the last {secs}s") }
}

/// Why object `i` is not OK, with evidence. No cause (with evidence saying why) when the data
/// cannot support one: passes without writes seen, over time no object-write source covered.
pub fn cause(det: &Detector, i: usize, now: Millis) -> (Option<Cause>, Vec<String>) {
    let st = &det.objects[i];
    let w = window(&det.config, st, now);
    let writes = st.recent_writes(now - 60_000);
    let n = writes.len();
    let cov = covered(det, st, now);
    let manager = |id: u32| TrackedObject::manager_name(&det.managers, id);
    let path = |id: u32| det.paths.name(id).to_string();

    let recreates = st.recreates_since(now - 60_000);
    if recreates >= 3 {
        let writers: Vec<String> = {
            let mut m: Vec<u32> = writes.iter().map(|x| x.manager).filter(|&m| m != NONE).collect();
            m.sort_unstable();
            m.dedup();
            m.into_iter().map(manager).collect()
        };
        // The ring holds the last RECREATES only.
        let times = if recreates >= super::state::RECREATES {
            format!("{recreates} or more times")
        } else {
            format!("{recreates} times")
        };
        let by =
            if writers.is_empty() { String::new() } else { format!(" (created by {})", writers.join(", ")) };
        return (
            Some(Cause::RecreateChurn),
            vec![format!(
                "deleted and created again {times} in the last minute{by}: something deletes it and its owner recreates it"
            )],
        );
    }

    if let Some(c) = &cov
        && c.passes >= 4
        && c.writes * 4 <= c.passes
    {
        return (
            Some(Cause::NoWriteLoop),
            vec![format!(
                "{} reconcile passes but {} writes {}: the controller requeues without changing anything",
                c.passes,
                c.writes,
                over(c.secs)
            )],
        );
    }
    if w.e60 > w.w60.max(w.r60) {
        return (
            Some(Cause::EventStorm),
            vec![format!(
                "{} Events in the last minute{} (client-go dampens repeated Events; the real rate is higher)",
                w.e60,
                st.main_event_reason().map_or(String::new(), |e| format!(", mostly {e}"))
            )],
        );
    }
    if n >= 3 {
        // Writers are told apart by name: one controller that updates the object and patches
        // its status (upstream CAPT does both every pass) is not two writers fighting.
        let mut distinct: Vec<String> =
            writes.iter().map(|x| x.manager).filter(|&m| m != NONE).map(manager).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() >= 2 {
            let overlap = |a: &WriteSig, b: &WriteSig| {
                a.paths == b.paths || (a.headline != NONE && a.headline == b.headline)
            };
            let pairs: Vec<(&WriteSig, &WriteSig)> = writes.windows(2).map(|p| (&p[0], &p[1])).collect();
            let switches = pairs
                .iter()
                .filter(|(a, b)| {
                    a.manager != NONE
                        && b.manager != NONE
                        && manager(a.manager) != manager(b.manager)
                        && overlap(a, b)
                })
                .count();
            if switches >= 2 && switches * 2 >= pairs.len() {
                let names = distinct;
                let fields = writes.last().map(|x| x.headline).filter(|&h| h != NONE).map(path);
                let mut ev = vec![format!(
                    "managers {} alternately write {} ({} of the last {} writes changed hands)",
                    names.join(" and "),
                    fields.unwrap_or_else(|| "the same fields".into()),
                    switches,
                    n
                )];
                ev.push(format!("{} writes in the last minute", w.w60));
                return (Some(Cause::WriterFight), ev);
            }
        }
        let alternations = writes
            .windows(3)
            .filter(|t| t[2].paths == t[0].paths && t[2].values == t[0].values && t[2].values != t[1].values)
            .count();
        if alternations >= 2 && alternations * 2 >= n - 2 {
            let mut ev = Vec::new();
            if st.head_path != NONE && !st.head_prev.is_empty() {
                ev.push(format!(
                    "{} alternates {} ↔ {} between consecutive writes",
                    path(st.head_path),
                    st.head_prev,
                    st.head_cur
                ));
            } else {
                ev.push(format!("consecutive writes alternate between two values ({alternations} times in the last {n} writes)"));
            }
            let writers: Vec<String> = {
                let mut m: Vec<u32> = writes.iter().map(|x| x.manager).filter(|&m| m != NONE).collect();
                m.sort_unstable();
                m.dedup();
                m.into_iter().map(manager).collect()
            };
            let generation = if writes.iter().any(|x| x.generation_moved) {
                "generation rising"
            } else {
                "generation unchanged: status only"
            };
            ev.push(format!(
                "{} writes{} in the last minute, {}: one pass writes two statuses",
                w.w60,
                if writers.is_empty() { String::new() } else { format!(" by {}", writers.join(", ")) },
                generation
            ));
            return (Some(Cause::StatusFlipFlop), ev);
        }
        let moved = writes.iter().filter(|x| x.generation_moved).count();
        if moved >= 2 && moved * 2 >= n {
            return (
                Some(Cause::SpecChurn),
                vec![format!(
                    "metadata.generation rose in {moved} of the last {n} writes (now {}): the spec is rewritten",
                    st.generation.unwrap_or_default()
                )],
            );
        }
        if writes.iter().all(|x| x.volatile_only) {
            let fields = st.changed_fields(&det.paths);
            return (
                Some(Cause::VolatileField),
                vec![format!("every write changes only timestamps or counters: {}", fields.join(", "))],
            );
        }
    }
    if let Some(o) = st.owner {
        let owner = &det.objects[o as usize];
        let ow = window(&det.config, owner, now);
        if owner.seen && ow.w60.max(ow.r60) > 0 && w.w60 > 0 {
            return (
                Some(Cause::OwnedObjectChurn),
                vec![format!(
                    "churns in step with its owner {} ({} writes, {} passes in the last minute)",
                    owner.key, ow.w60, ow.r60
                )],
            );
        }
    }
    let child = det.children_of(i).filter(|c| c.seen).find_map(|c| {
        let cw = window(&det.config, c, now);
        (verdict(&det.config, c, now).0 > Verdict::Ok).then(|| (c.key.to_string(), cw.w60))
    });
    if let Some((child, cw)) = child {
        return (
            Some(Cause::OwnedObjectChurn),
            vec![format!(
                "its owned object {child} churns ({cw} writes in the last minute), and each change triggers this object"
            )],
        );
    }
    // Writes that fit no pattern are churn, unless passes dominate over time no write source
    // covered: the few writes seen may be the start of any pattern, or of none.
    if w.w60 > 0 && (cov.is_some() || w.w60 * 4 > w.r60) {
        let fields = st.changed_fields(&det.paths);
        let evidence = if fields.is_empty() {
            // Metadata-level audit logs and watch tables do not say what changed.
            format!("{} writes in the last minute (the input does not show which fields changed)", w.w60)
        } else {
            format!("{} writes with changing values in the last minute: {}", w.w60, fields.join(", "))
        };
        return (Some(Cause::WriteChurn), vec![evidence]);
    }
    if w.r60 > 0 {
        return match &cov {
            Some(c) => (
                Some(Cause::NoWriteLoop),
                vec![format!("{} reconcile passes {}, {} writes", c.passes, over(c.secs), c.writes)],
            ),
            None => (None, vec![uncovered(det, st, w.r60, w.w60, now)]),
        };
    }
    if w.e60 > 0 {
        let last = st.main_event_reason().map_or(String::new(), |e| format!(", mostly {e}"));
        return (Some(Cause::EventStorm), vec![format!("{} Events in the last minute{last}", w.e60)]);
    }
    (None, Vec::new())
}

/// Why passes without (enough) writes are not called a no-write loop.
fn uncovered(det: &Detector, st: &TrackedObject, passes: u32, writes: u32, now: Millis) -> String {
    let seen = format!("{passes} reconcile passes and {writes} writes seen in the last minute");
    match det.covered_since(&st.key) {
        Some(since) => format!(
            "{seen}; no cause yet: writes of {} have been watched only for {}s",
            st.key.kind,
            (now - since).max(0) / 1000
        ),
        None => format!(
            "{seen}; no cause: no source covers the writes of {} over that time, so whether the passes write is unknown",
            st.key.kind
        ),
    }
}
