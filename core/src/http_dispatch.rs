//! Serving one HTTP request with the app's service, the same way on every
//! adapter: Context in the extensions, errors and panics as JSON 500s.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, CatchUnwind};
use http::{HeaderValue, Request, Response, StatusCode, header};

use crate::raw::{deadline, panic_message};
use crate::{App, Body, BoxError, Context, Error, ErrorKind};

/// How long an adapter lets an HTTP request run, and how it names that limit
/// when a request runs out of time. Made once per adapter; each request holds
/// a reference count.
///
/// ```
/// use std::time::Duration;
/// use nubes_core::raw::HttpTimeout;
///
/// let timeout = HttpTimeout::new(
///     Duration::from_millis(500),
///     "the 300000 ms timeout (NUBES_LOCAL_TIMEOUT_MS)",
/// );
/// assert_eq!(timeout.margin(), Duration::from_millis(500));
/// ```
#[derive(Clone)]
pub struct HttpTimeout {
    margin: Duration,
    limit: Arc<str>,
}

impl HttpTimeout {
    /// Requests are cut off `margin` before their context's deadline; the
    /// `504`'s message names `limit` (the setting, e.g. `"the 300000 ms
    /// request timeout (NUBES_GCP_REQUEST_TIMEOUT_MS)"`).
    pub fn new(margin: Duration, limit: impl Into<Arc<str>>) -> Self {
        HttpTimeout {
            margin,
            limit: limit.into(),
        }
    }

    /// How long before the deadline a request is cut off.
    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// The error of a request cut off at its deadline.
    pub fn error(&self) -> Error {
        deadline::timed_out(&*self.limit)
    }
}

impl fmt::Debug for HttpTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTimeout")
            .field("margin", &self.margin)
            .field("limit", &self.limit)
            .finish()
    }
}

/// The response future of [`AppDispatch::dispatch_http`](crate::raw::AppDispatch::dispatch_http): one allocation per
/// request, holding the app's service future with everything nubes adds to
/// it (the current context, panic and error answers, the deadline, metrics).
///
/// A named type, so that adapters name it in their services instead of boxing
/// it once more.
#[must_use = "futures do nothing unless polled"]
pub struct HttpDispatch {
    inner: BoxFuture<'static, Response<Body>>,
}

impl HttpDispatch {
    pub(crate) fn new(inner: BoxFuture<'static, Response<Body>>) -> Self {
        HttpDispatch { inner }
    }
}

impl Future for HttpDispatch {
    type Output = Response<Body>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Response<Body>> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for HttpDispatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpDispatch").finish_non_exhaustive()
    }
}

/// Serves `request` with `app`'s HTTP service the nubes way (see
/// [`AppDispatch::dispatch_http`](crate::raw::AppDispatch::dispatch_http)).
pub(crate) fn dispatch(app: &App, mut request: Request<Body>, call: Call) -> HttpDispatch {
    match &app.http {
        Some(service) => {
            request.extensions_mut().insert(call.ctx.clone());
            service.dispatch(request, call)
        }
        None => HttpDispatch::new(Box::pin(std::future::ready(json_error(
            StatusCode::NOT_FOUND,
            &Error::new(
                ErrorKind::UnknownTrigger,
                "this app registers no HTTP service",
            ),
        )))),
    }
}

/// What [`AppDispatch::dispatch_http`](crate::raw::AppDispatch::dispatch_http) adds to one request: its context, and the
/// adapter's timeout, if any.
pub(crate) struct Call {
    pub(crate) ctx: Context,
    pub(crate) timeout: Option<HttpTimeout>,
}

impl Call {
    /// Runs `serving` (the app's service answering one request) the nubes way:
    /// in the context's scope, until the deadline, errors and panics turned
    /// into JSON answers, the request recorded in the metrics.
    ///
    /// Generic over the service's future, and built of named futures rather
    /// than an `async` block, so that all of it is one value, boxed once by
    /// the caller and never moved again.
    pub(crate) fn respond<F>(self, serving: F) -> impl Future<Output = Response<Body>> + use<F>
    where
        F: Future<Output = Result<Response<Body>, BoxError>>,
    {
        let Call { ctx, timeout } = self;
        let (deadline, margin) = match &timeout {
            Some(timeout) => (ctx.deadline(), timeout.margin),
            None => (None, Duration::ZERO),
        };
        let responding = Responding {
            serving: deadline::within(deadline, margin, AssertUnwindSafe(serving).catch_unwind()),
            timeout,
            started: Instant::now(),
        };
        crate::current::scope(ctx, responding)
    }
}

