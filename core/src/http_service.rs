//! The app's HTTP service, type-erased once.

use std::any::Any;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::ServiceExt as _;
use tower_service::Service;

use crate::http_dispatch::Call;
use crate::raw::HttpDispatch;
use crate::{Body, BoxError};

/// One request in, one boxed response future out: the erased form of the
/// user's service.
type ServeFn =
    dyn Fn(Request<Body>) -> BoxFuture<'static, Result<Response<Body>, BoxError>> + Send + Sync;

/// The same, with everything [`App::dispatch_http`](crate::App::dispatch_http)
/// adds around the service's future inside the one box.
type DispatchFn = dyn Fn(Request<Body>, Call) -> HttpDispatch + Send + Sync;

/// Any `tower::Service<http::Request<Body>>` (an `axum::Router`, a `tower`
/// stack, a `service_fn`), erased into one concrete type the adapters call.
///
/// Erased as a shared closure that clones the concrete service per request,
/// rather than as a boxed clonable service: for an `axum::Router` the clone is
/// one reference count, where cloning a boxed service is one more allocation
/// per request.
#[derive(Clone)]
pub struct HttpService {
    serve: Arc<ServeFn>,
    dispatch: Arc<DispatchFn>,
}

impl HttpService {
    /// Erases `service`. Its response body is converted into [`Body`] without
    /// copying.
    pub fn new<S, B>(service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(service);
        if let Some(router) = (&mut slot as &mut dyn Any)
            .downcast_mut::<Option<axum::Router>>()
            .and_then(Option::take)
        {
            return HttpService::from_router(router);
        }
        match slot {
            Some(service) => HttpService::erase(service),
            // Only taken above, when it was a Router.
            None => HttpService::from_router(axum::Router::new()),
        }
    }

    /// Erases any other service: its response body is boxed into [`Body`]
    /// unless it already is one.
    fn erase<S, B>(service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        fn serving<S, B>(
            service: &S,
            request: Request<Body>,
        ) -> impl Future<Output = Result<Response<Body>, BoxError>> + use<S, B>
        where
            S: Service<Request<Body>, Response = Response<B>> + Clone,
            S::Error: Into<BoxError>,
            B: http_body::Body<Data = Bytes> + Send + 'static,
            B::Error: Into<BoxError>,
        {
            service.clone().oneshot(request).map(|answer| {
                answer
                    .map(|response| response.map(Body::new))
                    .map_err(Into::into)
            })
        }
        let dispatching = service.clone();
        let serve = move |request: Request<Body>| -> BoxFuture<'static, _> {
            Box::pin(serving(&service, request))
        };
        let dispatch = move |request: Request<Body>, call: Call| {
            HttpDispatch::new(Box::pin(call.respond(serving(&dispatching, request))))
        };
        HttpService {
            serve: Arc::new(serve),
            dispatch: Arc::new(dispatch),
        }
    }

    /// The fast path for the most common app, a plain `axum::Router`:
    ///
    /// - its routes are turned into services once, here (`with_state(())`,
    ///   as `axum::serve` does), instead of on every request;
    /// - requests reach it as `axum::body::Body` and responses leave as
    ///   [`Body`], both without re-boxing (see [`Body`]).
    fn from_router(router: axum::Router) -> Self {
        fn routing(
            router: &axum::Router,
            request: Request<Body>,
        ) -> impl Future<Output = Result<Response<Body>, BoxError>> + use<> {
            router
                .clone()
                .call(request.map(axum::body::Body::from))
                .map(|answer| match answer {
                    Ok(response) => Ok(response.map(Body::from)),
                    Err(never) => match never {},
                })
        }
        let router = router.with_state::<()>(());
        let dispatching = router.clone();
        let serve = move |request: Request<Body>| -> BoxFuture<'static, _> {
            Box::pin(routing(&router, request))
        };
        let dispatch = move |request: Request<Body>, call: Call| {
            HttpDispatch::new(Box::pin(call.respond(routing(&dispatching, request))))
        };
        HttpService {
            serve: Arc::new(serve),
            dispatch: Arc::new(dispatch),
        }
    }

    /// Serves one request on a clone of the service (waiting for readiness).
    pub fn serve(
        &self,
        request: Request<Body>,
    ) -> BoxFuture<'static, Result<Response<Body>, BoxError>> {
        (self.serve)(request)
    }
}

impl HttpService {
    /// Serves one request the way [`App::dispatch_http`](crate::App::dispatch_http) does.
    pub(crate) fn dispatch(&self, request: Request<Body>, call: Call) -> HttpDispatch {
        (self.dispatch)(request, call)
    }
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService").finish_non_exhaustive()
    }
}

impl Service<Request<Body>> for HttpService {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    /// Always ready: every call waits for readiness of its own clone of the
    /// erased service.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        self.serve(request)
    }
}
