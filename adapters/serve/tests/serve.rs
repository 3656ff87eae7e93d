//! The shared server loop over real loopback connections: body limits,
//! header and body read timeouts, graceful shutdown.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use nubes_core::CancellationToken;
use nubes_serve::ServeConfig;
use nubes_serve::testing::{check_limits, exchange};
use tokio::task::JoinHandle;

const LIMIT: u64 = 1000;

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    /// `/slow` requests that reached their handler.
    slow_started: Arc<AtomicUsize>,
}

async fn start(config: ServeConfig) -> Server {
    let slow_started = Arc::new(AtomicUsize::new(0));
    let counter = slow_started.clone();
    let router = axum::Router::new()
        .route("/echo", post(|body: axum::body::Bytes| async move { body }))
        // Reads the body as a stream, as a storage upload does.
        .route(
            "/stream",
            post(|body: axum::body::Body| async move {
                use http_body_util::BodyExt as _;
                match body.collect().await {
                    Ok(b) => format!("{} bytes", b.to_bytes().len()),
                    Err(e) => format!("broken: {e}"),
                }
            }),
        )
        .route(
            "/slow",
            get(move || async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(400)).await;
                "slow"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(nubes_serve::serve(
        listener,
        router,
        LIMIT,
        config,
        shutdown.clone(),
    ));
    Server {
        addr,
        shutdown,
        task,
        slow_started,
    }
}

fn short() -> ServeConfig {
    ServeConfig::new(Duration::from_millis(300), Duration::from_millis(300))
}

#[tokio::test]
async fn limits_hold_on_buffered_and_streamed_bodies() {
    let server = start(short()).await;
    for path in ["/echo", "/stream"] {
        let figures =
            check_limits(server.addr, "POST", path, LIMIT, Duration::from_millis(300)).await;
        assert!(figures.declared < Duration::from_secs(1), "{figures:?}");
    }
    // Within the limit, both work.
    let client = reqwest::Client::new();
    let res = client
        .post(format!("http://{}/stream", server.addr))
        .body(vec![b'x'; LIMIT as usize])
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "1000 bytes");
}

#[tokio::test]
async fn a_stalled_body_is_answered_408() {
    let server = start(short()).await;
    let request = b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\nonly ten..";
    let stalled = exchange(server.addr, request, Duration::from_secs(3)).await;
    assert_eq!(stalled.status, Some(408), "{stalled:?}");
    assert!(
        stalled.body().contains("NUBES_BODY_READ_TIMEOUT_MS"),
        "{stalled:?}"
    );
    assert!(stalled.elapsed >= Duration::from_millis(250), "{stalled:?}");
    assert!(stalled.elapsed < Duration::from_secs(2), "{stalled:?}");
}

#[tokio::test]
async fn keep_alive_requests_after_a_refusal_are_not_affected() {
    let server = start(short()).await;
    // Two requests on one connection; the first within limits.
    let two = b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\n\r\nhiGET /slow HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n";
    let seen = exchange(server.addr, two, Duration::from_secs(3)).await;
    assert_eq!(seen.text.matches("HTTP/1.1 200").count(), 2, "{seen:?}");
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_and_refuses_new_ones() {
    let server = start(ServeConfig::DEFAULT).await;
    let url = format!("http://{}/slow", server.addr);
    let client = reqwest::Client::new();
    let in_flight: Vec<_> = (0..8)
        .map(|_| tokio::spawn(client.get(&url).send()))
        .collect();
    // Shut down only once all eight are being handled.
    let waiting = Instant::now();
    while server.slow_started.load(Ordering::SeqCst) < 8 {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the requests never reached the handler"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    server.shutdown.cancel();
    for call in in_flight {
        let res = call.await.unwrap().unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["connection"], "close");
        assert_eq!(res.text().await.unwrap(), "slow");
    }
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .unwrap()
        .unwrap();
    // The 400 ms handlers, with a generous margin for a busy machine.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err(),
        "new connections are refused"
    );
}
