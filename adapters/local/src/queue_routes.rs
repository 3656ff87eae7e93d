//! `POST /_nubes/queues/{name}` and `GET /_nubes/queues/{name}/dead`.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body as AxumBody;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use nubes_core::raw::{AppDispatch as _, read_request_body};
use nubes_core::{Error, QueueMessage, TraceContext, TriggerKind};

use crate::delivery::{self, Delivery, LocalEvent, WaitParam};
use crate::json_error::ApiError;
use crate::runtime::SharedRuntime;

/// Header prefix that turns a request header into a message attribute.
const ATTRIBUTE_PREFIX: &str = "x-nubes-attr-";
/// Header carrying the ordering / group key.
const ORDERING_KEY: &str = "x-nubes-ordering-key";

/// Enqueues the request body as a message; `202 {"id":…}`.
pub(crate) async fn enqueue(
    State(rt): State<SharedRuntime>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
    headers: HeaderMap,
    body: AxumBody,
) -> Result<Response, ApiError> {
    if rt.app.queue_handler(&name).is_none() {
        return Err(ApiError::not_found(Error::unknown_trigger(
            TriggerKind::Queue,
            &name,
        )));
    }
    rt.accepting()?;
    let attributes = attributes_from(&headers)?;
    let bytes = read_request_body(body, rt.config.max_body_bytes)
        .await
        .map_err(|refused| ApiError::new(refused.status(), refused.into_error()))?;
    let mut delivery = Delivery::new(
        name.clone(),
        LocalEvent::Queue(QueueMessage::new("", bytes)),
    );
    if let Some(trace) = TraceContext::from_headers(&headers) {
        delivery.trace = trace;
    }
    let id = delivery.id.clone();
    if let LocalEvent::Queue(msg) = &mut delivery.event {
        msg.id = id.clone();
        msg.attributes = attributes;
        msg.source = name;
        msg.published_at = Some(chrono::Utc::now());
        msg.ordering_key = header_text(&headers, ORDERING_KEY)?;
    }
    delivery::reply(&rt, delivery, wait.wait, serde_json::json!({})).await
}

/// Lists the queue's dead letters.
pub(crate) async fn dead_letters(
    State(rt): State<SharedRuntime>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if rt.app.queue_handler(&name).is_none() {
        return Err(ApiError::not_found(Error::unknown_trigger(
            TriggerKind::Queue,
            &name,
        )));
    }
    Ok(Json(rt.dead_letters.list(TriggerKind::Queue, &name)).into_response())
}

fn attributes_from(headers: &HeaderMap) -> Result<BTreeMap<String, String>, ApiError> {
    let mut attributes = BTreeMap::new();
    for (name, value) in headers {
        if let Some(key) = name.as_str().strip_prefix(ATTRIBUTE_PREFIX) {
            if key.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "`{ATTRIBUTE_PREFIX}` needs an attribute name after it"
                )));
            }
            let value = value.to_str().map_err(|_| {
                ApiError::bad_request(format!(
                    "attribute header `{name}` is not visible ASCII text"
                ))
            })?;
            attributes.insert(key.to_owned(), value.to_owned());
        }
    }
    Ok(attributes)
}

fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map(str::to_owned).map_err(|_| {
                ApiError::bad_request(format!("header `{name}` is not visible ASCII text"))
            })
        })
        .transpose()
}
