//! `echo`: the fixed contract every nubes adapter is checked against.
//!
//! - HTTP: `GET /hello/{name}` answers `hello {name}`; `POST /echo` answers JSON
//!   `{"method","path","query","headers","body"}` (header names lower-case,
//!   repeated headers and query keys joined with `,`, `body` as text when it is
//!   UTF-8, else base64).
//! - queue `orders`, storage `uploads`, schedule `nightly` (`0 3 * * *`): each
//!   event appends one JSON line to the file named by `NUBES_ECHO_FILE` (stdout
//!   when unset). A queue message whose body is exactly `fail` returns an error
//!   (retry), `panic` panics, `permanent` returns a permanent error.

mod events;
mod http_routes;
mod sink;

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    nubes::run(app()).await
}

/// The echo app: the same on every platform.
fn app() -> nubes::App {
    nubes::App::new()
        .http(http_routes::router())
        .on_queue("orders", events::on_order)
        .on_storage("uploads", events::on_upload)
        .on_schedule("nightly", "0 3 * * *", events::on_nightly)
}
