//! Body limits and slow clients on event deliveries and on the app's own routes.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_gcp::GcpConfig;
use nubes_serve::testing::{check_limits, check_malformed_chunks};

const LIMIT: u64 = 1000;
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
    let mut config = GcpConfig::default();
    config.host = [127, 0, 0, 1].into();
    config.port = 0;
    config.max_body_bytes = LIMIT as usize;
    config.header_read_timeout = HEADER_TIMEOUT;
    config.body_read_timeout = Duration::from_millis(300);
    let server = nubes_gcp::start(app, config).await.unwrap();
    for path in ["/_nubes/queues/orders", "/echo"] {
        let figures = check_limits(server.local_addr(), "POST", path, LIMIT, HEADER_TIMEOUT).await;
        assert!(figures.declared < Duration::from_secs(1), "{figures:?}");
        eprintln!("gcp POST {path}: {figures:?}");
    }
    // Issue #23: broken chunked framing is the client's error.
    check_malformed_chunks(server.local_addr(), "POST", "/_nubes/queues/orders").await;
    server.shutdown().await.unwrap();
}
