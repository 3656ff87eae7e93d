//! The order queue is idempotent: in process, through the local runner's HTTP
//! endpoints, and through the AWS adapter with an SQS batch that repeats a
//! message.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use nubes::idempotency::MemoryStore;
use nubes::raw::{AppDispatch as _, ContextBuilder};
use nubes::{Context, Platform, QueueMessage, TriggerKind};

use crate::stats::Stats;

const ORDER: &str = r#"{"id":"o-1","customer":"ada","total_cents":4200}"#;

fn queue_ctx() -> Context {
    ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders").build()
}

#[tokio::test]
async fn an_order_is_processed_once_however_often_it_arrives() {
    let stats = Arc::new(Stats::default());
    let app = crate::app(stats.clone(), MemoryStore::new());
    // A redelivery (same message id) and a resubmission (new message id).
    for id in ["m-1", "m-1", "m-2"] {
        let outcome = app
            .dispatch_queue(QueueMessage::new(id, ORDER), queue_ctx())
            .await;
        assert!(outcome.is_success(), "{outcome:?}");
    }
    assert_eq!(stats.snapshot()["orders"], 1);
    let other = ORDER.replace("o-1", "o-2");
    let outcome = app
        .dispatch_queue(QueueMessage::new("m-3", other), queue_ctx())
        .await;
    assert!(outcome.is_success());
    assert_eq!(stats.snapshot()["orders"], 2);
}

#[tokio::test]
async fn malformed_orders_still_fail_permanently() {
    let app = crate::app(Arc::new(Stats::default()), MemoryStore::new());
    let outcome = app
        .dispatch_queue(QueueMessage::new("m-1", "not json"), queue_ctx())
        .await;
    assert!(
        matches!(outcome, nubes::raw::Outcome::Permanent(_)),
        "{outcome:?}"
    );
}

