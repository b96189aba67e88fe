//! e2e: analyze.
