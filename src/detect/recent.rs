//! What happened to each object lately, for the live screen's history view: its last writes
//! (writer, and each changed field's old and new value), reconcile passes and Events, in a
//! fixed-size ring per object. A pure fold like the detector, kept apart from it so the
//! detector's per-object state stays small; only objects that were written, reconciled or
//! evented get a ring.
//!
//! Old values come from the object's previous write of the same field; a field first seen
//! changing has an unknown old value. Secret values never reach here (sources keep only key
//! names), and a Secret's values are dropped again on the way in.

use std::collections::{HashMap, VecDeque};

use crate::observe::{Manager, Millis, ObjectKey, Observation, Signal};

/// Entries kept per object.
pub const PER_OBJECT: usize = 16;
/// Objects with a ring; the least recently active one is forgotten beyond this.
pub const MAX_OBJECTS: usize = 4096;
/// Values longer than this are cut (sources already hash long values).
const MAX_VALUE: usize = 200;

/// A field's value before a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Old {
    /// No earlier write of this field was seen.
    Unknown,
    /// The value (`None`: absent, or a Secret key whose value is not kept).
    Known(Option<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub old: Old,
    pub new: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    Write { manager: Option<Manager>, create: bool, generation: Option<i64>, changes: Vec<Change> },
    Pass { reconcile_id: Option<String> },
    Events { count: u32, reason: Option<String> },
    Deleted,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub at: Millis,
    pub what: What,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Entry>,
    /// The last value seen written to each field.
    values: HashMap<String, Option<String>>,
    last: Millis,
}

/// Every object's recent history.
#[derive(Debug, Default)]
pub struct Recent {
    objects: HashMap<ObjectKey, Ring>,
}

fn keep_value(object: &ObjectKey, v: Option<&str>) -> Option<String> {
    if object.group.is_empty() && object.kind == "Secret" {
        return None;
    }
    v.map(|v| if v.len() > MAX_VALUE { v.chars().take(MAX_VALUE).collect() } else { v.to_string() })
}

impl Recent {
    pub fn observe(&mut self, obs: &Observation) {
        let (object, what) = match &obs.signal {
            Signal::Write { object, write } => {
                let ring = self.objects.get(object);
                let changes = write
                    .changes
                    .iter()
                    .map(|c| Change {
                        path: c.path.to_string(),
                        old: match ring.and_then(|r| r.values.get(c.path)) {
                            Some(v) => Old::Known(v.clone()),
                            None => Old::Unknown,
                        },
                        new: keep_value(object, c.value),
                    })
                    .collect();
                let what = What::Write {
                    manager: write.manager.clone(),
                    create: write.create,
                    generation: write.state.generation,
                    changes,
                };
                (object, what)
            }
            Signal::Reconcile { object, reconcile_id } => {
                (object, What::Pass { reconcile_id: reconcile_id.clone() })
            }
            Signal::Events { object, count, reason } => {
                (object, What::Events { count: *count, reason: reason.clone() })
            }
            Signal::Delete { object } => (object, What::Deleted),
            Signal::Baseline { .. } | Signal::Metrics(_) | Signal::Coverage { .. } => return,
        };
        if !self.objects.contains_key(object) && self.objects.len() >= MAX_OBJECTS {
            self.forget_oldest();
        }
        let ring = self.objects.entry(object.clone()).or_default();
        if let What::Write { changes, .. } = &what {
            for c in changes {
                ring.values.insert(c.path.clone(), c.new.clone());
            }
        }
        ring.last = ring.last.max(obs.at);
        if ring.entries.len() == PER_OBJECT {
            ring.entries.pop_front();
        }
        ring.entries.push_back(Entry { at: obs.at, what });
    }

    /// The object's entries, newest first (by time: sources interleave).
    pub fn of(&self, key: &ObjectKey) -> Vec<Entry> {
        let mut out: Vec<Entry> =
            self.objects.get(key).map(|r| r.entries.iter().cloned().collect()).unwrap_or_default();
        out.sort_by_key(|e| std::cmp::Reverse(e.at));
        out
    }

    fn forget_oldest(&mut self) {
        if let Some(k) = self.objects.iter().min_by_key(|(_, r)| r.last).map(|(k, _)| k.clone()) {
            self.objects.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{FieldChange, ObservedWrite};

    fn write(at: Millis, key: &ObjectKey, reason: &str) -> Observation {
        Observation::write(
            at,
            key.clone(),
            ObservedWrite {
                manager: Some(Manager { name: "m".into(), operation: "Update".into(), ..Default::default() }),
                changes: vec![FieldChange::new("status.conditions[Ready].reason", Some(reason.into()))]
                    .into(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn writes_carry_old_and_new_values_newest_first() {
        let key = ObjectKey::new("g", "CAPTControlPlane", Some("ns"), "a");
        let mut r = Recent::default();
        r.observe(&write(1, &key, "Ready"));
        r.observe(&write(3, &key, "SecretError"));
        r.observe(&Observation::reconcile(2, key.clone(), Some("id".into())));
        let e = r.of(&key);
        assert_eq!(e.iter().map(|e| e.at).collect::<Vec<_>>(), [3, 2, 1]);
        let What::Write { changes, .. } = &e[0].what else { panic!() };
        assert_eq!(changes[0].old, Old::Known(Some("Ready".into())));
        assert_eq!(changes[0].new.as_deref(), Some("SecretError"));
        let What::Write { changes, .. } = &e[2].what else { panic!() };
        assert_eq!(changes[0].old, Old::Unknown);
    }

    #[test]
    fn rings_are_bounded_and_secret_values_never_kept() {
        let key = ObjectKey::new("", "Secret", Some("ns"), "x-eks-connection");
        let mut r = Recent::default();
        for k in 0..40 {
            r.observe(&write(k, &key, "leaked"));
        }
        let e = r.of(&key);
        assert_eq!(e.len(), PER_OBJECT);
        let What::Write { changes, .. } = &e[0].what else { panic!() };
        assert_eq!((changes[0].old.clone(), changes[0].new.clone()), (Old::Known(None), None));
        for k in 0..MAX_OBJECTS + 5 {
            r.observe(&write(100 + k as i64, &ObjectKey::new("g", "K", None, &k.to_string()), "v"));
        }
        assert_eq!(r.objects.len(), MAX_OBJECTS);
        assert!(r.of(&key).is_empty(), "the least recently active object is forgotten first");
    }
}
