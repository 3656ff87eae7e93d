//! Every Azure decoder survives arbitrary input: the real custom-handler
//! invocation payloads of `shared/fixtures/azure/` (HTTP binding, Storage
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
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// Cases per decoder family; the whole file stays well under a minute in debug.
const CASES: u32 = 2_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/fixtures/azure/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
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
            i("orders", fixture("queue-trigger.request.json"), true),
            i("orders", fixture("service-bus-trigger.request.json"), true),
            // A binary queue binding: the host sends base64 (shape from queue_storage.rs).
            i(
                "orders",
                br#"{"Data":{"messageBase64":"AP8="},"Metadata":{"DequeueCount":"3","Id":"m-1"}}"#.to_vec(),
                true,
            ),
        ],
        "storage" => vec![
            i("uploads", wrapped_event("eventgrid-blobcreated.eventgrid-schema.json"), true),
            i("uploads", wrapped_event("eventgrid-blobcreated.cloudevents-schema.json"), true),
            // Event Grid events that are not Blob Storage events: refused.
            i("uploads", fixture("event-grid-trigger.eventgrid-schema.request.json"), false),
            i("uploads", fixture("event-grid-trigger.cloudevents-schema.request.json"), false),
            // The blob trigger's shape (tests/host.rs; no recorded host payload exists).
            i(
                "uploads",
                serde_json::to_vec(&json!({"Data": {"blobBase64": "MTIzNDU="}, "Metadata": {
                    "Uri": "https://acct.blob.core.windows.net/uploads/docs/report%201.txt",
                    "Properties": {"ContentLength": 5, "ETag": "\"0x8D\"", "ContentType": "text/plain",
                        "LastModified": "2023-10-12T20:13:49+00:00"},
                    "name": "docs/report 1.txt"}}))
                .unwrap(),
                true,
            ),
        ],
        "timer" => vec![i("nightly", fixture("timer-trigger.request.json"), true)],
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
        for function in ["orders", "uploads", "nightly", "http"] {
            check(&h, function, body.to_vec())
                .unwrap_or_else(|e| panic!("{function} {}: {e}", String::from_utf8_lossy(body)));
        }
    }
}
/// Mutations of real payloads: structural ones on the parsed JSON, then
/// byte-level ones on its text. (Each adapter's robustness test carries this
/// same module: test files of different crates cannot share code.)
mod mutate {
    use proptest::prelude::*;
    use proptest::sample::Index;
    use serde_json::Value;

    /// Fields that carry base64 on some platform.
    const BASE64_KEYS: &[&str] = &["data", "body", "Body", "binaryValue", "Data", "message"];
    /// Stands for part `n` (a huge string, or a value nested so deep that a
    /// `Value` could not even be dropped without overflowing the stack) until
    /// the text is written: serialising megabytes in a debug build is slow.
    fn placeholder(n: usize) -> String {
        format!("\u{1}nubes-part-{n}\u{1}")
    }

    /// One mutation.
    #[derive(Debug, Clone)]
    pub(crate) enum Op {
        /// Cut the text at a random point.
        Truncate(Index),
        /// Replace a node by a value of another type.
        WrongType(Index, u8),
        /// Remove a member of an object.
        RemoveField(Index),
        /// Add a member to an object.
        ExtraField(Index, String, u8),
        /// Replace a string by a huge one.
        HugeString(Index, u8),
        /// Replace a base64 field (or any string) by invalid base64, and
        /// claim base64 bodies everywhere.
        BadBase64(Index, u8),
        /// Replace a node by arrays or objects nested very deep.
        DeepNesting(Index, u8, bool),
        /// Insert bytes that are not UTF-8 (or a lone surrogate escape) into a string.
        InvalidUtf8(Index, u8),
        /// Overwrite random bytes.
        FlipBytes(Vec<(Index, u8)>),
    }

