//! The local runner's `/_nubes/` endpoints survive arbitrary input: thousands
//! of generated requests over loopback (raw HTTP, so paths, headers and bodies
//! are exactly what a client sends) to the queue, storage and schedule
//! endpoints: mutated real payloads and random bytes as bodies, trigger names
//! and object keys with traversal attempts (encoded, double-encoded,
//! backslash, absolute, drive prefixes), attribute headers that are not text,
//! odd query strings.
//!
//! For every request: an answer (no panic, no dropped connection); `2xx`, or a
//! `4xx` with a JSON error (never a `5xx`); every accepted queue message
//! reaches its handler with its exact bytes and nothing else does; no file is
//! written outside the bucket folder; the runner still serves afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
use nubes_local::{LocalConfig, LocalServer};
use nubes_test_support::{fixtures, mutate};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Generated requests; the whole file stays well under a minute in debug.
const CASES: u32 = 3_000;
/// Small, so oversize bodies are among the cases.
const MAX_BODY: usize = 256 * 1024;
/// Part of every key that tries to leave the folder, to look for it outside.
const MARKER: &str = "nubes-robustness-escape";

/// Real payloads users push by hand: the bodies to mutate.
const BODIES: &[&str] = &[
    "aws/sqs-batch.json",
    "gcp/pubsub-push-envelope.json",
    "azure/queue-trigger.request.json",
];

#[derive(Debug, Clone, Default)]
struct Seen {
    queue: Vec<(String, Vec<u8>)>,
    storage: Vec<String>,
    schedules: usize,
}

type Shared = Arc<Mutex<Seen>>;

fn recording_app(seen: &Shared) -> App {
    let queue = {
        let seen = seen.clone();
        move |msg: QueueMessage, _c: Context| {
            seen.lock()
                .unwrap()
                .queue
                .push((msg.id.clone(), msg.body.to_vec()));
            async { Ok::<(), BoxError>(()) }
        }
    };
    let storage = {
        let seen = seen.clone();
        move |ev: StorageEvent, _c: Context| {
            seen.lock().unwrap().storage.push(ev.key.clone());
            async { Ok::<(), BoxError>(()) }
        }
    };
    let schedule = {
        let seen = seen.clone();
        move |_e: ScheduledEvent, _c: Context| {
            seen.lock().unwrap().schedules += 1;
            async { Ok::<(), BoxError>(()) }
        }
    };
    App::new()
        .http(axum::Router::new().fallback(|| async { "ok" }))
        .on_queue("orders", queue)
        .on_storage("uploads", storage)
        .on_schedule("nightly", "0 3 * * *", schedule)
}

/// One generated request.
#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Names and keys: plausible ones and every way out of a folder.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("orders".to_owned()),
        3 => Just("uploads".to_owned()),
        2 => Just("nightly".to_owned()),
        2 => "[a-zA-Z0-9._~-]{0,20}",
        1 => "(%[0-9a-fA-F]{2}|[a-z.]){0,12}",
        1 => "(%[0-9a-zA-Z]{0,2}){1,4}",
        1 => Just("a".repeat(2000)),
    ]
}

fn key() -> impl Strategy<Value = String> {
    let escape = prop_oneof![
        Just(format!("../{MARKER}")),
        Just(format!("../../../{MARKER}")),
        Just(format!("{}{MARKER}", "../".repeat(40))),
        Just(format!("..%2f..%2f..%2f{MARKER}")),
        Just(format!("%2e%2e/%2e%2e/%2e%2e/{MARKER}")),
        Just(format!("%252e%252e/%252e%252e/{MARKER}")),
        Just(format!("..%5c..%5c..%5c{MARKER}")),
        Just(format!("..\\..\\{MARKER}")),
        Just(format!("%2Ftmp%2F{MARKER}")),
        Just(format!("/tmp/{MARKER}")),
        Just(format!("C:%5c{MARKER}")),
        Just(format!("C:/{MARKER}")),
        Just(format!("a/./../../{MARKER}")),
        Just(format!("a//..//..//{MARKER}")),
        Just(format!("%00/{MARKER}")),
        Just(format!("a%00b/{MARKER}")),
        Just(format!("%c0%ae%c0%ae/{MARKER}")),
    ];
    prop_oneof![
        3 => escape,
        3 => prop::collection::vec(segment(), 1..4).prop_map(|s| s.join("/")),
        1 => Just("docs/report%201.txt".to_owned()),
    ]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[ -~]{0,40}".prop_map(String::into_bytes),
        // obs-text: HTTP allows it, it is not UTF-8.
        prop::collection::vec(prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')], 0..30),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let name = prop_oneof![
        "x-nubes-attr-[a-z0-9-]{0,10}",
        Just("x-nubes-ordering-key".to_owned()),
        Just("traceparent".to_owned()),
        Just("content-type".to_owned()),
        "x-[a-z]{1,8}",
    ];
    prop::collection::vec((name, header_value()), 0..5)
}

