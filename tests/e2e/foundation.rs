//! e2e: foundation.
