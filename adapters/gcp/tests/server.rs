//! Concurrency and graceful shutdown of the running server.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{loopback, serve};
use serde_json::json;

fn push(body: &str) -> serde_json::Value {
    use base64::Engine as _;
    json!({
        "message": {"data": base64::engine::general_purpose::STANDARD.encode(body), "messageId": body},
        "subscription": "projects/p/subscriptions/orders",
    })
}

#[tokio::test]
async fn a_slow_handler_does_not_block_other_requests() {
    let (server, seen) = serve(loopback()).await;
    let http = reqwest::Client::new();
    let base = server.url();
    let slow_http = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.get(format!("{base}/slow"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let slow_event = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.post(format!("{base}/_nubes/queues/orders"))
                .json(&push("slow"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
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
    let fast = started.elapsed();
    assert!(
        fast < Duration::from_millis(800),
        "fast requests took {fast:?}"
    );
    assert!(
        !slow_http.is_finished() || !slow_event.is_finished(),
        "the slow ones were still running"
    );
    assert_eq!(slow_http.await.unwrap(), 200);
    assert_eq!(slow_event.await.unwrap(), 204);
    assert_eq!(seen.all().len(), 11);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_then_stops() {
    let (server, _seen) = serve(loopback()).await;
    let base = server.url();
    let in_flight = tokio::spawn({
        let base = base.clone();
        async move {
            let res = reqwest::get(format!("{base}/slow")).await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    server.shutdown().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let (status, text) = in_flight.await.unwrap();
    assert_eq!((status.as_u16(), text.as_str()), (200, "slow"));
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
    let (server, _seen) = serve(config).await;
    let base = server.url();
    let in_flight = tokio::spawn(async move { reqwest::get(format!("{base}/slow")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    server.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // The cut-off request gets no success (the platform would redeliver).
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
    let started = Instant::now();
    let res = reqwest::Client::new()
        .post(format!("{}/_nubes/queues/orders", server.url()))
        .json(&push("slow"))
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
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
