//! `GET /_nubes/metrics`: what the runner's handlers recorded since it
//! started, as JSON (`{"metrics":[{"name","kind","unit","dimensions","value",
//! "count","sum","min","max"}…]}`): automatic `invocations`, `errors`,
//! `duration` and `cold_start` per trigger, plus the app's custom metrics.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use nubes_core::metrics::{Aggregator, Metrics, summary_json};
use serde_json::Value;

use crate::runtime::SharedRuntime;

/// The runner's metrics: an aggregator that is never drained, and the handle
/// every `Context` gets.
#[derive(Debug, Clone)]
pub(crate) struct LocalMetrics {
    aggregator: Arc<Aggregator>,
    pub(crate) handle: Metrics,
}

impl Default for LocalMetrics {
    fn default() -> Self {
        let aggregator = Arc::new(Aggregator::new());
        LocalMetrics {
            handle: Metrics::new(aggregator.clone()),
            aggregator,
        }
    }
}

/// `GET /_nubes/metrics`.
pub(crate) async fn summary(State(rt): State<SharedRuntime>) -> Json<Value> {
    let mut series = rt.metrics.aggregator.snapshot();
    series.sort_by(|a, b| (&a.name, &a.dimensions).cmp(&(&b.name, &b.dimensions)));
    Json(summary_json(&series))
}
