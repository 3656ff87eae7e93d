//! The `Context` of one invocation: id, trace, deadline, raw event.

use std::time::SystemTime;

use bytes::Bytes;
use http::HeaderMap;
use nubes_core::{Context, Provider, RawEvent, TraceContext, TriggerKind};

use crate::envelope::Envelope;
use crate::runtime::Runtime;

/// The headers carrying the host's invocation id: the classic one on
/// invocation requests and forwarded HTTP requests, and the one the host's
/// HTTP proxy (`enableProxyingHttpRequest`) adds.
const INVOCATION_ID_HEADERS: [&str; 2] = ["x-azure-functions-invocationid", "x-ms-invocation-id"];

/// The host's invocation id, from whichever header carries it.
pub(crate) fn invocation_id(headers: &HeaderMap) -> Option<&str> {
    INVOCATION_ID_HEADERS.iter().find_map(|name| {
        headers
            .get(*name)
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

/// Builds the handler's context.
pub(crate) fn build(rt: &Runtime, inv: Invocation<'_>) -> Context {
    let id = invocation_id(inv.headers)
        .map(str::to_owned)
        .or_else(|| inv.envelope.and_then(|e| e.sys("RandGuid")))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let trace = TraceContext::from_headers(inv.headers)
        .or_else(|| inv.inner_headers.and_then(TraceContext::from_headers))
        .unwrap_or_else(TraceContext::new_root);
    let mut builder = Context::builder(Provider::Azure, inv.kind, inv.trigger)
        .invocation_id(id)
        .trace(trace)
        .attempt(inv.attempt)
        .deadline(SystemTime::now() + rt.config.function_timeout)
        .shutdown_signal(rt.shutdown.clone());
    if let Some(raw) = inv.raw {
        builder = builder.raw_event(RawEvent::json(raw));
    }
    builder.build()
}
