//! `orders`: a small shop back end using all four trigger kinds.
//!
//! - `POST /orders` validates an order and answers `202`; `GET /stats` shows counters;
//! - queue `orders` processes orders (malformed or invalid ones fail permanently,
//!   the rest are retried on error), idempotently: an order id is processed at
//!   most once successfully within a day, however often it is delivered or
//!   resubmitted (records in Redis when `ORDERS_REDIS_URL` is set and the
//!   `redis` feature is on, else in memory);
//! - storage `receipts` logs every receipt written;
//! - schedule `nightly-report` (`0 3 * * *`, UTC) logs the day's totals.
//!
//! ```text
//! cargo run -p orders
//! curl -X POST localhost:3000/_nubes/queues/orders -d '{"id":"o-1","customer":"ada","total_cents":4200}'
//! curl -X PUT localhost:3000/_nubes/storage/receipts/o-1.txt -d 'paid'
//! curl -X POST localhost:3000/_nubes/schedules/nightly-report
//! ```

mod model;
mod stats;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use nubes::idempotency::{IdempotencyStore, MemoryStore, idempotent};
use nubes::{App, BoxError, Context, QueueMessage, ResultExt as _, ScheduledEvent, StorageEvent};

use crate::model::Order;
use crate::stats::Stats;

/// How long a processed order id is remembered.
const ORDER_DEDUPE_TTL: Duration = Duration::from_secs(24 * 3600);

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    let stats = Arc::new(Stats::default());
    #[cfg(feature = "redis")]
    if let Some(url) = std::env::var("ORDERS_REDIS_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
    {
        let redis = nubes::idempotency::RedisStore::open(&url)?;
        return nubes::run(app(stats, redis)).await;
    }
    nubes::run(app(stats, MemoryStore::new())).await
}

/// The app; `orders_seen` keeps the ids of processed orders.
fn app(stats: Arc<Stats>, orders_seen: impl IdempotencyStore) -> App {
    let http = Router::new()
        .route("/orders", post(accept_order))
        .route("/stats", get(show_stats))
        .layer(Extension(stats.clone()));
    let on_order = {
        let stats = stats.clone();
        move |msg: QueueMessage, ctx: Context| process_order(stats.clone(), msg, ctx)
    };
    // Keyed by the order id, not the message id: a client that resubmits an
    // order (a new message) is deduplicated as well as a queue redelivery.
    let on_order = idempotent(on_order)
        .store(orders_seen)
        .ttl(ORDER_DEDUPE_TTL)
        .key(|msg: &QueueMessage, _: &Context| Ok(msg.json::<Order>().permanent()?.id));
    let on_report = {
        let stats = stats.clone();
        move |ev: ScheduledEvent, ctx: Context| nightly_report(stats.clone(), ev, ctx)
    };
    App::new()
        .http(http)
        .on_queue("orders", on_order)
        .on_storage("receipts", receipt_stored)
        .on_schedule("nightly-report", "0 3 * * *", on_report)
}

/// Validates an order submitted over HTTP.
async fn accept_order(
    Extension(ctx): Extension<Context>,
    Json(order): Json<Order>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), (axum::http::StatusCode, String)> {
    order
        .validate()
        .map_err(|e| (axum::http::StatusCode::UNPROCESSABLE_ENTITY, e))?;
    tracing::info!(order_id = %order.id, request_id = ctx.invocation_id(), "order accepted");
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(serde_json::json!({ "accepted": order.id })),
    ))
}

async fn show_stats(Extension(stats): Extension<Arc<Stats>>) -> Json<serde_json::Value> {
    Json(stats.snapshot())
}

/// Processes one order message. Bad input can never succeed, so it fails
/// permanently (acknowledged, logged); anything else is retried. Runs at most
/// once successfully per order id (see `app`).
async fn process_order(stats: Arc<Stats>, msg: QueueMessage, ctx: Context) -> Result<(), BoxError> {
    let order: Order = msg.json().permanent()?;
    order.validate().permanent()?;
    tracing::info!(
        order_id = %order.id,
        customer = %order.customer,
        total_cents = order.total_cents,
        attempt = ctx.attempt(),
        "order processed"
    );
    stats.record_order(order.total_cents);
    // Custom metrics: CloudWatch EMF on AWS, log entries on GCP and Azure,
    // `GET /_nubes/metrics` locally.
    #[allow(clippy::cast_precision_loss)] // cents stay far below 2^52
    let total = order.total_cents as f64;
    ctx.metrics()
        .count("orders_processed", 1.0)
        .with_dimension("channel", "queue");
    ctx.metrics()
        .count("order_revenue_cents", total)
        .with_dimension("channel", "queue");
    Ok(())
}

async fn receipt_stored(ev: StorageEvent, _ctx: Context) -> Result<(), BoxError> {
    tracing::info!(bucket = %ev.bucket, key = %ev.key, action = ev.action.as_str(), size = ?ev.size, "receipt changed");
    Ok(())
}

async fn nightly_report(
    stats: Arc<Stats>,
    ev: ScheduledEvent,
    _ctx: Context,
) -> Result<(), BoxError> {
    let snapshot = stats.take_day();
    tracing::info!(scheduled_time = %ev.scheduled_time, report = %snapshot, "nightly report");
    Ok(())
}
