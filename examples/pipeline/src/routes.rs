//! The HTTP routes: objects in, objects out, listings and presigned URLs.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::TryStreamExt as _;
use nubes::Error;
use nubes::bucket::{PresignMethod, PutOptions};
use serde::Deserialize;

use crate::buckets::Buckets;

/// Every route of the contract.
pub(crate) fn router(buckets: Buckets) -> Router {
    Router::new()
        .route("/objects/{bucket}", get(list))
        .route(
            "/objects/{bucket}/{*key}",
            get(download).put(upload).delete(remove),
        )
        .route("/presign/{bucket}/{*key}", get(presign))
        .with_state(buckets)
}

/// Streams the request body into the bucket, with its `Content-Type`.
async fn upload(
    State(buckets): State<Buckets>,
    Path((bucket, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let target = buckets.named(&bucket)?;
    let mut options = PutOptions::new();
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        options = options.content_type(ct);
    }
    let meta = target
        .put_stream(&key, body.into_data_stream(), options)
        .await?;
    let reply = serde_json::json!({ "bucket": bucket, "key": key, "size": meta.size });
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// Streams the object out with its stored `Content-Type`.
async fn download(
    State(buckets): State<Buckets>,
    Path((bucket, key)): Path<(String, String)>,
) -> Result<Response, Error> {
    let object = buckets.named(&bucket)?.get_object(&key).await?;
    let (meta, stream) = object.into_parts();
    let content_type = meta
        .content_type
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_LENGTH, meta.size.to_string()),
    ];
    Ok((headers, Body::from_stream(stream.map_err(axum::Error::new))).into_response())
}

/// Deletes the object; `204` whether or not it existed.
async fn remove(
    State(buckets): State<Buckets>,
    Path((bucket, key)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    buckets.named(&bucket)?.delete(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    prefix: String,
}

/// `{"keys":[…]}`: every key with the prefix, sorted, over every page.
async fn list(
    State(buckets): State<Buckets>,
    Path(bucket): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, Error> {
    let keys = buckets.named(&bucket)?.list_keys(&query.prefix).await?;
    Ok(Json(serde_json::json!({ "keys": keys })))
}

#[derive(Deserialize)]
struct PresignQuery {
    method: Option<String>,
    expires: Option<u64>,
}

/// `{"url","method","headers"}`: a URL for `GET` or `PUT` of the object,
/// valid `expires` seconds (default 900), and the headers the request must
/// carry (none on most clouds).
async fn presign(
    State(buckets): State<Buckets>,
    Path((bucket, key)): Path<(String, String)>,
    Query(query): Query<PresignQuery>,
) -> Result<Json<serde_json::Value>, Error> {
    let target = buckets.named(&bucket)?;
    let method = match query.method.as_deref().unwrap_or("GET") {
        m if m.eq_ignore_ascii_case("GET") => PresignMethod::Get,
        m if m.eq_ignore_ascii_case("PUT") => PresignMethod::Put,
        other => {
            return Err(Error::invalid_input(format!(
                "method must be GET or PUT, not `{other}`"
            )));
        }
    };
    let expires = Duration::from_secs(query.expires.unwrap_or(900));
    let signed = target.presign(method, &key, expires).await?;
    // Some clouds need headers on the request besides the URL (Azure's
    // `x-ms-blob-type` on uploads): they are given alongside, never secrets.
    let headers: serde_json::Map<String, serde_json::Value> = signed
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone().into()))
        .collect();
    Ok(Json(serde_json::json!({
        "url": signed.url,
        "method": signed.method.as_str(),
        "headers": headers,
    })))
}