    pub(crate) fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<Index>().prop_map(Op::Truncate),
            (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::WrongType(i, k)),
            any::<Index>().prop_map(Op::RemoveField),
            (any::<Index>(), "[a-zA-Z_$.-]{0,12}", any::<u8>())
                .prop_map(|(i, n, k)| Op::ExtraField(i, n, k)),
            (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::HugeString(i, k)),
            (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::BadBase64(i, k)),
            (any::<Index>(), any::<u8>(), any::<bool>())
                .prop_map(|(i, d, o)| Op::DeepNesting(i, d, o)),
            (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::InvalidUtf8(i, k)),
            prop::collection::vec((any::<Index>(), any::<u8>()), 1..8).prop_map(Op::FlipBytes),
        ]
    }

    /// One to four mutations.
    pub(crate) fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(op(), 1..5)
    }

    /// Random bytes, or random JSON-ish text.
    pub(crate) fn noise() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..600),
            "[\\[\\]{}\":,0-9a-zA-Z\\\\ .eE+-]{0,300}".prop_map(String::into_bytes),
        ]
    }

    fn odd_value(k: u8) -> Value {
        use serde_json::json;
        match k % 20 {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(false),
            3 => json!(0),
            4 => json!(-1),
            5 => json!(u64::MAX),
            6 => json!(i64::MIN),
            7 => json!(1.5e308),
            8 => json!(-0.000001),
            9 => json!(""),
            10 => json!("x"),
            11 => json!([]),
            12 => json!({}),
            13 => json!([null, 1, "a", {}]),
            14 => json!({"": {"": []}}),
            15 => json!("99999999999999999999999"),
            16 => json!("2024-13-45T99:99:99Z"),
            17 => json!("\u{0}\u{7f}\u{1b}"),
            18 => json!("🦀é/../%2e%2e%00"),
            _ => json!("-1"),
        }
    }

    fn bad_base64(k: u8) -> &'static str {
        const BAD: &[&str] = &[
            "!!!!",
            "abc",
            "a===",
            "YW Jj!",
            "=",
            "====",
            "-_-_",
            "AAAA====",
            "QQ",
            "Q",
            "YWJj\u{0}",
            "ÿÿÿÿ",
            "%%%%",
            "YWJjZA=",
            "Y\nW\nJ\nj\n@",
        ];
        BAD[usize::from(k) % BAD.len()]
    }

    fn escape(key: &str) -> String {
        key.replace('~', "~0").replace('/', "~1")
    }

    /// Every node's JSON pointer, with the key it sits under.
    fn nodes(v: &Value, at: String, key: &str, out: &mut Vec<(String, String)>) {
        out.push((at.clone(), key.to_owned()));
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    nodes(child, format!("{at}/{}", escape(k)), k, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    nodes(child, format!("{at}/{i}"), key, out);
                }
            }
            _ => {}
        }
    }

    fn all(v: &Value, keep: impl Fn(&Value, &str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        nodes(v, String::new(), "", &mut out);
        out.into_iter()
            .filter(|(p, k)| v.pointer(p).is_some_and(|n| keep(n, k)))
            .map(|(p, _)| p)
            .collect()
    }

    fn set(v: &mut Value, pointer: &str, new: Value) {
        if let Some(node) = v.pointer_mut(pointer) {
            *node = new;
        }
    }

    fn deep(depth: u8, objects: bool) -> String {
        const DEPTHS: [usize; 16] = [
            16, 16, 64, 127, 127, 128, 128, 129, 129, 200, 1_000, 1_000, 5_000, 5_000, 20_000,
            200_000,
        ];
        let n = DEPTHS[usize::from(depth) % DEPTHS.len()];
        if objects {
            format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))
        } else {
            format!("{}{}", "[".repeat(n), "]".repeat(n))
        }
    }

    fn force_base64_flags(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if k.eq_ignore_ascii_case("isBase64Encoded") {
                        *child = Value::Bool(true);
                    } else {
                        force_base64_flags(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(force_base64_flags),
            _ => {}
        }
    }

    /// The payload with `ops` applied, in order.
    pub(crate) fn apply(original: &[u8], ops: &[Op]) -> Vec<u8> {
        let mut json: Option<Value> = serde_json::from_slice(original).ok();
        let mut text: Vec<u8> = original.to_vec();
        let mut parts: Vec<String> = Vec::new();
        let flush = |json: &mut Option<Value>, text: &mut Vec<u8>, parts: &mut Vec<String>| {
            if let Some(v) = json.take() {
                let mut s = serde_json::to_string(&v).unwrap_or_default();
                for (n, part) in parts.drain(..).enumerate() {
                    let quoted = serde_json::to_string(&placeholder(n)).unwrap_or_default();
                    s = s.replacen(&quoted, &part, 1);
                }
                *text = s.into_bytes();
            }
        };
        for op in ops {
            let structural =
                !matches!(op, Op::Truncate(_) | Op::InvalidUtf8(..) | Op::FlipBytes(_));
            if structural && json.is_none() && parts.is_empty() {
                json = serde_json::from_slice(&text).ok();
            }
            match (op, json.as_mut()) {
                (Op::WrongType(i, k), Some(v)) => {
                    let p = all(v, |_, _| true);
                    set(v, &p[i.index(p.len())], odd_value(*k));
                }
                (Op::RemoveField(i), Some(v)) => {
                    let p = all(v, |_, _| true);
                    let p = &p[i.index(p.len())];
                    if let Some((parent, last)) = p.rsplit_once('/') {
                        let key = last.replace("~1", "/").replace("~0", "~");
                        match v.pointer_mut(parent) {
                            Some(Value::Object(map)) => {
                                map.remove(&key);
                            }
                            Some(Value::Array(items)) => {
                                if let Ok(n) = key.parse::<usize>()
                                    && n < items.len()
                                {
                                    items.remove(n);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                (Op::ExtraField(i, name, k), Some(v)) => {
                    let p = all(v, |n, _| n.is_object());
                    if !p.is_empty()
                        && let Some(Value::Object(map)) = v.pointer_mut(&p[i.index(p.len())])
                    {
                        map.insert(name.clone(), odd_value(*k));
                    }
                }
                (Op::HugeString(i, k), Some(v)) => {
                    // Mostly kilobytes; a few 70 kB, one in sixteen a megabyte
                    // (debug-mode JSON is slow: keeps the suite bounded).
                    const SIZES: [usize; 16] = [
                        300,
                        300,
                        300,
                        300,
                        300,
                        300,
                        300,
                        300,
                        5_000,
                        5_000,
                        5_000,
                        5_000,
                        5_000,
                        70_000,
                        70_000,
                        1 << 20,
                    ];
                    let p = all(v, |n, _| n.is_string());
                    if !p.is_empty() {
                        let len = SIZES[usize::from(*k) % SIZES.len()];
                        let unit = ["a", "é", "%2F", "\\\\", "🦀", "A=="][usize::from(*k / 16) % 6];
                        let s = format!("\"{}\"", unit.repeat(len / unit.len() + 1));
                        set(
                            v,
                            &p[i.index(p.len())],
                            Value::String(placeholder(parts.len())),
                        );
                        parts.push(s);
                    }
                }
                (Op::BadBase64(i, k), Some(v)) => {
                    let mut p = all(v, |n, key| n.is_string() && BASE64_KEYS.contains(&key));
                    if p.is_empty() {
                        p = all(v, |n, _| n.is_string());
                    }
                    if !p.is_empty() {
                        set(
                            v,
                            &p[i.index(p.len())],
                            Value::String(bad_base64(*k).into()),
                        );
                    }
                    if k % 2 == 0 {
                        force_base64_flags(v);
                    }
                }
                (Op::DeepNesting(i, d, objects), Some(v)) => {
                    let p = all(v, |_, _| true);
                    set(
                        v,
                        &p[i.index(p.len())],
                        Value::String(placeholder(parts.len())),
                    );
                    parts.push(deep(*d, *objects));
                }
                (Op::Truncate(i), _) => {
                    flush(&mut json, &mut text, &mut parts);
                    text.truncate(i.index(text.len() + 1));
                }
                (Op::InvalidUtf8(i, k), _) => {
                    flush(&mut json, &mut text, &mut parts);
                    const BAD: &[&[u8]] = &[
                        b"\xff",
                        b"\xc3\x28",
                        b"\xed\xa0\x80",
                        b"\xf4\x90\x80\x80",
                        b"\x80",
                        b"\\ud800",
                        b"\\udc00x",
                        b"\\u00",
                        b"\xc0\xaf",
                    ];
                    let quotes: Vec<usize> = text
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b'"')
                        .map(|(n, _)| n + 1)
                        .collect();
                    let at = if quotes.is_empty() {
                        i.index(text.len() + 1)
                    } else {
                        quotes[i.index(quotes.len())]
                    };
                    let bad = BAD[usize::from(*k) % BAD.len()];
                    text.splice(at..at, bad.iter().copied());
                }
                (Op::FlipBytes(flips), _) => {
                    flush(&mut json, &mut text, &mut parts);
                    if !text.is_empty() {
                        for (i, b) in flips {
                            let n = i.index(text.len());
                            text[n] = *b;
                        }
                    }
                }
                _ => {}
            }
        }
        flush(&mut json, &mut text, &mut parts);
        text
    }
}
