//! The server's routes: event deliveries on `/_nubes/{queues,storage,schedules}/{name}`
//! and on `/` when the request is plainly an event, everything else to the
//! app's own HTTP service.

use std::time::SystemTime;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{any, post};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, Request, StatusCode, header};
use nubes_core::raw::{AppDispatch as _, ContextBuilder, deadline, read_request_body};
use nubes_core::{Body, Error, Platform, TraceContext, TriggerKind};
use tracing::Instrument as _;

use crate::event::{self, Decoded, NeutralEvent};
use crate::reply;
use crate::runtime::SharedRuntime;
use crate::user_http::UserHttp;

/// `/` and `/_nubes/…` to the adapter's event routes, everything else
/// straight to the app (no router in front of the app's requests).
pub(crate) type GcpService = nubes_serve::PrefixSplit<Router, UserHttp>;

pub(crate) fn build(rt: SharedRuntime) -> GcpService {
    let internal = Router::new()
        .route("/queues/{name}", post(queue))
        .route("/storage/{name}", post(storage))
        // Cloud Scheduler jobs may use any HTTP method.
        .route("/schedules/{name}", any(schedule))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // The app's own routes (behind `UserHttp`) are cut off by `UserHttp`
    // itself, without a middleware in front of every request.
    let events = Router::new()
        .route("/", any(root))
        .nest("/_nubes", internal)
        .layer(axum::middleware::from_fn_with_state(rt.clone(), cut_off))
        .with_state(rt.clone());
    nubes_serve::PrefixSplit::new("/_nubes", events, UserHttp::new(rt)).with_root()
}

/// Ends every event delivery still running when the grace period is over.
async fn cut_off(
    State(rt): State<SharedRuntime>,
    request: Request<AxumBody>,
    next: axum::middleware::Next,
) -> Response {
    tokio::select! {
        response = next.run(request) => response,
        () = rt.cut_off.cancelled() => reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            &Error::platform("the instance shut down before this request finished; deliver again"),
        ),
    }
}

async fn queue(
    State(rt): State<SharedRuntime>,
    name: Result<Path<String>, PathRejection>,
    request: Request<AxumBody>,
) -> Response {
    match name {
        Ok(Path(name)) => on_reserved_path(rt, TriggerKind::Queue, name, request).await,
        Err(rejection) => unreadable_name(&rejection),
    }
}

async fn storage(
    State(rt): State<SharedRuntime>,
    name: Result<Path<String>, PathRejection>,
    request: Request<AxumBody>,
) -> Response {
    match name {
        Ok(Path(name)) => on_reserved_path(rt, TriggerKind::Storage, name, request).await,
        Err(rejection) => unreadable_name(&rejection),
    }
}

async fn schedule(
    State(rt): State<SharedRuntime>,
    name: Result<Path<String>, PathRejection>,
    request: Request<AxumBody>,
) -> Response {
    match name {
        Ok(Path(name)) => on_reserved_path(rt, TriggerKind::Schedule, name, request).await,
        Err(rejection) => unreadable_name(&rejection),
    }
}

/// A trigger name axum cannot decode (a percent-escape that is not UTF-8,
/// `%FF`): the JSON `400` of every other malformed delivery, not axum's text.
fn unreadable_name(rejection: &PathRejection) -> Response {
    reply::bad_event(&Error::invalid_event(format!(
        "the trigger name in the path is unreadable: {}",
        rejection.body_text()
    )))
}

/// A delivery on the path the generated trigger config points at: the path
/// names the trigger; the body must be an event of the path's kind.
async fn on_reserved_path(
    rt: SharedRuntime,
    kind: TriggerKind,
    name: String,
    request: Request<AxumBody>,
) -> Response {
    if let Some(refused) = refuse_when_stopping(&rt) {
        return refused;
    }
    let (parts, body) = request.into_parts();
    if let Err(refused) = authorize(&rt, &parts.headers).await {
        return refused;
    }
    let bytes = match read_body(&rt, Body::new(body)).await {
        Ok(bytes) => bytes,
        Err(refused) => return refused,
    };
    let decoded = match event::decode(&parts.headers, &bytes) {
        Ok(Some(decoded)) => decoded,
        Ok(None) if kind == TriggerKind::Schedule => event::bare_schedule_call(&name),
        Ok(None) => {
            return reply::bad_event(&Error::invalid_event(format!(
                "not a recognised {kind} event: expected {}",
                expected(kind)
            )));
        }
        Err(err) => return reply::bad_event(&err),
    };
    if decoded.event.kind() != kind {
        return reply::bad_event(&Error::invalid_event(format!(
            "a {} event arrived on the {kind} path /_nubes/{}/{name}",
            decoded.event.kind(),
            segment(kind)
        )));
    }
    // A path (or Eventarc filter) naming the bucket's cloud name reaches the
    // trigger of its logical name.
    let name = match kind {
        TriggerKind::Storage => rt
            .storage_trigger(&name)
            .map_or(name.clone(), str::to_owned),
        _ => name,
    };
    dispatch(&rt, name, decoded, &parts.headers, bytes).await
}

