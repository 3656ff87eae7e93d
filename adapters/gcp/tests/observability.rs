//! Traces on every log line and metrics as Cloud Logging entries: each
//! header format Google sends (`traceparent`, `X-Cloud-Trace-Context`,
//! CloudEvent `ce-traceparent`, structured `traceparent`) ends up in
//! `logging.googleapis.com/trace` of that request's lines — the handler's own
//! included, concurrent requests kept apart — and the metrics are one entry
//! at shutdown, not one per request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

mod common;

use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_gcp::CloudLogging;
use nubes_test_support::log_capture::LogCapture;
use serde_json::Value;
use tracing_subscriber::fmt::format::JsonFields;

async fn traced(axum::extract::Path(tag): axum::extract::Path<String>) -> &'static str {
    tracing::info!(tag = %tag, "first line");
    tokio::time::sleep(Duration::from_millis(50)).await;
    tracing::info!(tag = %tag, "second line");
    "ok"
}

async fn order(msg: QueueMessage, ctx: Context) -> Result<(), BoxError> {
    tracing::info!(tag = %msg.id, "order handled");
    ctx.metrics()
        .count("orders_placed", 1.0)
        .with_dimension("region", "eu");
    Ok(())
}

const TRACES: [&str; 4] = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "105445aa7843bc8bf206b12000100000",
    "0af7651916cd43dd8448eb211c80319c",
    "9df407335d114d56ea27ee69ff12943f",
];

#[tokio::test]
async fn trace_links_on_every_line_and_metrics_entries() {
    let logs = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(CloudLogging::new(Some("my-proj".into())))
        .with_writer(logs.clone())
        .finish();
    // A current-thread test runtime: the server's tasks run on this thread.
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = App::new()
        .http(axum::Router::new().route("/t/{tag}", axum::routing::get(traced)))
        .on_queue("orders", order);
    let server = nubes_gcp::start(app, common::loopback()).await.unwrap();
    let http = reqwest::Client::new();
    let base = server.url();

    // Two concurrent HTTP requests, W3C and Google headers.
    let a = http
        .get(format!("{base}/t/a"))
        .header(
            "traceparent",
            format!("00-{}-00f067aa0ba902b7-01", TRACES[0]),
        )
        .send();
    let b = http
        .get(format!("{base}/t/b"))
        .header("x-cloud-trace-context", format!("{}/10;o=0", TRACES[1]))
        .send();
    let (a, b) = tokio::join!(a, b);
    assert_eq!(a.unwrap().status(), 200);
    assert_eq!(b.unwrap().status(), 200);

    // A binary-mode CloudEvent with only the `ce-traceparent` extension.
    let mut request = http.post(format!("{base}/_nubes/queues/orders"));
    for (k, v) in common::fixture_headers("eventarc-pubsub-binary.headers.json") {
        if k != "x-cloud-trace-context" && k != "host" {
            request = request.header(k, v);
        }
    }
    let res = request
        .header(
            "ce-traceparent",
            format!("00-{}-b7ad6b7169203331-01", TRACES[2]),
        )
        .body(common::fixture("eventarc-pubsub-binary.body.json"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // A structured-mode CloudEvent with a `traceparent` attribute.
    let mut event: Value = serde_json::from_slice(&common::fixture(
        "cloudevent-pubsub-messagePublished.structured.json",
    ))
    .unwrap();
    event["traceparent"] = format!("00-{}-b7ad6b7169203331-00", TRACES[3]).into();
    let res = http
        .post(format!("{base}/_nubes/queues/orders"))
        .header("content-type", "application/cloudevents+json")
        .body(event.to_string())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    let lines = logs.json_lines();
    let trace = |l: &Value| {
        l["logging.googleapis.com/trace"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    for (tag, id) in [("a", TRACES[0]), ("b", TRACES[1])] {
        let mine: Vec<&Value> = lines.iter().filter(|l| l["tag"] == tag).collect();
        assert_eq!(mine.len(), 2, "{lines:#?}");
        for line in mine {
            assert_eq!(
                trace(line),
                format!("projects/my-proj/traces/{id}"),
                "{line}"
            );
            assert!(line["logging.googleapis.com/spanId"].is_string(), "{line}");
        }
    }
    let a_line = lines.iter().find(|l| l["tag"] == "a").unwrap();
    assert_eq!(a_line["logging.googleapis.com/trace_sampled"], true);
    assert_eq!(a_line["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
    let b_line = lines.iter().find(|l| l["tag"] == "b").unwrap();
    assert_eq!(b_line["logging.googleapis.com/trace_sampled"], false);
    let order_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "order handled")
        .collect();
    assert_eq!(order_lines.len(), 2, "{lines:#?}");
    assert_eq!(
        trace(order_lines[0]),
        format!("projects/my-proj/traces/{}", TRACES[2])
    );
    assert_eq!(
        trace(order_lines[1]),
        format!("projects/my-proj/traces/{}", TRACES[3])
    );
    let order = |l: &Value| l["message"] == "metrics";
    assert!(!lines.iter().any(order), "no metrics entry per request");

    server.shutdown().await.unwrap();
    let lines = logs.json_lines();
    let entries: Vec<&Value> = lines.iter().filter(|l| l["message"] == "metrics").collect();
    assert_eq!(entries.len(), 1, "one entry at shutdown: {lines:#?}");
    let entry = entries[0];
    assert_eq!(entry["severity"], "INFO");
    assert!(
        entry.get("logging.googleapis.com/trace").is_none(),
        "not part of a request"
    );
    let metrics = entry["metrics"].as_array().unwrap();
    let find = |name: &str, trigger: &str| {
        metrics
            .iter()
            .find(|m| m["name"] == name && m["dimensions"]["trigger"] == trigger)
            .unwrap_or_else(|| panic!("{name}/{trigger} in {entry}"))
    };
    assert_eq!(find("invocations", "http")["value"], 2.0);
    assert_eq!(find("errors", "http")["value"], 0.0);
    assert!(find("duration", "http")["max"].as_f64().unwrap() >= 50.0);
    assert_eq!(find("invocations", "orders")["value"], 2.0);
    let placed = metrics
        .iter()
        .find(|m| m["name"] == "orders_placed")
        .unwrap();
    assert_eq!(placed["value"], 2.0);
    assert_eq!(placed["dimensions"]["region"], "eu");
    let cold: f64 = metrics
        .iter()
        .filter(|m| m["name"] == "cold_start")
        .map(|m| m["value"].as_f64().unwrap())
        .sum();
    assert_eq!(cold, 1.0, "one cold start");
}
