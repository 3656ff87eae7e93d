//! Bucket cost on GCP, baseline (b): `bucket-gcp-nubes`'s put and get
//! written with raw OpenDAL GCS on plain axum (STORAGE_EMULATOR_HOST for the
//! emulator; bucket `BENCH_BUCKET`, default `bench`).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::{Router, routing::get};
use opendal::Operator;
use opendal::services::Gcs;

/// The operator, made on first use as nubes does.
fn operator() -> Result<&'static Operator, StatusCode> {
    static OP: OnceLock<Operator> = OnceLock::new();
    if let Some(op) = OP.get() {
        return Ok(op);
    }
    opendal::install_default();
    let bucket = std::env::var("BENCH_BUCKET").unwrap_or_else(|_| "bench".into());
    let mut builder = Gcs::default().bucket(&bucket);
    if let Ok(host) = std::env::var("STORAGE_EMULATOR_HOST") {
        let endpoint = if host.starts_with("http") {
            host
        } else {
            format!("http://{host}")
        };
        builder = builder
            .endpoint(&endpoint)
            .skip_signature()
            .disable_vm_metadata()
            .disable_config_load();
    }
    let op = Operator::new(builder).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(OP.get_or_init(|| op))
}

async fn hello(Path(name): Path<String>) -> Result<String, StatusCode> {
    let op = operator()?;
    let error = |_| StatusCode::BAD_GATEWAY;
    op.write(&name, format!("hello {name}"))
        .await
        .map_err(error)?;
    let body = op.read(&name).await.map_err(error)?;
    Ok(String::from_utf8_lossy(&body.to_vec()).into_owned())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, Router::new().route("/hello/{name}", get(hello))).await
}
