//! The handle handlers record through: [`Context::metrics`](crate::Context::metrics).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::TriggerKind;

use super::automatic::millis;
use super::{MetricKind, MetricsSink, Sample, Unit};

/// Records metrics into the sink the adapter installed. Cheap to clone (one
/// reference count); [`Metrics::disabled`] (the default, e.g. in unit tests of
/// handlers) records nothing.
///
/// Each call returns a [`PendingMetric`] that is recorded when it is dropped,
/// so dimensions chain on:
///
/// ```
/// # fn demo(ctx: nubes_core::Context) {
/// ctx.metrics().count("orders_placed", 1.0).with_dimension("region", "eu");
/// ctx.metrics().gauge("cart_items", 3.0);
/// ctx.metrics().timing("charge_card", std::time::Duration::from_millis(85));
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    sink: Option<Arc<dyn MetricsSink>>,
}

impl Metrics {
    /// A handle recording into `sink`.
    pub fn new(sink: Arc<dyn MetricsSink>) -> Self {
        Metrics { sink: Some(sink) }
    }

    /// A handle that records nothing.
    pub fn disabled() -> Self {
        Metrics { sink: None }
    }

    /// Whether samples go anywhere.
    pub fn is_enabled(&self) -> bool {
        self.sink.is_some()
    }

    /// Counts `value` occurrences of `name` (unit `Count`).
    pub fn count(&self, name: impl Into<Cow<'static, str>>, value: f64) -> PendingMetric<'_> {
        self.pending(name.into(), MetricKind::Count, Unit::Count, value)
    }

    /// Sets the level `name` to `value` (unit `None`; change it with
    /// [`PendingMetric::with_unit`]).
    pub fn gauge(&self, name: impl Into<Cow<'static, str>>, value: f64) -> PendingMetric<'_> {
        self.pending(name.into(), MetricKind::Gauge, Unit::None, value)
    }

    /// Records that `name` took `elapsed` (unit `Milliseconds`).
    pub fn timing(
        &self,
        name: impl Into<Cow<'static, str>>,
        elapsed: Duration,
    ) -> PendingMetric<'_> {
        self.pending(
            name.into(),
            MetricKind::Timing,
            Unit::Milliseconds,
            millis(elapsed),
        )
    }

    /// Records a ready-made sample.
    pub fn record(&self, sample: Sample) {
        if let Some(sink) = &self.sink {
            sink.record(sample);
        }
    }

    /// Records one finished invocation (nubes calls this for every event and
    /// HTTP request; see [`MetricsSink::record_invocation`]).
    pub fn record_invocation(
        &self,
        kind: TriggerKind,
        trigger: &str,
        failed: bool,
        elapsed: Duration,
    ) {
        if let Some(sink) = &self.sink {
            sink.record_invocation(kind, trigger, failed, elapsed);
        }
    }

    fn pending(
        &self,
        name: Cow<'static, str>,
        kind: MetricKind,
        unit: Unit,
        value: f64,
    ) -> PendingMetric<'_> {
        PendingMetric {
            metrics: self,
            sample: self
                .sink
                .is_some()
                .then(|| Sample::new(name, kind, unit, value)),
        }
    }
}

/// A sample about to be recorded: add dimensions or change the unit, and it
/// is recorded when dropped (at the end of the statement).
#[derive(Debug)]
pub struct PendingMetric<'a> {
    metrics: &'a Metrics,
    /// `None` when the handle is disabled: nothing to build.
    sample: Option<Sample>,
}

impl PendingMetric<'_> {
    /// Adds a dimension (at most [`MAX_DIMENSIONS`](super::MAX_DIMENSIONS)
    /// per metric, the function's included; more are ignored).
    pub fn with_dimension(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        if let Some(sample) = &mut self.sample {
            sample.add_dimension(name.into(), value.into());
        }
        self
    }

    /// Sets the unit.
    pub fn with_unit(mut self, unit: Unit) -> Self {
        if let Some(sample) = &mut self.sample {
            sample.unit = unit;
        }
        self
    }
}

impl Drop for PendingMetric<'_> {
    fn drop(&mut self) {
        if let Some(sample) = self.sample.take() {
            self.metrics.record(sample);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Aggregator;

    #[test]
    fn pending_metrics_record_on_drop_with_their_dimensions() {
        let agg = Arc::new(Aggregator::new());
        let m = Metrics::new(agg.clone());
        m.count("orders", 2.0).with_dimension("region", "eu");
        m.count("orders", 1.0).with_dimension("region", "eu");
        m.count("orders", 5.0).with_dimension("region", "us");
        m.gauge("depth", 3.0).with_unit(Unit::Count);
        let mut series = agg.drain();
        series.sort_by(|a, b| (&a.name, &a.dimensions).cmp(&(&b.name, &b.dimensions)));
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].name, "depth");
        assert_eq!(series[0].unit, Unit::Count);
        assert_eq!(series[1].value(), 3.0);
        assert_eq!(series[1].dimensions["region"], "eu");
        assert_eq!(series[2].value(), 5.0);
        assert!(agg.drain().is_empty(), "drain resets");
    }

    #[test]
    fn disabled_handles_record_nothing() {
        let m = Metrics::disabled();
        m.count("x", 1.0).with_dimension("a", "b");
        assert!(!m.is_enabled());
    }
}
