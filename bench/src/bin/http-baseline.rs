//! Baseline: the benchmark router on plain axum, no nubes.
//!
//! With `TCP_NODELAY` set on every connection, as axum documents it
//! (`ListenerExt::tap_io`) and as nubes' servers do: without it, Nagle's
//! algorithm and delayed ACKs stall some responses, which would make the
//! baseline slower than it needs to be.

use axum::serve::ListenerExt as _;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, nubes_bench::router()).await
}