fn query() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "",
        "",
        "",
        "?wait=true",
        "?wait=false",
        "?wait=garbage",
        "?wait=1&wait=2",
        "?%zz",
        "?wait",
        "?wait=true&x=%ff",
    ])
}

fn request(bodies: Arc<Vec<Vec<u8>>>) -> impl Strategy<Value = Req> {
    let body = (0..bodies.len(), mutate::ops(), mutate::noise(), 0u8..5).prop_map(
        move |(i, ops, noise, pick)| match pick {
            0 => noise,
            1 => Vec::new(),
            _ => mutate::apply(&bodies[i], &ops),
        },
    );
    // Mostly the right method on a registered trigger, so most requests get
    // past routing to the decoding; the rest probe everything around it.
    let method = |usual: &'static str| {
        prop_oneof![
            6 => Just(usual),
            1 => prop::sample::select(vec!["POST", "PUT", "DELETE", "GET", "PATCH"]),
        ]
    };
    let name = |usual: &'static str| prop_oneof![4 => Just(usual.to_owned()), 1 => segment()];
    let target = prop_oneof![
        4 => (method("POST"), name("orders")).prop_map(|(m, n)| (m, format!("/_nubes/queues/{n}"))),
        4 => (
            prop::sample::select(vec!["PUT", "PUT", "PUT", "DELETE", "GET", "POST"]),
            name("uploads"),
            key(),
        )
            .prop_map(|(m, b, k)| (m, format!("/_nubes/storage/{b}/{k}"))),
        1 => (method("POST"), name("nightly")).prop_map(|(m, n)| (m, format!("/_nubes/schedules/{n}"))),
        1 => (method("GET"), segment()).prop_map(|(m, n)| (m, format!("/_nubes/queues/{n}/dead"))),
        1 => (method("GET"), prop::collection::vec(segment(), 0..4))
            .prop_map(|(m, s)| (m, format!("/_nubes/{}", s.join("/")))),
    ];
    (target, query(), headers(), body).prop_map(|((method, path), query, headers, body)| Req {
        method,
        target: format!("{}{query}", clean_target(&path)),
        headers,
        body,
    })
}

/// A request target HTTP can carry: bytes a URI may not hold raw are
/// percent-encoded (as any client would); `%`, `/` and `\`-as-%5C stay meaningful.
fn clean_target(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/%.-_~:@!$&'()*+,;=".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Harness {
    server: Option<LocalServer>,
    root: tempfile::TempDir,
    data_dir: PathBuf,
    seen: Shared,
    rt: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("data");
        let seen = Shared::default();
        let mut config = LocalConfig::default();
        config.host = [127, 0, 0, 1].into();
        config.port = 0;
        config.data_dir = data_dir.clone();
        config.max_body_bytes = MAX_BODY;
        config.run_schedules = false;
        config.watch_storage = false;
        config.retry_delay = Duration::from_millis(10);
        let server = rt
            .block_on(nubes_local::start(recording_app(&seen), config))
            .unwrap();
        Harness {
            server: Some(server),
            root,
            data_dir,
            seen,
            rt,
        }
    }

    fn send(&self, req: &Req) -> Result<(u16, Vec<u8>), String> {
        let addr = self.server.as_ref().unwrap().local_addr();
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n",
            req.method, req.target
        )
        .into_bytes();
        for (name, value) in &req.headers {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.trim_ascii());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(format!("content-length: {}\r\n\r\n", req.body.len()).as_bytes());
        self.rt.block_on(async {
            let exchange = async {
                let mut stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| e.to_string())?;
                stream.write_all(&head).await.map_err(|e| e.to_string())?;
                // The server may answer (413) before reading the whole body.
                let _ = stream.write_all(&req.body).await;
                let mut reply = Vec::new();
                let _ = stream.read_to_end(&mut reply).await;
                Ok::<_, String>(reply)
            };
            let reply = tokio::time::timeout(Duration::from_secs(10), exchange)
                .await
                .map_err(|_| "no answer within 10 s".to_owned())??;
            parse_reply(&reply)
        })
    }

    fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.rt.block_on(server.shutdown());
        }
    }
}

fn parse_reply(reply: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let text = String::from_utf8_lossy(reply);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no header end")?;
    let head = text.get(..split).unwrap_or_default().to_ascii_lowercase();
    let mut body = reply[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[(end + 4 + size).min(data.len())..];
    }
    out
}

/// Accepted queue messages: id → body.
type Accepted = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

