//! Events at the edges of the spool: a storage change whose event cannot be
//! spooled is not made; spool records with absurd attempt counts or a file
//! name other than their id are finished once; dead letters and `?wait=true`
//! errors read as docs/echo-contract.md shows them.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage, StorageEvent};
use nubes_local::{LocalConfig, LocalServer, start};
use nubes_test_support::wait;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the handlers saw: `created a.txt`, `queue x attempt 1`, ….
type Seen = Arc<Mutex<Vec<String>>>;

fn app(seen: &Seen) -> App {
    let (q, s) = (seen.clone(), seen.clone());
    App::new()
        .on_queue("jobs", move |msg: QueueMessage, _: Context| {
            let seen = q.clone();
            async move {
                let body = msg.text()?.to_owned();
                seen.lock()
                    .unwrap()
                    .push(format!("queue {body} attempt {}", msg.attempt));
                match body.as_str() {
                    "fail" => Err::<(), BoxError>("asked to fail".into()),
                    _ => Ok(()),
                }
            }
        })
        .on_storage("uploads", move |ev: StorageEvent, _: Context| {
            let seen = s.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(format!("{} {}", ev.action.as_str(), ev.key));
                Ok::<(), BoxError>(())
            }
        })
}

async fn runner(data_dir: &Path, seen: &Seen) -> LocalServer {
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = data_dir.to_owned();
    config.run_schedules = false;
    config.watch_storage = false;
    config.max_attempts = 3;
    config.retry_delay = Duration::from_millis(10);
    start(app(seen), config).await.unwrap()
}

fn spool_files(data_dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data_dir.join("spool"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect()
}

/// Waits (at most 10 s) until the spool has no record left.
async fn spool_drained(data_dir: &Path) {
    wait::until("the spool drains", Duration::from_secs(10), || {
        spool_files(data_dir).is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_storage_change_whose_event_cannot_be_spooled_is_not_made() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seen = Seen::default();
    let server = runner(&data, &seen).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/_nubes/storage/uploads/{path}", server.url());
    let res = http
        .put(url("kept.txt?wait=true"))
        .body("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The spool folder becomes a file: no record can be written, whoever
    // runs the tests (root ignores permissions, not this).
    let spool = data.join("spool");
    std::fs::remove_dir(&spool).unwrap();
    std::fs::write(&spool, "not a folder").unwrap();
    let objects = data.join("storage/uploads");
    for (what, request) in [
        ("PUT new", http.put(url("a.txt")).body("new")),
        ("PUT over", http.put(url("kept.txt")).body("v2")),
        ("DELETE", http.delete(url("kept.txt"))),
    ] {
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["kind"], "platform", "{what}: {body}");
        assert!(!objects.join("a.txt").exists(), "{what}: not written");
        assert_eq!(
            std::fs::read_to_string(objects.join("kept.txt")).unwrap(),
            "v1",
            "{what}: neither replaced nor deleted"
        );
    }
    assert_eq!(
        std::fs::read_dir(data.join("tmp")).unwrap().count(),
        0,
        "no upload or deleted object left behind"
    );

    // Once the spool can be written again, the same requests work, each
    // with its one event.
    std::fs::remove_file(&spool).unwrap();
    std::fs::create_dir(&spool).unwrap();
    for request in [
        http.put(url("a.txt?wait=true")).body("new"),
        http.delete(url("kept.txt?wait=true")),
    ] {
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(
        *seen.lock().unwrap(),
        ["created kept.txt", "created a.txt", "deleted kept.txt"]
    );
    assert_eq!(std::fs::read_dir(data.join("tmp")).unwrap().count(), 0);
    server.shutdown().await.unwrap();
}

/// A spooled queue record as the runner writes it.
fn record(id: &str, body: &str, attempts_done: u32) -> Value {
    json!({
        "id": id,
        "trigger": "jobs",
        "traceparent": null,
        "event": {"kind": "queue", "event": {
            "id": id, "body": body, "body_encoding": "text", "attempt": 1, "source": "jobs"
        }},
        "attempts_done": attempts_done,
    })
}

#[tokio::test]
async fn odd_spool_records_are_finished_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("spool")).unwrap();
    let write = |file: &str, value: Value| {
        std::fs::write(data.join("spool").join(file), value.to_string()).unwrap();
    };
    // Every attempt used up, and more: dead-lettered without a delivery
    // (no overflow, no panic).
    write("exhausted.json", record("exhausted", "never", u32::MAX));
    // A file named otherwise than its id: delivered, then removed.
    write("renamed.json", record("other-id", "once", 0));
    let seen = Seen::default();
    let server = runner(&data, &seen).await;
    spool_drained(&data).await;
    let dead: Value = reqwest::get(format!("{}/_nubes/queues/jobs/dead", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["id"], "exhausted");
    assert_eq!(dead[0]["attempts"], u32::MAX);
    assert_eq!(*seen.lock().unwrap(), ["queue once attempt 1"]);
    server.shutdown().await.unwrap();

    // The next start finds nothing to deliver again.
    let seen = Seen::default();
    let server = runner(&data, &seen).await;
    let res = reqwest::Client::new()
        .post(format!("{}/_nubes/queues/jobs?wait=true", server.url()))
        .body("marker")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(*seen.lock().unwrap(), ["queue marker attempt 1"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn errors_carry_their_kind_as_the_contract_shows() {
    let dir = tempfile::tempdir().unwrap();
    let seen = Seen::default();
    let server = runner(dir.path(), &seen).await;
    let fate: Value = reqwest::Client::new()
        .post(format!("{}/_nubes/queues/jobs?wait=true", server.url()))
        .body("fail")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fate["status"], "dead_lettered", "{fate}");
    assert_eq!(fate["error"], "handler error: asked to fail", "{fate}");
    let dead: Value = reqwest::get(format!("{}/_nubes/dead", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead[0]["error"], "handler error: asked to fail", "{dead}");
    server.shutdown().await.unwrap();
}
