//! Serves every path outside `/_nubes/` with the app's own HTTP service.

use std::convert::Infallible;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body as AxumBody;
use axum::response::Response;
use futures_util::future::BoxFuture;
use http::Request;
use nubes_core::{Body, Context, Provider, TraceContext, TriggerKind};
use tower::Service;

use crate::runtime::SharedRuntime;

/// The fallback service of the local router.
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
        Box::pin(async move {
            let trace = TraceContext::from_headers(request.headers())
                .unwrap_or_else(TraceContext::new_root);
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let ctx = Context::builder(Provider::Local, TriggerKind::Http, "http")
                .invocation_id(id)
                .trace(trace)
                .shutdown_signal(rt.shutdown.clone())
                .build();
            let request = request.map(Body::new);
            Ok(rt.app.dispatch_http(request, ctx).await.map(AxumBody::new))
        })
    }
}
