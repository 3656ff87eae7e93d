//! The `Context` of one invocation: id, trace, deadline, raw event.

use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderName};
use nubes_core::raw::ContextBuilder;
use nubes_core::{Context, Platform, TraceContext, TriggerKind};

use crate::envelope::Envelope;
use crate::runtime::Runtime;

/// The headers carrying the host's invocation id: the classic one on
/// invocation requests and forwarded HTTP requests, and the one the host's
/// HTTP proxy (`enableProxyingHttpRequest`) adds.
/// Static names: a lookup by `&str` would parse the name on every request.
static INVOCATION_ID_HEADERS: [HeaderName; 2] = [
    HeaderName::from_static("x-azure-functions-invocationid"),
    HeaderName::from_static("x-ms-invocation-id"),
];

/// The host's invocation id, from whichever header carries it.
pub(crate) fn invocation_id(headers: &HeaderMap) -> Option<&str> {
    INVOCATION_ID_HEADERS.iter().find_map(|name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    })
}

/// What a context is built from.
pub(crate) struct Invocation<'a> {
    pub(crate) kind: TriggerKind,
    pub(crate) trigger: &'a str,
    /// Headers of the request the host sent to the handler.
    pub(crate) headers: &'a HeaderMap,
    /// The HTTP request described by an envelope, whose headers may carry the
    /// client's trace when the host's do not.
    pub(crate) inner_headers: Option<&'a HeaderMap>,
    pub(crate) envelope: Option<&'a Envelope>,
    pub(crate) raw: Option<Bytes>,
    pub(crate) attempt: u32,
}

/// A W3C trace in the invocation's metadata: `traceparent`, or the
/// `TraceParent` of a `TraceContext` object (the shape the Functions host
/// gives its workers).
fn metadata_trace(envelope: &Envelope) -> Option<TraceContext> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    envelope
        .meta("traceparent")
        .and_then(text)
        .or_else(|| {
            let ctx = envelope.meta("TraceContext")?.as_object()?;
            crate::envelope::lookup(ctx, "TraceParent").and_then(text)
        })
        .and_then(|v| TraceContext::from_traceparent(&v))
}

/// Builds the handler's context.
pub(crate) fn build(rt: &Runtime, inv: Invocation<'_>) -> Context {
    // Without an id or a trace from the host, the context generates them on
    // first read (most forwarded HTTP requests never ask).
    let id = invocation_id(inv.headers)
        .map(str::to_owned)
        .or_else(|| inv.envelope.and_then(|e| e.sys("RandGuid")));
    let trace = TraceContext::from_headers(inv.headers)
        .or_else(|| inv.inner_headers.and_then(TraceContext::from_headers))
        .or_else(|| inv.envelope.and_then(metadata_trace));
    let mut builder = ContextBuilder::new(Platform::Azure, inv.kind, trigger_name(inv.trigger))
        .attempt(inv.attempt)
        .deadline(SystemTime::now() + rt.config.function_timeout)
        .shutdown(rt.shutdown.clone())
        .metrics(rt.metrics.metrics());
    if let Some(id) = id {
        builder = builder.invocation_id(id);
    }
    if let Some(trace) = trace {
        builder = builder.trace(trace);
    }
    if let Some(raw) = inv.raw {
        builder = builder.raw_event(nubes_core::raw::json_event(raw));
    }
    builder.build()
}

/// The trigger name for the context: the default HTTP function's name without
/// an allocation (every forwarded request has it), any other name copied.
fn trigger_name(trigger: &str) -> std::borrow::Cow<'static, str> {
    match trigger {
        "http" => std::borrow::Cow::Borrowed("http"),
        other => std::borrow::Cow::Owned(other.to_owned()),
    }
}
