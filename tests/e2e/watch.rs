//! e2e: watch.
