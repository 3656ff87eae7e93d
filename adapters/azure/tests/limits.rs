//! Body limits and slow clients on the host's invocation requests and on the
//! app's own (forwarded) routes, each with its own limit.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use nubes_azure::AzureConfig;
use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_serve::testing::{check_limits, check_malformed_chunks};

const USER_LIMIT: u64 = 1000;
const INVOCATION_LIMIT: u64 = 3000;
const HEADER_TIMEOUT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn oversize_bodies_and_stalled_clients_are_refused_on_every_route() {
    let router = axum::Router::new().route(
        "/echo",
        axum::routing::post(|body: axum::body::Bytes| async move { body }),
    );
    let app = App::new()
        .http(router)
        .on_queue("orders", |_: QueueMessage, _: Context| async {
            Err::<(), BoxError>("no message should arrive".into())
        });
    let mut config = AzureConfig::default();
    config.max_body_bytes = USER_LIMIT as usize;
    config.max_invocation_bytes = INVOCATION_LIMIT as usize;
    config.header_read_timeout = HEADER_TIMEOUT;
    config.body_read_timeout = Duration::from_millis(300);
    let server = nubes_azure::start(app, config).await.unwrap();
    let addr = server.local_addr();
    for (path, limit) in [
        ("/echo", USER_LIMIT),
        ("/nubes-queue-orders", INVOCATION_LIMIT),
        ("/http", INVOCATION_LIMIT),
    ] {
        let figures = check_limits(addr, "POST", path, limit, HEADER_TIMEOUT).await;
        assert!(figures.declared < Duration::from_secs(1), "{figures:?}");
        eprintln!("azure POST {path}: {figures:?}");
    }
    // Each 413 names the setting that sets its limit.
    for (path, limit, setting) in [
        ("/echo", USER_LIMIT, "(NUBES_MAX_BODY_BYTES)"),
        (
            "/nubes-queue-orders",
            INVOCATION_LIMIT,
            "(NUBES_AZURE_MAX_INVOCATION_BYTES)",
        ),
    ] {
        let reply = declared_too_large(addr, path, limit).await;
        assert!(reply.starts_with("HTTP/1.1 413 "), "{path}: {reply}");
        assert!(reply.contains(setting), "{path}: {reply}");
    }
    // Issue #23: broken chunked framing of an invocation is the sender's error.
    check_malformed_chunks(addr, "POST", "/nubes-queue-orders").await;
    // An invocation between the two limits is accepted (and reaches its handler).
    let envelope = serde_json::json!({"Data": {"orders": "x".repeat(2000)}, "Metadata": {}});
    let res = reqwest::Client::new()
        .post(format!("{}/nubes-queue-orders", server.url()))
        .body(envelope.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    let reply = res.text().await.unwrap();
    assert!(
        reply.contains("no message should arrive"),
        "{status}: {reply}"
    );
    server.shutdown().await.unwrap();
}

/// The raw reply to `POST path` announcing one byte over `limit` (not sent).
async fn declared_too_large(addr: std::net::SocketAddr, path: &str, limit: u64) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n\r\n",
        limit + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}