/// `/`: an event when it plainly is one (CloudEvent or Scheduler headers, a
/// push envelope, a legacy event) and the app's routes do not serve `/`;
/// otherwise the app's own request.
async fn root(State(rt): State<SharedRuntime>, request: Request<AxumBody>) -> Response {
    let request = request.map(Body::new);
    let candidate = request.method() == Method::POST
        && (event::headers_say_event(request.headers()) || is_json(request.headers()));
    if !candidate {
        return UserHttp::new(rt.clone()).serve(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match read_body(&rt, body).await {
        Ok(bytes) => bytes,
        Err(refused) => return refused,
    };
    let decoded = match event::decode(&parts.headers, &bytes) {
        Ok(None) => {
            return UserHttp::new(rt.clone())
                .serve(Request::from_parts(parts, Body::from(bytes)))
                .await;
        }
        Ok(Some(decoded)) => Ok(decoded),
        Err(err) => Err(err),
    };
    if rt.app.http_service().is_some() {
        let response = UserHttp::new(rt.clone())
            .serve(copy_request(&parts, bytes.clone()))
            .await;
        if !matches!(
            response.status(),
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) {
            return response;
        }
    }
    if let Some(refused) = refuse_when_stopping(&rt) {
        return refused;
    }
    if let Err(refused) = authorize(&rt, &parts.headers).await {
        return refused;
    }
    match decoded {
        Ok(decoded) => {
            let trigger = rt.resolve(decoded.event.kind(), &decoded.names);
            dispatch(&rt, trigger, decoded, &parts.headers, bytes).await
        }
        Err(err) => reply::bad_event(&err),
    }
}

/// Runs the handler of `trigger` for a decoded event and turns its outcome
/// into the platform's reply.
async fn dispatch(
    rt: &SharedRuntime,
    trigger: String,
    decoded: Decoded,
    headers: &HeaderMap,
    raw: Bytes,
) -> Response {
    let kind = decoded.event.kind();
    let message = match &decoded.event {
        NeutralEvent::Queue(message) => Some(message),
        _ => None,
    };
    let trace = crate::observability::delivery_trace(headers, &raw, message)
        .unwrap_or_else(TraceContext::new_root);
    let id = decoded
        .id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!(
        "delivery",
        trace_id = trace.trace_id().unwrap_or_default(),
        span_id = trace.span_id().unwrap_or_default(),
    );
    let timeout = rt.config.request_timeout;
    let ctx = ContextBuilder::new(Platform::Gcp, kind, trigger.clone())
        .invocation_id(id)
        .attempt(decoded.attempt)
        .deadline(SystemTime::now() + timeout)
        .trace(trace)
        .raw_event(nubes_core::raw::raw_event(decoded.raw_type, raw))
        .shutdown(rt.shutdown.clone())
        .metrics(rt.metrics_handle.clone())
        .resources(rt.resources.clone())
        .build();
    let deadline = ctx.deadline();
    let app = &rt.app;
    let run = async {
        match decoded.event {
            NeutralEvent::Queue(msg) => app.dispatch_queue(msg, ctx).await,
            NeutralEvent::Storage(ev) => app.dispatch_storage(ev, ctx).await,
            NeutralEvent::Schedule(mut ev) => {
                ev.name = trigger;
                app.dispatch_schedule(ev, ctx).await
            }
        }
    };
    // Answer before Cloud Run cuts the request off, so the failure is ours
    // to report (and log) rather than a dropped connection.
    let outcome = deadline::outcome_within(deadline, rt.deadline_margin(), run, || rt.timed_out())
        .instrument(span)
        .await;
    reply::outcome(outcome)
}

/// `503` once shutdown has begun: the platform redelivers elsewhere.
fn refuse_when_stopping(rt: &SharedRuntime) -> Option<Response> {
    rt.shutdown.is_cancelled().then(|| {
        reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            &Error::platform("the instance is shutting down; deliver again"),
        )
    })
}

async fn authorize(rt: &SharedRuntime, headers: &HeaderMap) -> Result<(), Response> {
    crate::auth::authorize(rt.verifier.as_ref(), headers).await
}

/// The whole body, or `413` past the limit, `400` when malformed.
async fn read_body(rt: &SharedRuntime, body: Body) -> Result<Bytes, Response> {
    read_request_body(body, rt.config.max_body_bytes)
        .await
        .map_err(|refused| reply::error(refused.status(), refused.error()))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"application/json"))
}

/// A copy of the request for the app's routes, keeping the original for the
/// event path.
fn copy_request(parts: &Parts, body: Bytes) -> Request<Body> {
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    request
}

fn expected(kind: TriggerKind) -> &'static str {
    match kind {
        TriggerKind::Queue => {
            "a Pub/Sub push envelope, an unwrapped push with metadata headers, a \
             messagePublished CloudEvent or a legacy Pub/Sub event"
        }
        TriggerKind::Storage => "a Cloud Storage CloudEvent or a legacy Cloud Storage event",
        _ => "a Cloud Scheduler call",
    }
}

fn segment(kind: TriggerKind) -> &'static str {
    match kind {
        TriggerKind::Queue => "queues",
        TriggerKind::Storage => "storage",
        _ => "schedules",
    }
}

async fn not_found() -> Response {
    reply::error(
        StatusCode::NOT_FOUND,
        &Error::invalid_event(
            "no such nubes endpoint: events go to /_nubes/queues/{name}, \
             /_nubes/storage/{name} or /_nubes/schedules/{name}",
        ),
    )
}

async fn method_not_allowed() -> Response {
    reply::error(
        StatusCode::METHOD_NOT_ALLOWED,
        &Error::invalid_event("Pub/Sub and Eventarc deliveries are POST requests"),
    )
}
