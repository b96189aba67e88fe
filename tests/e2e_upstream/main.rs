//! The reconcile suite of tests/e2e again, on the upstream CRDs (`../shared/capt-crds` with the
//! real Cluster and Workspace CRDs of `real/`, `scripts/testenv up --crds upstream`): every
//! write kubectl-capt makes must pass the upstream schemas. The real upstream controller is in
//! tests/upstream_controller.rs. Without `../shared` every test says it skipped.

#[path = "../support/mod.rs"]
mod support;

#[path = "../e2e/reconcile.rs"]
mod reconcile;

/// The environment the reconcile suite runs on here: the upstream CRDs.
fn env() -> Option<&'static support::TestEnv> {
    support::upstream_env("the reconcile suite on the upstream CRDs")
}
