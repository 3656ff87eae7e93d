//! Every GCP decoder survives arbitrary input: the real payloads of
//! `fixtures/gcp/` (CloudEvents binary and structured, Pub/Sub push
//! envelopes, unwrapped pushes, legacy events, Cloud Scheduler calls) mutated
//! thousands of times — body and headers — and sent through the server's
//! router in-process, on their reserved path and on `/`.
//!
//! For every case: no panic; the reply is `204` exactly when one handler ran
//! (the handlers here always succeed), otherwise a `4xx` with a JSON error and
//! no handler ran; data that is not valid base64 never reaches a handler; what
//! a queue handler sees came from the payload.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
use nubes_gcp::GcpConfig;
use nubes_test_support::{fixtures, mutate};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// Cases per decoder family; the whole file stays well under a minute in debug.
const CASES: u32 = 2_000;

fn fixture(name: &str) -> Vec<u8> {
    fixtures::bytes(&format!("gcp/{name}"))
}

/// One delivery: headers (as a JSON object, so they mutate like the body),
/// body and the reserved path of its kind.
#[derive(Clone)]
struct Delivery {
    headers: Value,
    body: Vec<u8>,
    path: &'static str,
}

fn json_type() -> Value {
    json!({"content-type": "application/json"})
}

fn deliveries(family: &str) -> Vec<Delivery> {
    let file_headers = |name: &str| -> Value {
        let mut v: Value = serde_json::from_slice(&fixture(name)).unwrap();
        v.as_object_mut().unwrap().remove("host");
        v
    };
    let structured = json!({"content-type": "application/cloudevents+json"});
    let d = |headers: Value, body: Vec<u8>, path| Delivery {
        headers,
        body,
        path,
    };
    match family {
        "cloudevent" => vec![
            d(
                structured.clone(),
                fixture("cloudevent-pubsub-messagePublished.structured.json"),
                "/_nubes/queues/orders",
            ),
            d(
                structured,
                fixture("cloudevent-storage-finalized.structured.json"),
                "/_nubes/storage/uploads",
            ),
            d(
                file_headers("cloudevent-storage-finalized.binary.headers.json"),
                fixture("cloudevent-storage-finalized.binary.body.json"),
                "/_nubes/storage/uploads",
            ),
            d(
                file_headers("eventarc-pubsub-binary.headers.json"),
                fixture("eventarc-pubsub-binary.body.json"),
                "/_nubes/queues/orders",
            ),
            d(
                json!({
                    "ce-specversion": "1.0", "ce-id": "sched-1",
                    "ce-type": "google.cloud.scheduler.job.v1.executed",
                    "ce-source": "//cloudscheduler.googleapis.com/projects/p/locations/l/jobs/nightly",
                    "ce-time": "2026-11-28T03:00:00Z", "content-type": "application/json"
                }),
                fixture("cloudevent-scheduler-job-executed.binary.body.json"),
                "/_nubes/schedules/nightly",
            ),
        ],
        "push" => vec![
            d(
                json_type(),
                fixture("pubsub-push-envelope.json"),
                "/_nubes/queues/orders",
            ),
            d(
                json_type(),
                fixture("pubsub-push-envelope-emulator.json"),
                "/_nubes/queues/orders",
            ),
            // Unwrapped push (no envelope): the message is the body, its metadata headers.
            d(
                json!({
                    "x-goog-pubsub-message-id": "4102184774039362",
                    "x-goog-pubsub-subscription-name": "projects/p/subscriptions/orders",
                    "x-goog-pubsub-publish-time": "2022-02-15T11:28:32.942Z",
                    "x-goog-pubsub-ordering-key": "orderxyz",
                    "attr1": "value1",
                    "content-type": "application/json"
                }),
                fixture("pubsub-push-envelope.json"),
                "/_nubes/queues/orders",
            ),
        ],
        "legacy" => vec![
            d(
                json_type(),
                fixture("legacy-pubsub-publish.json"),
                "/_nubes/queues/orders",
            ),
            d(
                json_type(),
                fixture("legacy-pubsub-publish-binary-data.json"),
                "/_nubes/queues/orders",
            ),
            d(
                json_type(),
                fixture("legacy-pubsub-publish-flat-format.json"),
                "/_nubes/queues/orders",
            ),
            d(
                json_type(),
                fixture("legacy-storage-object-finalize.json"),
                "/_nubes/storage/uploads",
            ),
            d(
                json_type(),
                fixture("legacy-storage-object-change-deleted.json"),
                "/_nubes/storage/uploads",
            ),
        ],
        _ => vec![d(
            json!({
                "x-cloudscheduler": "true",
                "x-cloudscheduler-jobname": "nightly",
                "x-cloudscheduler-scheduletime": "2026-11-28T03:00:00Z",
                "content-type": "application/json"
            }),
            fixture("cloudevent-scheduler-job-executed.binary.body.json"),
            "/_nubes/schedules/nightly",
        )],
    }
}

