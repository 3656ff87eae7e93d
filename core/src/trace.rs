//! Trace context, built from whatever header the platform sends.

use serde::Serialize;

/// The distributed-trace identity of one invocation, normalised to W3C ids.
///
/// Built from W3C `traceparent`, AWS X-Ray (`Root=1-…;Parent=…;Sampled=1`) or
/// Google's `X-Cloud-Trace-Context` (`TRACE/SPAN;o=1`). Forward
/// [`traceparent`](TraceContext::traceparent) on outgoing calls.
///
/// ```
/// use nubes_core::TraceContext;
///
/// let t = TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// assert_eq!(t.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
/// assert_eq!(t.sampled(), Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TraceContext {
    trace_id: Option<String>,
    span_id: Option<String>,
    sampled: Option<bool>,
    /// The original X-Ray header, kept because X-Ray wants it back verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    xray: Option<String>,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn non_zero(s: &str) -> bool {
    s.bytes().any(|b| b != b'0')
}

impl TraceContext {
    /// An empty trace context (no ids known).
    pub fn none() -> Self {
        TraceContext::default()
    }

    /// Parses a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex flags>`).
    pub fn from_traceparent(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let span_id = parts.next()?;
        let flags = parts.next()?;
        if !is_hex(version, 2) || version == "ff" || !is_hex(trace_id, 32) || !is_hex(span_id, 16) {
            return None;
        }
        if !is_hex(flags, 2) || !non_zero(trace_id) || !non_zero(span_id) {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(TraceContext {
            trace_id: Some(trace_id.to_ascii_lowercase()),
            span_id: Some(span_id.to_ascii_lowercase()),
            sampled: Some(flags & 1 == 1),
            xray: None,
        })
    }

    /// Parses an AWS X-Ray header (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`).
    /// The trace id is the W3C form of the root (epoch and random part joined).
    pub fn from_xray(header: &str) -> Option<Self> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        for field in header.split(';') {
            let (key, value) = field.trim().split_once('=')?;
            match key {
                "Root" => root = Some(value),
                "Parent" => parent = Some(value),
                "Sampled" => sampled = Some(value == "1"),
                _ => {}
            }
        }
        let mut root_parts = root?.split('-');
        let (version, epoch, random) = (root_parts.next()?, root_parts.next()?, root_parts.next()?);
        if version != "1" || !is_hex(epoch, 8) || !is_hex(random, 24) {
            return None;
        }
        Some(TraceContext {
            trace_id: Some(format!("{epoch}{random}").to_ascii_lowercase()),
            span_id: parent
                .filter(|p| is_hex(p, 16))
                .map(str::to_ascii_lowercase),
            sampled,
            xray: Some(header.trim().to_owned()),
        })
    }

