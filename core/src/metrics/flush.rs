//! Periodic emission (GCP and Azure) and the log entry metrics become there.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Error;

use super::{Aggregator, Metrics, Series, summary_json};

/// The `tracing` target of the metric log entries [`log_series`] emits.
pub const LOG_TARGET: &str = "nubes::metrics";
/// The field of those entries holding the metrics as a JSON text; the GCP
/// and Azure log formats embed it as a JSON object.
pub const LOG_FIELD: &str = "nubes_metrics";

/// Emits `series` as one `tracing` event (target [`LOG_TARGET`], level
/// info, message `metrics`, field [`LOG_FIELD`] = [`summary_json`] text).
pub fn log_series(series: &[Series]) {
    let json = summary_json(series).to_string();
    tracing::info!(target: LOG_TARGET, nubes_metrics = %json, "metrics");
}

/// How often GCP and Azure emit metrics: `NUBES_METRICS_INTERVAL_SECS`
/// (default 60, at least 1).
pub fn flush_interval(lookup: &impl Fn(&str) -> Option<String>) -> Result<Duration, Error> {
    let secs: u64 = crate::raw::env::read(
        lookup,
        "NUBES_METRICS_INTERVAL_SECS",
        60,
        "a number of seconds",
    )?;
    Ok(Duration::from_secs(secs.max(1)))
}

type Emit = Arc<dyn Fn(Vec<Series>) + Send + Sync>;

/// An [`Aggregator`] drained every interval by a background task, and once
/// more when this value is dropped (at shutdown), each non-empty drain handed
/// to `emit`. For long-lived servers (Cloud Run, Azure Functions), where one
/// entry per request would flood the logs.
pub struct PeriodicFlush {
    aggregator: Arc<Aggregator>,
    emit: Emit,
    stop: CancellationToken,
}

impl std::fmt::Debug for PeriodicFlush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeriodicFlush")
            .field("aggregator", &self.aggregator)
            .finish_non_exhaustive()
    }
}

impl PeriodicFlush {
    /// Starts flushing a new aggregator every `every` (needs a Tokio runtime
    /// for the periodic part; without one only [`flush`](Self::flush) and the
    /// final flush on drop emit).
    pub fn start(every: Duration, emit: impl Fn(Vec<Series>) + Send + Sync + 'static) -> Self {
        let aggregator = Arc::new(Aggregator::new());
        let emit: Emit = Arc::new(emit);
        let stop = CancellationToken::new();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&aggregator);
            let emit = emit.clone();
            let stop = stop.clone();
            handle.spawn(async move {
                let mut ticks =
                    tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        () = stop.cancelled() => return,
                    }
                    let Some(aggregator) = weak.upgrade() else {
                        return;
                    };
                    let series = aggregator.drain();
                    drop(aggregator);
                    if !series.is_empty() {
                        emit(series);
                    }
                }
            });
        }
        PeriodicFlush {
            aggregator,
            emit,
            stop,
        }
    }

    /// A handle recording into the aggregator, for [`Context`](crate::Context)s.
    pub fn metrics(&self) -> Metrics {
        Metrics::new(self.aggregator.clone())
    }

    /// The aggregator.
    pub fn aggregator(&self) -> &Arc<Aggregator> {
        &self.aggregator
    }

    /// Drains and emits now (when anything was recorded).
    pub fn flush(&self) {
        let series = self.aggregator.drain();
        if !series.is_empty() {
            (self.emit)(series);
        }
    }
}

impl Drop for PeriodicFlush {
    fn drop(&mut self) {
        self.stop.cancel();
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TriggerKind;
    use std::sync::Mutex;

    #[tokio::test]
    async fn flushes_every_interval_and_on_drop() {
        let seen: Arc<Mutex<Vec<usize>>> = Arc::default();
        let sink = seen.clone();
        let flush = PeriodicFlush::start(Duration::from_millis(100), move |s| {
            sink.lock().unwrap().push(s.len());
        });
        let metrics = flush.metrics();
        metrics.record_invocation(TriggerKind::Http, "http", false, Duration::from_millis(1));
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "one flush after the interval"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "nothing recorded, nothing emitted"
        );
        metrics.count("x", 1.0);
        drop(flush);
        assert_eq!(*seen.lock().unwrap(), [4, 1], "final flush on drop");
    }

    #[test]
    fn interval_is_configurable() {
        let lookup = |n: &str| (n == "NUBES_METRICS_INTERVAL_SECS").then(|| "5".to_owned());
        assert_eq!(flush_interval(&lookup).unwrap(), Duration::from_secs(5));
        assert_eq!(
            flush_interval(&|_: &str| None).unwrap(),
            Duration::from_secs(60)
        );
        assert!(flush_interval(&|_: &str| Some("soon".to_owned())).is_err());
    }
}
