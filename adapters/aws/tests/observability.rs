//! Traces on every log line and metrics as CloudWatch EMF, through the
//! in-process entry point with real payloads: the X-Ray ids Lambda and SQS
//! send appear in `traceId` / `xray_trace_id` of each invocation's lines
//! (the handler's own included, concurrent messages kept apart), and the EMF
//! lines written at the end of each invocation are valid EMF.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use nubes_aws::{AwsConfig, Invocation, LambdaHandler};
use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_test_support::log_capture::LogCapture;
use serde_json::{Value, json};
use tracing_subscriber::filter::Targets;

const LAMBDA_TRACE: &str =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
const MESSAGE_TRACES: [&str; 2] = [
    "Root=1-65f1c2aa-0123456789abcdef01234567;Parent=1111111111111111;Sampled=1",
    "Root=1-65f1c2bb-fedcba9876543210fedcba98;Parent=2222222222222222;Sampled=0",
];

fn fixture(name: &str) -> Value {
    nubes_test_support::fixtures::json(&format!("aws/{name}"))
}

/// Logs twice with a pause between, so concurrent messages interleave, and
/// counts a custom metric.
async fn process(msg: QueueMessage, ctx: Context) -> Result<(), BoxError> {
    tracing::info!(message_id = %msg.id, "order received");
    tokio::time::sleep(Duration::from_millis(20)).await;
    ctx.metrics()
        .count("orders_placed", 1.0)
        .with_dimension("region", "eu");
    tracing::info!(message_id = %msg.id, "order done");
    Ok(())
}

async fn hello(axum::Extension(ctx): axum::Extension<Context>) -> String {
    tracing::info!("saying hello");
    ctx.trace().traceparent().unwrap_or_default()
}

fn handler(emf: Arc<Mutex<Vec<String>>>) -> LambdaHandler {
    let app = App::new()
        .on_queue("my-queue", process)
        .http(axum::Router::new().route("/my/path", axum::routing::post(hello)));
    let env: HashMap<&str, &str> = [
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("AWS_LAMBDA_FUNCTION_NAME", "orders-fn"),
        ("NUBES_METRICS_NAMESPACE", "shop"),
    ]
    .into();
    let config = AwsConfig::from_lookup(|n| env.get(n).map(|v| (*v).to_owned())).unwrap();
    LambdaHandler::new(app, config)
        .unwrap()
        .with_metrics_output(move |line| emf.lock().unwrap().push(line.to_owned()))
}

