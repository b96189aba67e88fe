//! End-to-end tests against a real etcd + kube-apiserver started by `tests/support` (one
//! environment for this test binary, one namespace per test).

#[path = "../support/mod.rs"]
mod support;

mod analyze;
mod completion;
mod foundation;
mod reconcile;
mod secret_safety;
mod status;
mod watch;
