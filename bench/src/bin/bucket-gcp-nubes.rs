//! Bucket cost on GCP: a nubes app declaring one bucket, whose
//! `GET /hello/{name}` puts and gets one object (STORAGE_EMULATOR_HOST for
//! the emulator; the bucket is `NUBES_BUCKET_BENCH`, default `bench`).

use axum::extract::{Path, State};
use axum::{Router, routing::get};
use nubes::{Access, Bucket};

async fn hello(
    State(bucket): State<Bucket>,
    Path(name): Path<String>,
) -> Result<String, nubes::Error> {
    bucket.put(&name, format!("hello {name}")).await?;
    let body = bucket.get(&name).await?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    let bucket = Bucket::new("bench").allow(Access::READ | Access::WRITE);
    let routes = Router::new()
        .route("/hello/{name}", get(hello))
        .with_state(bucket.clone());
    nubes::run(nubes::App::new().uses(&bucket).http(routes)).await
}
