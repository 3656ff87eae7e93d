//! The platform's own event, kept as an escape hatch.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::Error;

/// The bytes the platform delivered for this invocation, before nubes mapped them
/// onto a neutral event. Use it for platform-specific fields nubes does not carry.
///
/// Cheap to clone (reference-counted bytes).
///
/// ```
/// # let raw = nubes_core::raw::json_event(r#"{"Records":[]}"#);
/// # let ctx = nubes_core::raw::ContextBuilder::new(
/// #     nubes_core::Platform::Aws, nubes_core::TriggerKind::Queue, "orders").raw_event(raw).build();
/// let raw = ctx.raw_event().unwrap();
/// let value: serde_json::Value = raw.parse_json().unwrap();
/// assert!(value["Records"].is_array());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    content_type: &'static str,
    bytes: Bytes,
}

impl RawEvent {
    /// Raw bytes with the given media type (adapters: [`raw::raw_event`](crate::raw::raw_event)).
    pub(crate) fn new(content_type: &'static str, bytes: impl Into<Bytes>) -> Self {
        RawEvent {
            content_type,
            bytes: bytes.into(),
        }
    }

    /// The media type of the bytes.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The bytes as delivered.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Deserialises the raw event, for instance into an `aws_lambda_events` type.
    pub fn parse_json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.bytes).map_err(|e| {
            Error::invalid_event(format!("raw event is not the expected JSON: {e}")).with_source(e)
        })
    }
}
