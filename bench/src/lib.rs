//! The handler every HTTP benchmark serves, so nubes and the baselines run
//! the very same code: `GET /hello/{name}` and `POST /echo` (a JSON body
//! parsed and sent back).

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};

async fn hello(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

async fn echo(Json(body): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(body)
}

/// The benchmark routes.
pub fn router() -> Router {
    Router::new()
        .route("/hello/{name}", get(hello))
        .route("/echo", post(echo))
}
