//! Where each request to the handler goes.
//!
//! - `POST /{function}` for an event function (a queue, storage or schedule
//!   trigger's name) is an invocation request.
//! - `POST /{http function}` (default `/http`) is an invocation request when
//!   its body is envelope-shaped (a JSON object with `Data`: host.json without
//!   request forwarding); otherwise it is an ordinary request for the app's
//!   routes.
//! - Everything else is a request the host forwarded or proxied unchanged
//!   (`enableProxyingHttpRequest` / `enableForwardingHttpRequest`): the app's
//!   HTTP service serves it as is.

use axum::body::Body as AxumBody;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use nubes_core::{Body, Error, ErrorKind, TriggerKind};

use crate::context::{self, Invocation};
use crate::envelope::Envelope;
use crate::invocation;
use crate::reply::Reply;
use crate::runtime::SharedRuntime;

/// The handler's only route: every method, every path.
pub(crate) fn build(rt: SharedRuntime) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(rt)
}

async fn handle(State(rt): State<SharedRuntime>, request: Request<AxumBody>) -> Response {
    let function = (request.method() == Method::POST)
        .then(|| single_segment(request.uri().path()))
        .flatten()
        .map(str::to_owned);
    let kind = function.as_deref().and_then(|f| rt.function_kind(f));
    match (function, kind) {
        (Some(function), Some(kind)) if kind != TriggerKind::Http => {
            let (parts, body) = request.into_parts();
            match read_body(body, &parts.headers, rt.config.max_body_bytes).await {
                Ok(bytes) => invocation::invoke(&rt, &function, &parts.headers, bytes, None).await,
                Err(refused) => refused,
            }
        }
        (Some(function), Some(_)) => {
            // The HTTP function's own path: an envelope, or a user request.
            let (parts, body) = request.into_parts();
            let bytes = match read_body(body, &parts.headers, rt.config.max_body_bytes).await {
                Ok(bytes) => bytes,
                Err(refused) => return refused,
            };
            match Envelope::sniff(&bytes) {
                Some(envelope) => {
                    invocation::invoke(&rt, &function, &parts.headers, bytes, Some(envelope)).await
                }
                None => forward(&rt, Request::from_parts(parts, Body::from(bytes))).await,
            }
        }
        _ if rt.app.http_service().is_some() => forward(&rt, request.map(Body::new)).await,
        (function, _) => {
            let err = Error::new(
                ErrorKind::UnknownTrigger,
                match function {
                    Some(f) => format!("no function `{f}` in this app"),
                    None => "this app has no HTTP routes; the host invokes functions with \
                             POST /{function}"
                        .to_owned(),
                },
            );
            tracing::error!(error = %err, "request refused");
            Reply::failed(StatusCode::NOT_FOUND, &err, Vec::new()).into_response()
        }
    }
}

/// `/orders` → `orders`; anything with more segments, or none, is no function.
fn single_segment(path: &str) -> Option<&str> {
    let name = path.strip_prefix('/')?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// Reads an invocation body up to `limit` bytes; too large → 413, a broken
/// stream → 400, both as JSON.
async fn read_body(
    body: AxumBody,
    headers: &http::HeaderMap,
    limit: usize,
) -> Result<Bytes, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        let err = Error::invalid_event(format!(
            "the invocation request exceeds the limit of {limit} bytes (NUBES_MAX_BODY_BYTES)"
        ));
        tracing::error!(error = %err, "invocation refused");
        Reply::failed(StatusCode::PAYLOAD_TOO_LARGE, &err, Vec::new()).into_response()
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match Body::new(body).collect_bytes(limit).await {
        Ok(bytes) => Ok(bytes),
        Err(err) if err.kind() == ErrorKind::InvalidEvent => Err(too_large()),
        Err(err) => {
            tracing::error!(error = %err, "reading the invocation request failed");
            Err(Reply::failed(StatusCode::BAD_REQUEST, &err, Vec::new()).into_response())
        }
    }
}

/// A request the host forwarded: served by the app's routes as it came.
async fn forward(rt: &SharedRuntime, request: Request<Body>) -> Response {
    let ctx = context::build(
        rt,
        Invocation {
            kind: TriggerKind::Http,
            trigger: &rt.config.http_function,
            headers: request.headers(),
            inner_headers: None,
            envelope: None,
            raw: None,
            attempt: 1,
        },
    );
    rt.app.dispatch_http(request, ctx).await.map(AxumBody::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_paths_have_one_segment() {
        assert_eq!(single_segment("/orders"), Some("orders"));
        assert_eq!(single_segment("/"), None);
        assert_eq!(single_segment("/a/b"), None);
        assert_eq!(single_segment("orders"), None);
    }
}
