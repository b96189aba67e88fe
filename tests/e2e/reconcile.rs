//! e2e: reconcile.
