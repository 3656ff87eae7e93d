//! A message from a queue or topic.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::payload::{BodyEncoding, decode_body, encode_body};
use crate::Error;

/// One message from a queue or topic: SQS, SNS, Pub/Sub, Azure Storage queues,
/// Service Bus, or a local queue.
///
/// In JSON the body is the text when it is UTF-8, else base64, with
/// `body_encoding` saying which.
///
/// ```
/// use nubes_core::QueueMessage;
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: u32 }
///
/// let msg = QueueMessage::new("m-1", r#"{"id":7}"#).with_attribute("tenant", "acme");
/// assert_eq!(msg.json::<Order>().unwrap().id, 7);
/// assert_eq!(msg.text().unwrap(), r#"{"id":7}"#);
/// assert_eq!(msg.attributes["tenant"], "acme");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueueMessage {
    /// The platform's message id (SQS `messageId`, Pub/Sub `messageId`, …).
    pub id: String,
    /// The message body, exactly as published.
    pub body: Bytes,
    /// Message attributes / properties, as strings.
    pub attributes: BTreeMap<String, String>,
    /// Which delivery of this message this is, starting at 1.
    pub attempt: u32,
    /// When the message was published, if the platform says.
    pub published_at: Option<DateTime<Utc>>,
    /// Ordering or group key (SQS FIFO `MessageGroupId`, Pub/Sub `orderingKey`, Service Bus session).
    pub ordering_key: Option<String>,
    /// The name of the queue, topic or subscription it came from.
    pub source: String,
}

impl QueueMessage {
    /// A first delivery of `body` with id `id` and no attributes.
    pub fn new(id: impl Into<String>, body: impl Into<Bytes>) -> Self {
        QueueMessage {
            id: id.into(),
            body: body.into(),
            attributes: BTreeMap::new(),
            attempt: 1,
            published_at: None,
            ordering_key: None,
            source: String::new(),
        }
    }

    /// Adds an attribute.
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Sets the delivery attempt.
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// Sets the publish time.
    pub fn with_published_at(mut self, at: DateTime<Utc>) -> Self {
        self.published_at = Some(at);
        self
    }

    /// Sets the ordering / group key.
    pub fn with_ordering_key(mut self, key: impl Into<String>) -> Self {
        self.ordering_key = Some(key.into());
        self
    }

    /// Sets the source queue name.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// The body bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|e| {
            Error::invalid_event(format!("message `{}` body is not UTF-8: {e}", self.id))
        })
    }

    /// The body deserialised from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::invalid_event(format!(
                "message `{}` body is not the expected JSON: {e}",
                self.id
            ))
            .with_source(e)
        })
    }
}

/// The JSON shape of a [`QueueMessage`].
#[derive(Serialize, Deserialize)]
struct Wire {
    id: String,
    body: String,
    body_encoding: BodyEncoding,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    attempt: u32,
    #[serde(default)]
    published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    ordering_key: Option<String>,
    #[serde(default)]
    source: String,
}

impl Serialize for QueueMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (body, body_encoding) = encode_body(&self.body);
        Wire {
            id: self.id.clone(),
            body,
            body_encoding,
            attributes: self.attributes.clone(),
            attempt: self.attempt,
            published_at: self.published_at,
            ordering_key: self.ordering_key.clone(),
            source: self.source.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for QueueMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        let body = decode_body(wire.body, wire.body_encoding).map_err(serde::de::Error::custom)?;
        Ok(QueueMessage {
            id: wire.id,
            body,
            attributes: wire.attributes,
            attempt: wire.attempt,
            published_at: wire.published_at,
            ordering_key: wire.ordering_key,
            source: wire.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_binary_bodies() {
        let msg = QueueMessage::new("1", vec![0u8, 159, 146, 150]).with_attempt(3);
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["body_encoding"], "base64");
        let back: QueueMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, msg);
    }

    #[test]
    fn text_bodies_serialise_as_text() {
        let json = serde_json::to_value(QueueMessage::new("1", "hello")).unwrap();
        assert_eq!(json["body"], "hello");
        assert_eq!(json["body_encoding"], "text");
    }

    #[test]
    fn bad_json_is_an_invalid_event_error() {
        let err = QueueMessage::new("9", "not json")
            .json::<u32>()
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidEvent);
        assert!(err.message().contains("`9`"));
    }

    #[test]
    fn non_utf8_text_is_an_error() {
        assert!(QueueMessage::new("1", vec![0xff]).text().is_err());
    }

    #[test]
    fn bad_base64_does_not_deserialise() {
        let v = serde_json::json!({"id":"1","body":"!!!","body_encoding":"base64","attempt":1});
        assert!(serde_json::from_value::<QueueMessage>(v).is_err());
    }
}