pin_project_lite::pin_project! {
    /// The app's service future, answered the nubes way (see [`Call::respond`]).
    struct Responding<F> {
        #[pin]
        serving: deadline::Within<CatchUnwind<AssertUnwindSafe<F>>>,
        timeout: Option<HttpTimeout>,
        started: Instant,
    }
}

impl<F> Future for Responding<F>
where
    F: Future<Output = Result<Response<Body>, BoxError>>,
{
    type Output = Response<Body>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Response<Body>> {
        let this = self.project();
        let response = match ready!(this.serving.poll(cx)) {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(err))) => {
                let err = Error::handler(err);
                tracing::error!(error = %err, "HTTP service failed");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, &err)
            }
            Some(Err(panic)) => {
                let err = Error::new(
                    ErrorKind::Handler,
                    format!("HTTP handler panicked: {}", panic_message(panic.as_ref())),
                );
                tracing::error!(error = %err, "HTTP handler panicked; still serving");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, &err)
            }
            None => {
                let err = this
                    .timeout
                    .as_ref()
                    .map_or_else(|| deadline::timed_out("the deadline"), HttpTimeout::error);
                tracing::error!(error = %err, "HTTP handler cancelled at its deadline");
                json_error(StatusCode::GATEWAY_TIMEOUT, &err)
            }
        };
        crate::current::record_http(response.status().is_server_error(), this.started.elapsed());
        Poll::Ready(response)
    }
}

/// A response with `status` and the error's JSON body.
pub fn json_error(status: StatusCode, err: &Error) -> Response<Body> {
    let mut response = Response::new(Body::from(err.to_json().to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::AppDispatch as _;
    use crate::raw::ContextBuilder;
    use crate::{Platform, TriggerKind};

    fn ctx() -> Context {
        ContextBuilder::new(Platform::Local, TriggerKind::Http, "http")
            .invocation_id("r-1")
            .build()
    }

    #[tokio::test]
    async fn context_reaches_the_handler_and_panics_become_500() {
        let router = axum::Router::new()
            .route(
                "/id",
                axum::routing::get(
                    |axum::Extension(ctx): axum::Extension<Context>| async move {
                        ctx.invocation_id().to_owned()
                    },
                ),
            )
            .route(
                "/panic",
                axum::routing::get(|| async {
                    if true {
                        panic!("kaboom");
                    }
                }),
            );
        let app = App::new().http(router);
        let res = app
            .dispatch_http(Request::get("/id").body(Body::empty()).unwrap(), ctx())
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.into_body().collect_bytes(100).await.unwrap(), "r-1");
        let res = app
            .dispatch_http(Request::get("/panic").body(Body::empty()).unwrap(), ctx())
            .await;
        assert_eq!(res.status(), 500);
        let body = res.into_body().collect_bytes(1000).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("kaboom"));
    }

    #[tokio::test]
    async fn a_late_request_is_a_json_504_naming_the_limit() {
        let router = axum::Router::new()
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                    "late"
                }),
            )
            .route("/fast", axum::routing::get(|| async { "fast" }));
        let app = App::new().http(router);
        let timeout = HttpTimeout::new(Duration::from_millis(20), "the 100 ms test limit");
        let soon = || {
            ContextBuilder::new(Platform::Local, TriggerKind::Http, "http")
                .deadline(std::time::SystemTime::now() + Duration::from_millis(100))
                .build()
        };
        let started = Instant::now();
        let res = app
            .dispatch_http_within(
                Request::get("/slow").body(Body::empty()).unwrap(),
                soon(),
                &timeout,
            )
            .await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);
        let body = res.into_body().collect_bytes(1000).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("the 100 ms test limit"));
        let res = app
            .dispatch_http_within(
                Request::get("/fast").body(Body::empty()).unwrap(),
                soon(),
                &timeout,
            )
            .await;
        assert_eq!(res.status(), 200);
    }

    #[tokio::test]
    async fn no_service_is_a_json_404() {
        let res = App::new()
            .dispatch_http(Request::get("/").body(Body::empty()).unwrap(), ctx())
            .await;
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    }
}
