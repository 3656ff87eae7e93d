//! Percentiles of a set of durations.

use std::time::Duration;

/// The `p`-th percentile (0–100, nearest rank) of `samples`, in microseconds;
/// `None` when there are none.
pub fn percentile_us(samples: &[Duration], p: f64) -> Option<f64> {
    let mut sorted: Vec<Duration> = samples.to_vec();
    sorted.sort_unstable();
    let last = sorted.len().checked_sub(1)?;
    // Nearest rank; `as` saturates, and the index is clamped to the slice.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.saturating_sub(1).min(last);
    sorted.get(index).map(|d| d.as_secs_f64() * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile_us(&samples, 50.0), Some(50.0));
        assert_eq!(percentile_us(&samples, 99.0), Some(99.0));
        assert_eq!(percentile_us(&samples, 100.0), Some(100.0));
        assert_eq!(percentile_us(&[], 50.0), None);
    }
}
