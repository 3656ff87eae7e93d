//! The smallest nubes app: one axum route, runnable on every platform.
//!
//! ```text
//! cargo run -p hello
//! curl http://127.0.0.1:3000/hello/world   # hello world
//! ```

use axum::{Router, extract::Path, routing::get};

async fn hello(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    let router = Router::new().route("/hello/{name}", get(hello));
    nubes::run(nubes::App::new().http(router)).await
}
