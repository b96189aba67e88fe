//! e2e: status.
