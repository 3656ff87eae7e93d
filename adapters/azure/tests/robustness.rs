//! Every Azure decoder survives arbitrary input: the real custom-handler
//! invocation payloads of `fixtures/azure/` (HTTP binding, Storage
//! queue, Service Bus, blob, Event Grid in both schemas, timer) mutated
//! thousands of times and POSTed through the handler's router in-process.
//!
//! For every case: no panic; `200` exactly when one handler ran (the handlers
//! here always succeed), otherwise a `4xx` with the custom-handler reply shape
//! and a JSON error, and no handler ran; the HTTP function's path takes an
//! envelope-shaped body as an invocation and anything else as a forwarded
//! request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, StatusCode};
use nubes_azure::AzureConfig;
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
use nubes_test_support::{fixtures, mutate};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// Cases per decoder family; the whole file stays well under a minute in debug.
const CASES: u32 = 2_000;

fn fixture(name: &str) -> Vec<u8> {
    fixtures::bytes(&format!("azure/{name}"))
}

/// One invocation: the function it is for, its body, and whether the
/// unmutated body is an event nubes handles.
struct Invocation {
    function: &'static str,
    body: Vec<u8>,
    handled: bool,
}

fn wrapped_event(name: &str) -> Vec<u8> {
    let events: Value = serde_json::from_slice(&fixture(name)).unwrap();
    let event = events.get(0).cloned().unwrap_or(events);
    serde_json::to_vec(
        &json!({"Data": {"event": event}, "Metadata": {"sys": {"MethodName": "uploads"}}}),
    )
    .unwrap()
}

