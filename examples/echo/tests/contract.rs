//! The echo contract, checked on the real `echo` binary started as a newcomer
//! would start it (`cargo run -p echo`), over loopback HTTP.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nubes_test_support::bound_port::bound_port;
use nubes_test_support::process::Group;
use serde_json::{Value, json};

struct Echo {
    process: Group,
    base: String,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Echo {
    async fn start() -> Echo {
        Echo::start_in(tempfile::tempdir().unwrap(), "50").await
    }

    async fn start_in(dir: tempfile::TempDir, retry_delay_ms: &str) -> Echo {
        // Port 0: the OS picks it, and the runner's start-up line says which.
        let log = std::fs::File::create(dir.path().join("runner.log")).unwrap();
        let process = Group::spawn(
            Command::new(env!("CARGO_BIN_EXE_echo"))
                .current_dir(dir.path())
                .env("PORT", "0")
                .env("NUBES_ECHO_FILE", dir.path().join("echo.jsonl"))
                .env("NUBES_LOCAL_RETRY_DELAY_MS", retry_delay_ms)
                .env("NUBES_LOCAL_MAX_ATTEMPTS", "3")
                .env("NUBES_LOCAL_SCHEDULES", "false")
                .env("RUST_LOG", "warn")
                .env_remove("NUBES_PLATFORM")
                .env_remove("NUBES_LOCAL_DIR")
                .stdout(Stdio::null())
                .stderr(Stdio::from(log)),
        );
        let port = bound_port(
            dir.path(),
            "runner.log",
            "listening on",
            Duration::from_secs(20),
        );
        Echo {
            process,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("echo.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    async fn wait_lines(&self, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let lines = self.lines();
            if pred(&lines) {
                return lines;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "timed out; lines: {lines:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn uploads(&self) -> PathBuf {
        self.dir.path().join(".nubes/storage/uploads")
    }

    /// SIGTERM, then the exit status (the runner drains and exits by itself).
    fn terminate(mut self) -> std::process::ExitStatus {
        self.process.terminate(Duration::from_secs(15))
    }
}

#[tokio::test]
async fn http_routes() {
    let echo = Echo::start().await;
    let text = echo
        .http
        .get(echo.url("/hello/world"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "hello world");

    let res = echo
        .http
        .post(echo.url("/echo?b=2&a=1&a=x%20y"))
        .header("X-Custom", "Value")
        .header("content-type", "text/plain")
        .body("payload")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["method"], "POST");
    assert_eq!(body["path"], "/echo");
    assert_eq!(body["query"], json!({"a": "1,x y", "b": "2"}));
    assert_eq!(body["headers"]["x-custom"], "Value");
    assert_eq!(body["headers"]["content-type"], "text/plain");
    assert_eq!(body["body"], "payload");

    let res = echo
        .http
        .post(echo.url("/echo"))
        .body(vec![0u8, 0xff])
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["body"], "AP8=");
    assert!(echo.terminate().success());
}

#[tokio::test]
async fn queue_lines_retries_and_dead_letters() {
    let echo = Echo::start().await;
    let res = echo
        .http
        .post(echo.url("/_nubes/queues/orders"))
        .header("x-nubes-attr-tenant", "acme")
        .body("first order")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["id"].clone();
    let lines = echo.wait_lines(|l| !l.is_empty()).await;
    assert_eq!(
        lines[0],
        json!({"kind":"queue","trigger":"orders","id":id,"body":"first order","attributes":{"tenant":"acme"},"attempt":1})
    );

    let fate: Value = echo
        .http
        .post(echo.url("/_nubes/queues/orders?wait=true"))
        .body("fail")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "dead_lettered");
    let fails: Vec<_> = echo
        .lines()
        .into_iter()
        .filter(|l| l["body"] == "fail")
        .map(|l| l["attempt"].clone())
        .collect();
    assert_eq!(fails, [json!(1), json!(2), json!(3)]);
    let dead: Value = echo
        .http
        .get(echo.url("/_nubes/queues/orders/dead"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead[0]["id"], fate["id"]);
    assert_eq!(dead[0]["attempts"], 3);

    let fate: Value = echo
        .http
        .post(echo.url("/_nubes/queues/orders?wait=true"))
        .body("panic")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "dead_lettered");
    let fate: Value = echo
        .http
        .post(echo.url("/_nubes/queues/orders?wait=true"))
        .body("permanent")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "failed_permanently");
    assert_eq!(fate["attempts"], 1);

    let fate: Value = echo
        .http
        .post(echo.url("/_nubes/queues/orders?wait=true"))
        .body(vec![0xffu8, 0x00])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "handled");
    assert_eq!(echo.lines().last().unwrap()["body"], "/wA=");

