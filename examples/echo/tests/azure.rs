//! The echo contract on Azure Functions: a Functions host simulator starts
//! the real `echo` binary as the host does (`FUNCTIONS_CUSTOMHANDLER_PORT`),
//! then POSTs every request fixture of `fixtures/azure/` (mapped onto
//! echo's functions: `nubes-queue-orders`, `nubes-storage-uploads`,
//! `nubes-schedule-nightly`, and `http` for the routes) and forwards plain
//! HTTP as `enableProxyingHttpRequest` does.

#![cfg(feature = "azure")]
#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use nubes_test_support::bound_port::bound_port;
use nubes_test_support::process::Group;
use serde_json::{Value, json};

const INVOCATION_ID: &str = "5f0c6c55-8a4b-4f5e-a2a4-3c1d7d0e9b11";

struct Host {
    process: Group,
    base: String,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

fn fixture(name: &str) -> Value {
    nubes_test_support::fixtures::json(&format!("azure/{name}"))
}

impl Host {
    /// Starts echo the way the Functions host starts a custom handler, and
    /// waits until it says it is ready and on which port.
    async fn start(extra_env: &[(&str, &str)]) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let stdout = std::fs::File::create(dir.path().join("stdout.log")).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_echo"));
        command
            .current_dir(dir.path())
            // 0: the OS picks the port (no race with other tests for one
            // picked in advance, as the host does), and the start-up line says which.
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", "0")
            .env("FUNCTIONS_WORKER_RUNTIME", "Custom")
            .env("NUBES_ECHO_FILE", dir.path().join("echo.jsonl"))
            .env("RUST_LOG", "info")
            .env_remove("NUBES_PLATFORM")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env_remove("K_SERVICE")
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::null());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let process = Group::spawn(&mut command);
        // The host waits at most 60 s; nubes is ready in milliseconds on an
        // idle machine, so a third of that is a generous bound.
        let port = bound_port(
            dir.path(),
            "stdout.log",
            "custom handler ready",
            Duration::from_secs(20),
        );
        Host {
            process,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An invocation request, as the host sends it.
    async fn invoke(&self, function: &str, payload: &Value) -> (u16, Value) {
        self.invoke_raw(function, payload.to_string().into_bytes())
            .await
    }

    async fn invoke_raw(&self, function: &str, body: Vec<u8>) -> (u16, Value) {
        let res = self
            .http
            .post(self.url(&format!("/{function}")))
            .header("content-type", "application/json")
            .header("x-azure-functions-invocationid", INVOCATION_ID)
            .header("x-azure-functions-hostversion", "4.1036.1.23224")
            .header("user-agent", "Azure-Functions-Host/4.1036.1.23224")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    fn lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("echo.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn stdout(&self) -> PathBuf {
        self.dir.path().join("stdout.log")
    }

    /// SIGTERM, as the host sends on shutdown; then the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        self.process.terminate(Duration::from_secs(15))
    }
}

fn logs(reply: &Value) -> String {
    reply["Logs"]
        .as_array()
        .unwrap_or_else(|| panic!("no Logs in {reply}"))
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Storage queue message for echo's generated `nubes-queue-orders/function.json`
/// (`dataType: binary`: the host sends base64).
fn queue_message(body: &[u8], dequeue_count: u32) -> Value {
    json!({
        "Data": {"messageBase64": STANDARD.encode(body)},
        "Metadata": {
            "DequeueCount": dequeue_count,
            "Id": "b1a7c1de-0000-4000-8000-000000000001",
            "InsertionTime": "2026-11-28T10:00:00+00:00",
            "sys": {"MethodName": "nubes-queue-orders", "UtcNow": "2026-11-28T10:00:01Z",
                "RandGuid": "0b7f7f16-2f0d-4a59-8f5c-2a8f5e1e3c3a"}
        }
    })
}

#[tokio::test]
async fn every_request_fixture_reaches_echo() {
    let mut host = Host::start(&[]).await;

    // Storage queue (docs payload) and Service Bus (double-encoded metadata).
    let (status, reply) = host
        .invoke("nubes-queue-orders", &fixture("queue-trigger.request.json"))
        .await;
    assert_eq!(status, 200, "{reply}");
    let example = fixture("response.example.json");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&reply),
        keys(&example),
        "reply has the documented shape"
    );
    let (status, reply) = host
        .invoke(
            "nubes-queue-orders",
            &fixture("service-bus-trigger.request.json"),
        )
        .await;
    assert_eq!(status, 200, "{reply}");

