//! Size baseline: `examples/hello` written on raw `lambda_http` + axum.

use axum::{Router, extract::Path, routing::get};

async fn hello(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(Router::new().route("/hello/{name}", get(hello))).await
}