    /// Parses Google's `X-Cloud-Trace-Context` (`TRACE_ID/SPAN_ID;o=1`, span id in decimal).
    pub fn from_cloud_trace(header: &str) -> Option<Self> {
        let (ids, options) = match header.trim().split_once(';') {
            Some((ids, options)) => (ids, Some(options)),
            None => (header.trim(), None),
        };
        let (trace_id, span) = match ids.split_once('/') {
            Some((t, s)) => (t, Some(s)),
            None => (ids, None),
        };
        if !is_hex(trace_id, 32) || !non_zero(trace_id) {
            return None;
        }
        let span_id = span
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| *s != 0)
            .map(|s| format!("{s:016x}"));
        let sampled = options.and_then(|o| o.strip_prefix("o=")).map(|o| o == "1");
        Some(TraceContext {
            trace_id: Some(trace_id.to_ascii_lowercase()),
            span_id,
            sampled,
            xray: None,
        })
    }

    /// A new root trace with random ids (sampled), for invocations that
    /// arrived without any trace header.
    pub fn new_root() -> Self {
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        let span = uuid::Uuid::new_v4().simple().to_string();
        TraceContext {
            trace_id: Some(trace_id),
            span_id: Some(span[..16].to_owned()),
            sampled: Some(true),
            xray: None,
        }
    }

    /// The trace context of an HTTP request: W3C `traceparent` first, then
    /// Google's `X-Cloud-Trace-Context`, then AWS's `X-Amzn-Trace-Id`.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Self> {
        // One pass over the request's few headers: cheaper than three hashed
        // lookups, a cost every request would pay even without trace headers.
        let (mut traceparent, mut cloud_trace, mut xray) = (None, None, None);
        for (name, value) in headers {
            let slot = match name.as_str() {
                "traceparent" => &mut traceparent,
                "x-cloud-trace-context" => &mut cloud_trace,
                "x-amzn-trace-id" => &mut xray,
                _ => continue,
            };
            if slot.is_none() {
                *slot = value.to_str().ok();
            }
        }
        traceparent
            .and_then(TraceContext::from_traceparent)
            .or_else(|| cloud_trace.and_then(TraceContext::from_cloud_trace))
            .or_else(|| xray.and_then(TraceContext::from_xray))
    }

    /// The 32-hex-digit trace id, when known.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// The 16-hex-digit id of the caller's span, when known.
    pub fn span_id(&self) -> Option<&str> {
        self.span_id.as_deref()
    }

    /// Whether the caller sampled this trace, when it said.
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// The X-Ray header this context came from, if any.
    pub fn xray_header(&self) -> Option<&str> {
        self.xray.as_deref()
    }

    /// The trace id in X-Ray's form (`1-5759e988-bd862e3fe1be46a994272793`),
    /// as AWS Lambda Powertools logs it in `xray_trace_id`. Every W3C trace id
    /// has one (X-Ray ids are W3C ids split after the 8th digit).
    pub fn xray_trace_id(&self) -> Option<String> {
        let id = self.trace_id.as_deref()?;
        let (epoch, random) = (id.get(..8)?, id.get(8..)?);
        Some(format!("1-{epoch}-{random}"))
    }

    /// A W3C `traceparent` value to forward on outgoing calls, when both ids are known.
    ///
    /// ```
    /// use nubes_core::TraceContext;
    ///
    /// let t = TraceContext::from_xray("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1").unwrap();
    /// assert_eq!(t.traceparent().as_deref(), Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
    /// assert_eq!(t.xray_trace_id().as_deref(), Some("1-5759e988-bd862e3fe1be46a994272793"));
    /// ```
    pub fn traceparent(&self) -> Option<String> {
        let trace_id = self.trace_id.as_deref()?;
        let span_id = self.span_id.as_deref()?;
        let flags = if self.sampled.unwrap_or(false) {
            "01"
        } else {
            "00"
        };
        Some(format!("00-{trace_id}-{span_id}-{flags}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips() {
        let h = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let t = TraceContext::from_traceparent(h).unwrap();
        assert_eq!(t.traceparent().as_deref(), Some(h));
    }

    #[test]
    fn traceparent_rejects_garbage_and_zero_ids() {
        assert!(TraceContext::from_traceparent("nope").is_none());
        assert!(
            TraceContext::from_traceparent(
                "00-00000000000000000000000000000000-b7ad6b7169203331-01"
            )
            .is_none()
        );
        assert!(
            TraceContext::from_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b71-01")
                .is_none()
        );
    }

    #[test]
    fn xray_header_maps_to_w3c_ids() {
        let t = TraceContext::from_xray(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .unwrap();
        assert_eq!(t.trace_id(), Some("5759e988bd862e3fe1be46a994272793"));
        assert_eq!(t.span_id(), Some("53995c3f42cd8ad8"));
        assert_eq!(t.sampled(), Some(true));
        assert!(t.xray_header().unwrap().starts_with("Root="));
    }

    #[test]
    fn headers_are_tried_in_order() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000/10;o=0".parse().unwrap(),
        );
        let t = TraceContext::from_headers(&h).unwrap();
        assert_eq!(t.span_id(), Some("000000000000000a"));
        h.insert(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            TraceContext::from_headers(&h).unwrap().trace_id(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
        assert!(TraceContext::from_headers(&http::HeaderMap::new()).is_none());
    }

    #[test]
    fn every_trace_id_has_an_xray_form() {
        let t = TraceContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        )
        .unwrap();
        assert_eq!(
            t.xray_trace_id().as_deref(),
            Some("1-4bf92f35-77b34da6a3ce929d0e0e4736")
        );
        assert_eq!(t.sampled(), Some(false));
        assert!(TraceContext::none().xray_trace_id().is_none());
        let back = TraceContext::from_xray(&format!(
            "Root={};Parent=00f067aa0ba902b7",
            t.xray_trace_id().unwrap()
        ))
        .unwrap();
        assert_eq!(back.trace_id(), t.trace_id());
    }

    #[test]
    fn new_roots_are_valid_and_distinct() {
        let a = TraceContext::new_root();
        let b = TraceContext::new_root();
        assert_ne!(a.trace_id(), b.trace_id());
        assert!(TraceContext::from_traceparent(&a.traceparent().unwrap()).is_some());
    }

    #[test]
    fn cloud_trace_context_converts_decimal_span() {
        let t = TraceContext::from_cloud_trace("105445aa7843bc8bf206b12000100000/1;o=1").unwrap();
        assert_eq!(t.trace_id(), Some("105445aa7843bc8bf206b12000100000"));
        assert_eq!(t.span_id(), Some("0000000000000001"));
        assert_eq!(t.sampled(), Some(true));
        assert!(TraceContext::from_cloud_trace("xyz/1").is_none());
    }
}
