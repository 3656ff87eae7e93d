//! `GET /_nubes/metrics` counts what really ran: HTTP requests, queue
//! deliveries (retries included), errors, one cold start and custom metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_local::{LocalConfig, start};
use serde_json::Value;

async fn hi(axum::Extension(ctx): axum::Extension<Context>) -> &'static str {
    ctx.metrics()
        .count("greetings", 1.0)
        .with_dimension("lang", "en");
    "hi"
}

async fn order(msg: QueueMessage, _ctx: Context) -> Result<(), BoxError> {
    match msg.text()? {
        "fail" => Err("asked to fail".into()),
        _ => Ok(()),
    }
}

fn value(summary: &Value, name: &str, trigger: Option<&str>) -> f64 {
    summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == name)
        .filter(|m| trigger.is_none_or(|t| m["dimensions"]["trigger"] == t))
        .map(|m| m["value"].as_f64().unwrap())
        .sum()
}

#[tokio::test]
async fn metrics_summary_matches_the_invocations() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().join(".nubes");
    config.retry_delay = Duration::from_millis(10);
    config.max_attempts = 2;
    config.run_schedules = false;
    let app = App::new()
        .http(axum::Router::new().route("/hi", axum::routing::get(hi)))
        .on_queue("orders", order);
    let server = start(app, config).await.unwrap();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url());

    for _ in 0..3 {
        assert_eq!(http.get(url("/hi")).send().await.unwrap().status(), 200);
    }
    for body in ["ok", "fail"] {
        let res = http
            .post(url("/_nubes/queues/orders"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }
    // One success, then two attempts of the failing message.
    let started = std::time::Instant::now();
    let summary = loop {
        let summary: Value = http
            .get(url("/_nubes/metrics"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if value(&summary, "invocations", Some("orders")) >= 3.0 {
            break summary;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "deliveries did not finish: {summary}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        value(&summary, "invocations", Some("http")),
        3.0,
        "{summary}"
    );
    assert_eq!(value(&summary, "errors", Some("http")), 0.0);
    assert_eq!(value(&summary, "invocations", Some("orders")), 3.0);
    assert_eq!(value(&summary, "errors", Some("orders")), 2.0);
    assert_eq!(value(&summary, "cold_start", None), 1.0, "{summary}");
    assert_eq!(value(&summary, "greetings", None), 3.0);
    let greetings = summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "greetings")
        .unwrap();
    assert_eq!(greetings["dimensions"]["lang"], "en");
    assert_eq!(greetings["unit"], "Count");
    let duration = summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "duration" && m["dimensions"]["trigger"] == "orders")
        .unwrap();
    assert_eq!(duration["count"], 3);
    assert_eq!(duration["unit"], "Milliseconds");
    server.shutdown().await.unwrap();
}
