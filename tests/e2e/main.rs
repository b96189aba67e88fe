//! End-to-end tests against a real etcd + kube-apiserver started by `tests/support` (one
//! environment for this test binary, one namespace per test), on the project's CRDs. The
//! reconcile suite also runs on the upstream CRDs in tests/e2e_upstream.

#[path = "../support/mod.rs"]
mod support;

mod analyze;
mod completion;
mod connection;
mod foundation;
mod reconcile;
mod secret_safety;
mod status;
mod terminal_safety;
mod watch;
mod watch_screen;

/// The environment of the suites shared with tests/e2e_upstream (reconcile): the project's CRDs.
fn env() -> Option<&'static support::TestEnv> {
    Some(support::env())
}
