//! Serves every path outside `/_nubes/` with the app's own HTTP service.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::SystemTime;

use axum::body::Body as AxumBody;
use axum::response::Response;
use futures_util::FutureExt as _;
use futures_util::future::Map;
use http::Request;
use nubes_core::raw::{AppDispatch as _, ContextBuilder, HttpDispatch, HttpTimeout};
use nubes_core::{Body, CancellationToken, Platform, TraceContext, TriggerKind};
use tower::Service;

use crate::runtime::SharedRuntime;

static X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// The app's answer as the server takes it: no box beyond the one
/// [`HttpDispatch`] holds.
type Answer = Map<HttpDispatch, fn(http::Response<Body>) -> Result<Response, Infallible>>;

/// The fallback service of the local router.
#[derive(Clone)]
pub(crate) struct UserHttp {
    rt: SharedRuntime,
    /// The runtime's shutdown token, shared once so that each request's
    /// `Context` holds a reference count rather than a clone of the token.
    shutdown: Arc<CancellationToken>,
    /// `NUBES_LOCAL_TIMEOUT_MS`, as each request's cut-off.
    timeout: HttpTimeout,
}

impl UserHttp {
    pub(crate) fn new(rt: SharedRuntime) -> Self {
        let shutdown = Arc::new(rt.shutdown.clone());
        let timeout = HttpTimeout::new(rt.deadline_margin(), rt.timeout_setting());
        UserHttp {
            rt,
            shutdown,
            timeout,
        }
    }
}

impl Service<Request<AxumBody>> for UserHttp {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AxumBody>) -> Self::Future {
        // Without `x-request-id` or a trace header the Context generates its
        // id and root trace on first read, so requests that never ask do not
        // pay for them.
        let rt = &self.rt;
        let mut ctx = ContextBuilder::new(Platform::Local, TriggerKind::Http, "http")
            .shutdown(self.shutdown.clone())
            .metrics(rt.metrics.handle.clone())
            .deadline(SystemTime::now() + rt.config.timeout);
        if let Some(trace) = TraceContext::from_headers(request.headers()) {
            ctx = ctx.trace(trace);
        }
        if let Some(id) = request
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
        {
            ctx = ctx.invocation_id(id);
        }
        rt.app
            .dispatch_http_within(request.map(Body::from), ctx.build(), &self.timeout)
            .map(|response| Ok(response.map(AxumBody::from)))
    }
}
