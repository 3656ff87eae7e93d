//! One invocation request from the host: decode, dispatch, reply.

use std::time::SystemTime;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use nubes_core::raw::{AppDispatch as _, Outcome, deadline};
use nubes_core::{Error, ErrorKind, QueueMessage, ScheduledEvent, StorageEvent, TriggerKind};
use tracing::Instrument as _;

use crate::context::{self, Invocation};
use crate::envelope::Envelope;
use crate::logs::{self, LogBuffer};
use crate::reply::Reply;
use crate::runtime::Runtime;
use crate::{bindings, trigger};

/// How an invocation ended, before it becomes a reply.
enum Ended {
    /// An event was dispatched.
    Event(Outcome),
    /// The HTTP trigger answered: the value of `Outputs.res`.
    Http(serde_json::Value),
    /// The invocation failed outside a handler: refused before dispatch
    /// (unknown function, malformed payload) or an HTTP reply that could not
    /// be built.
    Failed(StatusCode, Error),
}

/// Serves the invocation of function `function` whose request body is
/// `body` (already parsed into `envelope` when the router had to look).
pub(crate) async fn invoke(
    rt: &Runtime,
    function: &str,
    headers: &HeaderMap,
    body: Bytes,
    envelope: Option<Result<Envelope, Error>>,
) -> Response {
    let buffer = LogBuffer::default();
    // Lines logged outside the handler's own span (refusals) still carry the
    // host's invocation id on stdout.
    let span = tracing::info_span!(
        "azure_invocation",
        function,
        invocation_id = context::invocation_id(headers).unwrap_or_default(),
    );
    let ended = logs::capture(
        buffer.clone(),
        async {
            let ended = run(rt, function, headers, body, envelope).await;
            if let Ended::Failed(status, err) = &ended {
                tracing::error!(function, status = status.as_u16(), error = %err, "invocation failed");
            }
            ended
        }
        .instrument(span),
    )
    .await;
    let logs = buffer.take();
    match ended {
        Ended::Event(Outcome::Success) => Reply::ok(logs),
        Ended::Event(Outcome::Permanent(err)) => {
            let mut logs = logs;
            crate::reply::ensure_logged(&mut logs, &err);
            Reply::ok(logs)
        }
        Ended::Event(Outcome::Retry(err)) => {
            Reply::failed(StatusCode::INTERNAL_SERVER_ERROR, &err, logs)
        }
        Ended::Http(res) => Reply::ok(logs).output(bindings::HTTP_OUT, res),
        Ended::Failed(status, err) => Reply::failed(status, &err, logs),
    }
    .into_response()
}

async fn run(
    rt: &Runtime,
    function: &str,
    headers: &HeaderMap,
    body: Bytes,
    envelope: Option<Result<Envelope, Error>>,
) -> Ended {
    let Some((kind, trigger)) = rt.function(function) else {
        let err = Error::new(
            ErrorKind::UnknownTrigger,
            format!(
                "no function `{function}` in this app (functions: {})",
                function_names(rt).join(", ")
            ),
        );
        return Ended::Failed(StatusCode::NOT_FOUND, err);
    };
    let envelope = match envelope.unwrap_or_else(|| Envelope::parse_shared(body.clone())) {
        Ok(envelope) => envelope,
        Err(err) => return Ended::Failed(StatusCode::BAD_REQUEST, err),
    };
    // The same instant as every context's deadline, give or take the
    // microseconds between here and there.
    let deadline = Some(SystemTime::now() + rt.config.function_timeout);
    let ctx = |attempt: u32, inner_headers: Option<&HeaderMap>| {
        context::build(
            rt,
            Invocation {
                kind,
                trigger,
                headers,
                inner_headers,
                envelope: Some(&envelope),
                raw: Some(body.clone()),
                attempt,
            },
        )
    };
    let decoded = match kind {
        TriggerKind::Queue => trigger::queue(&envelope, trigger).map(Event::Queue),
        TriggerKind::Storage => trigger::storage(&envelope, trigger).map(Event::Storage),
        TriggerKind::Schedule => trigger::timer::decode(&envelope, trigger).map(Event::Schedule),
        _ => return http(rt, &envelope, ctx).await,
    };
    let event = match decoded {
        Ok(event) => event,
        Err(err) => return Ended::Failed(StatusCode::BAD_REQUEST, err),
    };
    let app = &rt.app;
    let dispatch = async {
        match event {
            Event::Queue(mut message) => {
                let ctx = ctx(message.attempt, None);
                if message.id.is_empty() {
                    message.id = ctx.invocation_id().to_owned();
                }
                app.dispatch_queue(message, ctx).await
            }
            Event::Storage(event) => app.dispatch_storage(event, ctx(1, None)).await,
            Event::Schedule(event) => app.dispatch_schedule(event, ctx(1, None)).await,
        }
    };
    Ended::Event(
        deadline::outcome_within(deadline, rt.deadline_margin(), dispatch, || rt.timed_out()).await,
    )
}

/// A decoded event, before dispatch.
enum Event {
    Queue(QueueMessage),
    Storage(StorageEvent),
    Schedule(ScheduledEvent),
}

/// The HTTP trigger without forwarding: `Data.req` in, `Outputs.res` out.
async fn http(
    rt: &Runtime,
    envelope: &Envelope,
    ctx: impl Fn(u32, Option<&HeaderMap>) -> nubes_core::Context,
) -> Ended {
    let request = match trigger::http_binding::request(envelope) {
        Ok(request) => request,
        Err(err) => return Ended::Failed(StatusCode::BAD_REQUEST, err),
    };
    let ctx = ctx(1, Some(request.headers()));
    let deadline = ctx.deadline();
    let limit = rt.config.max_invocation_bytes;
    let serve = async {
        let response = rt.app.dispatch_http(request, ctx).await;
        let (parts, body) = response.into_parts();
        let bytes = body.collect_bytes(limit).await?;
        let response = http::Response::from_parts(parts, nubes_core::Body::empty());
        Ok::<_, Error>(trigger::http_binding::output(&response, &bytes))
    };
    match deadline::within(deadline, rt.deadline_margin(), serve).await {
        Some(Ok(res)) => Ended::Http(res),
        Some(Err(err)) => Ended::Failed(StatusCode::INTERNAL_SERVER_ERROR, err),
        None => Ended::Failed(StatusCode::INTERNAL_SERVER_ERROR, rt.timed_out()),
    }
}

fn function_names(rt: &Runtime) -> Vec<String> {
    let description = rt.app.describe();
    let http = description.http.then(|| rt.config.http_function.clone());
    http.into_iter()
        .chain(
            description
                .triggers
                .iter()
                .map(|t| crate::event_function_name(t.kind, &t.name)),
        )
        .collect()
}
