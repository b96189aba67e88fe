//! When the initial sync is done: every object source has delivered its first list (or cannot
//! be read). `-v` reports it once, with how many objects were listed and how long it took: the
//! moment from which every write is seen, for people and for benchmarks (scripts/bench-watch).

use std::collections::BTreeSet;

use crate::observe::SourceState;

pub struct InitialSync {
    /// Object sources that have not finished their first list.
    pending: BTreeSet<String>,
    objects: u64,
    done: bool,
}

impl InitialSync {
    pub fn new(sources: &[String]) -> Self {
        InitialSync { pending: sources.iter().cloned().collect(), objects: 0, done: sources.is_empty() }
    }

    /// A listed object was folded in.
    pub fn listed_object(&mut self) {
        if !self.done {
            self.objects += 1;
        }
    }

    /// A source's new state: the number of objects listed, the first time no object source is
    /// still listing. A source reports `Watching` after it has sent its listed objects.
    pub fn source(&mut self, name: &str, state: &SourceState) -> Option<u64> {
        if self.done || !matches!(state, SourceState::Watching | SourceState::Unavailable(_)) {
            return None;
        }
        self.pending.remove(name);
        self.done = self.pending.is_empty();
        self.done.then_some(self.objects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_once_when_every_object_source_has_listed_or_is_unavailable() {
        let mut s = InitialSync::new(&["a".into(), "b".into()]);
        s.listed_object();
        assert_eq!(s.source("a", &SourceState::Listing { relist: false }), None);
        assert_eq!(s.source("a", &SourceState::Watching), None, "b is still listing");
        assert_eq!(s.source("events", &SourceState::Watching), None, "not an object source");
        s.listed_object();
        assert_eq!(s.source("b", &SourceState::Reconnecting { attempt: 1, reason: "x".into() }), None);
        assert_eq!(s.source("b", &SourceState::Unavailable("403".into())), Some(2));
        s.listed_object();
        assert_eq!(s.source("a", &SourceState::Watching), None, "reported once");
    }
}
