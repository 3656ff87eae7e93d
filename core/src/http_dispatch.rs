//! Serving one HTTP request with the app's service, the same way on every
//! adapter: Context in the extensions, errors and panics as JSON 500s.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use http::{HeaderValue, Request, Response, StatusCode, header};

use crate::{App, Body, Context, Error, ErrorKind, panic_message};

impl App {
    /// Serves `request` with the app's HTTP service. `ctx` is inserted into the
    /// request extensions (handlers read it with `Extension<nubes::Context>`)
    /// and is the [current context](crate::current_context) while the service
    /// runs.
    ///
    /// Never fails: no HTTP service → `404`; a service error or panic → `500`,
    /// each with a JSON body `{"error":{"kind":…,"message":…}}`, logged at error
    /// level. The process keeps serving.
    ///
    /// The request is handed to the service before the returned future is
    /// first polled, so the future holds only the service's own (boxed)
    /// future: small, and cheap to move on every request.
    pub fn dispatch_http(
        &self,
        mut request: Request<Body>,
        ctx: Context,
    ) -> impl Future<Output = Response<Body>> + Send + 'static {
        let serving = match self.http_service() {
            Some(service) => {
                request.extensions_mut().insert(ctx.clone());
                Some(service.serve(request))
            }
            None => None,
        };
        let started = std::time::Instant::now();
        crate::current::scope(ctx, async move {
            let Some(serving) = serving else {
                let err = Error::new(
                    ErrorKind::UnknownTrigger,
                    "this app registers no HTTP service",
                );
                return json_error(StatusCode::NOT_FOUND, &err);
            };
            let response = match AssertUnwindSafe(serving).catch_unwind().await {
                Ok(Ok(response)) => response,
                Ok(Err(err)) => {
                    let err = Error::handler(err);
                    tracing::error!(error = %err, "HTTP service failed");
                    json_error(StatusCode::INTERNAL_SERVER_ERROR, &err)
                }
                Err(panic) => {
                    let err = Error::new(
                        ErrorKind::Handler,
                        format!("HTTP handler panicked: {}", panic_message(panic.as_ref())),
                    );
                    tracing::error!(error = %err, "HTTP handler panicked; still serving");
                    json_error(StatusCode::INTERNAL_SERVER_ERROR, &err)
                }
            };
            crate::current::record_http(response.status().is_server_error(), started.elapsed());
            response
        })
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
    use crate::{Provider, TriggerKind};

    fn ctx() -> Context {
        Context::builder(Provider::Local, TriggerKind::Http, "http")
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
    async fn no_service_is_a_json_404() {
        let res = App::new()
            .dispatch_http(Request::get("/").body(Body::empty()).unwrap(), ctx())
            .await;
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    }
}
