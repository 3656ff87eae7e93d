//! The per-connection service: checks a request's declared size, wraps its
//! body, and turns a cut-off body into the response that says so.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

use axum::body::Body as AxumBody;
use futures_util::future::Either;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Body as _;
use hyper::body::Incoming;
use nubes_core::Error;
use tower::Service;
use tower::util::{Oneshot, ServiceExt as _};

use crate::body::GuardedBody;
use crate::tripwire::{Armed, Trip, Tripwire};
use crate::{BodyLimit, ServeConfig};

/// Serves one connection's requests with `inner`.
#[derive(Clone)]
pub(crate) struct Guard<S, L> {
    inner: S,
    limit: L,
    config: ServeConfig,
    /// The connection's flag (HTTP/1.1); `None` on HTTP/2, whose concurrent
    /// streams each get their own.
    wire: Option<Arc<Tripwire>>,
}

impl<S, L> Guard<S, L> {
    pub(crate) fn new(inner: S, limit: L, config: ServeConfig, sequential: bool) -> Self {
        Guard {
            inner,
            limit,
            config,
            wire: sequential.then(Arc::default),
        }
    }
}

impl<S, L> hyper::service::Service<Request<Incoming>> for Guard<S, L>
where
    S: Service<Request<AxumBody>, Response = Response<AxumBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    L: BodyLimit,
{
    type Response = Response<AxumBody>;
    type Error = Infallible;
    type Future = GuardFuture<S>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let limit = Limit {
            bytes: self.limit.max_body_bytes(&request),
            setting: self.limit.setting(&request),
        };
        let body = request.body();
        if body.size_hint().lower() > limit.bytes {
            return GuardFuture::Refused {
                response: Some(refusal(Trip::TooLarge, limit)),
            };
        }
        // A body that cannot grow past the limit nor stall needs no flag.
        let armed = (!body.is_end_stream()).then(|| {
            let wire = self.wire.clone().unwrap_or_default();
            let generation = wire.arm();
            Armed { wire, generation }
        });
        let timeout = self.config.body_read_timeout;
        let request = request
            .map(|body| AxumBody::new(GuardedBody::new(body, limit.bytes, timeout, armed.clone())));
        // The adapters' services are always ready: calling at once saves
        // moving the request into a `Oneshot` and out again. A service that
        // is not ready yet is waited for as usual.
        let mut inner = self.inner.clone();
        let call = match inner.poll_ready(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => Either::Left(inner.call(request)),
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => Either::Right(inner.oneshot(request)),
        };
        GuardFuture::Serving { call, armed, limit }
    }
}

/// A request's body limit and the setting that sets it, for the `413`.
#[derive(Clone, Copy)]
pub(crate) struct Limit {
    bytes: u64,
    setting: &'static str,
}

pin_project_lite::pin_project! {
    /// The response of one request.
    #[project = GuardProj]
    pub(crate) enum GuardFuture<S>
    where
        S: Service<Request<AxumBody>>,
    {
        Refused { response: Option<Response<AxumBody>> },
        Serving {
            #[pin]
            call: Either<S::Future, Oneshot<S, Request<AxumBody>>>,
            armed: Option<Armed>,
            limit: Limit,
        },
    }
}

impl<S> Future for GuardFuture<S>
where
    S: Service<Request<AxumBody>, Response = Response<AxumBody>, Error = Infallible>,
{
    type Output = Result<Response<AxumBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GuardProj::Refused { response } => {
                Poll::Ready(Ok(response.take().unwrap_or_else(Response::default)))
            }
            GuardProj::Serving { call, armed, limit } => {
                let response = ready!(call.poll(cx))?;
                match armed.as_ref().and_then(Armed::tripped) {
                    None => Poll::Ready(Ok(response)),
                    Some(trip) => Poll::Ready(Ok(refusal(trip, *limit))),
                }
            }
        }
    }
}

/// The JSON answer to a cut-off request; the connection closes after it
/// (the rest of the body is not read).
fn refusal(trip: Trip, limit: Limit) -> Response<AxumBody> {
    let Limit { bytes, setting } = limit;
    let (status, err) = match trip {
        Trip::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Error::invalid_event(format!(
                "the request body exceeds the limit of {bytes} bytes ({setting})"
            )),
        ),
        Trip::Stalled => (
            StatusCode::REQUEST_TIMEOUT,
            Error::invalid_event(
                "the request body stopped arriving (NUBES_BODY_READ_TIMEOUT_MS); send it again",
            ),
        ),
    };
    tracing::warn!(status = status.as_u16(), error = %err, "request refused");
    let mut response = nubes_core::raw::json_error(status, &err).map(AxumBody::from);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
