//! The hot-loop detector: a pure, deterministic fold over timestamped observations.
