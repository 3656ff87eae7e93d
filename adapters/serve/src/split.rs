//! Routing the adapter's own endpoints apart from the app's routes, without a
//! router in front of every request.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body as AxumBody;
use futures_util::future::Either;
use http::{Request, Response};
use tower::Service;

/// Sends requests whose path is `prefix` or lies under `prefix/` to `internal`
/// (an adapter's own endpoints, e.g. the local runner's `/_nubes/…`) and every
/// other request to `app`.
///
/// An outer `axum::Router` with a fallback does the same, but costs a route
/// lookup and a boxed-service clone on every request to the app; this is one
/// string comparison. Both services must always be ready (as an
/// `axum::Router` and the adapters' app services are): `poll_ready` is not
/// forwarded.
///
/// ```
/// use axum::{Router, routing::get};
/// use nubes_serve::PrefixSplit;
///
/// let internal: Router = Router::new().route("/_nubes/triggers", get(|| async { "[]" }));
/// let app: Router = Router::new().route("/hello", get(|| async { "hello" }));
/// // Serve it with `nubes_serve::serve(listener, service, …)`.
/// let service = PrefixSplit::new("/_nubes", internal, app);
/// # let _ = service;
/// ```
#[derive(Clone, Debug)]
pub struct PrefixSplit<I, A> {
    prefix: &'static str,
    root: bool,
    internal: I,
    app: A,
}

impl<I, A> PrefixSplit<I, A> {
    /// Splits on `prefix` (no trailing slash, e.g. `"/_nubes"`).
    pub fn new(prefix: &'static str, internal: I, app: A) -> Self {
        PrefixSplit {
            prefix,
            root: false,
            internal,
            app,
        }
    }

    /// Also sends `/` to `internal`, which then decides (Cloud Run: events
    /// pushed to the service URL itself arrive at `/`).
    pub fn with_root(mut self) -> Self {
        self.root = true;
        self
    }

    fn is_internal(&self, path: &str) -> bool {
        (self.root && path == "/")
            || path
                .strip_prefix(self.prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

impl<I, A> Service<Request<AxumBody>> for PrefixSplit<I, A>
where
    I: Service<Request<AxumBody>, Response = Response<AxumBody>, Error = Infallible>,
    A: Service<Request<AxumBody>, Response = Response<AxumBody>, Error = Infallible>,
{
    type Response = Response<AxumBody>;
    type Error = Infallible;
    type Future = Either<I::Future, A::Future>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AxumBody>) -> Self::Future {
        if self.is_internal(request.uri().path()) {
            Either::Left(self.internal.call(request))
        } else {
            Either::Right(self.app.call(request))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use tower::ServiceExt as _;

    async fn path_of(service: &PrefixSplit<Router, Router>, path: &str) -> String {
        let response = service
            .clone()
            .oneshot(Request::get(path).body(AxumBody::empty()).unwrap())
            .await
            .unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_prefix_and_paths_under_it_are_internal_everything_else_is_the_app() {
        let internal = Router::new().fallback(|| async { "internal" });
        let app = Router::new().fallback(|| async { "app" });
        let split = PrefixSplit::new("/_nubes", internal, app);
        assert_eq!(path_of(&split, "/_nubes").await, "internal");
        assert_eq!(path_of(&split, "/_nubes/").await, "internal");
        assert_eq!(path_of(&split, "/_nubes/queues/q").await, "internal");
        assert_eq!(path_of(&split, "/_nubesque").await, "app");
        assert_eq!(path_of(&split, "/").await, "app");
        assert_eq!(path_of(&split, "/hello/_nubes").await, "app");
        let split = split.with_root();
        assert_eq!(path_of(&split, "/").await, "internal");
        assert_eq!(path_of(&split, "/x").await, "app");
    }
}