/// End to end through the local runner: the same order posted twice to the
/// queue endpoint is handled twice and processed once.
#[cfg(feature = "local")]
#[tokio::test]
async fn the_local_runner_processes_a_resubmitted_order_once() {
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let mut config = nubes::local::LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().join(".nubes");
    config.run_schedules = false;
    config.watch_storage = false;
    config.shutdown_grace = Duration::from_secs(5);
    let stats = Arc::new(Stats::default());
    let app = crate::app(stats.clone(), MemoryStore::new());
    let server = nubes::local::start(app, config).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let reply: serde_json::Value = http
            .post(format!("{base}/_nubes/queues/orders?wait=true"))
            .body(ORDER)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(reply["status"], "handled", "{reply}");
    }
    let figures: serde_json::Value = http
        .get(format!("{base}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(figures["orders"], 1, "{figures}");
    assert_eq!(figures["revenue_cents"], 4200, "{figures}");
    server.shutdown().await.unwrap();
}

/// End to end through the AWS adapter: an SQS batch carrying the same
/// `messageId` twice (SQS delivers at least once) runs the handler once. The
/// copies are handled concurrently, so the second is either acknowledged as a
/// duplicate or reported in `batchItemFailures` as in progress; a simulated
/// SQS redelivers what failed until the queue is empty.
#[cfg(feature = "aws")]
#[tokio::test]
async fn an_sqs_batch_with_a_duplicate_message_runs_the_handler_once() {
    use nubes::aws::{AwsConfig, Invocation, LambdaHandler};
    use serde_json::{Value, json};

    let fixture = nubes_test_support::fixtures::json("aws/sqs-batch.json");
    let record = |id: &str, body: &str| {
        let mut r = fixture["Records"][0].clone();
        r["messageId"] = json!(id);
        r["body"] = json!(body);
        r["eventSourceARN"] = json!("arn:aws:sqs:us-east-2:123456789012:orders");
        r
    };
    let stats = Arc::new(Stats::default());
    let handler = LambdaHandler::new(
        crate::app(stats.clone(), MemoryStore::new()),
        AwsConfig::default(),
    )
    .unwrap();
    let second = ORDER.replace("o-1", "o-2");
    let mut queue = vec![
        record("m-1", ORDER),
        record("m-1", ORDER),
        record("m-2", &second),
    ];
    let mut invocations = 0;
    while !queue.is_empty() {
        invocations += 1;
        assert!(invocations <= 5, "messages never acknowledged: {queue:?}");
        let event = json!({ "Records": queue });
        let reply = handler
            .handle(
                nubes::bytes::Bytes::from(event.to_string()),
                &Invocation::new(format!("req-{invocations}")),
            )
            .await
            .unwrap();
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        let failed: Vec<&str> = reply["batchItemFailures"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|i| i["itemIdentifier"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        // Only the duplicate can be in progress; the others succeed.
        assert!(failed.iter().all(|id| *id == "m-1"), "{reply}");
        queue = failed.iter().map(|id| record(id, ORDER)).collect();
    }
    assert_eq!(stats.snapshot()["orders"], 2);
    assert_eq!(stats.snapshot()["revenue_cents"], 8400);
    println!("SQS invocations until the queue was empty: {invocations}");
}

/// The AWS adapter handles an SQS batch's messages concurrently: while the
/// first copy of a slow message runs, its duplicate in the same batch is
/// reported in `batchItemFailures` (in progress), and SQS's redelivery of it is
/// acknowledged without running.
#[cfg(feature = "aws")]
#[tokio::test]
async fn a_concurrent_duplicate_in_an_sqs_batch_is_retried_not_run() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use nubes::aws::{AwsConfig, Invocation, LambdaHandler};
    use nubes::idempotency::{MemoryStore, idempotent};
    use nubes::{App, BoxError};
    use serde_json::{Value, json};

    let runs = Arc::new(AtomicU32::new(0));
    let counter = runs.clone();
    let slow = idempotent(move |_msg: QueueMessage, _ctx: Context| {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<(), BoxError>(())
        }
    })
    // One Lambda instance here: its memory is the store this test means.
    .store(MemoryStore::new());
    let handler =
        LambdaHandler::new(App::new().on_queue("orders", slow), AwsConfig::default()).unwrap();
    let fixture = nubes_test_support::fixtures::json("aws/sqs-batch.json");
    let batch = |ids: &[&str]| {
        let records: Vec<Value> = ids
            .iter()
            .map(|id| {
                let mut r = fixture["Records"][0].clone();
                r["messageId"] = json!(id);
                r["eventSourceARN"] = json!("arn:aws:sqs:us-east-2:123456789012:orders");
                r
            })
            .collect();
        nubes::bytes::Bytes::from(json!({ "Records": records }).to_string())
    };
    let reply = handler
        .handle(batch(&["m-1", "m-1", "m-2"]), &Invocation::new("req-1"))
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(
        reply,
        json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let reply = handler
        .handle(batch(&["m-1"]), &Invocation::new("req-2"))
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply, json!({"batchItemFailures": []}));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// Storage notifications dedupe on the id the AWS adapter gives them (S3: key
/// + `sequencer`; EventBridge: the event `id`): the real fixtures, each
/// delivered twice, run an idempotent storage handler once each.
#[cfg(feature = "aws")]
#[tokio::test]
async fn repeated_s3_notifications_run_an_idempotent_handler_once() {
    use std::sync::atomic::{AtomicU32, Ordering};

    use nubes::aws::{AwsConfig, Invocation, LambdaHandler};
    use nubes::idempotency::{MemoryStore, idempotent};
    use nubes::{App, BoxError, StorageEvent};

    let runs = Arc::new(AtomicU32::new(0));
    let counter = |runs: &Arc<AtomicU32>| {
        let runs = runs.clone();
        idempotent(move |_ev: StorageEvent, _ctx: Context| {
            runs.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), BoxError>(()) }
        })
        // One Lambda instance here: its memory is the store this test means.
        .store(MemoryStore::new())
    };
    let app = App::new()
        .on_storage("sourcebucket", counter(&runs))
        .on_storage("example-bucket", counter(&runs));
    let handler = LambdaHandler::new(app, AwsConfig::default()).unwrap();
    for fixture in [
        "s3-object-created-put.json",
        "eventbridge-s3-object-created.json",
    ] {
        let payload = nubes::bytes::Bytes::from(nubes_test_support::fixtures::bytes(&format!(
            "aws/{fixture}"
        )));
        for attempt in 0..2 {
            let invocation = Invocation::new(format!("{fixture}-{attempt}"));
            handler.handle(payload.clone(), &invocation).await.unwrap();
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// End to end through the GCP adapter's HTTP server: a Pub/Sub push of the
/// same `messageId` twice (Pub/Sub redelivers when an ack is lost) and a
/// resubmission of the order under a new id all answer 2xx, and the order is
/// processed once.
#[cfg(feature = "gcp")]
#[tokio::test]
async fn pubsub_push_redeliveries_are_processed_once() {
    use base64::Engine as _;
    use serde_json::json;

    let mut config = nubes::gcp::GcpConfig::default();
    config.host = [127, 0, 0, 1].into();
    config.port = 0;
    let stats = Arc::new(Stats::default());
    let server = nubes::gcp::start(crate::app(stats.clone(), MemoryStore::new()), config)
        .await
        .unwrap();
    let url = format!("http://{}/_nubes/queues/orders", server.local_addr());
    let fixture = nubes_test_support::fixtures::json("gcp/pubsub-push-envelope.json");
    let push = |id: &str| {
        let mut envelope = fixture.clone();
        envelope["message"]["data"] =
            json!(base64::engine::general_purpose::STANDARD.encode(ORDER));
        envelope["message"]["messageId"] = json!(id);
        envelope["message"]["message_id"] = json!(id);
        envelope
    };
    let http = reqwest::Client::new();
    for id in ["p-1", "p-1", "p-2"] {
        let status = http
            .post(&url)
            .json(&push(id))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "push {id}: {status}");
    }
    assert_eq!(stats.snapshot()["orders"], 1);
    server.shutdown().await.unwrap();
}

/// The custom metrics of `process_order` reach the local runner's
/// `GET /_nubes/metrics`, next to the automatic ones.
#[cfg(feature = "local")]
#[tokio::test]
async fn processed_orders_are_counted_in_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = nubes::local::LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().join(".nubes");
    config.run_schedules = false;
    config.watch_storage = false;
    let app = crate::app(Arc::new(Stats::default()), MemoryStore::new());
    let server = nubes::local::start(app, config).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let http = reqwest::Client::new();
    let reply: serde_json::Value = http
        .post(format!("{base}/_nubes/queues/orders?wait=true"))
        .body(ORDER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["status"], "handled", "{reply}");
    let summary: serde_json::Value = http
        .get(format!("{base}/_nubes/metrics"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let metric = |name: &str| {
        summary["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {summary}"))
    };
    assert_eq!(metric("orders_processed")["value"], 1.0);
    assert_eq!(metric("orders_processed")["dimensions"]["channel"], "queue");
    assert_eq!(metric("order_revenue_cents")["value"], 4200.0);
    assert_eq!(metric("invocations")["dimensions"]["trigger"], "orders");
    server.shutdown().await.unwrap();
}