    // Timer.
    let (status, reply) = host
        .invoke(
            "nubes-schedule-nightly",
            &fixture("timer-trigger.request.json"),
        )
        .await;
    assert_eq!(status, 200, "{reply}");

    // Event Grid Blob Storage events, in both schemas, as the eventGridTrigger delivers them.
    for name in [
        "eventgrid-blobcreated.eventgrid-schema.json",
        "eventgrid-blobcreated.cloudevents-schema.json",
    ] {
        let event = fixture(name)[0].clone();
        let (status, reply) = host
            .invoke(
                "nubes-storage-uploads",
                &json!({"Data": {"event": event}, "Metadata": {}}),
            )
            .await;
        assert_eq!(status, 200, "{name}: {reply}");
    }
    let mut deleted = fixture("eventgrid-blobcreated.cloudevents-schema.json")[0].clone();
    deleted["type"] = "Microsoft.Storage.BlobDeleted".into();
    let (status, _) = host
        .invoke(
            "nubes-storage-uploads",
            &json!({"Data": {"event": deleted}}),
        )
        .await;
    assert_eq!(status, 200);

    // A blob trigger as echo's generated `nubes-storage-uploads/function.json` receives it.
    let blob = json!({"Data": {"blobBase64": "MTIzNDU="}, "Metadata": {
        "Uri": "https://acct.blob.core.windows.net/uploads/docs/a%20b.txt",
        "Properties": {"ContentLength": 5}, "name": "docs/a b.txt"}});
    assert_eq!(host.invoke("nubes-storage-uploads", &blob).await.0, 200);

    // Event Grid events that are no Blob Storage events are refused (the
    // fixtures' type is `created`): 400, nothing echoed.
    for name in [
        "event-grid-trigger.eventgrid-schema.request.json",
        "event-grid-trigger.cloudevents-schema.request.json",
    ] {
        let (status, reply) = host.invoke("nubes-storage-uploads", &fixture(name)).await;
        assert_eq!(status, 400, "{name}: {reply}");
        assert_eq!(reply["error"]["kind"], "invalid_event");
        assert!(logs(&reply).contains("`created`"), "{reply}");
    }

    assert_eq!(
        host.lines(),
        [
            json!({"kind":"queue","trigger":"orders","id":"800ae4b3-bdd2-4c08-badd-f08e5a34b865",
                "body":"{ message: \"Message sent\" }","attributes":{},"attempt":1}),
            json!({"kind":"queue","trigger":"orders","id":"4e773554-f6b7-4ea2-b07d-4c5fd5aba741",
                "body":"{\"message\":\"hello\",\"number\":2}","attributes":{},"attempt":1}),
            json!({"kind":"schedule","trigger":"nightly","scheduled_time":"2023-10-12T20:13:49.640002Z"}),
            json!({"kind":"storage","trigger":"uploads","action":"created","bucket":"test-container",
                "key":"new-file.txt","size":524288}),
            json!({"kind":"storage","trigger":"uploads","action":"created","bucket":"test-container",
                "key":"new-file.txt","size":524288}),
            json!({"kind":"storage","trigger":"uploads","action":"deleted","bucket":"test-container",
                "key":"new-file.txt","size":null}),
            json!({"kind":"storage","trigger":"uploads","action":"created","bucket":"uploads",
                "key":"docs/a b.txt","size":5}),
        ]
    );

