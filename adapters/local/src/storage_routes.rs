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
use crate::spool::Staged;

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
/// (with `?wait=true`, `200` and the event's outcome once known). The event
/// is spooled before the object is put in place, so a stored object always
/// has its event (see [`delivery::spawn_after`]).
pub(crate) async fn put_object(
    State(rt): State<SharedRuntime>,
    Path((bucket, key)): Path<(String, String)>,
    Query(wait): Query<WaitParam>,
    headers: HeaderMap,
    body: AxumBody,
) -> Result<Response, ApiError> {
    known_bucket(&rt, &bucket)?;
    rt.accepting()?;
    let mut upload = rt.storage.receive(&bucket, &key, body).await?;
    upload.event.content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let extra = serde_json::json!({ "bucket": bucket, "key": key, "size": upload.event.size });
    let delivery = Delivery::new(bucket, LocalEvent::Storage(upload.event.clone()))
        .with_staged(Staged::Upload(upload.name.clone()));
    let spool_key = delivery.spool_key().to_owned();
    let stored = delivery::reply_after(&rt, delivery, wait.wait, extra, || {
        rt.storage.store(&upload)
    })
    .await;
    let mut response = match stored {
        Ok(response) => response,
        Err(e) => {
            // Not stored. Left in `tmp/` only while a spooled record still
            // names it, so the next start knows the object never changed.
            if !rt.spool.holds(&spool_key) {
                rt.storage.purge(&upload.name);
            }
            return Err(e);
        }
    };
    if response.status() == StatusCode::ACCEPTED {
        // The object exists now; only its event is still pending.
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// Deletes the object and fires `deleted`; 404 when there is none. The event
/// is spooled before the object is deleted, as for [`put_object`].
pub(crate) async fn delete_object(
    State(rt): State<SharedRuntime>,
    Path((bucket, key)): Path<(String, String)>,
    Query(wait): Query<WaitParam>,
) -> Result<Response, ApiError> {
    known_bucket(&rt, &bucket)?;
    rt.accepting()?;
    let missing = || {
        ApiError::not_found(Error::invalid_event(format!(
            "no object `{key}` in bucket `{bucket}`"
        )))
    };
    let removal = rt.storage.removal(&bucket, &key)?.ok_or_else(missing)?;
    let extra = serde_json::json!({ "bucket": bucket, "key": key });
    let delivery = Delivery::new(bucket.clone(), LocalEvent::Storage(removal.event.clone()))
        .with_staged(Staged::Removed(removal.name.clone()));
    let mut gone_already = false;
    let deleted = delivery::reply_after(&rt, delivery, wait.wait, extra, || {
        match rt.storage.remove(&removal)? {
            true => Ok(()),
            false => {
                gone_already = true;
                Err(Error::invalid_event("deleted meanwhile"))
            }
        }
    })
    .await;
    let mut response = match deleted {
        Ok(response) => response,
        Err(_) if gone_already => return Err(missing()),
        Err(e) => return Err(e),
    };
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
