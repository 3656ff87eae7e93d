//! Body limits and slow clients on every kind of route of the local runner:
//! queue messages, storage uploads (streamed to disk) and the app's own routes.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage, StorageEvent};
use nubes_local::{LocalConfig, start};
use nubes_serve::testing::{check_limits, check_malformed_chunks};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const LIMIT: u64 = 1000;
const HEADER_TIMEOUT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn oversize_bodies_and_stalled_clients_are_refused_on_every_route() {
    let handled = Arc::new(AtomicUsize::new(0));
    let (q, s) = (handled.clone(), handled.clone());
    let router = axum::Router::new().route(
        "/echo",
        axum::routing::post(|body: axum::body::Bytes| async move { body }),
    );
    let app = App::new()
        .http(router)
        .on_queue("jobs", move |_: QueueMessage, _: Context| {
            let handled = q.clone();
            async move {
                handled.fetch_add(1, Ordering::SeqCst);
                Ok::<(), BoxError>(())
            }
        })
        .on_storage("uploads", move |_: StorageEvent, _: Context| {
            let handled = s.clone();
            async move {
                handled.fetch_add(1, Ordering::SeqCst);
                Ok::<(), BoxError>(())
            }
        });
    let dir = tempfile::tempdir().unwrap();
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().to_owned();
    config.run_schedules = false;
    config.watch_storage = false;
    config.max_body_bytes = LIMIT as usize;
    config.header_read_timeout = HEADER_TIMEOUT;
    config.body_read_timeout = Duration::from_millis(300);
    // nubes-serve's misbehaving clients send `Host: test`.
    config.allowed_hosts = vec!["test".to_owned()];
    let server = start(app, config).await.unwrap();
    let addr = server.local_addr();
    for (method, path) in [
        ("POST", "/_nubes/queues/jobs"),
        ("PUT", "/_nubes/storage/uploads/big.bin"),
        ("POST", "/echo"),
    ] {
        let figures = check_limits(addr, method, path, LIMIT, HEADER_TIMEOUT).await;
        assert!(figures.declared < Duration::from_secs(1), "{figures:?}");
        eprintln!("local {method} {path}: {figures:?}");
    }
    // Issue #23: broken chunked framing is the client's error.
    check_malformed_chunks(addr, "POST", "/_nubes/queues/jobs").await;
    // Nothing was accepted: no event, no object, no leftover upload.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(handled.load(Ordering::SeqCst), 0);
    let res = reqwest::get(format!("{}/_nubes/storage/uploads/big.bin", server.url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let stray: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("upload"))
        .collect();
    assert!(
        stray.iter().all(|p| p.is_dir()),
        "partial uploads left behind: {stray:?}"
    );
    // Within the limit, uploads still work.
    let res = reqwest::Client::new()
        .put(format!("{}/_nubes/storage/uploads/ok.bin", server.url()))
        .body(vec![b'x'; LIMIT as usize])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    server.shutdown().await.unwrap();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

/// docs/local.md: the app's own routes have the default 6 MiB limit too; a
/// 7 MB `POST /echo` is a JSON `413` naming the setting, unseen by the app.
/// Below it, axum's own extractor limit (2 MB) is the app's to lift.
#[tokio::test]
async fn the_default_limit_applies_to_the_apps_routes() {
    let reached = Arc::new(AtomicUsize::new(0));
    let seen = reached.clone();
    let echo = move |body: axum::body::Bytes| {
        seen.fetch_add(1, Ordering::SeqCst);
        async move { body.len().to_string() }
    };
    let router = axum::Router::new()
        .route("/echo", axum::routing::post(echo.clone()))
        .route(
            "/unlimited",
            axum::routing::post(echo).layer(axum::extract::DefaultBodyLimit::disable()),
        );
    let dir = tempfile::tempdir().unwrap();
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().to_owned();
    config.run_schedules = false;
    assert_eq!(config.max_body_bytes, 6 * 1024 * 1024);
    let server = start(App::new().http(router), config).await.unwrap();
    // The 7 MB are announced, not sent: the server answers without reading
    // them (a client still writing could see the closed socket instead).
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let head = "POST /echo HTTP/1.1\r\nhost: localhost\r\ncontent-length: 7000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 413 "), "{reply}");
    let (_, body) = reply.split_once("\r\n\r\n").unwrap();
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["kind"], "invalid_event", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("NUBES_MAX_BODY_BYTES"), "{message}");
    assert_eq!(reached.load(Ordering::SeqCst), 0);
    let http = reqwest::Client::new();
    let post = |path: &str, len: usize| {
        http.post(format!("{}{path}", server.url()))
            .body(vec![b'x'; len])
            .send()
    };
    let res = post("/unlimited", 6 * 1024 * 1024).await.unwrap();
    assert_eq!(res.status(), 200, "at the runner's limit");
    assert_eq!(res.text().await.unwrap(), (6 * 1024 * 1024).to_string());
    // axum's `Bytes` extractor has its own 2 MB default: not the runner's.
    let res = post("/echo", 2 * 1024 * 1024 + 1).await.unwrap();
    assert_eq!(res.status(), 413, "axum's DefaultBodyLimit");
    assert!(!res.text().await.unwrap().contains("NUBES_MAX_BODY_BYTES"));
    assert_eq!(reached.load(Ordering::SeqCst), 1);
    server.shutdown().await.unwrap();
}
