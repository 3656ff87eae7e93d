//! A Functions host simulator: the adapter's server started in-process and
//! driven over loopback HTTP with the payloads the host sends (the real
//! fixtures in `fixtures/azure/`, and envelopes shaped like them).

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Extension;
use axum::routing::{get, post};
use nubes_azure::{AzureConfig, AzureServer};
use nubes_core::raw::encode_body;
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent, permanent};
use serde_json::{Value, json};
use tracing_subscriber::prelude::*;

type Lines = Arc<Mutex<Vec<Value>>>;

/// Signalled when `/slow` has started handling a request.
static SLOW_STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();

fn fixture(name: &str) -> Value {
    nubes_test_support::fixtures::json(&format!("azure/{name}"))
}

fn app(lines: &Lines) -> App {
    let (q, s, t) = (lines.clone(), lines.clone(), lines.clone());
    let router = axum::Router::new()
        .route(
            "/hello/{name}",
            get(
                |axum::extract::Path(n): axum::extract::Path<String>| async move {
                    format!("hello {n}")
                },
            ),
        )
        .route(
            "/api/order",
            post(|| async { (axum::http::StatusCode::CREATED, "Order enqueued") }),
        )
        .route(
            "/ctx",
            get(|Extension(ctx): Extension<Context>| async move {
                axum::Json(json!({
                    "id": ctx.invocation_id(),
                    "trace": ctx.trace().trace_id(),
                    "provider": ctx.platform().as_str(),
                }))
            }),
        )
        .route("/binary", get(|| async { vec![0u8, 0xff] }))
        .route(
            "/slow",
            get(|| async {
                SLOW_STARTED.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                "late"
            }),
        );
    App::new()
        .http(router)
        .on_queue("orders", move |msg: QueueMessage, ctx: Context| {
            let lines = q.clone();
            async move {
                tracing::info!(id = %msg.id, "order received");
                lines.lock().unwrap().push(json!({
                    "kind": "queue", "trigger": ctx.trigger(), "id": msg.id,
                    "body": encode_body(&msg.body).0, "attributes": msg.attributes,
                    "attempt": msg.attempt, "ctx_attempt": ctx.attempt(),
                    "invocation": ctx.invocation_id(), "trace": ctx.trace().trace_id(),
                    "raw": ctx.raw_event().is_some(),
                }));
                match &msg.body[..] {
                    b"fail" => Err::<(), BoxError>("asked to fail".into()),
                    b"panic" => panic!("asked to panic"),
                    b"permanent" => Err(permanent("asked to fail permanently")),
                    b"slow" => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        })
        .on_storage("uploads", move |ev: StorageEvent, ctx: Context| {
            let lines = s.clone();
            async move {
                lines.lock().unwrap().push(json!({
                    "kind": "storage", "trigger": ctx.trigger(), "action": ev.action.as_str(),
                    "bucket": ev.bucket, "key": ev.key, "size": ev.size,
                }));
                Ok::<(), BoxError>(())
            }
        })
        .on_schedule(
            "nightly",
            "0 3 * * *",
            move |ev: ScheduledEvent, ctx: Context| {
                let lines = t.clone();
                async move {
                    lines.lock().unwrap().push(json!({
                        "kind": "schedule", "trigger": ctx.trigger(),
                        "scheduled_time": ev.scheduled_time, "past_due": ev.past_due,
                    }));
                    Ok::<(), BoxError>(())
                }
            },
        )
}

struct Host {
    server: AzureServer,
    http: reqwest::Client,
    lines: Lines,
}

async fn host_with(config: AzureConfig) -> Host {
    // Capture log lines into `Logs` the way `run` does (without stdout noise).
    let _ = tracing_subscriber::registry()
        .with(nubes_azure::CaptureLayer)
        .try_init();
    let lines = Lines::default();
    let server = nubes_azure::start(app(&lines), config).await.unwrap();
    Host {
        server,
        http: reqwest::Client::new(),
        lines,
    }
}

async fn host() -> Host {
    host_with(AzureConfig::default()).await
}

impl Host {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// POSTs an invocation request as the host does: JSON, with an invocation id.
    async fn invoke(&self, function: &str, payload: &Value) -> (u16, Value) {
        self.invoke_raw(function, payload.to_string().into_bytes())
            .await
    }

    async fn invoke_raw(&self, function: &str, body: Vec<u8>) -> (u16, Value) {
        let res = self
            .http
            .post(self.url(&format!("/{function}")))
            .header("content-type", "application/json")
            .header("x-azure-functions-invocationid", "inv-42")
            .header(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert_eq!(
            res.headers()["content-type"],
            "application/json",
            "replies are always JSON"
        );
        (status, res.json().await.unwrap())
    }

    fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }
}

/// A queue payload as the host sends it for a generated `function.json`.
fn queue(body: &str, id: &str) -> Value {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(body);
    json!({"Data": {"messageBase64": encoded}, "Metadata": {"Id": id, "DequeueCount": 1}})
}

fn logs(reply: &Value) -> String {
    reply["Logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn queue_fixtures_reach_the_handler() {
    let host = host().await;
    let (status, reply) = host
        .invoke("nubes-queue-orders", &fixture("queue-trigger.request.json"))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["Outputs"], json!({}));
    assert_eq!(reply["ReturnValue"], Value::Null);
    assert!(logs(&reply).contains("order received"), "{reply}");
    let (status, reply) = host
        .invoke(
            "nubes-queue-orders",
            &fixture("service-bus-trigger.request.json"),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let lines = host.lines();
    assert_eq!(lines[0]["id"], "800ae4b3-bdd2-4c08-badd-f08e5a34b865");
    assert_eq!(lines[0]["body"], "{ message: \"Message sent\" }");
    assert_eq!(lines[0]["attempt"], 1);
    assert_eq!(lines[0]["invocation"], "inv-42");
    assert_eq!(lines[0]["trace"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(lines[0]["raw"], true);
    assert_eq!(lines[1]["id"], "4e773554-f6b7-4ea2-b07d-4c5fd5aba741");
    assert_eq!(lines[1]["body"], r#"{"message":"hello","number":2}"#);
    assert_eq!(lines[1]["trigger"], "orders");
}

#[tokio::test]
async fn binary_messages_attempts_and_properties() {
    let host = host().await;
    let (status, _) = host
        .invoke(
            "nubes-queue-orders",
            &json!({"Data": {"messageBase64": "AP8="}, "Metadata": {
                "MessageId": "\"m-7\"", "DeliveryCount": "3",
                "UserProperties": {"tenant": "acme"}}}),
        )
        .await;
    assert_eq!(status, 200);
    let line = &host.lines()[0];
    assert_eq!(line["body"], "AP8=");
    assert_eq!(line["attempt"], 3);
    assert_eq!(line["ctx_attempt"], 3);
    assert_eq!(line["attributes"], json!({"tenant": "acme"}));
}

#[tokio::test]
async fn failures_retry_permanent_acks_and_panics_are_isolated() {
    let host = host().await;
    let queue = |body: &str| queue(body, "m");

    let (status, reply) = host.invoke("nubes-queue-orders", &queue("fail")).await;
    assert_eq!(status, 500, "{reply}");
    assert!(logs(&reply).contains("asked to fail"), "{reply}");
    assert_eq!(reply["error"]["kind"], "handler");

    let (status, reply) = host.invoke("nubes-queue-orders", &queue("panic")).await;
    assert_eq!(status, 500, "{reply}");
    assert!(logs(&reply).contains("asked to panic"), "{reply}");

    let (status, reply) = host.invoke("nubes-queue-orders", &queue("permanent")).await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        logs(&reply).contains("asked to fail permanently"),
        "{reply}"
    );

    let (status, _) = host.invoke("nubes-queue-orders", &queue("after")).await;
    assert_eq!(status, 200);
    let res = host
        .http
        .get(host.url("/hello/still-up"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "hello still-up");
    assert_eq!(host.lines().len(), 4);
}

#[tokio::test]
async fn storage_fixtures_in_every_shape() {
    let host = host().await;
    for name in [
        "eventgrid-blobcreated.eventgrid-schema.json",
        "eventgrid-blobcreated.cloudevents-schema.json",
    ] {
        let event = fixture(name)[0].clone();
        let payload =
            json!({"Data": {"event": event}, "Metadata": {"sys": {"MethodName": "uploads"}}});
        let (status, reply) = host.invoke("nubes-storage-uploads", &payload).await;
        assert_eq!(status, 200, "{name}: {reply}");
    }
    let blob = json!({"Data": {"blobBase64": "MTIzNDU="}, "Metadata": {
        "Uri": "https://acct.blob.core.windows.net/uploads/docs/report%201.txt",
        "Properties": {"ContentLength": 5}, "name": "docs/report 1.txt"}});
    assert_eq!(host.invoke("nubes-storage-uploads", &blob).await.0, 200);
    let expected_eg = json!({"kind":"storage","trigger":"uploads","action":"created",
        "bucket":"test-container","key":"new-file.txt","size":524288});
    assert_eq!(
        host.lines(),
        [
            expected_eg.clone(),
            expected_eg,
            json!({"kind":"storage","trigger":"uploads","action":"created",
                "bucket":"uploads","key":"docs/report 1.txt","size":5}),
        ]
    );
    // Event Grid events that are not Blob Storage events are refused, not guessed.
    for name in [
        "event-grid-trigger.eventgrid-schema.request.json",
        "event-grid-trigger.cloudevents-schema.request.json",
    ] {
        let (status, reply) = host.invoke("nubes-storage-uploads", &fixture(name)).await;
        assert_eq!(status, 400, "{name}: {reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`created`")
        );
    }
    assert_eq!(host.lines().len(), 3);
}

#[tokio::test]
async fn timer_fixture() {
    let host = host().await;
    let (status, reply) = host
        .invoke(
            "nubes-schedule-nightly",
            &fixture("timer-trigger.request.json"),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        host.lines(),
        [json!({"kind":"schedule","trigger":"nightly",
            "scheduled_time":"2023-10-12T20:13:49.640002Z","past_due":false})]
    );
}

#[tokio::test]
async fn http_envelopes_without_forwarding() {
    let host = host().await;
    let (status, reply) = host
        .invoke("http", &fixture("http-trigger-order.request.json"))
        .await;
    assert_eq!(status, 200, "{reply}");
    let docs = fixture("http-trigger-order.response.json");
    assert_eq!(
        reply["Outputs"]["res"]["body"],
        docs["Outputs"]["res"]["body"]
    );
    assert_eq!(reply["Outputs"]["res"]["statusCode"], 201);
    assert_eq!(
        reply["Outputs"]["res"]["headers"]["content-type"],
        "text/plain; charset=utf-8"
    );

    let mut identities = fixture("http-trigger-with-identities.request.json");
    identities["Data"]["req"]["Url"] = "http://localhost:7071/hello/azure".into();
    identities["Data"]["req"]["Method"] = "GET".into();
    let (status, reply) = host.invoke("http", &identities).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["Outputs"]["res"]["body"], "hello azure");

    let ctx = json!({"Data": {"req": {"Url": "http://h/ctx", "Method": "GET",
        "Headers": {"traceparent": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]}}}});
    let res = host
        .http
        .post(host.url("/http"))
        .header("x-azure-functions-invocationid", "inv-http")
        .body(ctx.to_string())
        .send()
        .await
        .unwrap();
    let reply: Value = res.json().await.unwrap();
    let body: Value =
        serde_json::from_str(reply["Outputs"]["res"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["id"], "inv-http");
    assert_eq!(body["trace"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(body["provider"], "azure");

    let bin = json!({"Data": {"req": {"Url": "http://h/binary", "Method": "GET"}}});
    let (_, reply) = host.invoke("http", &bin).await;
    assert_eq!(reply["Outputs"]["res"]["body"], "AP8=");
}

#[tokio::test]
async fn forwarded_requests_reach_the_routes_unchanged() {
    let host = host().await;
    let res = host
        .http
        .get(host.url("/hello/world"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "hello world");
    // A POST to the HTTP function's path that is not an envelope is a user request.
    let res = host
        .http
        .post(host.url("/http"))
        .body("plain")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = host
        .http
        .get(host.url("/ctx"))
        .header("x-ms-invocation-id", "fwd-1")
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": "fwd-1", "trace": "0af7651916cd43dd8448eb211c80319c", "provider": "azure"})
    );
    // Event function paths only take POSTed invocations.
    let res = host
        .http
        .get(host.url("/nubes-queue-orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn malformed_and_unknown_invocations_are_clear_json_errors() {
    let host = host_with({
        let mut c = AzureConfig::default();
        c.max_body_bytes = 4096;
        c.max_invocation_bytes = 4096;
        c
    })
    .await;
    let cases: [(&str, &[u8], u16, &str); 9] = [
        (
            "nubes-queue-orders",
            br#"{"Data":{"messageBase64":"not base64!"}}"#,
            400,
            "invalid_event",
        ),
        ("nubes-queue-orders", b"not json", 400, "invalid_event"),
        ("nubes-queue-orders", b"", 400, "invalid_event"),
        ("nubes-queue-orders", b"[1,2]", 400, "invalid_event"),
        ("nubes-queue-orders", br#"{"Data":5}"#, 400, "invalid_event"),
        (
            "nubes-queue-orders",
            br#"{"Data":{}}"#,
            400,
            "invalid_event",
        ),
        (
            "nubes-queue-orders",
            br#"{"Data":{"messageBase64":null}}"#,
            400,
            "invalid_event",
        ),
        (
            "nubes-schedule-nightly",
            br#"{"Data":{"timer":"x"}}"#,
            400,
            "invalid_event",
        ),
        (
            "nubes-storage-uploads",
            br#"{"Data":{"blobBase64":"x"},"Metadata":{}}"#,
            400,
            "invalid_event",
        ),
    ];
    for (function, body, status, kind) in cases {
        let (got, reply) = host.invoke_raw(function, body.to_vec()).await;
        let what = format!("{function} {}", String::from_utf8_lossy(body));
        assert_eq!(got, status, "{what}: {reply}");
        assert_eq!(reply["error"]["kind"], kind, "{what}: {reply}");
        assert!(!logs(&reply).is_empty(), "{what}: the error is in Logs");
    }
    // With HTTP routes, a POST to a path that is no function is a user request.
    let res = host
        .http
        .post(host.url("/nope"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let (status, reply) = host
        .invoke_raw("nubes-queue-orders", vec![b' '; 5000])
        .await;
    assert_eq!(status, 413, "{reply}");
    assert!(host.lines().is_empty(), "no handler ran");
    // Still serving (on a new connection: the oversize request's was closed
    // without reading its body).
    let res = reqwest::get(host.url("/hello/ok")).await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn unknown_functions_without_http_routes_are_json_404s() {
    let server = nubes_azure::start(App::new(), AzureConfig::default())
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/orders", server.url()))
        .body(queue("x", "1").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["error"]["kind"], "unknown_trigger");
    assert!(logs(&reply).contains("no function `orders`"), "{reply}");
    let res = reqwest::get(format!("{}/anything", server.url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_handlers_fail_before_the_host_gives_up() {
    let host = host_with({
        let mut c = AzureConfig::default();
        c.function_timeout = Duration::from_millis(100);
        c
    })
    .await;
    let (status, reply) = host.invoke("nubes-queue-orders", &queue("slow", "s")).await;
    assert_eq!(status, 500, "{reply}");
    assert!(
        logs(&reply).contains("did not finish within 100 ms"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_keep_their_own_logs() {
    let host = host().await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (client, url) = (host.http.clone(), host.url("/nubes-queue-orders"));
        calls.spawn(async move {
            let res = client
                .post(url)
                .body(queue(&format!("m{i}"), &format!("id-{i}")).to_string())
                .send()
                .await
                .unwrap();
            (i, res.status().as_u16(), res.json::<Value>().await.unwrap())
        });
    }
    while let Some(done) = calls.join_next().await {
        let (i, status, reply) = done.unwrap();
        assert_eq!(status, 200);
        let logs = logs(&reply);
        assert!(logs.contains(&format!("id=id-{i}")), "{logs}");
        assert_eq!(logs.matches("order received").count(), 1, "{logs}");
    }
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let host = host().await;
    let url = host.url("/slow");
    let slow = tokio::spawn(async move { reqwest::get(url).await.unwrap().text().await.unwrap() });
    // Shut down once the request is in the handler (a fixed sleep is too
    // short on a loaded machine).
    tokio::time::timeout(Duration::from_secs(10), SLOW_STARTED.notified())
        .await
        .unwrap();
    host.server.shutdown().await.unwrap();
    assert_eq!(slow.await.unwrap(), "late");
}

/// Every fixture, with each value (two levels deep) swapped for values of
/// every other JSON type, and truncated at many points: every reply is a JSON
/// reply with a definite status, and the server keeps serving.
#[tokio::test]
async fn mutated_fixtures_never_panic() {
    let host = host().await;
    let fixtures = [
        ("nubes-queue-orders", "queue-trigger.request.json"),
        ("nubes-queue-orders", "service-bus-trigger.request.json"),
        ("nubes-schedule-nightly", "timer-trigger.request.json"),
        (
            "nubes-storage-uploads",
            "event-grid-trigger.eventgrid-schema.request.json",
        ),
        (
            "nubes-storage-uploads",
            "event-grid-trigger.cloudevents-schema.request.json",
        ),
        ("http", "http-trigger-order.request.json"),
        ("http", "http-trigger-with-identities.request.json"),
    ];
    let replacements = [
        json!(null),
        json!(0),
        json!(-1),
        json!(1e300),
        json!(""),
        json!("\"\""),
        json!("%%%"),
        json!([]),
        json!([1, "a"]),
        json!({}),
        json!(true),
    ];
    let mut sent = 0;
    for (function, name) in fixtures {
        let original = fixture(name);
        let mut variants = Vec::new();
        for (section, value) in original.as_object().unwrap() {
            let paths: Vec<Vec<String>> = match value {
                Value::Object(map) => map
                    .iter()
                    .flat_map(|(k, v)| {
                        let mut p = vec![vec![section.clone(), k.clone()]];
                        if let Value::Object(inner) = v {
                            p.extend(
                                inner
                                    .keys()
                                    .map(|ik| vec![section.clone(), k.clone(), ik.clone()]),
                            );
                        }
                        p
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for path in paths {
                for replacement in &replacements {
                    let mut v = original.clone();
                    let mut slot = &mut v;
                    for key in &path {
                        slot = &mut slot[key.as_str()];
                    }
                    *slot = replacement.clone();
                    variants.push(v.to_string().into_bytes());
                }
            }
        }
        let text = original.to_string().into_bytes();
        for cut in (0..text.len()).step_by(7) {
            variants.push(text[..cut].to_vec());
        }
        for body in variants {
            let what = String::from_utf8_lossy(&body).into_owned();
            let res = host
                .http
                .post(host.url(&format!("/{function}")))
                .body(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("no reply ({e}) for {what}"));
            let status = res.status().as_u16();
            let is_json = res
                .headers()
                .get("content-type")
                .is_some_and(|v| v == "application/json");
            if is_json {
                let reply: Value = res.json().await.unwrap();
                assert!([200, 400, 500].contains(&status), "{status} for {what}");
                assert!(reply["Logs"].is_array(), "{reply}");
            } else {
                // Only the HTTP function's path hands bodies that are not
                // envelope-shaped to the app's routes (which have no `/http`).
                assert_eq!((function, status), ("http", 404), "{what}");
                assert!(
                    serde_json::from_str::<Value>(&what).map_or(true, |v| v.get("Data").is_none()),
                    "{what}"
                );
            }
            sent += 1;
        }
    }
    assert!(sent > 500, "{sent}");
    let res = host
        .http
        .get(host.url("/hello/alive"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "hello alive");
}
