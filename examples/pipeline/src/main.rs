//! `pipeline`: the fixed resource contract every nubes backend is checked
//! against — a document pipeline over the buckets `uploads` and `results`.
//!
//! HTTP (on every platform, through its HTTP path):
//!
//! - `PUT /objects/{bucket}/{*key}` → `201 {"bucket","key","size"}`, the
//!   request's `Content-Type` stored with the object;
//! - `GET /objects/{bucket}/{*key}` → `200` with the bytes and the stored
//!   `Content-Type`; missing → `404` with the JSON error body;
//! - `DELETE /objects/{bucket}/{*key}` → `204`, also when missing;
//! - `GET /objects/{bucket}?prefix=P` → `200 {"keys":[…]}`, every key with
//!   that prefix, sorted;
//! - `GET /presign/{bucket}/{*key}?method=GET|PUT&expires=S` → `200 {"url"}`,
//!   a URL that works with no other credentials for `S` seconds (also
//!   `"method"` and `"headers"`: headers the request must carry, e.g.
//!   Azure's `x-ms-blob-type` on uploads; empty elsewhere).
//!
//! Any other bucket name is a `404`. Storage trigger on `uploads` (created):
//! reads the object and writes `results/<key>.json` =
//! `{"key","bytes","lines","sha256"}`.

mod buckets;
mod routes;
mod summary;

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    nubes::run(app()).await
}

/// The pipeline app: the same on every platform.
fn app() -> nubes::App {
    let buckets = buckets::Buckets::new();
    nubes::App::new()
        .uses(&buckets.uploads)
        .uses(&buckets.results)
        .http(routes::router(buckets.clone()))
        .on_storage("uploads", move |event, ctx| {
            summary::on_upload(buckets.clone(), event, ctx)
        })
}
