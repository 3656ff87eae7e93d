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
        .with_attempt(attempt(envelope, "DequeueCount")?)
        .with_source(queue);
    if let Some(at) = envelope.meta_field("InsertionTime").and_then(Field::time) {
        message = message.with_published_at(at);
    }
    Ok(message)
}

/// The 1-based delivery count `Metadata.<name>`, clamped into `u32`. Absent
/// (a hand-made payload): 1, logged. Present but not a non-negative integer
/// (as a number or text): an invalid event, not a silent first attempt.
pub(crate) fn attempt(envelope: &Envelope, name: &str) -> Result<u32, Error> {
    let Some(field) = envelope.meta_field(name) else {
        tracing::debug!("invocation without `Metadata.{name}`: taken as the first attempt");
        return Ok(1);
    };
    field
        .value()
        .and_then(envelope::count)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX).max(1))
        .ok_or_else(|| {
            Error::invalid_event(format!(
                "`Metadata.{name}` is not a delivery count (a non-negative integer): {}",
                field
                    .value()
                    .map_or_else(|| "unreadable JSON".to_owned(), |v| v.to_string())
            ))
        })
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

    #[test]
    fn delivery_counts_are_read_strictly() {
        let count = |meta: &str| {
            let body = format!(r#"{{"Data":{{"messageBase64":"eA=="}},"Metadata":{meta}}}"#);
            decode(&Envelope::parse(body.as_bytes()).unwrap(), "orders").map(|m| m.attempt)
        };
        assert_eq!(count(r#"{"DequeueCount":2}"#).unwrap(), 2);
        assert_eq!(count(r#"{"DequeueCount":"\"4\""}"#).unwrap(), 4);
        assert_eq!(count(r#"{}"#).unwrap(), 1, "absent");
        assert_eq!(
            count(r#"{"DequeueCount":null}"#).unwrap(),
            1,
            "null is absent"
        );
        for bad in [
            r#""two""#,
            "2.5",
            "-1",
            "true",
            "[2]",
            r#"{"n":2}"#,
            r#""""#,
        ] {
            let err = count(&format!(r#"{{"DequeueCount":{bad}}}"#)).unwrap_err();
            assert_eq!(err.kind(), nubes_core::ErrorKind::InvalidEvent, "{bad}");
            assert!(err.message().contains("DequeueCount"), "{err}");
        }
    }

    #[test]
    fn binary_messages_must_be_base64_text() {
        for bad in ["12", "true", "[1]", r#"{"a":"b"}"#] {
            let body = format!(r#"{{"Data":{{"messageBase64":{bad}}},"Metadata":{{}}}}"#);
            let err = decode(&Envelope::parse(body.as_bytes()).unwrap(), "orders").unwrap_err();
            assert_eq!(err.kind(), nubes_core::ErrorKind::InvalidEvent, "{bad}");
        }
    }
}
