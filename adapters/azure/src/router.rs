//! Where each request to the handler goes.
//!
//! - `POST /{function}` for an event function (`nubes-queue-orders`, see
//!   `function_name`) is an invocation request; so is any other one-segment
//!   `POST /nubes-…` (reserved: answered as an unknown function, never
//!   handed to the app's routes).
//! - `POST /{http function}` (default `/http`) is an invocation request when
//!   its body is envelope-shaped (a JSON object with `Data`: host.json without
//!   request forwarding); otherwise it is an ordinary request for the app's
//!   routes.
//! - Everything else is a request the host forwarded or proxied unchanged
//!   (`enableProxyingHttpRequest` / `enableForwardingHttpRequest`): the app's
//!   HTTP service serves it as is.

use std::convert::Infallible;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body as AxumBody;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Either, Map};
use http::{Method, Request, StatusCode, header};
use nubes_core::raw::{AppDispatch as _, HttpDispatch, read_request_body};
use nubes_core::{Body, Error, ErrorKind, TriggerKind};
use tower::Service;

use crate::context::{self, Invocation};
use crate::envelope::Envelope;
use crate::function_name;
use crate::invocation;
use crate::reply::Reply;
use crate::runtime::SharedRuntime;

/// The handler's only service: every method, every path.
pub(crate) fn build(rt: SharedRuntime) -> HandlerService {
    HandlerService { rt }
}

/// Sorts each request into an invocation or a request for the app's routes.
///
/// A plain service rather than an `axum::Router` with one fallback: requests
/// for the app's routes (the hot path under request forwarding) go straight
/// to the app, without a route lookup and a boxed handler in between.
#[derive(Clone)]
pub(crate) struct HandlerService {
    rt: SharedRuntime,
}

impl Service<Request<AxumBody>> for HandlerService {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Forwarded, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AxumBody>) -> Self::Future {
        let rt = self.rt.clone();
        let names_a_function = request.method() == Method::POST
            && single_segment(request.uri().path())
                .is_some_and(|f| function_name::is_reserved(f) || rt.function(f).is_some());
        if !names_a_function && rt.app.http_service().is_some() {
            return Either::Left(forward(&rt, request.map(Body::from)));
        }
        Either::Right(Box::pin(async move { Ok(handle(rt, request).await) }))
    }
}

async fn handle(rt: SharedRuntime, request: Request<AxumBody>) -> Response {
    let function = (request.method() == Method::POST)
        .then(|| single_segment(request.uri().path()))
        .flatten()
        .map(str::to_owned);
    let kind = function
        .as_deref()
        .and_then(|f| rt.function(f))
        .map(|(kind, _)| kind);
    match (function, kind) {
        // An event function, or a reserved name that is none of this app's
        // (the invocation answers it as an unknown function).
        (Some(function), kind)
            if kind.is_some_and(|k| k != TriggerKind::Http)
                || (kind.is_none() && function_name::is_reserved(&function)) =>
        {
            let (parts, body) = request.into_parts();
            match read_body(body, &parts.headers, rt.config.max_invocation_bytes).await {
                Ok(bytes) => invocation::invoke(&rt, &function, &parts.headers, bytes, None).await,
                Err(refused) => refused,
            }
        }
        (Some(function), Some(_)) => {
            // The HTTP function's own path: an envelope, or a user request.
            let (parts, body) = request.into_parts();
            let bytes = match read_body(body, &parts.headers, rt.config.max_invocation_bytes).await
            {
                Ok(bytes) => bytes,
                Err(refused) => return refused,
            };
            match Envelope::sniff(&bytes) {
                Some(envelope) => {
                    invocation::invoke(&rt, &function, &parts.headers, bytes, Some(envelope)).await
                }
                None => answered(forward(&rt, Request::from_parts(parts, Body::from(bytes))).await),
            }
        }
        _ if rt.app.http_service().is_some() => {
            answered(forward(&rt, request.map(Body::new)).await)
        }
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
pub(crate) fn single_segment(path: &str) -> Option<&str> {
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
            "the invocation request exceeds the limit of {limit} bytes (NUBES_AZURE_MAX_INVOCATION_BYTES)"
        ));
        tracing::error!(error = %err, "invocation refused");
        Reply::failed(StatusCode::PAYLOAD_TOO_LARGE, &err, Vec::new()).into_response()
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match read_request_body(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(refused) if refused.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
        Err(refused) => {
            tracing::warn!(error = %refused.error(), "reading the invocation request failed");
            Err(Reply::failed(refused.status(), refused.error(), Vec::new()).into_response())
        }
    }
}

/// The app's answer to a forwarded request, with no box beyond the one in
/// [`HttpDispatch`].
pub(crate) type Forwarded =
    Map<HttpDispatch, fn(http::Response<Body>) -> Result<Response, Infallible>>;

/// A request the host forwarded: served by the app's routes as it came.
fn forward(rt: &SharedRuntime, request: Request<Body>) -> Forwarded {
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
    rt.app
        .dispatch_http_within(request, ctx, &rt.http_timeout)
        .map(|response| Ok(response.map(AxumBody::from)))
}

/// The response of an answer that cannot fail.
fn answered(forwarded: Result<Response, Infallible>) -> Response {
    match forwarded {
        Ok(response) => response,
        Err(never) => match never {},
    }
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