fn check(h: &Harness, req: &Req, accepted: &Accepted) -> Result<(), TestCaseError> {
    let (status, body) = h
        .send(req)
        .map_err(|e| TestCaseError::fail(format!("{req:?}: {e}")))?;
    let json: Value = serde_json::from_slice(&body).unwrap_or_default();
    match status {
        200..=299 => {
            let queue_post = req.method == "POST"
                && req
                    .target
                    .strip_prefix("/_nubes/queues/orders")
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('?'));
            if queue_post {
                let id = json["id"].as_str();
                prop_assert!(id.is_some(), "accepted without an id: {json}");
                accepted
                    .lock()
                    .unwrap()
                    .insert(id.unwrap_or_default().to_owned(), req.body.clone());
            }
        }
        400..=499 => {
            prop_assert!(
                json["error"]["message"].is_string(),
                "{status} without a JSON error: {:?}",
                String::from_utf8_lossy(&body)
            );
        }
        _ => prop_assert!(
            false,
            "{status} for {req:?}: {:?}",
            String::from_utf8_lossy(&body)
        ),
    }
    Ok(())
}

/// Every file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn nubes_endpoints_survive_generated_requests() {
    let h = Harness::new();
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(BODIES.iter().map(|n| fixtures::bytes(n)).collect());
    let accepted = Accepted::default();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 128,
        ..Config::default()
    });
    let started = Instant::now();
    let result = runner.run(&request(bodies.clone()), |req| check(&h, &req, &accepted));
    eprintln!(
        "robustness local/endpoints: {CASES} requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("local: {e}");
    }

    // Every accepted message reaches the handler with its bytes; nothing else does.
    let accepted = accepted.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.seen().queue.len() < accepted.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = h.seen();
    let delivered: BTreeMap<String, Vec<u8>> = seen.queue.iter().cloned().collect();
    assert_eq!(
        delivered.len(),
        seen.queue.len(),
        "a message was delivered twice"
    );
    assert_eq!(
        delivered, accepted,
        "accepted and delivered messages differ"
    );
    eprintln!(
        "robustness local/endpoints: {} messages accepted and delivered, {} storage events, {} schedules",
        accepted.len(),
        seen.storage.len(),
        seen.schedules
    );

    // Nothing left the bucket folder.
    let mut all = Vec::new();
    files(h.root.path(), &mut all);
    let data = &h.data_dir;
    for file in &all {
        let inside = file.starts_with(data.join("storage").join("uploads"))
            || file.starts_with(data.join("spool"))
            || file.starts_with(data.join("tmp"))
            || file == &data.join("dead-letters.jsonl");
        assert!(
            inside,
            "a file outside the bucket folder: {}",
            file.display()
        );
    }
    for dir in [Path::new("/"), Path::new("/tmp"), h.root.path()] {
        assert!(
            !dir.join(MARKER).exists(),
            "a key escaped to {}",
            dir.display()
        );
    }
    let escaped: Vec<&String> = seen
        .storage
        .iter()
        .filter(|k| k.split('/').any(|s| s == ".."))
        .collect();
    assert!(
        escaped.is_empty(),
        "keys with `..` reached the handler: {escaped:?}"
    );

    // Still serving.
    let ok = Req {
        method: "POST",
        target: "/_nubes/queues/orders?wait=true".into(),
        headers: Vec::new(),
        body: b"still up".to_vec(),
    };
    let (status, _) = h.send(&ok).unwrap();
    assert_eq!(status, 200);
}

#[test]
fn unmutated_payloads_are_accepted_and_delivered() {
    let h = Harness::new();
    for name in BODIES {
        let req = Req {
            method: "POST",
            target: "/_nubes/queues/orders?wait=true".into(),
            headers: vec![("x-nubes-attr-source".into(), b"fixture".to_vec())],
            body: fixtures::bytes(name),
        };
        let (status, body) = h.send(&req).unwrap();
        assert_eq!(status, 200, "{name}: {}", String::from_utf8_lossy(&body));
    }
    let bodies: HashSet<Vec<u8>> = h.seen().queue.into_iter().map(|(_, b)| b).collect();
    assert_eq!(bodies.len(), BODIES.len());
    let put = Req {
        method: "PUT",
        target: "/_nubes/storage/uploads/docs/report%201.txt?wait=true".into(),
        headers: Vec::new(),
        body: fixtures::bytes(BODIES[0]),
    };
    assert_eq!(h.send(&put).unwrap().0, 200);
    assert_eq!(h.seen().storage, ["docs/report 1.txt"]);
}

/// Inputs the fuzzers or proptest once found interesting, kept as regressions.
#[test]
fn known_hard_inputs() {
    let h = Harness::new();
    let accepted = Accepted::default();
    for (method, target) in [
        ("PUT", format!("/_nubes/storage/uploads/..%2f..%2f{MARKER}")),
        ("PUT", format!("/_nubes/storage/uploads/%2e%2e/{MARKER}")),
        ("PUT", format!("/_nubes/storage/uploads/..%5c{MARKER}")),
        ("PUT", "/_nubes/storage/uploads/%ff%fe".to_owned()),
        ("POST", "/_nubes/queues/%ff".to_owned()),
        ("POST", "/_nubes/queues/orders?wait=%zz".to_owned()),
    ] {
        let req = Req {
            method,
            target,
            headers: Vec::new(),
            body: b"x".to_vec(),
        };
        check(&h, &req, &accepted).unwrap_or_else(|e| panic!("{req:?}: {e}"));
    }
}
