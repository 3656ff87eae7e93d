//! A small app on the `nubes` facade for the shutdown and deadline tests
//! (tests/shutdown.rs): the platform comes from `NUBES_PLATFORM` as in any
//! nubes app.
//!
//! - `GET /fast` answers `fast` at once;
//! - `GET /slow?ms=N` answers `slow` after N milliseconds (default 300);
//! - `GET /remaining` answers the milliseconds left before the deadline;
//! - `GET /in-flight` answers how many `/slow` requests are being handled,
//!   so the tests wait for that instead of guessing how long it takes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::extract::Query;
use axum::routing::get;
use nubes::{App, Context};

/// `/slow` handlers running now.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Counts a `/slow` handler in [`IN_FLIGHT`] while it lives (also when it is
/// cancelled).
struct Running;

impl Running {
    fn new() -> Running {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn slow(Query(query): Query<HashMap<String, String>>) -> &'static str {
    let _running = Running::new();
    let ms = query
        .get("ms")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(300);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "slow"
}

async fn remaining(Extension(ctx): Extension<Context>) -> String {
    ctx.remaining()
        .map_or_else(|| "none".to_owned(), |left| left.as_millis().to_string())
}

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    let router = axum::Router::new()
        .route("/fast", get(|| async { "fast" }))
        .route("/slow", get(slow))
        .route("/remaining", get(remaining))
        .route(
            "/in-flight",
            get(|| async { IN_FLIGHT.load(Ordering::SeqCst).to_string() }),
        );
    nubes::run(App::new().http(router)).await
}
