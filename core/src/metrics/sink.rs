//! Where samples go: the trait an adapter installs behind [`Metrics`](super::Metrics).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::TriggerKind;

use super::Sample;
use super::automatic;

/// Receives the samples of a process. [`Aggregator`](super::Aggregator) is
/// the implementation every adapter uses; implement it to send metrics
/// elsewhere (an OpenTelemetry meter, StatsD, a test probe).
pub trait MetricsSink: Send + Sync + fmt::Debug + 'static {
    /// Records one sample.
    fn record(&self, sample: Sample);

    /// Records one finished invocation of `trigger` (of `kind`): called by
    /// nubes once per event and once per HTTP request, so implementations
    /// should keep it cheap. The default turns it into samples (`invocations`,
    /// `errors`, `duration` and, for the first invocation of the process,
    /// `cold_start`) with dimensions `kind` and `trigger`.
    fn record_invocation(&self, kind: TriggerKind, trigger: &str, failed: bool, elapsed: Duration) {
        static COLD: AtomicBool = AtomicBool::new(true);
        let cold = COLD.load(Ordering::Relaxed) && COLD.swap(false, Ordering::Relaxed);
        for sample in automatic::samples(kind, trigger, failed, elapsed, cold) {
            self.record(sample);
        }
    }
}
