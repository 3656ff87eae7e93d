//! Every AWS decoder survives arbitrary input: the real payloads of
//! `fixtures/aws/` mutated thousands of times (truncated, wrong JSON
//! types, missing and extra fields, huge strings, invalid UTF-8 and base64,
//! deep nesting, random bytes) and fed to `LambdaHandler::handle`, which
//! classifies and decodes API Gateway v1/v2, ALB, Function URL, SQS, SNS, S3,
//! EventBridge and schedule events.
//!
//! For every case: no panic; a failure is a `Nubes.*` invocation error; a
//! reply is JSON of the right shape; nothing that is not JSON reaches a
//! handler; what a queue handler sees came verbatim from the payload; an SQS
//! record is acknowledged only when a handler took it; a body claimed to be
//! base64 that is not never reaches the app.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use nubes_aws::{AwsConfig, Invocation, LambdaHandler};
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
use nubes_test_support::{fixtures, mutate};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::de::IgnoredAny;
use serde_json::Value;

const HTTP_FIXTURES: &[&str] = &[
    "apigw-rest-v1-proxy.json",
    "apigw-rest-v1-multivalue-query.json",
    "apigw-rest-v1-console-test-invoke.json",
    "apigw-http-v2.json",
    "apigw-http-v2-get-no-authorizer.json",
    "alb-single-value-headers.json",
    "alb-multi-value-headers.json",
    "alb-multi-value-query.json",
    "function-url-post-base64-body.json",
    "function-url-post-text-body-cookies.json",
];
const SQS_FIXTURES: &[&str] = &[
    "sqs-batch.json",
    "sqs-message-attributes.json",
    "sqs-s3-notification-in-body.json",
];
const EVENT_FIXTURES: &[&str] = &[
    "sns.json",
    "s3-object-created-put.json",
    "s3-object-removed-delete.json",
    "eventbridge-s3-object-created.json",
    "eventbridge-s3-object-deleted.json",
    "eventbridge-scheduled-event.json",
];
/// Sources nubes does not map: must stay clean errors however mangled.
const UNSUPPORTED_FIXTURES: &[&str] = &[
    "kinesis.json",
    "dynamodb-streams.json",
    "cloudwatch-logs.json",
];

/// Cases per decoder family; the whole file stays well under a minute in debug.
const CASES: u32 = 2_000;

fn fixture(name: &str) -> Vec<u8> {
    fixtures::bytes(&format!("aws/{name}"))
}

/// What the handlers were given.
#[derive(Debug, Clone)]
enum Call {
    Queue {
        id: String,
        body: Vec<u8>,
    },
    /// A storage event; `record_id` is the SQS `messageId` when it came in one.
    Storage {
        bucket: String,
        record_id: Option<String>,
    },
    Schedule,
    Http,
}

type Calls = Arc<Mutex<Vec<Call>>>;

fn record_id(ctx: &Context) -> Option<String> {
    let raw: Value = ctx.raw_event()?.parse_json().ok()?;
    raw.get("messageId")?.as_str().map(str::to_owned)
}

fn recording_app(calls: &Calls) -> App {
    let queue = {
        let calls = calls.clone();
        move |msg: QueueMessage, _ctx: Context| {
            let calls = calls.clone();
            async move {
                calls.lock().unwrap().push(Call::Queue {
                    id: msg.id.clone(),
                    body: msg.body.to_vec(),
                });
                Ok::<(), BoxError>(())
            }
        }
    };
    let storage = {
        let calls = calls.clone();
        move |ev: StorageEvent, ctx: Context| {
            let calls = calls.clone();
            async move {
                calls.lock().unwrap().push(Call::Storage {
                    bucket: ev.bucket.clone(),
                    record_id: record_id(&ctx),
                });
                Ok::<(), BoxError>(())
            }
        }
    };
    let schedule = {
        let calls = calls.clone();
        move |_ev: ScheduledEvent, _ctx: Context| {
            let calls = calls.clone();
            async move {
                calls.lock().unwrap().push(Call::Schedule);
                Ok::<(), BoxError>(())
            }
        }
    };
    let http = {
        let calls = calls.clone();
        axum::Router::new().fallback(move || {
            let calls = calls.clone();
            async move {
                calls.lock().unwrap().push(Call::Http);
                "ok"
            }
        })
    };
    App::new()
        .http(http)
        .on_queue("my-queue", queue.clone())
        .on_queue("SQSQueue", queue.clone())
        .on_queue("TopicSendToMe", queue.clone())
        .on_queue("orders.fifo", queue)
        .on_storage("sourcebucket", storage.clone())
        .on_storage("xxx", storage.clone())
        .on_storage("example-bucket", storage.clone())
        .on_storage("lambda-artifacts-deafc19498e3f2df", storage)
        .on_schedule("demoschedule", "0 3 * * *", schedule)
}

