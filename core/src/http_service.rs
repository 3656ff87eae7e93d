//! The app's HTTP service, type-erased once.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::ServiceExt as _;
use tower::util::BoxCloneSyncService;
use tower_service::Service;

use crate::{Body, BoxError};

/// Any `tower::Service<http::Request<Body>>` (an `axum::Router`, a `tower`
/// stack, a `service_fn`), erased into one concrete type the adapters call.
#[derive(Clone)]
pub struct HttpService {
    inner: BoxCloneSyncService<Request<Body>, Response<Body>, BoxError>,
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
        let mapped = service
            .map_response(|res: Response<B>| res.map(Body::new))
            .map_err(Into::into);
        HttpService {
            inner: BoxCloneSyncService::new(mapped),
        }
    }

    /// Serves one request on a clone of the service (waiting for readiness).
    pub async fn serve(&self, request: Request<Body>) -> Result<Response<Body>, BoxError> {
        self.inner.clone().oneshot(request).await
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

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        self.inner.call(request)
    }
}
