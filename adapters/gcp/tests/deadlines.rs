//! Storage and schedule handlers that outlive the request timeout
//! (`NUBES_GCP_REQUEST_TIMEOUT_MS`) are cancelled shortly before it and the
//! delivery answered `500`, so Eventarc / Cloud Scheduler retry it (queue
//! deliveries: tests/server.rs; HTTP: tests/shutdown.rs of the conformance suite).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use nubes_core::{App, BoxError, Context, ScheduledEvent, StorageEvent};
use nubes_gcp::GcpConfig;

const TIMEOUT: Duration = Duration::from_millis(600);

async fn outlive(ctx: Context) -> Result<(), BoxError> {
    assert!(ctx.remaining().is_some_and(|left| left <= TIMEOUT));
    tokio::time::sleep(Duration::from_secs(10)).await;
    Ok(())
}

fn fixture(name: &str) -> Vec<u8> {
    nubes_test_support::fixtures::bytes(&format!("gcp/{name}"))
}

#[tokio::test]
async fn late_event_handlers_are_cancelled_and_their_deliveries_fail() {
    let app = App::new()
        .on_storage("uploads", |_: StorageEvent, ctx: Context| outlive(ctx))
        .on_schedule("tick", "0 0 1 1 *", |_: ScheduledEvent, ctx: Context| {
            outlive(ctx)
        });
    let mut config = GcpConfig::default();
    config.host = [127, 0, 0, 1].into();
    config.port = 0;
    config.request_timeout = TIMEOUT;
    let server = nubes_gcp::start(app, config).await.unwrap();
    let client = reqwest::Client::new();
    let deliveries = [
        (
            "/_nubes/storage/uploads",
            "application/cloudevents+json",
            fixture("cloudevent-storage-finalized.structured.json"),
        ),
        ("/_nubes/schedules/tick", "application/json", Vec::new()),
    ];
    for (path, content_type, body) in deliveries {
        let started = Instant::now();
        let res = client
            .post(format!("{}{path}", server.url()))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(res.status(), 500, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("NUBES_GCP_REQUEST_TIMEOUT_MS"),
            "{path}: {body}"
        );
        // Not before the deadline's margin (the server's timer cannot fire early);
        // the upper bound is generous, as the client's clock also counts a busy
        // machine's delays, and far below the handler's 10 s.
        assert!(
            took >= TIMEOUT - Duration::from_millis(100) && took < TIMEOUT + Duration::from_secs(2),
            "{path}: {took:?}"
        );
        eprintln!("gcp {path}: failed after {took:?} with a {TIMEOUT:?} timeout");
    }
    server.shutdown().await.unwrap();
}
