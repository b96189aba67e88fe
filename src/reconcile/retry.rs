//! How `reconcile` retries a pass after a 409: how many times at most, and how long it waits
//! between attempts. Pure: the caller supplies the randomness.

use std::time::Duration;

/// The largest `--max-conflict-retries` accepted: a 409 usually means someone else writes the
/// object, and more retries would only fight them longer.
pub const MAX_CONFLICT_RETRIES: u32 = 10;
/// The wait before the first retry, doubled for each further one...
pub const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// ...up to this.
pub const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// The wait before attempt `attempt + 1` (`attempt` ≥ 1 is the attempt that just conflicted).
/// `jitter` in [0, 1) picks a point in the upper half of the exponential step ("equal jitter"),
/// so two clients that conflicted together do not retry together.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let step = BACKOFF_BASE.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(BACKOFF_CAP);
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    step.mul_f64(0.5 + 0.5 * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_within_the_upper_half() {
        assert_eq!(backoff(1, 0.0), Duration::from_millis(100));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(200));
        assert_eq!(backoff(2, 0.0), Duration::from_millis(200));
        assert_eq!(backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(MAX_CONFLICT_RETRIES, 1.0), BACKOFF_CAP);
        assert_eq!(backoff(u32::MAX, 1.0), BACKOFF_CAP);
        for j in [0.0, 0.3, 0.999] {
            let d = backoff(4, j);
            assert!(d >= Duration::from_millis(800) && d <= Duration::from_millis(1600), "{d:?}");
        }
        assert_eq!(backoff(1, f64::NAN), Duration::from_millis(100));
    }
}
