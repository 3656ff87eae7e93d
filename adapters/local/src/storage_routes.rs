//! `PUT`, `DELETE` and `GET /_nubes/storage/{bucket}/{*key}`.

use axum::body::Body as AxumBody;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use nubes_core::raw::AppDispatch as _;
use nubes_core::{Error, TriggerKind};

use crate::delivery::{self, Delivery, LocalEvent, WaitParam};
use crate::json_error::ApiError;
use crate::runtime::SharedRuntime;

fn known_bucket(rt: &SharedRuntime, bucket: &str) -> Result<(), ApiError> {
    if rt.app.storage_handler(bucket).is_none() {
        return Err(ApiError::not_found(Error::unknown_trigger(
            TriggerKind::Storage,
            bucket,
        )));
    }
    Ok(())
}

/// Writes the object and fires `created`; `201 {"id","bucket","key","size"}`
/// (with `?wait=true`, `200` and the event's outcome once known).
pub(crate) async fn put_object(
    State(rt): State<SharedRuntime>,
    Path((bucket, key)): Path<(String, String)>,
    Query(wait): Query<WaitParam>,
    headers: HeaderMap,
    body: AxumBody,
) -> Result<Response, ApiError> {
    known_bucket(&rt, &bucket)?;
    rt.accepting()?;
    let mut event = rt.storage.put(&bucket, &key, body).await?;
    event.content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let extra = serde_json::json!({ "bucket": bucket, "key": key, "size": event.size });
    let delivery = Delivery::new(bucket, LocalEvent::Storage(event));
    let mut response = delivery::reply(&rt, delivery, wait.wait, extra).await?;
    if response.status() == StatusCode::ACCEPTED {
        // The object exists now; only its event is still pending.
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// Deletes the object and fires `deleted`; 404 when there is none.
pub(crate) async fn delete_object(
    State(rt): State<SharedRuntime>,
    Path((bucket, key)): Path<(String, String)>,
    Query(wait): Query<WaitParam>,
) -> Result<Response, ApiError> {
    known_bucket(&rt, &bucket)?;
    rt.accepting()?;
    let Some(event) = rt.storage.delete(&bucket, &key)? else {
        return Err(ApiError::not_found(Error::invalid_event(format!(
            "no object `{key}` in bucket `{bucket}`"
        ))));
    };
    let extra = serde_json::json!({ "bucket": bucket, "key": key });
    let delivery = Delivery::new(bucket, LocalEvent::Storage(event));
    let mut response = delivery::reply(&rt, delivery, wait.wait, extra).await?;
    if response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::OK;
    }
    Ok(response)
}

/// Reads the object back.
pub(crate) async fn get_object(
    State(rt): State<SharedRuntime>,
    Path((bucket, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    known_bucket(&rt, &bucket)?;
    let missing = || {
        ApiError::not_found(Error::invalid_event(format!(
            "no object `{key}` in bucket `{bucket}`"
        )))
    };
    let path = rt.storage.existing(&bucket, &key)?.ok_or_else(missing)?;
    let file = tokio::fs::File::open(&path).await.map_err(|_| missing())?;
    let stream = tokio_util::io::ReaderStream::new(file);
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        AxumBody::from_stream(stream),
    )
        .into_response())
}