struct Harness {
    handler: LambdaHandler,
    calls: Calls,
    rt: tokio::runtime::Runtime,
    /// How the cases ended (reply status or error type), for the figures.
    outcomes: std::cell::RefCell<std::collections::BTreeMap<String, usize>>,
}

impl Harness {
    fn new() -> Self {
        let calls = Calls::default();
        let handler = LambdaHandler::new(recording_app(&calls), AwsConfig::default()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Harness {
            handler,
            calls,
            rt,
            outcomes: Default::default(),
        }
    }

    fn invoke(&self, payload: &[u8]) -> (Result<Vec<u8>, nubes_aws::InvocationError>, Vec<Call>) {
        self.calls.lock().unwrap().clear();
        let invocation = Invocation::new("req-robust")
            .with_deadline(SystemTime::now() + Duration::from_secs(30));
        let result = self
            .rt
            .block_on(self.handler.handle(payload.to_vec().into(), &invocation));
        let calls = std::mem::take(&mut *self.calls.lock().unwrap());
        (result, calls)
    }
}

/// Every string in `v`, keys included, and in JSON carried inside strings
/// (an S3 notification in an SQS body).
fn strings(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) => {
            if let Ok(inner @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(s) {
                strings(&inner, out);
            }
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => {
            for (k, child) in map {
                out.insert(k.clone());
                strings(child, out);
            }
        }
        _ => {}
    }
}

fn is_sqs(v: &Value) -> bool {
    let Some(first) = v
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
    else {
        return false;
    };
    let source = first
        .get("eventSource")
        .filter(|s| !s.is_null())
        .or_else(|| first.get("EventSource"));
    source.and_then(Value::as_str) == Some("aws:sqs")
}

/// The checks every case must pass.
fn check(h: &Harness, payload: &[u8]) -> Result<(), TestCaseError> {
    let (result, calls) = h.invoke(payload);
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.error_type().to_owned(),
    };
    *h.outcomes.borrow_mut().entry(outcome).or_default() += 1;
    match &result {
        Err(err) => prop_assert!(
            err.error_type().starts_with("Nubes."),
            "error type {}",
            err.error_type()
        ),
        Ok(reply) => {
            prop_assert!(
                serde_json::from_slice::<Value>(reply).is_ok(),
                "the reply is not JSON: {}",
                String::from_utf8_lossy(reply)
            );
        }
    }
    if serde_json::from_slice::<IgnoredAny>(payload).is_err() {
        prop_assert!(result.is_err(), "invalid JSON was accepted");
        prop_assert!(
            calls.is_empty(),
            "invalid JSON reached a handler: {calls:?}"
        );
        return Ok(());
    }
    let Ok(v) = serde_json::from_slice::<Value>(payload) else {
        // Valid but deeper than `Value` reads: only the generic checks apply.
        return Ok(());
    };
    let mut seen = HashSet::new();
    strings(&v, &mut seen);
    for call in &calls {
        if let Call::Queue { id, body } = call {
            prop_assert!(
                seen.contains(id),
                "queue message id `{id}` is not in the payload"
            );
            let text = String::from_utf8(body.clone()).unwrap_or_default();
            prop_assert!(
                body.is_empty() || seen.contains(&text),
                "queue message body is not in the payload"
            );
        }
        if let Call::Storage { bucket, .. } = call {
            prop_assert!(
                seen.contains(bucket),
                "bucket `{bucket}` is not in the payload"
            );
        }
    }
    // A body claimed to be base64 that is not must not reach the app.
    if v.get("isBase64Encoded") == Some(&Value::Bool(true))
        && let Some(body) = v.get("body").and_then(Value::as_str)
        && !body.is_empty()
        && STANDARD.decode(body).is_err()
    {
        prop_assert!(
            !calls.iter().any(|c| matches!(c, Call::Http)),
            "a body with invalid base64 reached the app"
        );
        prop_assert!(result.is_err(), "invalid base64 body answered as a success");
    }
    if is_sqs(&v) {
        if let Ok(reply) = &result {
            check_batch_reply(&v, reply, &calls)?;
        }
    } else if let Ok(reply) = &result {
        let reply: Value = serde_json::from_slice(reply).unwrap();
        let http = calls.iter().any(|c| matches!(c, Call::Http));
        if http {
            prop_assert!(
                reply["statusCode"].is_u64(),
                "HTTP reply without statusCode: {reply}"
            );
        } else {
            // SNS, S3, EventBridge, schedule: success only when handled.
            prop_assert_eq!(reply, Value::Null);
            prop_assert!(
                !calls.is_empty(),
                "an event was acknowledged without a handler"
            );
        }
    }
    Ok(())
}

