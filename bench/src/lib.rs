//! The handler every HTTP benchmark serves, so nubes and the baselines run
//! the very same code: `GET /hello/{name}` and `POST /echo` (a JSON body
//! parsed and sent back); and the Lambda Runtime API the Lambda benchmarks
//! drive functions with.

pub mod runtime_api;
pub mod stats;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path};
use axum::routing::{get, post};

/// The largest body `POST /echo` accepts: above the 6 MB of the payload
/// scaling runs (axum's default is 2 MB), for nubes and the baselines alike.
pub const MAX_ECHO_BYTES: usize = 8 * 1024 * 1024;

async fn hello(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

async fn echo(Json(body): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(body)
}

/// The benchmark routes.
pub fn router() -> Router {
    Router::new().route("/hello/{name}", get(hello)).route(
        "/echo",
        post(echo).layer(DefaultBodyLimit::max(MAX_ECHO_BYTES)),
    )
}
