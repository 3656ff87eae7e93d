//! Metrics: automatic per-trigger invocation metrics and a small API for
//! custom ones, aggregated in-process and emitted by each adapter in its
//! cloud's native form.
//!
//! Handlers record through [`Context::metrics`](crate::Context::metrics):
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use nubes_core::metrics::{Aggregator, Metrics};
//!
//! let aggregator = Arc::new(Aggregator::new());
//! let metrics = Metrics::new(aggregator.clone());
//! metrics.count("orders_placed", 1.0).with_dimension("region", "eu");
//! metrics.gauge("queue_depth", 42.0);
//! metrics.timing("charge_card", Duration::from_millis(120));
//!
//! let series = aggregator.drain();
//! let placed = series.iter().find(|s| s.name == "orders_placed").unwrap();
//! assert_eq!(placed.value(), 1.0);
//! assert_eq!(placed.dimensions["region"], "eu");
//! ```
//!
//! The pieces: a [`Sample`] is one measurement; a [`MetricsSink`] receives
//! samples (the adapter installs one, usually an [`Aggregator`]); the
//! [`Aggregator`] keeps one [`Series`] per name + dimensions, cheaply enough
//! for the HTTP hot path (see [`MetricsSink::record_invocation`]); the
//! adapter drains it into CloudWatch EMF (AWS, once per invocation), a
//! structured log entry ([`log_series`], GCP and Azure, every
//! [`PeriodicFlush`] interval) or a JSON summary (`GET /_nubes/metrics`
//! locally, [`summary_json`]).

mod aggregator;
mod automatic;
mod flush;
mod handle;
mod sample;
mod series;
mod sink;

pub use aggregator::Aggregator;
pub use automatic::{COLD_START, DURATION, ERRORS, INVOCATIONS};
pub use flush::{LOG_FIELD, LOG_TARGET, PeriodicFlush, flush_interval, log_series};
pub use handle::{Metrics, PendingMetric};
pub use sample::{MAX_DIMENSIONS, MetricKind, Sample, Unit};
pub use series::{MAX_VALUES, Series, Stats, summary_json};
pub use sink::MetricsSink;