    // HTTP without forwarding: the docs' `order` request goes to echo's routes
    // as it is (no such route: a 404 in `Outputs.res`), then re-aimed at /echo.
    let order = fixture("http-trigger-order.request.json");
    let (status, reply) = host.invoke("http", &order).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["Outputs"]["res"]["statusCode"], 404);
    let mut order = order;
    order["Data"]["req"]["Url"] = "http://localhost:7071/echo?tag=a&tag=b".into();
    let (status, reply) = host.invoke("http", &order).await;
    assert_eq!(status, 200, "{reply}");
    let res = &reply["Outputs"]["res"];
    assert_eq!(res["statusCode"], 200);
    assert_eq!(res["headers"]["content-type"], "application/json");
    let echoed: Value = serde_json::from_str(res["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/echo");
    assert_eq!(echoed["query"], json!({"tag": "a,b"}));
    assert_eq!(echoed["headers"]["content-type"], "application/json");
    assert_eq!(
        echoed["body"],
        r#"{"id":1005,"quantity":2,"color":"black"}"#
    );

    let mut identities = fixture("http-trigger-with-identities.request.json");
    identities["Data"]["req"]["Url"] = "http://localhost:7071/echo".into();
    let (status, reply) = host.invoke("http", &identities).await;
    assert_eq!(status, 200, "{reply}");
    let echoed: Value =
        serde_json::from_str(reply["Outputs"]["res"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["body"], r#"{"message":"hello","number":2}"#);
    assert_eq!(echoed["query"], json!({}));

    // Binary request bodies arrive base64-encoded for octet-stream content.
    let binary = json!({"Data": {"req": {"Url": "http://localhost:7071/echo", "Method": "POST",
        "Headers": {"Content-Type": ["application/octet-stream"]}, "Body": "AP8="}}});
    let (_, reply) = host.invoke("http", &binary).await;
    let echoed: Value =
        serde_json::from_str(reply["Outputs"]["res"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["body"], "AP8=");

    assert!(host.terminate().success());
}

#[tokio::test]
async fn failures_retry_until_the_host_poisons_and_panics_are_isolated() {
    let mut host = Host::start(&[]).await;
    // The host redelivers a failed message with a growing DequeueCount.
    for attempt in 1..=2 {
        let (status, reply) = host
            .invoke("nubes-queue-orders", &queue_message(b"fail", attempt))
            .await;
        assert_eq!(status, 500, "{reply}");
        assert!(
            logs(&reply).contains("echo: asked to fail (the message will be retried)"),
            "{reply}"
        );
        assert_eq!(reply["error"]["kind"], "handler");
    }
    let (status, reply) = host
        .invoke("nubes-queue-orders", &queue_message(b"panic", 1))
        .await;
    assert_eq!(status, 500, "{reply}");
    assert!(logs(&reply).contains("echo: asked to panic"), "{reply}");
    let (status, reply) = host
        .invoke("nubes-queue-orders", &queue_message(b"permanent", 1))
        .await;
    assert_eq!(
        status, 200,
        "permanent errors complete the invocation: {reply}"
    );
    assert!(
        logs(&reply).contains("echo: asked to fail permanently"),
        "{reply}"
    );
    let (status, _) = host
        .invoke("nubes-queue-orders", &queue_message(&[0xff, 0x00], 1))
        .await;
    assert_eq!(status, 200, "the process survived the panic");
    let attempts: Vec<_> = host
        .lines()
        .iter()
        .map(|l| (l["body"].clone(), l["attempt"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            (json!("fail"), json!(1)),
            (json!("fail"), json!(2)),
            (json!("panic"), json!(1)),
            (json!("permanent"), json!(1)),
            (json!("/wA="), json!(1)),
        ]
    );
    assert!(host.terminate().success());
}

#[tokio::test]
async fn malformed_payloads_get_json_errors_and_never_kill_the_process() {
    let mut host = Host::start(&[
        ("NUBES_MAX_BODY_BYTES", "65536"),
        ("NUBES_AZURE_MAX_INVOCATION_BYTES", "65536"),
    ])
    .await;
    let bad: [(&str, &[u8], u16); 9] = [
        ("nubes-queue-orders", b"not json", 400),
        ("nubes-queue-orders", b"", 400),
        ("nubes-queue-orders", b"{\"Data\":[]}", 400),
        (
            "nubes-queue-orders",
            br#"{"Data":{"messageBase64":"%%%"}}"#,
            400,
        ),
        (
            "nubes-queue-orders",
            br#"{"Data":{"messageBase64":42}}"#,
            400,
        ),
        (
            "nubes-queue-orders",
            br#"{"Data":{"messageBase64":"aGk="},"Metadata":{"MessageId":1,"DeliveryCount":"x"}}"#,
            400,
        ),
        (
            "nubes-schedule-nightly",
            br#"{"Data":{"timer":[1,2]}}"#,
            400,
        ),
        (
            "nubes-storage-uploads",
            br#"{"Data":{"event":{"eventType":"Microsoft.Storage.BlobCreated"}}}"#,
            400,
        ),
        (
            "http",
            br#"{"Data":{"req":{"Method":"NOT A METHOD","Url":"/"}}}"#,
            400,
        ),
    ];
    for (function, body, expected) in bad {
        let (status, reply) = host.invoke_raw(function, body.to_vec()).await;
        let what = format!("{function} {}", String::from_utf8_lossy(body));
        assert_eq!(status, expected, "{what}: {reply}");
        if expected != 200 {
            assert_eq!(reply["error"]["kind"], "invalid_event", "{what}: {reply}");
            assert!(!logs(&reply).is_empty(), "{what}");
        }
    }
    let (status, reply) = host
        .invoke_raw("nubes-queue-orders", vec![b'x'; 70_000])
        .await;
    assert_eq!(status, 413, "{reply}");
    // The handler answered without reading the oversize body, so it closes
    // that connection: continue on a fresh one, as the host's client would.
    host.http = reqwest::Client::new();
    // A function echo does not have: with HTTP routes, echo's router answers.
    let res = host
        .http
        .post(host.url("/no-such-function"))
        .body("{\"Data\":{}}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // Nothing ran: delivery counts are read strictly, so even the Service Bus
    // message with a garbled `DeliveryCount` is refused as an invalid event.
    let lines = host.lines();
    assert!(lines.is_empty(), "{lines:?}");
    assert!(host.terminate().success());
}

#[tokio::test]
async fn proxied_http_reaches_the_routes_unchanged() {
    let mut host = Host::start(&[]).await;
    let text = host
        .http
        .get(host.url("/hello/world"))
        .header("x-azure-functions-invocationid", INVOCATION_ID)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "hello world");
    let res = host
        .http
        .post(host.url("/echo?b=2&a=1&a=x%20y"))
        .header("X-Custom", "Value")
        .header("content-type", "text/plain")
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["path"], "/echo");
    assert_eq!(body["query"], json!({"a": "1,x y", "b": "2"}));
    assert_eq!(body["headers"]["x-custom"], "Value");
    assert_eq!(body["body"], "payload");
    let res = host
        .http
        .post(host.url("/echo"))
        .body(vec![0u8, 0xff])
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["body"], "AP8=");
    // The HTTP function's own path, without an envelope, is an ordinary request.
    let res = host.http.get(host.url("/http")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(host.terminate().success());
}

#[tokio::test]
async fn logs_go_to_stdout_as_json_with_the_invocation_id() {
    let mut host = Host::start(&[]).await;
    let (status, _) = host
        .invoke("nubes-queue-orders", &queue_message(b"fail", 1))
        .await;
    assert_eq!(status, 500);
    assert!(host.terminate().success());
    let stdout = std::fs::read_to_string(host.stdout()).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "ERROR" && l.to_string().contains(INVOCATION_ID)),
        "{stdout}"
    );
}

/// The fixtures `every_request_fixture_reaches_echo` POSTs; a new request
/// fixture must be added there too.
#[test]
fn no_request_fixture_is_left_out() {
    let covered = [
        "event-grid-trigger.cloudevents-schema.request.json",
        "event-grid-trigger.eventgrid-schema.request.json",
        "http-trigger-order.request.json",
        "http-trigger-with-identities.request.json",
        "queue-trigger.request.json",
        "service-bus-trigger.request.json",
        "timer-trigger.request.json",
    ];
    let found: Vec<String> = nubes_test_support::fixtures::names("azure")
        .into_iter()
        .filter(|n| n.ends_with(".request.json"))
        .collect();
    assert_eq!(found, covered);
}

#[test]
fn azure_without_a_port_fails_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_echo"))
        .env("NUBES_PLATFORM", "azure")
        .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FUNCTIONS_CUSTOMHANDLER_PORT"), "{stderr}");
}