/// An SQS reply: `batchItemFailures`, and every record not listed in it was
/// taken by a handler (or is S3's test event).
fn check_batch_reply(v: &Value, reply: &[u8], calls: &[Call]) -> Result<(), TestCaseError> {
    let reply: Value = serde_json::from_slice(reply).unwrap();
    let failures = reply["batchItemFailures"].as_array();
    prop_assert!(
        failures.is_some(),
        "SQS reply without batchItemFailures: {reply}"
    );
    let failed: HashSet<&str> = failures
        .into_iter()
        .flatten()
        .filter_map(|f| f["itemIdentifier"].as_str())
        .collect();
    let handled: HashSet<&str> = calls
        .iter()
        .filter_map(|c| match c {
            Call::Queue { id, .. } => Some(id.as_str()),
            Call::Storage { record_id, .. } => record_id.as_deref(),
            _ => None,
        })
        .collect();
    for record in v["Records"].as_array().into_iter().flatten() {
        let id = record["messageId"].as_str();
        prop_assert!(
            id.is_some(),
            "a batch with a record without messageId was answered"
        );
        let id = id.unwrap_or_default();
        let test_event = record["body"]
            .as_str()
            .is_some_and(|b| b.contains("s3:TestEvent"));
        prop_assert!(
            failed.contains(id) || handled.contains(id) || test_event,
            "record `{id}` acknowledged without a handler"
        );
    }
    for call in calls {
        if let Call::Queue { id, body } = call {
            let matches = v["Records"].as_array().into_iter().flatten().any(|r| {
                r["messageId"].as_str() == Some(id)
                    && r["body"].as_str().unwrap_or_default().as_bytes() == body.as_slice()
            });
            prop_assert!(
                matches,
                "message `{id}` reached the handler with another body"
            );
        }
    }
    Ok(())
}

fn run(family: &str, names: &[&str], cases: u32) {
    let h = Harness::new();
    let payloads: Vec<Vec<u8>> = names.iter().map(|n| fixture(n)).collect();
    let mutated = (0..payloads.len(), mutate::ops());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    });
    let started = Instant::now();
    let result = runner.run(
        &(mutated, mutate::noise(), 0u8..10),
        |((i, ops), noise, pick)| {
            let payload = if pick == 0 {
                noise
            } else {
                mutate::apply(&payloads[i], &ops)
            };
            check(&h, &payload)
        },
    );
    eprintln!(
        "robustness aws/{family}: {cases} cases in {:.1} s; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        h.outcomes.borrow()
    );
    if let Err(e) = result {
        panic!("aws/{family}: {e}");
    }
}

#[test]
fn unmutated_fixtures_still_succeed() {
    let h = Harness::new();
    for name in HTTP_FIXTURES
        .iter()
        .chain(SQS_FIXTURES)
        .chain(EVENT_FIXTURES)
    {
        let (result, calls) = h.invoke(&fixture(name));
        let reply = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!calls.is_empty(), "{name}: no handler ran");
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        if SQS_FIXTURES.contains(name) {
            assert_eq!(reply["batchItemFailures"], serde_json::json!([]), "{name}");
        }
        check(&h, &fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in UNSUPPORTED_FIXTURES {
        let (result, calls) = h.invoke(&fixture(name));
        assert_eq!(result.unwrap_err().error_type(), "Nubes.UnsupportedEvent");
        assert!(calls.is_empty());
    }
}

#[test]
fn http_events_survive_mutation() {
    run("http", HTTP_FIXTURES, CASES);
}

#[test]
fn sqs_batches_survive_mutation() {
    run("sqs", SQS_FIXTURES, CASES);
}

#[test]
fn sns_s3_eventbridge_schedule_survive_mutation() {
    run("events", EVENT_FIXTURES, CASES);
}

#[test]
fn unsupported_sources_survive_mutation() {
    run("unsupported", UNSUPPORTED_FIXTURES, CASES / 5);
}

/// Inputs the fuzzers or proptest once found interesting, kept as regressions.
#[test]
fn known_hard_inputs() {
    let h = Harness::new();
    let deep = format!(
        "{{\"Records\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for payload in [
        b"".as_slice(),
        b"null",
        b"{\"Records\":null}",
        b"{\"Records\":[{\"eventSource\":\"aws:sqs\"}]}",
        b"{\"Records\":[{\"eventSource\":\"aws:sqs\",\"messageId\":\"a\",\"body\":7}]}",
        b"{\"version\":\"2.0\",\"rawPath\":\"/\",\"requestContext\":{},\"isBase64Encoded\":true,\"body\":\"!!\"}",
        // query_map 0.7 panics iterating a name with no values (fixed in request.rs).
        br#"{"httpMethod":"GET","path":"/","requestContext":{},"multiValueQueryStringParameters":{"a":[]}}"#,
        br#"{"httpMethod":"GET","path":"/","requestContext":{},"queryStringParameters":{"a":"1"},"multiValueQueryStringParameters":{"a":[],"b":["2"]}}"#,
        br#"{"httpMethod":"GET","path":"/","requestContext":{"elb":{}},"multiValueQueryStringParameters":{"a":[]}}"#,
        deep.as_bytes(),
    ] {
        check(&h, payload).unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(payload)));
    }
}
