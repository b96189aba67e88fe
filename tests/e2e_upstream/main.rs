//! End-to-end tests on the upstream CRDs (`../shared/capt-crds` with the real Cluster and
//! Workspace CRDs of `real/`, `scripts/testenv up --crds upstream`): the reconcile suite of
//! tests/e2e again, so every write kubectl-capt makes must pass the upstream schemas, and the
//! real upstream CAPT controller (`../shared/upstream-capt`) on looping and converging inputs.
//! Without `../shared` every test says it skipped.

#[path = "../support/mod.rs"]
mod support;

#[path = "../e2e/reconcile.rs"]
mod reconcile;

mod controller;

/// The environment the reconcile suite runs on here: the upstream CRDs. The controller tests
/// start their own, so the real controller never sees the reconcile suite's objects.
fn env() -> Option<&'static support::TestEnv> {
    support::upstream_env("the reconcile suite on the upstream CRDs")
}
