//! Body limits and slow clients on every kind of route of the local runner:
//! queue messages, storage uploads (streamed to disk) and the app's own routes.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage, StorageEvent};
use nubes_local::{LocalConfig, start};
use nubes_serve::testing::check_limits;

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
