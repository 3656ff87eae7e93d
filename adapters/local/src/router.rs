//! The local runner's routes: `/_nubes/…` for events and tooling (behind the
//! [`site_guard`]), everything else to the app's HTTP service.

use std::sync::Arc;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http::{StatusCode, header};
use nubes_core::Error;

use crate::allowed_hosts::AllowedHosts;
use crate::json_error::ApiError;
use crate::runtime::SharedRuntime;
use crate::user_http::UserHttp;
use crate::{introspection, queue_routes, schedule_routes, site_guard, storage_routes};

/// `/_nubes/…` to the runner's own endpoints, everything else straight to
/// the app (no router in front of the app's requests).
pub(crate) type LocalService = nubes_serve::PrefixSplit<Router, UserHttp>;

pub(crate) fn build(rt: SharedRuntime) -> LocalService {
    let internal = Router::new()
        .route("/", get(introspection::console))
        .route("/triggers", get(introspection::triggers))
        .route("/dead", get(introspection::all_dead_letters))
        .route("/metrics", get(crate::metrics_routes::summary))
        .route("/queues/{name}", post(queue_routes::enqueue))
        .route("/queues/{name}/dead", get(queue_routes::dead_letters))
        .route(
            "/storage/{bucket}/{*key}",
            put(storage_routes::put_object)
                .delete(storage_routes::delete_object)
                .get(storage_routes::get_object),
        )
        .route("/schedules/{name}", post(schedule_routes::fire))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(json_client_errors));
    let nubes = Router::new()
        // The console answers with and without the trailing slash.
        .route("/_nubes/", get(introspection::console))
        .nest("/_nubes", internal)
        // `POST /_nubes/` and the like: a JSON 405, as inside `/_nubes/`.
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(rt.clone())
        // Last, so it runs first, for every route, fallback and future
        // endpoint of the tree.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(AllowedHosts::new(rt.config.host, &rt.config.allowed_hosts)),
            site_guard::check,
        ));
    nubes_serve::PrefixSplit::new("/_nubes", nubes, UserHttp::new(rt))
}

async fn not_found() -> ApiError {
    ApiError::not_found(Error::invalid_event(
        "no such nubes endpoint; see GET /_nubes/triggers for this app's triggers",
    ))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Error::invalid_event("method not allowed on this nubes endpoint"),
    )
}

/// axum's own extractor rejections (bad percent-encoding in a path, …) are
/// plain text; every client error of `/_nubes/` is JSON instead.
async fn json_client_errors(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !response.status().is_client_error() || is_json {
        return response;
    }
    let status = response.status();
    let text = match axum::body::to_bytes(response.into_body(), 64 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_owned()
    } else {
        text
    };
    let mut response = ApiError::new(status, Error::invalid_event(message)).into_response();
    *response.status_mut() = status;
    let _: &AxumBody = response.body();
    response
}
