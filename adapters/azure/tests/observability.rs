//! Traces on every log line and metrics as stdout entries: the W3C
//! `traceparent` the Functions host sends (header, or invocation metadata)
//! appears on each line of that invocation — in the reply's `Logs` and in the
//! stdout JSON (`traceId` / `operationId`) — the handler's own lines included
//! and concurrent invocations kept apart; metrics are one entry at shutdown.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::time::Duration;

use nubes_azure::{AzureConfig, CaptureLayer, JsonLines};
use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_test_support::log_capture::LogCapture;
use serde_json::{Value, json};
use tracing_subscriber::prelude::*;

async fn order(msg: QueueMessage, ctx: Context) -> Result<(), BoxError> {
    tracing::info!(tag = %msg.id, "order received");
    tokio::time::sleep(Duration::from_millis(50)).await;
    ctx.metrics()
        .count("orders_placed", 1.0)
        .with_dimension("region", "eu");
    tracing::info!(tag = %msg.id, "order done");
    Ok(())
}

async fn hello() -> &'static str {
    tracing::info!(tag = "http", "saying hello");
    "hello"
}

const TRACES: [&str; 4] = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "0af7651916cd43dd8448eb211c80319c",
    "105445aa7843bc8bf206b12000100000",
    "9df407335d114d56ea27ee69ff12943f",
];

fn traceparent(trace: &str) -> String {
    format!("00-{trace}-b7ad6b7169203331-01")
}

fn queue_payload(id: &str, metadata_trace: Option<&str>) -> Value {
    use base64::Engine as _;
    let mut metadata = json!({"Id": id, "DequeueCount": 1});
    if let Some(trace) = metadata_trace {
        metadata["TraceContext"] = json!({"TraceParent": traceparent(trace), "TraceState": ""});
    }
    json!({
        "Data": {"messageBase64": base64::engine::general_purpose::STANDARD.encode(id)},
        "Metadata": metadata,
    })
}

#[tokio::test]
async fn trace_ids_on_every_line_and_one_metrics_entry() {
    let stdout = LogCapture::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(CaptureLayer)
        .with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .event_format(JsonLines)
                .with_writer(stdout.clone()),
        );
    // A current-thread test runtime: the server's tasks run on this thread.
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut config = AzureConfig::default();
    config.host = [127, 0, 0, 1].into();
    config.port = 0;
    let app = App::new()
        .http(axum::Router::new().route("/hello", axum::routing::get(hello)))
        .on_queue("orders", order);
    let server = nubes_azure::start(app, config).await.unwrap();
    let http = reqwest::Client::new();
    let invoke =
        |id: &'static str, header: Option<&'static str>, metadata: Option<&'static str>| {
            let mut request = http
                .post(format!("{}/nubes-queue-orders", server.url()))
                .header("content-type", "application/json")
                .header("x-azure-functions-invocationid", format!("inv-{id}"));
            if let Some(trace) = header {
                request = request.header("traceparent", traceparent(trace));
            }
            let request = request.body(queue_payload(id, metadata).to_string());
            async move {
                let res = request.send().await.unwrap();
                assert_eq!(res.status(), 200);
                res.json::<Value>().await.unwrap()
            }
        };
    // Two at once with header traces, one with the trace in its metadata.
    let (a, b, c) = tokio::join!(
        invoke("a", Some(TRACES[0]), None),
        invoke("b", Some(TRACES[1]), None),
        invoke("c", None, Some(TRACES[2])),
    );
    for (reply, trace) in [(&a, TRACES[0]), (&b, TRACES[1]), (&c, TRACES[2])] {
        let logs: Vec<&str> = reply["Logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(logs.len(), 2, "{reply}");
        for line in logs {
            assert!(line.ends_with(&format!("trace_id={trace}")), "{line}");
        }
    }
    let res = http
        .get(format!("{}/hello", server.url()))
        .header("traceparent", traceparent(TRACES[3]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A refusal, logged outside any handler, still names the host's invocation.
    let res = http
        .post(format!("{}/nubes-queue-orders", server.url()))
        .header("content-type", "application/json")
        .header("x-azure-functions-invocationid", "inv-refused")
        .body(r#"{"Data":{},"Metadata":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let lines = stdout.json_lines();
    let refused = lines
        .iter()
        .find(|l| l["invocation_id"] == "inv-refused")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(refused["level"], "ERROR");
    assert!(
        refused.get("traceId").is_none(),
        "no invocation ran: {refused}"
    );
    for (tag, trace, id) in [
        ("a", TRACES[0], "inv-a"),
        ("b", TRACES[1], "inv-b"),
        ("c", TRACES[2], "inv-c"),
        ("http", TRACES[3], ""),
    ] {
        let mine: Vec<&Value> = lines.iter().filter(|l| l["tag"] == tag).collect();
        assert!(!mine.is_empty(), "{tag}: {lines:#?}");
        for line in mine {
            assert_eq!(line["traceId"], trace, "{line}");
            assert_eq!(line["operationId"], trace, "{line}");
            assert_eq!(line["spanId"], "b7ad6b7169203331");
            if !id.is_empty() {
                assert_eq!(line["invocationId"], id, "{line}");
            }
        }
    }
    let order: Vec<&str> = lines.iter().filter_map(|l| l["tag"].as_str()).collect();
    assert_ne!(
        order[..3],
        ["a", "a", "b"],
        "invocations ran one after the other: {order:?}"
    );
    assert!(
        !lines.iter().any(|l| l["message"] == "metrics"),
        "no entry per invocation"
    );

    drop(http);
    server.shutdown().await.unwrap();
    let lines = stdout.json_lines();
    let entries: Vec<&Value> = lines.iter().filter(|l| l["message"] == "metrics").collect();
    assert_eq!(entries.len(), 1, "one entry at shutdown: {lines:#?}");
    let metrics = entries[0]["metrics"].as_array().unwrap();
    let value = |name: &str, trigger: Option<&str>| -> f64 {
        metrics
            .iter()
            .filter(|m| {
                m["name"] == name && trigger.is_none_or(|t| m["dimensions"]["trigger"] == t)
            })
            .map(|m| m["value"].as_f64().unwrap())
            .sum()
    };
    assert_eq!(value("invocations", Some("orders")), 3.0, "{}", entries[0]);
    assert_eq!(value("errors", Some("orders")), 0.0);
    assert_eq!(value("invocations", Some("http")), 1.0);
    assert_eq!(value("orders_placed", None), 3.0);
    assert_eq!(value("cold_start", None), 1.0);
}
