//! Concurrency and graceful shutdown of the running server.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{loopback, serve};
use nubes_test_support::wait;
use serde_json::json;

/// Bound on waits for something that takes milliseconds on an idle machine.
const BOUND: Duration = Duration::from_secs(10);

fn push(body: &str) -> serde_json::Value {
    use base64::Engine as _;
    json!({
        "message": {"data": base64::engine::general_purpose::STANDARD.encode(body), "messageId": body},
        "subscription": "projects/p/subscriptions/orders",
    })
}

/// A request and an event that do not finish until released are in flight
/// while twenty others are served: were they blocking, the others would
/// time out instead of answering.
#[tokio::test]
async fn a_slow_handler_does_not_block_other_requests() {
    let (server, seen) = serve(loopback()).await;
    let http = reqwest::Client::builder().timeout(BOUND).build().unwrap();
    let base = server.url();
    let held_http = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.get(format!("{base}/held"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let held_event = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.post(format!("{base}/_nubes/queues/orders"))
                .json(&push("held"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    wait::until("both held handlers running", BOUND, || {
        seen.http_started() == 1 && seen.all().len() == 1
    })
    .await;
    for i in 0..10 {
        let res = http.get(format!("{base}/hello")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let res = http
            .post(format!("{base}/_nubes/queues/orders"))
            .json(&push(&format!("fast-{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }
    assert!(
        !held_http.is_finished() && !held_event.is_finished(),
        "the held ones were still running"
    );
    seen.release();
    assert_eq!(held_http.await.unwrap(), 200);
    assert_eq!(held_event.await.unwrap(), 204);
    assert_eq!(seen.all().len(), 11);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_then_stops() {
    let (server, seen) = serve(loopback()).await;
    let base = server.url();
    let in_flight = tokio::spawn({
        let base = base.clone();
        async move {
            let res = reqwest::get(format!("{base}/held")).await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    });
    wait::until("the held request running", BOUND, || {
        seen.http_started() == 1
    })
    .await;
    let shutdown = server.shutdown();
    tokio::pin!(shutdown);
    // Shutdown has begun and waits for the request in flight, which waits
    // for the release (a bounded look: it must not end by itself).
    let early = tokio::time::timeout(Duration::from_millis(300), &mut shutdown).await;
    assert!(early.is_err(), "shutdown ended with a request in flight");
    assert!(!in_flight.is_finished());
    seen.release();
    tokio::time::timeout(BOUND, shutdown)
        .await
        .expect("shutdown ends once the request is done")
        .unwrap();
    let (status, text) = in_flight.await.unwrap();
    assert_eq!((status.as_u16(), text.as_str()), (200, "held"));
    assert!(
        reqwest::Client::new()
            .get(format!("{base}/hello"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn work_past_the_grace_period_is_cut_off() {
    let mut config = loopback();
    config.shutdown_grace = Duration::from_millis(200);
    let (server, seen) = serve(config).await;
    let base = server.url();
    // Held until released, which never happens: only the grace period ends it.
    let in_flight = tokio::spawn(async move { reqwest::get(format!("{base}/held")).await });
    wait::until("the held request running", BOUND, || {
        seen.http_started() == 1
    })
    .await;
    tokio::time::timeout(BOUND, server.shutdown())
        .await
        .expect("shutdown ends after the grace period")
        .unwrap();
    // The cut-off request, which had reached its handler, gets no success
    // (the platform would redeliver).
    assert!(
        in_flight
            .await
            .unwrap()
            .map(|r| !r.status().is_success())
            .unwrap_or(true)
    );
}

#[tokio::test]
async fn a_handler_past_the_request_timeout_fails_cleanly() {
    let mut config = loopback();
    config.request_timeout = Duration::from_millis(300);
    let (server, seen) = serve(config).await;
    // A handler that never finishes by itself: only the timeout answers.
    let res = reqwest::Client::new()
        .post(format!("{}/_nubes/queues/orders", server.url()))
        .json(&push("held"))
        .timeout(BOUND)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500, "redelivered");
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("request timeout")
    );
    // The handler saw the deadline.
    let remaining = seen.all()[0]["ctx"]["remaining_ms"].as_u64().unwrap();
    assert!(remaining > 0 && remaining <= 300, "{remaining}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_undecodable_trigger_name_is_a_json_400() {
    let (server, _seen) = serve(loopback()).await;
    for kind in ["queues", "storage", "schedules"] {
        let res = reqwest::Client::new()
            .post(format!("{}/_nubes/{kind}/%FF", server.url()))
            .json(&push("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{kind}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["kind"], "invalid_event", "{kind}: {body}");
    }
    server.shutdown().await.unwrap();
}

/// Cloud Run runs many instances: an idempotent handler that kept the implicit
/// in-memory store is refused before the port opens; naming a store is the opt-in.
#[tokio::test]
async fn an_idempotent_handler_without_a_store_is_refused_at_start() {
    use nubes_core::idempotency::{MemoryStore, idempotent};
    use nubes_core::{App, BoxError, Context, ErrorKind, QueueMessage};

    async fn charge(_: QueueMessage, _: Context) -> Result<(), BoxError> {
        Ok(())
    }
    let implicit = App::new().on_queue("payments", idempotent(charge));
    let err = nubes_gcp::start(implicit, loopback()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("queue trigger `payments`"), "{err}");
    let chosen = App::new().on_queue("payments", idempotent(charge).store(MemoryStore::new()));
    let server = nubes_gcp::start(chosen, loopback()).await.unwrap();
    server.shutdown().await.unwrap();
}
