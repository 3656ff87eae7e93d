//! Decoding microbenchmarks: platform payload bytes → nubes' neutral events,
//! against deserialising the same bytes directly (`aws_lambda_events` types
//! for AWS, `serde_json::Value` for the CloudEvent and the Azure payload).
//!
//! ```text
//! cargo bench -p nubes-bench --features local,aws,gcp,azure --bench decode
//! python3 bench/decode_table.py      # the ratio table from criterion's estimates
//! ```
//!
//! Every `nubes` row is decoding only, through the adapters' unstable
//! `fuzzing::decode` entry points (for AWS: classification and decoding into
//! neutral events, no dispatch). AWS has two more rows for the whole job in
//! process: `nubes-handle` is `nubes_aws::LambdaHandler::handle` with handlers
//! that do nothing (classification, decoding, dispatch, the JSON reply, the
//! EMF metrics line), and `baseline` does the same the raw way: `SqsEvent` +
//! a per-record handler + `SqsBatchResponse` serialised, and `lambda_http`'s
//! own adapter (its `LambdaRequest`, the router, its response serialised).
#![allow(missing_docs)]

use std::hint::black_box;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use axum::Router;
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::get;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::Service as _;
use lambda_http::request::LambdaRequest;
use lambda_runtime::LambdaEvent;
use nubes::aws::{AwsConfig, Invocation, LambdaHandler};
use nubes::{App, Context, QueueMessage, TriggerKind};
use serde_json::Value;

fn fixture(path: &str) -> Value {
    nubes_test_support::fixtures::json(path)
}

