//! The local runner over real loopback HTTP: queues with retries and dead
//! letters, storage through HTTP and through the folder, schedules, panics,
//! malformed input, traversal attempts and graceful shutdown.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent, permanent};
use nubes_local::{LocalConfig, LocalServer, start};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// What the handlers saw, in order.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Value>>>);

impl Seen {
    fn push(&self, v: Value) {
        self.0.lock().unwrap().push(v);
    }
    fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
    /// Waits until `pred` holds for the recorded events (at most 10 s).
    async fn wait_for(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..400 {
            let all = self.all();
            if pred(&all) {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}; seen: {:#?}", self.all());
    }
}

fn app(seen: &Seen) -> App {
    let q = seen.clone();
    let s = seen.clone();
    let t = seen.clone();
    let router = axum::Router::new()
        .route("/hi", axum::routing::get(|| async { "hi" }))
        .route(
            "/boom",
            axum::routing::get(|| async {
                if true {
                    panic!("http handler exploded");
                }
                "unreachable"
            }),
        )
        .route(
            "/ctx",
            axum::routing::get(
                |axum::Extension(ctx): axum::Extension<Context>| async move {
                    format!(
                        "{}:{}",
                        ctx.platform(),
                        ctx.trace().trace_id().unwrap_or("none")
                    )
                },
            ),
        );
    App::new()
        .http(router)
        .on_queue("jobs", move |msg: QueueMessage, ctx: Context| {
            let seen = q.clone();
            async move {
                seen.push(json!({
                    "kind": "queue", "id": msg.id, "body": msg.text()?, "attempt": msg.attempt,
                    "ctx_attempt": ctx.attempt(), "attributes": msg.attributes, "source": msg.source,
                }));
                match msg.text()? {
                    "fail" => Err::<(), BoxError>("asked to fail".into()),
                    "permanent" => Err(permanent("asked to fail permanently")),
                    "panic" => panic!("asked to panic"),
                    "slow" => {
                        tokio::time::sleep(Duration::from_millis(700)).await;
                        seen.push(json!({"kind": "queue", "body": "slow-done"}));
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        })
        .on_storage("files", move |ev: StorageEvent, _ctx: Context| {
            let seen = s.clone();
            async move {
                seen.push(json!({"kind": "storage", "action": ev.action.as_str(), "bucket": ev.bucket, "key": ev.key, "size": ev.size}));
                Ok::<(), BoxError>(())
            }
        })
        .on_schedule("tick", "* * * * * *", move |ev: ScheduledEvent, ctx: Context| {
            let seen = t.clone();
            async move {
                seen.push(json!({"kind": "schedule", "name": ev.name, "trigger": ctx.trigger(), "time": ev.scheduled_time}));
                Ok::<(), BoxError>(())
            }
        })
}

struct Runner {
    server: LocalServer,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    seen: Seen,
}

impl Runner {
    async fn start(max_attempts: u32, run_schedules: bool) -> Runner {
        Runner::start_in(
            tempfile::tempdir().unwrap(),
            max_attempts,
            run_schedules,
            Duration::from_millis(20),
        )
        .await
    }

    async fn start_in(
        dir: tempfile::TempDir,
        max_attempts: u32,
        run_schedules: bool,
        retry_delay: Duration,
    ) -> Runner {
        let seen = Seen::default();
        let mut config = LocalConfig::default();
        config.port = 0;
        config.data_dir = dir.path().join(".nubes");
        config.retry_delay = retry_delay;
        config.max_attempts = max_attempts;
        config.max_body_bytes = 1024;
        config.run_schedules = run_schedules;
        config.shutdown_grace = Duration::from_secs(5);
        let server = start(app(&seen), config).await.unwrap();
        assert!(server.local_addr().ip().is_loopback());
        Runner {
            server,
            dir,
            http: reqwest::Client::new(),
            seen,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    fn bucket_dir(&self) -> std::path::PathBuf {
        self.dir.path().join(".nubes/storage/files")
    }

    /// Sends raw bytes (no URL normalisation by a client library) and returns
    /// the status code and body.
    async fn raw(&self, request_line: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.server.local_addr())
            .await
            .unwrap();
        let req = format!(
            "{request_line} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        (status, body)
    }
}

#[tokio::test]
async fn queue_message_is_delivered_with_attributes() {
    let r = Runner::start(3, false).await;
    let res = r
        .http
        .post(r.url("/_nubes/queues/jobs"))
        .header("x-nubes-attr-tenant", "acme")
        .header("x-nubes-attr-Priority", "high")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = r.seen.wait_for("the message", |s| !s.is_empty()).await;
    assert_eq!(seen[0]["id"], id);
    assert_eq!(seen[0]["body"], "hello");
    assert_eq!(seen[0]["attempt"], 1);
    assert_eq!(seen[0]["source"], "jobs");
    assert_eq!(
        seen[0]["attributes"],
        json!({"tenant": "acme", "priority": "high"})
    );
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn failing_message_is_retried_with_rising_attempts_then_dead_lettered() {
    let r = Runner::start(4, false).await;
    let res = r
        .http
        .post(r.url("/_nubes/queues/jobs?wait=true"))
        .body("fail")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fate: Value = res.json().await.unwrap();
    assert_eq!(fate["status"], "dead_lettered");
    assert_eq!(fate["attempts"], 4);
    let attempts: Vec<_> = r
        .seen
        .all()
        .iter()
        .map(|v| v["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
    let ctx_attempts: Vec<_> = r
        .seen
        .all()
        .iter()
        .map(|v| v["ctx_attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(ctx_attempts, [1, 2, 3, 4]);

    let dead: Value = r
        .http
        .get(r.url("/_nubes/queues/jobs/dead"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["id"], fate["id"]);
    assert_eq!(dead[0]["attempts"], 4);
    assert_eq!(dead[0]["event"]["body"], "fail");
    assert!(dead[0]["error"].as_str().unwrap().contains("asked to fail"));
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn permanent_errors_are_not_retried_nor_dead_lettered() {
    let r = Runner::start(4, false).await;
    let fate: Value = r
        .http
        .post(r.url("/_nubes/queues/jobs?wait=true"))
        .body("permanent")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "failed_permanently");
    assert_eq!(fate["attempts"], 1);
    assert_eq!(r.seen.all().len(), 1);
    let dead: Value = r
        .http
        .get(r.url("/_nubes/queues/jobs/dead"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead, json!([]));
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_panicking_handler_fails_only_its_own_attempts() {
    let r = Runner::start(2, false).await;
    let fate: Value = r
        .http
        .post(r.url("/_nubes/queues/jobs?wait=true"))
        .body("panic")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "dead_lettered");
    assert!(
        fate["error"].as_str().unwrap().contains("asked to panic"),
        "{fate}"
    );
    // The runner still serves events and HTTP.
    let fate: Value = r
        .http
        .post(r.url("/_nubes/queues/jobs?wait=true"))
        .body("ok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "handled");
    let res = r.http.get(r.url("/boom")).send().await.unwrap();
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "handler");
    assert_eq!(
        r.http
            .get(r.url("/hi"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "hi"
    );
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn http_handlers_get_a_context() {
    let r = Runner::start(1, false).await;
    let res = r
        .http
        .get(r.url("/ctx"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.text().await.unwrap(),
        "local:4bf92f3577b34da6a3ce929d0e0e4736"
    );
    let res = r.http.get(r.url("/no/such/route")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_triggers_and_malformed_requests_get_json_errors() {
    let r = Runner::start(1, false).await;
    for (method, path) in [
        ("POST", "/_nubes/queues/nope"),
        ("GET", "/_nubes/queues/nope/dead"),
        ("POST", "/_nubes/schedules/nope"),
        ("PUT", "/_nubes/storage/nope/a.txt"),
        ("GET", "/_nubes/nothing-here"),
    ] {
        let res = r
            .http
            .request(method.parse().unwrap(), r.url(path))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"]["message"].is_string(),
            "{method} {path}: {body}"
        );
    }
    // Oversize body: 413 with a JSON error, nothing delivered.
    let res = r
        .http
        .post(r.url("/_nubes/queues/jobs"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["kind"],
        "invalid_event"
    );
    // Attribute header that is not text.
    let res = r
        .http
        .post(r.url("/_nubes/queues/jobs"))
        .header(
            "x-nubes-attr-bin",
            reqwest::header::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        )
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Wrong method on a nubes endpoint.
    let res = r
        .http
        .delete(r.url("/_nubes/queues/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.json::<Value>().await.unwrap()["error"].is_object());
    // Bad query string for ?wait.
    let res = r
        .http
        .post(r.url("/_nubes/queues/jobs?wait=perhaps"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"].is_object());
    // Invalid UTF-8 in a percent-encoded path segment.
    let (status, body) = r.raw("PUT /_nubes/storage/files/%ff%fe").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        r.seen.all().is_empty(),
        "nothing should have been delivered: {:?}",
        r.seen.all()
    );
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn storage_via_http_fires_created_and_deleted_once() {
    let r = Runner::start(1, false).await;
    let res = r
        .http
        .put(r.url("/_nubes/storage/files/photos/cat%20one.jpg"))
        .body("meow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["key"], "photos/cat one.jpg");
    assert_eq!(body["size"], 4);
    assert_eq!(
        std::fs::read(r.bucket_dir().join("photos/cat one.jpg")).unwrap(),
        b"meow"
    );
    let got = r
        .http
        .get(r.url("/_nubes/storage/files/photos/cat%20one.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"meow");

    let fate: Value = r
        .http
        .delete(r.url("/_nubes/storage/files/photos/cat%20one.jpg?wait=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "handled");
    assert!(!r.bucket_dir().join("photos/cat one.jpg").exists());
    let res = r
        .http
        .delete(r.url("/_nubes/storage/files/photos/cat%20one.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Give the watcher time to (wrongly) fire duplicates.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let seen = r.seen.all();
    assert_eq!(
        seen,
        [
            json!({"kind":"storage","action":"created","bucket":"files","key":"photos/cat one.jpg","size":4}),
            json!({"kind":"storage","action":"deleted","bucket":"files","key":"photos/cat one.jpg","size":null}),
        ]
    );
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_object_and_a_folder_of_the_same_name_clash_clearly() {
    let r = Runner::start(1, false).await;
    let put = |key: &'static str| {
        r.http
            .put(r.url(&format!("/_nubes/storage/files/{key}")))
            .body("x")
            .send()
    };
    assert_eq!(put("cats").await.unwrap().status(), 201);
    let res = put("cats/tom.txt").await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`cats` is an object"),
        "{body}"
    );
    assert_eq!(put("dogs/rex.txt").await.unwrap().status(), 201);
    assert_eq!(put("dogs").await.unwrap().status(), 400);
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn files_changed_by_other_programs_fire_events() {
    let r = Runner::start(1, false).await;
    let dir = r.bucket_dir();
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(dir.join("in/report.csv"), "a,b\n1,2\n").unwrap();
    let seen = r
        .seen
        .wait_for("created from the folder", |s| !s.is_empty())
        .await;
    assert_eq!(
        seen[0],
        json!({"kind":"storage","action":"created","bucket":"files","key":"in/report.csv","size":8})
    );
    std::fs::remove_file(dir.join("in/report.csv")).unwrap();
    let seen = r
        .seen
        .wait_for("deleted from the folder", |s| s.len() >= 2)
        .await;
    assert_eq!(seen[1]["action"], "deleted");
    assert_eq!(seen[1]["key"], "in/report.csv");
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn traversal_attempts_are_rejected_and_write_nothing() {
    let r = Runner::start(1, false).await;
    let attempts = [
        "PUT /_nubes/storage/files/..%2F..%2Fescaped",
        "PUT /_nubes/storage/files/%2e%2e/escaped",
        "PUT /_nubes/storage/files/a/%2E%2E/%2E%2E/escaped",
        "PUT /_nubes/storage/files/..%5C..%5Cescaped",
        "PUT /_nubes/storage/files/%2Fetc%2Fescaped",
        "PUT /_nubes/storage/files/a//escaped",
        "PUT /_nubes/storage/files/a%00b",
        "DELETE /_nubes/storage/files/..%2F..%2Fetc",
        "GET /_nubes/storage/files/..%2F..%2F..%2Fetc%2Fpasswd",
    ];
    for line in attempts {
        let (status, body) = r.raw(line).await;
        assert_eq!(status, 400, "{line}: {body}");
        assert!(body.contains("invalid_event"), "{line}: {body}");
    }
    // A double-encoded key is decoded once: a harmless literal file name.
    let (status, _) = r.raw("PUT /_nubes/storage/files/%252e%252e").await;
    assert_eq!(status, 201);
    assert!(r.bucket_dir().join("%2e%2e").is_file());
    let outside: Vec<_> = std::fs::read_dir(r.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        outside,
        [std::ffi::OsString::from(".nubes")],
        "nothing written outside the data folder"
    );
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn schedules_fire_on_their_cron_and_by_hand() {
    let r = Runner::start(1, true).await;
    let seen = r
        .seen
        .wait_for("two cron firings", |s| {
            s.iter().filter(|v| v["kind"] == "schedule").count() >= 2
        })
        .await;
    let times: Vec<nubes_core::chrono::DateTime<nubes_core::chrono::Utc>> = seen
        .iter()
        .map(|v| serde_json::from_value(v["time"].clone()).unwrap())
        .collect();
    assert_eq!(
        times[0].timestamp_subsec_nanos(),
        0,
        "scheduled times are on the second"
    );
    assert_eq!((times[1] - times[0]).num_seconds(), 1);
    assert_eq!(seen[0]["trigger"], "tick");
    r.server.shutdown().await.unwrap();

    let r = Runner::start(1, false).await;
    let fate: Value = r
        .http
        .post(r.url("/_nubes/schedules/tick?wait=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "handled");
    assert_eq!(r.seen.all()[0]["name"], "tick");
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn triggers_are_listed() {
    let r = Runner::start(1, false).await;
    let body: Value = r
        .http
        .get(r.url("/_nubes/triggers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"http": true, "triggers": [
            {"kind": "queue", "name": "jobs"},
            {"kind": "storage", "name": "files"},
            {"kind": "schedule", "name": "tick", "schedule": "* * * * * *"},
        ]})
    );
    let console = r
        .http
        .get(r.url("/_nubes/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(console.contains("nubes dev console"));
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_drains_in_flight_deliveries_and_refuses_new_work() {
    let r = Runner::start(1, false).await;
    let res = r
        .http
        .post(r.url("/_nubes/queues/jobs"))
        .body("slow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    r.seen
        .wait_for("the slow handler to start", |s| !s.is_empty())
        .await;
    let url = r.url("/_nubes/queues/jobs");
    let seen = r.seen.clone();
    r.server.shutdown().await.unwrap();
    assert!(
        seen.all().iter().any(|v| v["body"] == "slow-done"),
        "the in-flight handler finished before shutdown returned: {:?}",
        seen.all()
    );
    assert!(
        reqwest::Client::new()
            .post(url)
            .body("late")
            .send()
            .await
            .is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn invalid_apps_fail_at_start() {
    async fn h(_: ScheduledEvent, _: Context) -> Result<(), BoxError> {
        Ok(())
    }
    let mut config = LocalConfig::default();
    config.port = 0;
    let err = start(
        App::new().on_schedule("bad", "0 0 0 31 2 * 2026", h),
        config,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
    assert!(err.to_string().contains("seconds"), "{err}");
}

#[tokio::test]
async fn events_awaiting_a_retry_survive_a_restart_and_dead_letters_persist() {
    // First run: the retry delay is long, so the message waits in the spool.
    let r = Runner::start_in(
        tempfile::tempdir().unwrap(),
        3,
        false,
        Duration::from_secs(60),
    )
    .await;
    let res = r
        .http
        .post(r.url("/_nubes/queues/jobs"))
        .body("fail")
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"].clone();
    r.seen
        .wait_for("the first attempt", |s| !s.is_empty())
        .await;
    let Runner { server, dir, .. } = r;
    server.shutdown().await.unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join(".nubes/spool"))
            .unwrap()
            .count(),
        1,
        "the message is spooled"
    );

    // Second run on the same folder: attempts 2 and 3, then the dead letter.
    let r = Runner::start_in(dir, 3, false, Duration::from_millis(20)).await;
    let seen = r.seen.wait_for("attempts 2 and 3", |s| s.len() >= 2).await;
    let attempts: Vec<_> = seen.iter().map(|v| v["attempt"].clone()).collect();
    assert_eq!(attempts, [json!(2), json!(3)]);
    assert!(seen.iter().all(|v| v["id"] == id));
    let dead = loop {
        let dead: Value = r
            .http
            .get(r.url("/_nubes/queues/jobs/dead"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !dead.as_array().unwrap().is_empty() {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(dead[0]["id"], id);
    let Runner { server, dir, .. } = r;
    server.shutdown().await.unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join(".nubes/spool"))
            .unwrap()
            .count(),
        0,
        "finished events leave the spool"
    );

    // Third run: the dead letter is still listed, nothing is redelivered.
    let r = Runner::start_in(dir, 3, false, Duration::from_millis(20)).await;
    let dead: Value = r
        .http
        .get(r.url("/_nubes/queues/jobs/dead"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead[0]["id"], id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(r.seen.all().is_empty());
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_thousand_messages_with_transient_failures_are_all_handled_once() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU32, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let successes: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let failures = Arc::new(AtomicU32::new(0));
    let (ok, failed) = (successes.clone(), failures.clone());
    let app = App::new().on_queue("bulk", move |msg: QueueMessage, _ctx: Context| {
        let (ok, failed) = (ok.clone(), failed.clone());
        async move {
            let n: u32 = msg.text()?.parse()?;
            // Every tenth message fails its first two deliveries.
            if n.is_multiple_of(10) && msg.attempt <= 2 {
                failed.fetch_add(1, Ordering::Relaxed);
                return Err::<(), BoxError>("transient failure".into());
            }
            *ok.lock().unwrap().entry(msg.id.clone()).or_default() += 1;
            Ok(())
        }
    });
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().join(".nubes");
    config.retry_delay = Duration::from_millis(10);
    config.max_attempts = 5;
    config.run_schedules = false;
    let server = start(app, config).await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/_nubes/queues/bulk", server.url());
    let mut ids = Vec::new();
    for n in 0..1000u32 {
        let res = http.post(&url).body(n.to_string()).send().await.unwrap();
        assert_eq!(res.status(), 202);
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let started = std::time::Instant::now();
    while successes.lock().unwrap().len() < 1000 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {} handled",
            successes.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await.unwrap();
    let successes = successes.lock().unwrap();
    assert!(
        ids.iter().all(|id| successes.get(id) == Some(&1)),
        "every message handled exactly once"
    );
    assert_eq!(
        failures.load(Ordering::Relaxed),
        200,
        "100 messages failed twice each"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join(".nubes/spool"))
            .unwrap()
            .count(),
        0,
        "nothing left unfinished"
    );
}

#[tokio::test]
async fn other_methods_on_the_console_get_a_json_405() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().join(".nubes");
    let server = start(App::new(), config).await.unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/_nubes/", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let json: Value = res.json().await.unwrap();
    assert!(json["error"]["message"].is_string(), "{json}");
    server.shutdown().await.unwrap();
}
