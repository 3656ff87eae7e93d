//! Making the [`RawEvent`] a context carries: adapters keep the bytes the
//! platform delivered, users only read them.

use bytes::Bytes;

use crate::RawEvent;

/// The bytes a platform delivered, with their media type.
///
/// ```
/// use nubes_core::raw;
///
/// let raw = raw::raw_event("text/plain", "hello");
/// assert_eq!(raw.content_type(), "text/plain");
/// ```
pub fn raw_event(content_type: &'static str, bytes: impl Into<Bytes>) -> RawEvent {
    RawEvent::new(content_type, bytes)
}

/// A JSON document a platform delivered (`application/json`).
///
/// ```
/// use nubes_core::raw;
///
/// let raw = raw::json_event(r#"{"Records":[]}"#);
/// let value: serde_json::Value = raw.parse_json().unwrap();
/// assert!(value["Records"].is_array());
/// ```
pub fn json_event(bytes: impl Into<Bytes>) -> RawEvent {
    raw_event("application/json", bytes)
}
