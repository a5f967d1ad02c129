//! What the load generators measure with: durations from the command line, milliseconds and
//! percentiles for their JSON summaries.

use anyhow::Context;
use std::time::Duration;

/// A non-negative number of seconds given as `name`.
pub fn seconds(value: f64, name: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value).with_context(|| format!("{name} must be a number ≥ 0"))
}

/// Milliseconds, to the microsecond.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The value at `per_mille`/1000 of the sorted durations (nearest rank).
pub fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted
        .get(rank.min(sorted.len()) - 1)
        .copied()
        .unwrap_or_default()
}
