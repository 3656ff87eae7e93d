//! Serves the app's own routes: every request that is not an event delivery.

use std::convert::Infallible;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body as AxumBody;
use axum::response::Response;
use futures_util::future::BoxFuture;
use http::Request;
use nubes_core::{Body, Context, Provider, TraceContext, TriggerKind};
use tower::Service;
use tracing::Instrument as _;

use crate::runtime::SharedRuntime;

/// The fallback service of the router.
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
        Box::pin(async move { Ok(serve(&rt, request.map(Body::new)).await) })
    }
}

/// Serves `request` with the app's HTTP service, in a span carrying the
/// request's trace so the handler's logs are correlated in Cloud Logging.
pub(crate) async fn serve(rt: &SharedRuntime, request: Request<Body>) -> Response {
    let trace =
        TraceContext::from_headers(request.headers()).unwrap_or_else(TraceContext::new_root);
    let id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!(
        "request",
        invocation_id = %id,
        trace_id = trace.trace_id().unwrap_or_default(),
        span_id = trace.span_id().unwrap_or_default(),
    );
    let ctx = Context::builder(Provider::Gcp, TriggerKind::Http, "http")
        .invocation_id(id)
        .deadline(std::time::SystemTime::now() + rt.config.request_timeout)
        .trace(trace)
        .shutdown_signal(rt.shutdown.clone())
        .build();
    rt.app
        .dispatch_http(request, ctx)
        .instrument(span)
        .await
        .map(AxumBody::new)
}