fn bytes_of(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// The SQS fixture's first record, ten times with distinct ids.
fn sqs_batch_10() -> Bytes {
    let event = fixture("aws/sqs-batch.json");
    let mut record = event["Records"][0].clone();
    // The fixture's binaryValue ("base64Str") is not base64: aws_lambda_events
    // refuses it. A string attribute keeps the record's shape.
    record["messageAttributes"] =
        serde_json::json!({ "testAttr": { "stringValue": "100", "dataType": "Number" } });
    let records: Vec<Value> = (0..10)
        .map(|i| {
            let mut r = record.clone();
            r["messageId"] = Value::from(format!("059f36b4-87a3-44ab-83d2-{i:012}"));
            r
        })
        .collect();
    bytes_of(&serde_json::json!({ "Records": records }))
}

fn apigw_v2_get() -> Bytes {
    let mut event = fixture("aws/apigw-http-v2-get-no-authorizer.json");
    event["rawPath"] = Value::from("/hello/x");
    event["requestContext"]["http"]["path"] = Value::from("/hello/x");
    bytes_of(&event)
}

async fn ignore(_msg: QueueMessage, _ctx: Context) -> Result<(), nubes::Error> {
    Ok(())
}

fn hello_router() -> Router {
    Router::new().route("/hello/{name}", get(|| async { "" }))
}

async fn ignore_record(_msg: &SqsMessage) -> Result<(), lambda_runtime::Error> {
    Ok(())
}

/// The raw SQS function's whole job: typed batch, handler per record, reply.
async fn sqs_baseline(payload: &[u8]) -> Result<Vec<u8>, lambda_runtime::Error> {
    let event: SqsEvent = serde_json::from_slice(payload)?;
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        if ignore_record(record).await.is_err() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    Ok(serde_json::to_vec(&response)?)
}

fn aws_handler() -> LambdaHandler {
    let app = App::new().http(hello_router()).on_queue("my-queue", ignore);
    LambdaHandler::new(app, AwsConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn aws(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let handler = aws_handler();
    let invocation = Invocation::new("00000000-0000-4000-8000-000000000000");

    let sqs = sqs_batch_10();
    let apigw = apigw_v2_get();
    // Timing a refusal would flatter nubes: check the payloads are accepted.
    if let Err(err) = serde_json::from_slice::<SqsEvent>(&sqs) {
        panic!("SqsEvent refused the benchmark payload: {err}");
    }
    if let Err(err) = serde_json::from_slice::<ApiGatewayV2httpRequest>(&apigw) {
        panic!("ApiGatewayV2httpRequest refused the benchmark payload: {err}");
    }
    for payload in [&sqs, &apigw] {
        if let Err(err) = runtime.block_on(handler.handle(payload.clone(), &invocation)) {
            panic!("nubes-aws refused the benchmark payload: {}", err.message());
        }
        match nubes::aws::fuzzing::decode(payload) {
            Ok(events) if !events.is_empty() => {}
            other => panic!("nubes-aws did not decode the benchmark payload: {other:?}"),
        }
    }
    let mut group = c.benchmark_group("sqs-batch-10");
    group.bench_function("direct", |b| {
        b.iter(|| serde_json::from_slice::<SqsEvent>(black_box(&sqs)).map(black_box))
    });
    group.bench_function("baseline", |b| {
        b.iter(|| {
            runtime
                .block_on(sqs_baseline(black_box(&sqs)))
                .map(black_box)
        })
    });
    group.bench_function("nubes", |b| {
        b.iter(|| nubes::aws::fuzzing::decode(black_box(&sqs)).map(black_box))
    });
    group.bench_function("nubes-handle", |b| {
        b.iter(|| runtime.block_on(handler.handle(black_box(sqs.clone()), &invocation)))
    });
    group.finish();

    let mut group = c.benchmark_group("apigw-v2");
    group.bench_function("direct", |b| {
        b.iter(|| {
            serde_json::from_slice::<ApiGatewayV2httpRequest>(black_box(&apigw)).map(black_box)
        })
    });
    let mut adapter = lambda_http::Adapter::from(hello_router());
    group.bench_function("baseline", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let request: LambdaRequest = serde_json::from_slice(black_box(&apigw))?;
                let event = LambdaEvent::new(request, lambda_runtime::Context::default());
                let response = adapter.call(event).await?;
                Ok::<_, lambda_runtime::Error>(serde_json::to_vec(&response)?)
            })
        })
    });
    group.bench_function("nubes", |b| {
        b.iter(|| nubes::aws::fuzzing::decode(black_box(&apigw)).map(black_box))
    });
    group.bench_function("nubes-handle", |b| {
        b.iter(|| runtime.block_on(handler.handle(black_box(apigw.clone()), &invocation)))
    });
    group.finish();
}

fn gcp(c: &mut Criterion) {
    let body = bytes_of(&fixture(
        "gcp/cloudevent-pubsub-messagePublished.structured.json",
    ));
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/cloudevents+json"),
    );
    match nubes::gcp::fuzzing::decode(&headers, &body) {
        Ok(Some(_)) => {}
        other => panic!("nubes-gcp did not decode the CloudEvent: {other:?}"),
    }
    let mut group = c.benchmark_group("cloudevent");
    group.bench_function("direct", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).map(black_box))
    });
    group.bench_function("nubes", |b| {
        b.iter(|| nubes::gcp::fuzzing::decode(&headers, black_box(&body)).map(black_box))
    });
    group.finish();
}

fn azure(c: &mut Criterion) {
    let body = bytes_of(&fixture("azure/queue-trigger.request.json"));
    if let Err(err) = nubes::azure::fuzzing::decode(TriggerKind::Queue, "orders", &body) {
        panic!("nubes-azure did not decode the queue payload: {err}");
    }
    let mut group = c.benchmark_group("azure-queue");
    group.bench_function("direct", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).map(black_box))
    });
    group.bench_function("nubes", |b| {
        b.iter(|| nubes::azure::fuzzing::decode(TriggerKind::Queue, "orders", black_box(&body)))
    });
    group.finish();
}

criterion_group!(benches, aws, gcp, azure);
criterion_main!(benches);
