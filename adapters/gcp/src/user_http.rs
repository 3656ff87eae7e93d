//! Serves the app's own routes: every request that is not an event delivery.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::SystemTime;

use axum::body::Body as AxumBody;
use axum::response::Response;
use futures_util::future::BoxFuture;
use http::Request;
use nubes_core::{Body, CancellationToken, Context, Provider, TraceContext, TriggerKind};
use tower::Service;

use crate::runtime::SharedRuntime;

/// The app's own routes, as the service behind every path that is no event
/// delivery.
#[derive(Clone)]
pub(crate) struct UserHttp {
    rt: SharedRuntime,
    /// The runtime's shutdown token, shared once so that each request's
    /// `Context` holds a reference count rather than a clone of the token.
    shutdown: Arc<CancellationToken>,
}

impl UserHttp {
    pub(crate) fn new(rt: SharedRuntime) -> Self {
        let shutdown = Arc::new(rt.shutdown.clone());
        UserHttp { rt, shutdown }
    }

    /// Serves `request` with the app's HTTP service, within the request
    /// timeout. The request's trace (Cloud Run sends `traceparent` and
    /// `X-Cloud-Trace-Context`) is the context's; log lines of the handler
    /// find it through [`nubes_core::current_context`], so no span is opened
    /// per request. The invocation id is generated only if something reads it.
    pub(crate) fn serve(
        &self,
        request: Request<Body>,
    ) -> impl Future<Output = Response> + Send + 'static {
        let rt = &self.rt;
        let mut ctx = Context::builder(Provider::Gcp, TriggerKind::Http, "http")
            .deadline(SystemTime::now() + rt.config.request_timeout)
            .shutdown_signal(self.shutdown.clone())
            .metrics(rt.metrics_handle.clone());
        if let Some(trace) = TraceContext::from_headers(request.headers()) {
            ctx = ctx.trace(trace);
        }
        let ctx = ctx.build();
        let deadline = ctx.deadline();
        let responding = rt.app.dispatch_http(request, ctx);
        let rt = rt.clone();
        async move {
            let responding = nubes_core::deadline::response_within(
                deadline,
                rt.deadline_margin(),
                responding,
                || rt.timed_out(),
            );
            // Biased towards the response: a handler that answers on its
            // first poll never registers with the cut-off token (a lock).
            tokio::select! {
                biased;
                response = responding => response.map(AxumBody::from),
                () = rt.cut_off.cancelled() => crate::reply::error(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    &nubes_core::Error::platform(
                        "the instance shut down before this request finished; send it again",
                    ),
                ),
            }
        }
    }
}

impl Service<Request<AxumBody>> for UserHttp {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AxumBody>) -> Self::Future {
        let serving = self.serve(request.map(Body::from));
        Box::pin(async move { Ok(serving.await) })
    }
}
