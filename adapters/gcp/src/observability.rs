//! Where a delivery's trace comes from.

use bytes::Bytes;
use http::HeaderMap;
use nubes_core::{QueueMessage, TraceContext};

/// Pub/Sub message attributes that carry a W3C trace: the client libraries'
/// OpenTelemetry propagation, then a plain one.
const TRACE_ATTRIBUTES: [&str; 2] = ["googclient_traceparent", "traceparent"];

/// The trace of an event delivery: the request's own headers first
/// (`traceparent`, `X-Cloud-Trace-Context`: the trace Cloud Run files the
/// request under, so the handler's lines group with it), else the event's
/// CloudEvent `traceparent` extension (binary `ce-traceparent` header or
/// structured attribute), else a Pub/Sub message's trace attribute.
pub(crate) fn delivery_trace(
    headers: &HeaderMap,
    body: &Bytes,
    message: Option<&QueueMessage>,
) -> Option<TraceContext> {
    TraceContext::from_headers(headers)
        .or_else(|| {
            headers
                .get("ce-traceparent")
                .and_then(|v| v.to_str().ok())
                .and_then(TraceContext::from_traceparent)
        })
        .or_else(|| structured_traceparent(headers, body))
        .or_else(|| {
            let attributes = &message?.attributes;
            TRACE_ATTRIBUTES
                .iter()
                .find_map(|name| attributes.get(*name))
                .and_then(|v| TraceContext::from_traceparent(v))
        })
}

/// The `traceparent` attribute of a structured-mode CloudEvent.
fn structured_traceparent(headers: &HeaderMap, body: &Bytes) -> Option<TraceContext> {
    let structured = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/cloudevents+json"));
    if !structured {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Extension<'a> {
        #[serde(borrow)]
        traceparent: Option<&'a str>,
    }
    let ext: Extension<'_> = serde_json::from_slice(body).ok()?;
    ext.traceparent.and_then(TraceContext::from_traceparent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn cloudevent_and_pubsub_traces_are_found() {
        let mut h = HeaderMap::new();
        h.insert("ce-traceparent", TP.parse().unwrap());
        let t = delivery_trace(&h, &Bytes::new(), None).unwrap();
        assert_eq!(t.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));

        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            "application/cloudevents+json; charset=utf-8"
                .parse()
                .unwrap(),
        );
        let body = Bytes::from(format!(r#"{{"specversion":"1.0","traceparent":"{TP}"}}"#));
        assert!(delivery_trace(&h, &body, None).is_some());

        let mut msg = QueueMessage::new("1", "x");
        msg.attributes
            .insert("googclient_traceparent".into(), TP.into());
        let t = delivery_trace(&HeaderMap::new(), &Bytes::new(), Some(&msg)).unwrap();
        assert_eq!(t.span_id(), Some("00f067aa0ba902b7"));

        let mut h = HeaderMap::new();
        h.insert(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000/1;o=1".parse().unwrap(),
        );
        h.insert("ce-traceparent", TP.parse().unwrap());
        let t = delivery_trace(&h, &Bytes::new(), Some(&msg)).unwrap();
        assert_eq!(
            t.trace_id(),
            Some("105445aa7843bc8bf206b12000100000"),
            "the request's header wins"
        );
        assert!(delivery_trace(&HeaderMap::new(), &Bytes::new(), None).is_none());
    }
}
