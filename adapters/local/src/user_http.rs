//! Serves every path outside `/_nubes/` with the app's own HTTP service.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context as TaskContext, Poll};

use axum::Json;
use axum::body::Body as AxumBody;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use http::{Request, StatusCode};
use nubes_core::{
    Body, Context, Error, ErrorKind, Provider, TraceContext, TriggerKind, panic_message,
};
use tower::Service;

use crate::delivery::new_trace;
use crate::runtime::SharedRuntime;

/// The fallback service of the local router.
#[derive(Clone)]
pub(crate) struct UserHttp {
    pub(crate) rt: SharedRuntime,
}

impl Service<Request<AxumBody>> for UserHttp {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AxumBody>) -> Self::Future {
        let rt = self.rt.clone();
        Box::pin(async move { Ok(serve(rt, request).await) })
    }
}

async fn serve(rt: SharedRuntime, request: Request<AxumBody>) -> Response {
    let Some(service) = rt.app.http_service() else {
        let err = Error::new(
            ErrorKind::UnknownTrigger,
            "this app registers no HTTP service; event endpoints are under /_nubes/",
        );
        return (StatusCode::NOT_FOUND, Json(err.to_json())).into_response();
    };
    let (mut parts, body) = request.into_parts();
    let trace = parts
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::from_traceparent)
        .unwrap_or_else(new_trace);
    let id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ctx = Context::builder(Provider::Local, TriggerKind::Http, "http")
        .invocation_id(id)
        .trace(trace)
        .shutdown_signal(rt.shutdown.clone())
        .build();
    parts.extensions.insert(ctx);
    let request = Request::from_parts(parts, Body::new(body));
    match AssertUnwindSafe(service.serve(request))
        .catch_unwind()
        .await
    {
        Ok(Ok(response)) => response.map(AxumBody::new),
        Ok(Err(err)) => {
            let err = Error::handler(err);
            tracing::error!(error = %err, "HTTP service failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(err.to_json())).into_response()
        }
        Err(panic) => {
            let err = Error::new(
                ErrorKind::Handler,
                format!("HTTP handler panicked: {}", panic_message(panic.as_ref())),
            );
            tracing::error!(error = %err, "HTTP handler panicked; the runner keeps serving");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(err.to_json())).into_response()
        }
    }
}
