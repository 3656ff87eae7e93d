//! The metrics nubes records by itself for every invocation.

use std::time::Duration;

use crate::TriggerKind;

use super::{MetricKind, Sample, Unit};

/// Invocations of a trigger (Count; dimensions `kind`, `trigger`).
pub const INVOCATIONS: &str = "invocations";
/// Failed invocations: handler errors, panics, unknown triggers, HTTP 5xx (Count).
pub const ERRORS: &str = "errors";
/// How long invocations took (Milliseconds, a timing).
pub const DURATION: &str = "duration";
/// 1 for the first invocation of the process (Count), absent afterwards.
pub const COLD_START: &str = "cold_start";

/// Milliseconds, with microsecond precision.
pub(crate) fn millis(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

/// The samples of one invocation, as [`MetricsSink::record_invocation`](super::MetricsSink::record_invocation)
/// records them by default.
pub(crate) fn samples(
    kind: TriggerKind,
    trigger: &str,
    failed: bool,
    elapsed: Duration,
    cold: bool,
) -> Vec<Sample> {
    let dims = |s: Sample| {
        s.with_dimension("kind", kind.as_str())
            .with_dimension("trigger", trigger)
    };
    let mut out = vec![
        dims(Sample::new(
            INVOCATIONS,
            MetricKind::Count,
            Unit::Count,
            1.0,
        )),
        dims(Sample::new(
            ERRORS,
            MetricKind::Count,
            Unit::Count,
            if failed { 1.0 } else { 0.0 },
        )),
        dims(Sample::new(
            DURATION,
            MetricKind::Timing,
            Unit::Milliseconds,
            millis(elapsed),
        )),
    ];
    if cold {
        out.push(dims(Sample::new(
            COLD_START,
            MetricKind::Count,
            Unit::Count,
            1.0,
        )));
    }
    out
}