#[derive(Debug, Clone)]
enum Call {
    Queue { id: String, body: Vec<u8> },
    Storage,
    Schedule,
}

type Calls = Arc<Mutex<Vec<Call>>>;

fn recording_app(calls: &Calls) -> App {
    let queue = {
        let calls = calls.clone();
        move |msg: QueueMessage, _ctx: Context| {
            let calls = calls.clone();
            async move {
                let call = Call::Queue {
                    id: msg.id.clone(),
                    body: msg.body.to_vec(),
                };
                calls.lock().unwrap().push(call);
                Ok::<(), BoxError>(())
            }
        }
    };
    let storage = {
        let calls = calls.clone();
        move |_ev: StorageEvent, _ctx: Context| {
            let calls = calls.clone();
            async move {
                calls.lock().unwrap().push(Call::Storage);
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
    // One trigger of each kind, so an event on `/` always finds its trigger.
    App::new()
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
        let mut config = GcpConfig::default();
        config.host = [127, 0, 0, 1].into();
        let router = nubes_gcp::fuzzing::router(recording_app(&calls), config);
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

    fn send(
        &self,
        path: &str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> (StatusCode, Bytes, Vec<Call>) {
        self.calls.lock().unwrap().clear();
        let mut request = Request::post(path)
            .body(axum::body::Body::from(body))
            .unwrap();
        *request.headers_mut() = headers;
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

/// The mutated headers as a map; names or values HTTP cannot carry are left
/// out (a server never sees them), other JSON types are sent as their text.
fn header_map(headers: &Value, raw_value: Option<&(Index, Vec<u8>)>) -> HeaderMap {
    let mut map = HeaderMap::new();
    let Some(object) = headers.as_object() else {
        return map;
    };
    for (name, value) in object {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            map.append(name, value);
        }
    }
    // Header values that are not UTF-8 (obs-text), which hyper accepts.
    if let Some((at, bytes)) = raw_value {
        let names: Vec<HeaderName> = map.keys().cloned().collect();
        if !names.is_empty()
            && let Ok(value) = HeaderValue::from_bytes(bytes)
        {
            map.insert(names[at.index(names.len())].clone(), value);
        }
    }
    map
}

fn strings(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) => {
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

fn check(h: &Harness, path: &str, headers: HeaderMap, body: Vec<u8>) -> Result<(), TestCaseError> {
    let header_text: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (status, reply, calls) = h.send(path, headers, body.clone());
    match status {
        StatusCode::NO_CONTENT => {
            prop_assert_eq!(calls.len(), 1, "204 without exactly one handler call");
        }
        s if s.is_client_error() => {
            prop_assert!(calls.is_empty(), "{} after a handler ran: {:?}", s, calls);
            let error: Value = serde_json::from_slice(&reply).unwrap_or_default();
            prop_assert!(
                error["error"]["message"].is_string(),
                "{} without a JSON error: {:?}",
                s,
                reply
            );
        }
        s => prop_assert!(false, "unexpected status {s}: {reply:?} after {calls:?}"),
    }
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    // Headers that select another decoder than the push envelope's.
    let other_format = header_text.keys().any(|k| {
        k.starts_with("ce-") || k.starts_with("x-cloudscheduler") || k == "x-goog-pubsub-message-id"
    }) || header_text
        .get("content-type")
        .is_some_and(|t| t.contains("cloudevents"));
    // A push envelope: its data reaches the handler decoded, and data that
    // is not base64 does not reach it at all.
    if let Some(v) = parsed.as_ref().filter(|_| !other_format)
        && let Some(data) = v.pointer("/message/data").and_then(Value::as_str)
    {
        let queued: Vec<&Vec<u8>> = calls
            .iter()
            .filter_map(|c| match c {
                Call::Queue { body, .. } => Some(body),
                _ => None,
            })
            .collect();
        match STANDARD.decode(data.trim()) {
            Err(_) => prop_assert!(
                queued.is_empty(),
                "an envelope with invalid base64 data reached the handler"
            ),
            Ok(bytes) => {
                for body in queued {
                    prop_assert_eq!(body, &bytes, "the handler got other bytes than the data");
                }
            }
        }
    }
    // What a queue handler saw came from the delivery (when the body is one
    // `Value` can hold: nesting deeper than 128 is skipped by the decoders
    // but refused by `Value`).
    let mut seen = HashSet::new();
    match &parsed {
        Some(v) => strings(v, &mut seen),
        None if !body.is_empty() => return Ok(()),
        None => {}
    }
    seen.extend(header_text.values().cloned());
    for call in &calls {
        if let Call::Queue { id, .. } = call {
            let made_up = uuid_like(id);
            prop_assert!(
                seen.contains(id) || made_up,
                "message id `{id}` is not in the delivery"
            );
        }
    }
    Ok(())
}

/// Ids nubes makes up for deliveries without one.
fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

fn run(family: &str, cases: u32) {
    let h = Harness::new();
    let deliveries = deliveries(family);
    let raw_header = proptest::option::weighted(
        0.1,
        (any::<Index>(), prop::collection::vec(any::<u8>(), 0..24)),
    );
    let strategy = (
        0..deliveries.len(),
        prop::collection::vec(mutate::op(), 0..2),
        mutate::ops(),
        raw_header,
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
    let result = runner.run(&strategy, |(i, header_ops, body_ops, raw, noise, pick)| {
        let d = &deliveries[i];
        let headers_text = serde_json::to_vec(&d.headers).unwrap();
        let headers: Value = serde_json::from_slice(&mutate::apply(&headers_text, &header_ops))
            .unwrap_or_else(|_| d.headers.clone());
        let body = if pick == 0 {
            noise
        } else {
            mutate::apply(&d.body, &body_ops)
        };
        // Mostly the reserved path; sometimes `/`, where events are sniffed.
        let path = if pick % 4 == 1 { "/" } else { d.path };
        check(&h, path, header_map(&headers, raw.as_ref()), body)
    });
    eprintln!(
        "robustness gcp/{family}: {cases} cases in {:.1} s; statuses {:?}",
        started.elapsed().as_secs_f64(),
        h.outcomes.borrow()
    );
    if let Err(e) = result {
        panic!("gcp/{family}: {e}");
    }
}

#[test]
fn unmutated_fixtures_still_succeed() {
    let h = Harness::new();
    for family in ["cloudevent", "push", "legacy", "scheduler"] {
        for d in deliveries(family) {
            for path in [d.path, "/"] {
                let (status, reply, calls) =
                    h.send(path, header_map(&d.headers, None), d.body.clone());
                assert_eq!(
                    status,
                    StatusCode::NO_CONTENT,
                    "{family} on {path}: {reply:?}"
                );
                assert_eq!(calls.len(), 1, "{family} on {path}");
            }
        }
    }
}

#[test]
fn cloudevents_survive_mutation() {
    run("cloudevent", CASES);
}

#[test]
fn pubsub_pushes_survive_mutation() {
    run("push", CASES);
}

#[test]
fn legacy_events_survive_mutation() {
    run("legacy", CASES);
}

#[test]
fn scheduler_calls_survive_mutation() {
    run("scheduler", CASES / 2);
}

/// Inputs the fuzzers or proptest once found interesting, kept as regressions.
#[test]
fn known_hard_inputs() {
    let h = Harness::new();
    let deep = format!(
        "{{\"message\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: Vec<(Value, Vec<u8>)> = vec![
        (json_type(), b"{\"message\":{\"data\":\"!!\"}}".to_vec()),
        (json_type(), b"{\"message\":null}".to_vec()),
        (json_type(), deep.into_bytes()),
        (
            json!({"content-type": "application/cloudevents+json"}),
            b"[]".to_vec(),
        ),
        (json!({"ce-specversion": "2.0"}), Vec::new()),
        (json!({"x-goog-pubsub-message-id": ""}), Vec::new()),
    ];
    for (headers, body) in cases {
        for path in [
            "/_nubes/queues/orders",
            "/_nubes/storage/uploads",
            "/_nubes/schedules/nightly",
            "/",
        ] {
            check(&h, path, header_map(&headers, None), body.clone())
                .unwrap_or_else(|e| panic!("{headers} {}: {e}", String::from_utf8_lossy(&body)));
        }
    }
}
