//! Serves every path outside `/_nubes/` with the app's own HTTP service.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::SystemTime;

use axum::body::Body as AxumBody;
use axum::response::Response;
use futures_util::future::BoxFuture;
use http::Request;
use nubes_core::{Body, CancellationToken, Context, Provider, TraceContext, TriggerKind, deadline};
use tower::Service;

use crate::runtime::SharedRuntime;

static X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// The fallback service of the local router.
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
}

impl Service<Request<AxumBody>> for UserHttp {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AxumBody>) -> Self::Future {
        // Without `x-request-id` or a trace header the Context generates its
        // id and root trace on first read, so requests that never ask do not
        // pay for them.
        let rt = &self.rt;
        let mut ctx = Context::builder(Provider::Local, TriggerKind::Http, "http")
            .shutdown_signal(self.shutdown.clone())
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
        let ctx = ctx.build();
        let deadline = ctx.deadline();
        let responding = rt.app.dispatch_http(request.map(Body::new), ctx);
        let rt = rt.clone();
        Box::pin(async move {
            let response =
                deadline::response_within(deadline, rt.deadline_margin(), responding, || {
                    rt.timed_out()
                })
                .await;
            Ok(response.map(AxumBody::from))
        })
    }
}