fn sqs_payload() -> Bytes {
    let mut event = fixture("sqs-batch.json");
    for (record, trace) in event["Records"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(MESSAGE_TRACES)
    {
        record["attributes"]["AWSTraceHeader"] = json!(trace);
    }
    Bytes::from(event.to_string())
}

/// Checks the EMF specification's rules on one document and returns its
/// metric definitions (name → unit) and dimension names.
fn check_emf(doc: &Value) -> (HashMap<String, String>, Vec<String>) {
    let aws = &doc["_aws"];
    assert!(
        aws["Timestamp"].as_i64().unwrap() > 1_600_000_000_000,
        "{doc}"
    );
    let directives = aws["CloudWatchMetrics"].as_array().unwrap();
    assert_eq!(directives.len(), 1);
    let directive = &directives[0];
    assert_eq!(directive["Namespace"], "shop");
    let mut units = HashMap::new();
    let metrics = directive["Metrics"].as_array().unwrap();
    assert!(!metrics.is_empty() && metrics.len() <= 100);
    for m in metrics {
        let name = m["Name"].as_str().unwrap();
        assert!(!name.is_empty() && name.len() <= 255);
        let value = &doc[name];
        assert!(
            value.is_number()
                || value.as_array().is_some_and(|a| !a.is_empty()
                    && a.len() <= 100
                    && a.iter().all(Value::is_number)),
            "metric {name} must be a top-level number or array: {doc}"
        );
        units.insert(name.to_owned(), m["Unit"].as_str().unwrap().to_owned());
    }
    let sets = directive["Dimensions"].as_array().unwrap();
    let mut names = Vec::new();
    for set in sets {
        let set = set.as_array().unwrap();
        assert!(set.len() <= 30);
        for d in set {
            let d = d.as_str().unwrap();
            assert!(
                doc[d].as_str().is_some_and(|v| !v.is_empty()),
                "dimension {d} must be a top-level string: {doc}"
            );
            names.push(d.to_owned());
        }
    }
    (units, names)
}

#[tokio::test]
async fn traces_reach_every_line_and_metrics_are_valid_emf() {
    let logs = LogCapture::default();
    let sink = logs.clone();
    let subscriber = nubes_aws::json_subscriber(
        Targets::new().with_default(tracing::Level::INFO),
        move || sink.clone(),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let emf: Arc<Mutex<Vec<String>>> = Arc::default();
    let handler = handler(emf.clone());

    // An SQS batch: two messages run concurrently, each with its sender's trace.
    let invocation = Invocation::new("req-sqs").with_xray_trace_id(LAMBDA_TRACE);
    let reply = handler.handle(sqs_payload(), &invocation).await.unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&reply).unwrap(),
        json!({"batchItemFailures": []})
    );
    let lines = logs.json_lines();
    let batch = fixture("sqs-batch.json");
    for (record, trace) in batch["Records"]
        .as_array()
        .unwrap()
        .iter()
        .zip(MESSAGE_TRACES)
    {
        let id = record["messageId"].as_str().unwrap();
        let mine: Vec<&Value> = lines.iter().filter(|l| l["message_id"] == id).collect();
        assert_eq!(mine.len(), 2, "both handler lines of {id}: {lines:#?}");
        let root = trace.split(';').next().unwrap().trim_start_matches("Root=");
        for line in mine {
            assert_eq!(line["xray_trace_id"], root, "{line}");
            assert_eq!(line["traceId"], root.replace('-', "")[1..], "{line}");
            assert_eq!(line["requestId"], "req-sqs");
        }
    }
    // The lines interleaved, so concurrency was real.
    let order: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["message_id"].as_str())
        .collect();
    assert_ne!(
        order[0], order[1],
        "messages ran one after the other: {order:?}"
    );

    let docs: Vec<Value> = emf
        .lock()
        .unwrap()
        .drain(..)
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    let queue_doc = docs
        .iter()
        .find(|d| d["trigger"] == "my-queue")
        .expect("automatic metrics");
    let (units, dims) = check_emf(queue_doc);
    assert_eq!(dims, ["function", "kind", "trigger"]);
    assert_eq!(queue_doc["function"], "orders-fn");
    assert_eq!(queue_doc["kind"], "queue");
    assert_eq!(queue_doc["invocations"], 2.0);
    assert_eq!(queue_doc["errors"], 0.0);
    assert_eq!(queue_doc["cold_start"], 1.0);
    assert_eq!(queue_doc["duration"].as_array().unwrap().len(), 2);
    assert!(queue_doc["duration"][0].as_f64().unwrap() >= 20.0);
    assert_eq!(units["duration"], "Milliseconds");
    assert_eq!(units["invocations"], "Count");
    let custom = docs
        .iter()
        .find(|d| d.get("orders_placed").is_some())
        .expect("custom metric");
    let (units, dims) = check_emf(custom);
    assert_eq!(dims, ["function", "region"]);
    assert_eq!(custom["region"], "eu");
    assert_eq!(custom["orders_placed"], 2.0);
    assert_eq!(units["orders_placed"], "Count");
    assert_eq!(docs.len(), 2, "{docs:#?}");

    // An HTTP API request: Lambda's X-Ray id names it; no second cold start.
    let mut event = fixture("apigw-http-v2.json");
    event["headers"]["traceparent"] =
        json!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    let invocation = Invocation::new("req-http").with_xray_trace_id(LAMBDA_TRACE);
    handler
        .handle(Bytes::from(event.to_string()), &invocation)
        .await
        .unwrap();
    let lines = logs.json_lines();
    let hello = lines
        .iter()
        .find(|l| l["message"] == "saying hello")
        .expect("the handler's line");
    assert_eq!(
        hello["xray_trace_id"],
        "1-5759e988-bd862e3fe1be46a994272793"
    );
    assert_eq!(hello["traceId"], "5759e988bd862e3fe1be46a994272793");
    assert_eq!(hello["spanId"], "53995c3f42cd8ad8");
    assert_eq!(hello["requestId"], "req-http");
    let docs: Vec<Value> = emf
        .lock()
        .unwrap()
        .drain(..)
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    assert_eq!(docs.len(), 1, "{docs:#?}");
    check_emf(&docs[0]);
    assert_eq!(docs[0]["trigger"], "http");
    assert_eq!(docs[0]["invocations"], 1.0);
    assert!(
        docs[0].get("cold_start").is_none(),
        "cold start counted once"
    );
}

/// `AWS_LAMBDA_LOG_FORMAT=Text`: every line of an invocation, HTTP and SQS
/// alike, carries its `requestId=` and `xray_trace_id=`.
#[tokio::test]
async fn text_lines_carry_request_and_xray_ids() {
    let logs = LogCapture::default();
    let sink = logs.clone();
    let subscriber = nubes_aws::text_subscriber(
        Targets::new().with_default(tracing::Level::INFO),
        move || sink.clone(),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let handler = handler(Arc::default());
    let text = || logs.text();

    let mut event = fixture("apigw-http-v2.json");
    event["headers"]["traceparent"] =
        json!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    let invocation = Invocation::new("req-http").with_xray_trace_id(LAMBDA_TRACE);
    handler
        .handle(Bytes::from(event.to_string()), &invocation)
        .await
        .unwrap();
    let http = text();
    assert!(http.contains(": saying hello"), "{http}");
    for line in http.lines() {
        assert!(
            line.contains(" requestId=req-http xray_trace_id=1-5759e988-bd862e3fe1be46a994272793 spanId=53995c3f42cd8ad8 "),
            "{line}"
        );
    }

    logs.clear();
    let invocation = Invocation::new("req-sqs").with_xray_trace_id(LAMBDA_TRACE);
    handler.handle(sqs_payload(), &invocation).await.unwrap();
    let sqs = text();
    let batch = fixture("sqs-batch.json");
    for (record, trace) in batch["Records"]
        .as_array()
        .unwrap()
        .iter()
        .zip(MESSAGE_TRACES)
    {
        let id = record["messageId"].as_str().unwrap();
        let root = trace.split(';').next().unwrap().trim_start_matches("Root=");
        let mine: Vec<&str> = sqs
            .lines()
            .filter(|l| l.contains(&format!("message_id={id}")))
            .collect();
        assert_eq!(mine.len(), 2, "both handler lines of {id}: {sqs}");
        for line in mine {
            assert!(
                line.contains(&format!(" requestId=req-sqs xray_trace_id={root} ")),
                "{line}"
            );
        }
    }
    for line in sqs.lines() {
        assert!(
            line.contains(" requestId=req-sqs xray_trace_id=1-"),
            "{line}"
        );
    }
}
