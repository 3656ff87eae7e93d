//! Size baseline: `examples/hello` written on plain axum.

use axum::{Router, extract::Path, routing::get};

async fn hello(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, Router::new().route("/hello/{name}", get(hello))).await
}
