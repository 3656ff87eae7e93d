//! `serviceBusTrigger`: a Service Bus queue or subscription message.
//!
//! `Metadata` carries `MessageId`, `DeliveryCount`, `SequenceNumber`,
//! `EnqueuedTimeUtc`, `SessionId`, `ContentType`, and the user properties
//! (`UserProperties` on older extensions, `ApplicationProperties` on newer
//! ones). Scalars are often JSON-encoded a second time by the host
//! (`"\"4e77…\""`, `"1"`); see [`crate::envelope`].

use nubes_core::{Error, QueueMessage};
use serde_json::Value;

use crate::bindings;
use crate::envelope::{self, Envelope, Field};
use crate::trigger::{payload, queue_storage};

/// The message of a Service Bus invocation for queue `queue`.
pub(crate) fn decode(envelope: &Envelope, queue: &str) -> Result<QueueMessage, Error> {
    let input = envelope.trigger_field(&[bindings::MESSAGE])?;
    let body = payload::field_bytes(input, bindings::MESSAGE)?;
    let id = envelope
        .meta_field("MessageId")
        .and_then(Field::text)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::invalid_event("Service Bus invocation without `Metadata.MessageId`")
        })?;
    let mut message = QueueMessage::new(id, body)
        .with_attempt(queue_storage::attempt(envelope, "DeliveryCount")?)
        .with_source(queue);
    let enqueued = envelope
        .meta("EnqueuedTimeUtc")
        .or_else(|| envelope.meta("EnqueuedTime"))
        .and_then(envelope::time);
    if let Some(at) = enqueued {
        message = message.with_published_at(at);
    }
    if let Some(session) = envelope
        .meta("SessionId")
        .and_then(envelope::text)
        .filter(|s| !s.is_empty())
    {
        message = message.with_ordering_key(session);
    }
    for key in ["UserProperties", "ApplicationProperties"] {
        let Some(props) = envelope.meta(key).and_then(envelope::object) else {
            continue;
        };
        for (name, value) in &props {
            let value = envelope::text(value).unwrap_or_else(|| match value {
                Value::Null => String::new(),
                other => other.to_string(),
            });
            message.attributes.insert(name.clone(), value);
        }
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_with_double_encoded_metadata() {
        let raw = nubes_test_support::fixtures::bytes("azure/service-bus-trigger.request.json");
        let env = Envelope::parse(&raw).unwrap();
        let msg = crate::trigger::queue(&env, "orders").unwrap();
        assert_eq!(msg.id, "4e773554-f6b7-4ea2-b07d-4c5fd5aba741");
        assert_eq!(msg.text().unwrap(), r#"{"message":"hello","number":2}"#);
        assert_eq!(msg.attempt, 1);
        assert_eq!(
            msg.published_at.unwrap().to_rfc3339(),
            "2023-10-12T20:13:49+00:00"
        );
        assert!(msg.attributes.is_empty());
    }

    #[test]
    fn properties_session_and_counts_as_strings() {
        let env = Envelope::parse(
            br#"{"Data":{"messageBase64":"aGk="},"Metadata":{
                "MessageId":"\"m-1\"","DeliveryCount":"\"4\"","SessionId":"\"s\"",
                "UserProperties":"{\"tenant\":\"acme\",\"n\":2}",
                "ApplicationProperties":{"region":"\"eu\"","flag":true}}}"#,
        )
        .unwrap();
        let msg = decode(&env, "orders").unwrap();
        assert_eq!(msg.id, "m-1");
        assert_eq!(msg.text().unwrap(), "hi");
        assert_eq!(msg.attempt, 4);
        assert_eq!(msg.ordering_key.as_deref(), Some("s"));
        assert_eq!(msg.attributes["tenant"], "acme");
        assert_eq!(msg.attributes["n"], "2");
        assert_eq!(msg.attributes["region"], "eu");
        assert_eq!(msg.attributes["flag"], "true");
    }

    #[test]
    fn missing_message_id_is_invalid() {
        let env =
            Envelope::parse(br#"{"Data":{"messageBase64":"eA=="},"Metadata":{"DeliveryCount":1}}"#)
                .unwrap();
        assert!(decode(&env, "orders").is_err());
    }
}
