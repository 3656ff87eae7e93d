//! `queueTrigger`: an Azure Storage queue message.
//!
//! `Data.<binding>` is the message; `Metadata` has `Id`, `DequeueCount`,
//! `InsertionTime`, `ExpirationTime`, `NextVisibleTime`, `PopReceipt`.

use nubes_core::{Error, QueueMessage};

use crate::bindings;
use crate::envelope::{self, Envelope, Field};
use crate::trigger::payload;

/// The message of a Storage queue invocation for queue `queue`.
pub(crate) fn decode(envelope: &Envelope, queue: &str) -> Result<QueueMessage, Error> {
    let input = envelope.trigger_field(&[bindings::MESSAGE])?;
    let body = payload::field_bytes(input, bindings::MESSAGE)?;
    // Storage queue messages always have an id; without one (a hand-made
    // payload) the caller substitutes the invocation id.
    let id = envelope
        .meta_field("Id")
        .and_then(Field::text)
        .unwrap_or_default();
    let mut message = QueueMessage::new(id, body)
        .with_attempt(attempt(envelope.meta("DequeueCount")))
        .with_source(queue);
    if let Some(at) = envelope.meta_field("InsertionTime").and_then(Field::time) {
        message = message.with_published_at(at);
    }
    Ok(message)
}

/// A 1-based delivery count, clamped into `u32`; 1 when absent or garbled.
pub(crate) fn attempt(value: Option<&serde_json::Value>) -> u32 {
    value
        .and_then(envelope::count)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX).max(1))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_payload_decodes() {
        let raw = nubes_test_support::fixtures::bytes("azure/queue-trigger.request.json");
        let env = Envelope::parse(&raw).unwrap();
        let msg = crate::trigger::queue(&env, "orders").unwrap();
        assert_eq!(msg.id, "800ae4b3-bdd2-4c08-badd-f08e5a34b865");
        assert_eq!(msg.text().unwrap(), "{ message: \"Message sent\" }");
        assert_eq!(msg.attempt, 1);
        assert_eq!(msg.source, "orders");
        assert_eq!(
            msg.published_at.unwrap().to_rfc3339(),
            "2019-10-09T17:58:31+00:00"
        );
        assert!(msg.attributes.is_empty());
    }

    #[test]
    fn binary_messages_and_missing_metadata() {
        let env = Envelope::parse(
            br#"{"Data":{"messageBase64":"AP8="},"Metadata":{"DequeueCount":"3"}}"#,
        )
        .unwrap();
        let msg = decode(&env, "orders").unwrap();
        assert_eq!(&msg.body[..], &[0u8, 0xff]);
        assert_eq!(msg.id, "");
        assert_eq!(msg.attempt, 3);
    }
}
