//! Which observations a `watch -n NS` is about: objects of the namespace, and of the
//! cluster-scoped kinds that namespaced objects name (Workspaces, named by the namespace's
//! WorkspaceTemplateApplies), only the ones so named. Other cluster-scoped kinds are kept
//! (`--kind nodes`); `-A` keeps everything. Controller logs cover every namespace, so their
//! passes are filtered here too.
//!
//! Watches start together, so a Workspace can be listed before the apply that names it: its
//! observations are held (a few per object) until it is named, then folded in order.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::model::{CaptKind, Workspace};
use crate::observe::{ObjectKey, Observation, Signal};

/// Observations held per not-yet-named object, and objects held at most.
const HELD_PER_OBJECT: usize = 8;
const HELD_OBJECTS: usize = 20_000;

pub struct NamespaceFilter {
    namespace: Option<String>,
    named: HashSet<ObjectKey>,
    held: HashMap<ObjectKey, VecDeque<Observation>>,
}

fn named_kind(key: &ObjectKey) -> bool {
    let ws = Workspace::INFO;
    key.namespace.is_none() && key.group == ws.group && key.kind == ws.kind
}

impl NamespaceFilter {
    pub fn new(namespace: Option<String>) -> Self {
        NamespaceFilter { namespace, named: HashSet::new(), held: HashMap::new() }
    }

    /// What to fold in now for `o`: nothing (out of scope, or held), `o`, or `o` and the held
    /// observations of the object it names.
    pub fn admit(&mut self, o: Observation) -> Vec<Observation> {
        let Some(ns) = self.namespace.as_deref() else { return vec![o] };
        let Some(key) = o.object() else { return vec![o] };
        match key.namespace.as_deref() {
            Some(object_ns) if object_ns != ns => Vec::new(),
            Some(_) => {
                let names = match &o.signal {
                    Signal::Write { write, .. } => write.state.names.clone(),
                    Signal::Baseline { state, .. } => state.names.clone(),
                    _ => None,
                };
                let mut out = vec![o];
                if let Some(n) = names.filter(|n| self.named.insert(n.clone())) {
                    out.extend(self.held.remove(&n).into_iter().flatten());
                }
                out
            }
            None if !named_kind(key) || self.named.contains(key) => vec![o],
            None => {
                if self.held.len() < HELD_OBJECTS || self.held.contains_key(key) {
                    let held = self.held.entry(key.clone()).or_default();
                    if held.len() == HELD_PER_OBJECT {
                        held.pop_front();
                    }
                    held.push_back(o);
                }
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::ObjectState;

    fn ws(name: &str) -> ObjectKey {
        ObjectKey::new("tf.upbound.io", "Workspace", None, name)
    }

    fn apply(ns: &str, names: &str) -> Observation {
        let key = ObjectKey::new("infrastructure.cluster.x-k8s.io", "WorkspaceTemplateApply", Some(ns), "a");
        Observation::baseline(1, key, ObjectState { names: Some(ws(names)), ..Default::default() })
    }

    fn pass(at: i64, key: ObjectKey) -> Observation {
        Observation::reconcile(at, key, None)
    }

    #[test]
    fn a_namespace_keeps_its_objects_and_the_workspaces_its_applies_name() {
        let mut s = NamespaceFilter::new(Some("demo".into()));
        let cp = |ns| ObjectKey::new("controlplane.cluster.x-k8s.io", "CAPTControlPlane", Some(ns), "a");
        assert_eq!(s.admit(pass(1, cp("demo"))).len(), 1);
        assert!(s.admit(pass(1, cp("other"))).is_empty(), "a log line about another namespace");
        // Listed before the apply that names it: held, then folded in, in order.
        assert!(s.admit(pass(2, ws("demo-ws"))).is_empty());
        assert!(s.admit(pass(3, ws("demo-ws"))).is_empty());
        let out = s.admit(apply("demo", "demo-ws"));
        assert_eq!(out.iter().map(|o| o.at).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(s.admit(pass(4, ws("demo-ws"))).len(), 1);
        // Named by another namespace's apply only: never shown.
        assert!(s.admit(apply("other", "other-ws")).is_empty());
        assert!(s.admit(pass(5, ws("other-ws"))).is_empty());
        // Other cluster-scoped kinds stay.
        assert_eq!(s.admit(pass(6, ObjectKey::new("", "Node", None, "n1"))).len(), 1);
    }

    #[test]
    fn all_namespaces_keep_everything() {
        let mut s = NamespaceFilter::new(None);
        assert_eq!(s.admit(pass(1, ws("any"))).len(), 1);
        assert_eq!(s.admit(apply("other", "x")).len(), 1);
    }
}
