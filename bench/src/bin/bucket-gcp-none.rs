//! Bucket cost on GCP, baseline (a): `bucket-gcp-nubes` without the bucket,
//! `GET /hello/{name}` answering directly.

use axum::extract::Path;
use axum::{Router, routing::get};

async fn hello(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    let routes = Router::new().route("/hello/{name}", get(hello));
    nubes::run(nubes::App::new().http(routes)).await
}