fn invocations(family: &str) -> Vec<Invocation> {
    let i = |function, body, handled| Invocation {
        function,
        body,
        handled,
    };
    match family {
        "queue" => vec![
            i("nubes-queue-orders", fixture("queue-trigger.request.json"), true),
            i("nubes-queue-orders", fixture("service-bus-trigger.request.json"), true),
            // A binary queue binding: the host sends base64 (shape from queue_storage.rs).
            i(
                "nubes-queue-orders",
                br#"{"Data":{"messageBase64":"AP8="},"Metadata":{"DequeueCount":"3","Id":"m-1"}}"#.to_vec(),
                true,
            ),
        ],
        "storage" => vec![
            i("nubes-storage-uploads", wrapped_event("eventgrid-blobcreated.eventgrid-schema.json"), true),
            i("nubes-storage-uploads", wrapped_event("eventgrid-blobcreated.cloudevents-schema.json"), true),
            // Event Grid events that are not Blob Storage events: refused.
            i("nubes-storage-uploads", fixture("event-grid-trigger.eventgrid-schema.request.json"), false),
            i("nubes-storage-uploads", fixture("event-grid-trigger.cloudevents-schema.request.json"), false),
            // The blob trigger's shape (tests/host.rs; no recorded host payload exists).
            i(
                "nubes-storage-uploads",
                serde_json::to_vec(&json!({"Data": {"blobBase64": "MTIzNDU="}, "Metadata": {
                    "Uri": "https://acct.blob.core.windows.net/uploads/docs/report%201.txt",
                    "Properties": {"ContentLength": 5, "ETag": "\"0x8D\"", "ContentType": "text/plain",
                        "LastModified": "2023-10-12T20:13:49+00:00"},
                    "name": "docs/report 1.txt"}}))
                .unwrap(),
                true,
            ),
        ],
        "timer" => vec![i("nubes-schedule-nightly", fixture("timer-trigger.request.json"), true)],
        _ => vec![
            i("http", fixture("http-trigger-order.request.json"), true),
            i("http", fixture("http-trigger-with-identities.request.json"), true),
        ],
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Call {
    Queue,
    Storage,
    Schedule,
    Http,
}

type Calls = Arc<Mutex<Vec<Call>>>;

fn recording_app(calls: &Calls) -> App {
    let record = |calls: &Calls, call: Call| {
        calls.lock().unwrap().push(call);
        Ok::<(), BoxError>(())
    };
    let queue = {
        let calls = calls.clone();
        move |_m: QueueMessage, _c: Context| {
            let r = record(&calls, Call::Queue);
            async move { r }
        }
    };
    let storage = {
        let calls = calls.clone();
        move |_e: StorageEvent, _c: Context| {
            let r = record(&calls, Call::Storage);
            async move { r }
        }
    };
    let schedule = {
        let calls = calls.clone();
        move |_e: ScheduledEvent, _c: Context| {
            let r = record(&calls, Call::Schedule);
            async move { r }
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
        .on_queue("orders", queue)
        .on_storage("uploads", storage)
        .on_schedule("nightly", "0 3 * * *", schedule)
}

struct Harness {
    router: axum::Router,
    calls: Calls,
    rt: tokio::runtime::Runtime,
    /// How the cases ended (reply status or error type), for the figures.
    outcomes: std::cell::RefCell<std::collections::BTreeMap<String, usize>>,
}

impl Harness {
    fn new() -> Self {
        let calls = Calls::default();
        let router = nubes_azure::fuzzing::router(recording_app(&calls), AzureConfig::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Harness {
            router,
            calls,
            rt,
            outcomes: Default::default(),
        }
    }

    fn invoke(&self, function: &str, body: Vec<u8>) -> (StatusCode, Bytes, Vec<Call>) {
        self.calls.lock().unwrap().clear();
        let request = Request::post(format!("/{function}"))
            .header("content-type", "application/json")
            .header("x-azure-functions-invocationid", "inv-robust")
            .body(axum::body::Body::from(body))
            .unwrap();
        let (status, bytes) = self.rt.block_on(async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, bytes)
        });
        let calls = std::mem::take(&mut *self.calls.lock().unwrap());
        *self
            .outcomes
            .borrow_mut()
            .entry(status.as_u16().to_string())
            .or_default() += 1;
        (status, bytes, calls)
    }
}

/// True when the router takes `body` on the HTTP function's path for an
/// invocation (a JSON object with `Data`) rather than a forwarded request.
fn envelope_shaped(body: &[u8]) -> bool {
    matches!(serde_json::from_slice::<Value>(body), Ok(Value::Object(map)) if map.contains_key("Data"))
}

fn check(h: &Harness, function: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let invocation = function != "http" || envelope_shaped(&body);
    let (status, reply, calls) = h.invoke(function, body);
    if !invocation {
        prop_assert_eq!(status, StatusCode::OK);
        prop_assert_eq!(
            &reply[..],
            b"ok",
            "a forwarded request is the app's to answer"
        );
        prop_assert_eq!(calls, vec![Call::Http]);
        return Ok(());
    }
    let reply: Value = serde_json::from_slice(&reply).unwrap_or_default();
    prop_assert!(
        reply["Logs"].is_array(),
        "not a custom-handler reply: {reply}"
    );
    prop_assert!(
        reply["Outputs"].is_object(),
        "not a custom-handler reply: {reply}"
    );
    match status {
        StatusCode::OK => {
            prop_assert_eq!(calls.len(), 1, "200 without exactly one handler call");
            if function == "http" {
                prop_assert!(
                    reply["Outputs"]["res"]["statusCode"].is_number(),
                    "no Outputs.res: {reply}"
                );
            }
        }
        s if s.is_client_error() => {
            prop_assert!(calls.is_empty(), "{} after a handler ran: {:?}", s, calls);
            prop_assert!(
                reply["error"]["message"].is_string(),
                "{} without an error: {}",
                s,
                reply
            );
        }
        s => prop_assert!(false, "unexpected status {s}: {reply} after {calls:?}"),
    }
    Ok(())
}

fn run(family: &str, cases: u32) {
    let h = Harness::new();
    let invocations = invocations(family);
    let strategy = (
        0..invocations.len(),
        mutate::ops(),
        mutate::noise(),
        0u8..20,
    );
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    });
    let started = Instant::now();
    let result = runner.run(&strategy, |(i, ops, noise, pick)| {
        let inv = &invocations[i];
        let body = if pick == 0 {
            noise
        } else {
            mutate::apply(&inv.body, &ops)
        };
        check(&h, inv.function, body)
    });
    eprintln!(
        "robustness azure/{family}: {cases} cases in {:.1} s; statuses {:?}",
        started.elapsed().as_secs_f64(),
        h.outcomes.borrow()
    );
    if let Err(e) = result {
        panic!("azure/{family}: {e}");
    }
}

#[test]
fn unmutated_fixtures_still_succeed() {
    let h = Harness::new();
    for family in ["queue", "storage", "timer", "http"] {
        for inv in invocations(family) {
            let (status, reply, calls) = h.invoke(inv.function, inv.body.clone());
            if inv.handled {
                assert_eq!(status, StatusCode::OK, "{family}: {reply:?}");
                assert_eq!(calls.len(), 1, "{family}");
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{family}: {reply:?}");
                assert!(calls.is_empty());
            }
            check(&h, inv.function, inv.body).unwrap();
        }
    }
}

#[test]
fn queue_invocations_survive_mutation() {
    run("queue", CASES);
}

#[test]
fn storage_invocations_survive_mutation() {
    run("storage", CASES);
}

#[test]
fn timer_invocations_survive_mutation() {
    run("timer", CASES / 2);
}

#[test]
fn http_binding_invocations_survive_mutation() {
    run("http", CASES);
}

/// Inputs the fuzzers or proptest once found interesting, kept as regressions.
#[test]
fn known_hard_inputs() {
    let h = Harness::new();
    let deep = format!(
        "{{\"Data\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for body in [
        b"".as_slice(),
        b"{\"Data\":null}",
        b"{\"Data\":{},\"Metadata\":[]}",
        b"{\"Data\":{\"req\":{\"Method\":\"\\u0000\",\"Url\":\"::\"}}}",
        b"{\"Data\":{\"a\":1,\"b\":2}}",
        deep.as_bytes(),
    ] {
        for function in [
            "nubes-queue-orders",
            "nubes-storage-uploads",
            "nubes-schedule-nightly",
            "http",
        ] {
            check(&h, function, body.to_vec())
                .unwrap_or_else(|e| panic!("{function} {}: {e}", String::from_utf8_lossy(body)));
        }
    }
}
