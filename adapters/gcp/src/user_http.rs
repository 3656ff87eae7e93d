//! Serves the app's own routes: every request that is not an event delivery.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::SystemTime;

use axum::body::Body as AxumBody;
use axum::response::Response;
use http::Request;
use nubes_core::raw::{AppDispatch as _, ContextBuilder, HttpDispatch, HttpTimeout};
use nubes_core::{Body, CancellationToken, Platform, TraceContext, TriggerKind};
use tokio_util::sync::WaitForCancellationFutureOwned;
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
    /// Cancelled when the instance stops serving: unfinished requests are
    /// answered `503` (shared for the same reason).
    cut_off: Arc<CancellationToken>,
    /// `NUBES_GCP_REQUEST_TIMEOUT_MS`, as each request's cut-off.
    timeout: HttpTimeout,
}

impl UserHttp {
    pub(crate) fn new(rt: SharedRuntime) -> Self {
        let shutdown = Arc::new(rt.shutdown.clone());
        let cut_off = Arc::new(rt.cut_off.clone());
        let timeout = rt.http_timeout.clone();
        UserHttp {
            rt,
            shutdown,
            cut_off,
            timeout,
        }
    }

    /// Serves `request` with the app's HTTP service, within the request
    /// timeout. The request's trace (Cloud Run sends `traceparent` and
    /// `X-Cloud-Trace-Context`) is the context's; log lines of the handler
    /// find it through [`nubes_core::current_context`], so no span is opened
    /// per request. The invocation id is generated only if something reads it.
    pub(crate) fn serve(&self, request: Request<Body>) -> Answer {
        let rt = &self.rt;
        let mut ctx = ContextBuilder::new(Platform::Gcp, TriggerKind::Http, "http")
            .deadline(SystemTime::now() + rt.config.request_timeout)
            .shutdown(self.shutdown.clone())
            .metrics(rt.metrics_handle.clone())
            .resources(rt.resources.clone());
        if let Some(trace) = TraceContext::from_headers(request.headers()) {
            ctx = ctx.trace(trace);
        }
        Answer {
            dispatch: rt
                .app
                .dispatch_http_within(request, ctx.build(), &self.timeout),
            cut_off: CutOff::Idle(self.cut_off.clone()),
        }
    }
}

/// The answer to one request of the app's own routes: the app's response,
/// or a `503` when the instance is cut off first.
pub(crate) struct Answer {
    dispatch: HttpDispatch,
    cut_off: CutOff,
}

/// Waiting for the cut-off starts only when the app does not answer at once:
/// a handler that answers on its first poll never registers with the token
/// (a lock).
enum CutOff {
    Idle(Arc<CancellationToken>),
    Waiting(Pin<Box<WaitForCancellationFutureOwned>>),
}

impl Future for Answer {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Response> {
        if let Poll::Ready(response) = Pin::new(&mut self.dispatch).poll(cx) {
            return Poll::Ready(response.map(AxumBody::from));
        }
        if let CutOff::Idle(token) = &self.cut_off {
            let waiting = Box::pin(CancellationToken::clone(token).cancelled_owned());
            self.cut_off = CutOff::Waiting(waiting);
        }
        if let CutOff::Waiting(waiting) = &mut self.cut_off {
            ready!(waiting.as_mut().poll(cx));
        }
        Poll::Ready(crate::reply::error(
            http::StatusCode::SERVICE_UNAVAILABLE,
            &nubes_core::Error::platform(
                "the instance shut down before this request finished; send it again",
            ),
        ))
    }
}

impl Service<Request<AxumBody>> for UserHttp {
    type Response = Response;
    type Error = Infallible;
    type Future = AnswerOk;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AxumBody>) -> Self::Future {
        AnswerOk(self.serve(request.map(Body::from)))
    }
}

/// [`Answer`] as a service's `Result`.
pub(crate) struct AnswerOk(Answer);

impl Future for AnswerOk {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(Ok)
    }
}