    let dead: Value = echo
        .http
        .get(echo.url("/_nubes/queues/orders/dead"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        dead.as_array().unwrap().len(),
        2,
        "fail and panic, not permanent: {dead}"
    );
    assert!(echo.terminate().success());
}

#[tokio::test]
async fn storage_schedule_and_traversal() {
    let echo = Echo::start().await;
    let res = echo
        .http
        .put(echo.url("/_nubes/storage/uploads/docs/a%20b.txt?wait=true"))
        .body("12345")
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "handled");
    assert_eq!(
        echo.lines().last().unwrap(),
        &json!({"kind":"storage","trigger":"uploads","action":"created","bucket":"uploads","key":"docs/a b.txt","size":5})
    );
    let res = echo
        .http
        .delete(echo.url("/_nubes/storage/uploads/docs/a%20b.txt?wait=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "handled");
    assert_eq!(
        echo.lines().last().unwrap(),
        &json!({"kind":"storage","trigger":"uploads","action":"deleted","bucket":"uploads","key":"docs/a b.txt","size":null})
    );

    std::fs::write(echo.uploads().join("dropped.bin"), [1u8, 2, 3]).unwrap();
    let lines = echo
        .wait_lines(|l| l.iter().any(|l| l["key"] == "dropped.bin"))
        .await;
    assert_eq!(lines.last().unwrap()["action"], "created");
    assert_eq!(lines.last().unwrap()["size"], 3);

    let res = echo
        .http
        .post(echo.url("/_nubes/schedules/nightly?wait=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "handled");
    let line = echo.lines().last().unwrap().clone();
    assert_eq!(line["kind"], "schedule");
    assert_eq!(line["trigger"], "nightly");
    let time = line["scheduled_time"].as_str().unwrap();
    assert!(chrono_like_rfc3339(time), "{time}");

    for bad in ["..%2Fescape", "%2e%2e%2Fescape", "a%5C..%5Cb"] {
        let res = echo
            .http
            .put(echo.url(&format!("/_nubes/storage/uploads/{bad}")))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert!(!echo.dir.path().join(".nubes/storage/escape").exists());
    assert!(!Path::new(&echo.dir.path().join("escape")).exists());
    assert!(echo.terminate().success());
}

#[tokio::test]
async fn a_crash_loses_no_message() {
    // A message waits for its retry when the process is killed outright.
    let echo = Echo::start_in(tempfile::tempdir().unwrap(), "60000").await;
    let res = echo
        .http
        .post(echo.url("/_nubes/queues/orders"))
        .body("fail")
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"].clone();
    echo.wait_lines(|l| l.len() == 1).await;
    let mut echo = echo;
    echo.process.child().kill().unwrap(); // SIGKILL: no chance to clean up
    echo.process.child().wait().unwrap();
    let dir = std::mem::replace(&mut echo.dir, tempfile::tempdir().unwrap());
    drop(echo);

    // Restarted on the same folder, it redelivers the message: attempts 2, 3, then dead.
    let echo = Echo::start_in(dir, "50").await;
    let lines = echo.wait_lines(|l| l.len() == 3).await;
    let attempts: Vec<_> = lines
        .iter()
        .map(|l| (l["id"].clone(), l["attempt"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            (id.clone(), json!(1)),
            (id.clone(), json!(2)),
            (id.clone(), json!(3))
        ]
    );
    let started = Instant::now();
    loop {
        let dead: Value = echo
            .http
            .get(echo.url("/_nubes/queues/orders/dead"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if dead.as_array().is_some_and(|d| d.len() == 1) {
            assert_eq!(dead[0]["id"], id);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no dead letter: {dead}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(echo.terminate().success());
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn chrono_like_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && (s.ends_with('Z') || s.ends_with("+00:00"))
}

#[test]
fn describe_mode_prints_the_triggers_without_serving() {
    let out = Command::new(env!("CARGO_BIN_EXE_echo"))
        .env("NUBES_DESCRIBE", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        d,
        json!({"http": true, "triggers": [
            {"kind":"queue","name":"orders"},
            {"kind":"storage","name":"uploads"},
            {"kind":"schedule","name":"nightly","schedule":"0 3 * * *"}
        ]})
    );
}

#[test]
fn bad_settings_fail_at_start_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_echo"))
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PORT=`eighty`"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_echo"))
        .env("NUBES_PLATFORM", "aws")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.to_lowercase().contains("aws"), "{stderr}");
}
