//! Which controller pods' log streams should run, as pods matching the selector come and go.
//! Pure: pod watch events in, streams to start and stop out, so a rollout is followed onto the
//! new pod. The I/O (the pod watch, the streams) is in `k8s::watch`.

use std::collections::{BTreeMap, BTreeSet};

/// What the plan needs of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    pub name: String,
    /// A pod replaced under the same name (a StatefulSet) is another pod.
    pub uid: String,
    pub containers: Vec<String>,
    /// Phase Running: its containers have logs to follow.
    pub running: bool,
}

/// One log stream: a container of one pod.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey {
    pub pod: String,
    pub uid: String,
    pub container: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Start(StreamKey),
    Stop(StreamKey),
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct PodStreams {
    pods: BTreeMap<String, PodInfo>,
    streams: BTreeSet<StreamKey>,
    /// Pods seen since a relist began (a relist ends pods it did not list).
    relisted: Option<BTreeSet<String>>,
}

impl PodStreams {
    /// Pods matching the selector.
    pub fn pods(&self) -> usize {
        self.pods.len()
    }

    /// Streams that should be running.
    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    /// A pod was listed, added or changed.
    pub fn applied(&mut self, pod: PodInfo) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(seen) = &mut self.relisted {
            seen.insert(pod.name.clone());
        }
        if self.pods.get(&pod.name).is_some_and(|old| old.uid != pod.uid) {
            actions.extend(self.stop_pod(&pod.name));
        }
        if pod.running {
            for c in &pod.containers {
                let key = StreamKey { pod: pod.name.clone(), uid: pod.uid.clone(), container: c.clone() };
                if self.streams.insert(key.clone()) {
                    actions.push(Action::Start(key));
                }
            }
        }
        // A pod that stopped running keeps its streams until they end: its last lines count.
        self.pods.insert(pod.name.clone(), pod);
        actions
    }

    /// A pod was deleted.
    pub fn deleted(&mut self, name: &str) -> Vec<Action> {
        let actions = self.stop_pod(name);
        self.pods.remove(name);
        actions
    }

    /// The pod watch lists again (after a gap): pods not in the new list are gone.
    pub fn relist_started(&mut self) {
        self.relisted = Some(BTreeSet::new());
    }

    pub fn relist_done(&mut self) -> Vec<Action> {
        let Some(seen) = self.relisted.take() else { return Vec::new() };
        let gone: Vec<String> = self.pods.keys().filter(|p| !seen.contains(*p)).cloned().collect();
        gone.iter().flat_map(|p| self.deleted(p)).collect()
    }

    /// A stream ended by itself (its pod is gone, or the request failed): it may be started
    /// again when its pod is next seen running.
    pub fn stream_ended(&mut self, key: &StreamKey) {
        self.streams.remove(key);
    }

    fn stop_pod(&mut self, name: &str) -> Vec<Action> {
        let keys: Vec<StreamKey> = self.streams.iter().filter(|k| k.pod == name).cloned().collect();
        keys.into_iter()
            .map(|k| {
                self.streams.remove(&k);
                Action::Stop(k)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str, running: bool) -> PodInfo {
        PodInfo { name: name.into(), uid: uid.into(), containers: vec!["manager".into()], running }
    }

    fn key(name: &str, uid: &str) -> StreamKey {
        StreamKey { pod: name.into(), uid: uid.into(), container: "manager".into() }
    }

    #[test]
    fn a_rollout_moves_the_stream_to_the_new_pod() {
        let mut p = PodStreams::default();
        p.relist_started();
        assert_eq!(p.applied(pod("old", "1", true)), [Action::Start(key("old", "1"))]);
        assert!(p.relist_done().is_empty());
        // The new pod is created (Pending: nothing to follow yet), then runs.
        assert!(p.applied(pod("new", "2", false)).is_empty());
        assert_eq!(p.applied(pod("new", "2", true)), [Action::Start(key("new", "2"))]);
        assert!(p.applied(pod("new", "2", true)).is_empty(), "an update starts nothing twice");
        // The old pod terminates: its stream runs on until the pod is gone.
        assert!(p.applied(pod("old", "1", false)).is_empty());
        assert_eq!(p.deleted("old"), [Action::Stop(key("old", "1"))]);
        assert_eq!((p.pods(), p.streams()), (1, 1));
    }

    #[test]
    fn a_pod_replaced_under_its_name_is_followed_again() {
        let mut p = PodStreams::default();
        p.applied(pod("sts-0", "1", true));
        assert_eq!(
            p.applied(pod("sts-0", "2", true)),
            [Action::Stop(key("sts-0", "1")), Action::Start(key("sts-0", "2"))]
        );
    }

    #[test]
    fn a_relist_ends_pods_it_did_not_list_and_ended_streams_restart() {
        let mut p = PodStreams::default();
        p.applied(pod("a", "1", true));
        p.applied(pod("b", "2", true));
        p.relist_started();
        p.applied(pod("b", "2", true));
        assert_eq!(p.relist_done(), [Action::Stop(key("a", "1"))]);
        p.stream_ended(&key("b", "2"));
        assert_eq!(p.streams(), 0);
        assert_eq!(p.applied(pod("b", "2", true)), [Action::Start(key("b", "2"))]);
        assert!(p.deleted("nobody").is_empty());
    }
}
