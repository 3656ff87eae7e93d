//! `eventGridTrigger` with Blob Storage events, in both the Event Grid schema
//! (`eventType`, `eventTime`, `topic`) and the CloudEvents 1.0 schema (`type`,
//! `time`, `source`, `specversion`).
//!
//! The container and blob name come from the subject
//! (`/blobServices/default/containers/{container}/blobs/{name}`), else from
//! `data.url`.

use nubes_core::{Error, StorageAction, StorageEvent};
use serde_json::{Map, Value};

use crate::bindings;
use crate::envelope::{self, Envelope};
use crate::trigger::blob;

/// The Event Grid event of the invocation, if the trigger input is one (an
/// object with `eventType` or `specversion`, possibly serialised to a string,
/// or a one-element batch of them).
pub(crate) fn find(envelope: &Envelope) -> Result<Option<Map<String, Value>>, Error> {
    let Ok((_, value)) = envelope.trigger_input(&[bindings::EVENT, bindings::BLOB]) else {
        return Ok(None);
    };
    let value = match value {
        Value::Array(items) => match items.as_slice() {
            [one] => one,
            _ => {
                return Err(Error::invalid_event(format!(
                    "an Event Grid invocation carries one event, this one has {}",
                    items.len()
                )));
            }
        },
        other => other,
    };
    let Some(event) = envelope::object(value) else {
        return Ok(None);
    };
    let is_event = ["eventType", "specversion"]
        .iter()
        .any(|k| event.contains_key(*k));
    Ok(is_event.then_some(event))
}

/// The storage event an Event Grid event describes.
pub(crate) fn decode(event: Map<String, Value>) -> Result<StorageEvent, Error> {
    let field = |name: &str| event.get(name).and_then(envelope::text);
    let kind = field("eventType")
        .or_else(|| field("type"))
        .ok_or_else(|| Error::invalid_event("Event Grid event without a type"))?;
    let action = match kind.as_str() {
        "Microsoft.Storage.BlobCreated" => StorageAction::Created,
        "Microsoft.Storage.BlobDeleted" => StorageAction::Deleted,
        "Microsoft.Storage.BlobTierChanged" => StorageAction::Archived,
        other => {
            return Err(Error::invalid_event(format!(
                "Event Grid event type `{other}` is not a Blob Storage event nubes handles \
                 (Microsoft.Storage.BlobCreated, BlobDeleted, BlobTierChanged); \
                 filter the subscription to those types"
            )));
        }
    };
    let data = event
        .get("data")
        .and_then(envelope::object)
        .unwrap_or_default();
    let data_field = |name: &str| data.get(name).and_then(envelope::text);
    let (bucket, key) = field("subject")
        .and_then(|s| from_subject(&s))
        .or_else(|| data_field("url").and_then(|u| blob::from_uri(&u)))
        .ok_or_else(|| {
            Error::invalid_event(format!(
                "`{kind}` event without a blob location (subject \
                 `/blobServices/default/containers/<container>/blobs/<name>` or data.url)"
            ))
        })?;
    let mut ev = StorageEvent::new(action, bucket, key);
    if action != StorageAction::Deleted
        && let Some(size) = data.get("contentLength").and_then(envelope::count)
    {
        ev = ev.with_size(size);
    }
    if let Some(etag) = data_field("eTag") {
        ev = ev.with_etag(etag.trim_matches('"'));
    }
    if let Some(ct) = data_field("contentType") {
        ev = ev.with_content_type(ct);
    }
    if let Some(version) = data_field("versionId") {
        ev = ev.with_version(version);
    }
    let time = event
        .get("eventTime")
        .or_else(|| event.get("time"))
        .and_then(envelope::time);
    if let Some(at) = time {
        ev = ev.with_time(at);
    }
    if let Some(id) = field("id").filter(|id| !id.is_empty()) {
        ev = ev.with_id(id);
    }
    Ok(ev)
}

fn from_subject(subject: &str) -> Option<(String, String)> {
    let rest = subject.strip_prefix("/blobServices/default/containers/")?;
    let (bucket, key) = rest.split_once("/blobs/")?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        nubes_test_support::fixtures::json(&format!("azure/{name}"))
    }

    fn envelope_of(event: &Value) -> Envelope {
        let body = serde_json::json!({"Data": {"event": event}, "Metadata": {}});
        Envelope::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn blob_created_in_both_schemas() {
        for name in [
            "eventgrid-blobcreated.eventgrid-schema.json",
            "eventgrid-blobcreated.cloudevents-schema.json",
        ] {
            let batch = fixture(name);
            let env = envelope_of(&batch[0]);
            let ev = crate::trigger::storage(&env, "uploads").unwrap();
            assert_eq!(ev.action, StorageAction::Created, "{name}");
            assert_eq!(ev.bucket, "test-container");
            assert_eq!(ev.key, "new-file.txt");
            assert_eq!(ev.size, Some(524288));
            assert_eq!(ev.etag.as_deref(), Some("0x8D4BCC2E4835CD0"));
            assert_eq!(ev.content_type.as_deref(), Some("text/plain"));
            assert_eq!(
                ev.time.unwrap().to_rfc3339(),
                "2017-06-26T18:41:00.958410300+00:00"
            );
            // The event id is the notification id (the idempotency key).
            assert_eq!(
                ev.id.as_deref(),
                Some("831e1650-001e-001b-66ab-eeb76e069631")
            );
            // A whole (one-event) batch is accepted too.
            let env = envelope_of(&batch);
            assert!(crate::trigger::storage(&env, "uploads").is_ok());
        }
    }

    #[test]
    fn blob_deleted_has_no_size() {
        let mut event = fixture("eventgrid-blobcreated.eventgrid-schema.json")[0].clone();
        event["eventType"] = "Microsoft.Storage.BlobDeleted".into();
        let ev = crate::trigger::storage(&envelope_of(&event), "uploads").unwrap();
        assert_eq!(ev.action, StorageAction::Deleted);
        assert_eq!(ev.size, None);
        let mut event = fixture("eventgrid-blobcreated.cloudevents-schema.json")[0].clone();
        event["type"] = "Microsoft.Storage.BlobDeleted".into();
        let ev = crate::trigger::storage(&envelope_of(&event), "uploads").unwrap();
        assert_eq!(ev.action, StorageAction::Deleted);
    }

    #[test]
    fn other_event_types_are_invalid_not_guessed() {
        for name in [
            "event-grid-trigger.eventgrid-schema.request.json",
            "event-grid-trigger.cloudevents-schema.request.json",
        ] {
            let raw = serde_json::to_vec(&fixture(name)).unwrap();
            let env = Envelope::parse(&raw).unwrap();
            let err = crate::trigger::storage(&env, "uploads").unwrap_err();
            assert!(err.message().contains("`created`"), "{err}");
        }
        let env = envelope_of(&serde_json::json!([]));
        assert!(crate::trigger::storage(&env, "uploads").is_err());
    }
}
