//! S3 event notifications (direct, or wrapped in an SQS body) and EventBridge
//! S3 events → [`StorageEvent`]s.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use nubes_core::{StorageAction, StorageEvent};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::failure::InvocationError;

/// An S3 event notification document (`{"Records":[…]}`).
#[derive(Deserialize)]
pub(crate) struct S3Notification<'a> {
    #[serde(rename = "Records", borrow, default)]
    pub(crate) records: Vec<S3Record<'a>>,
}

/// One record of an S3 event notification.
#[derive(Deserialize)]
pub(crate) struct S3Record<'a> {
    #[serde(rename = "eventName", borrow, default)]
    event_name: Cow<'a, str>,
    #[serde(rename = "eventTime", default)]
    event_time: Option<DateTime<Utc>>,
    #[serde(borrow)]
    s3: S3Entity<'a>,
}

#[derive(Deserialize)]
struct S3Entity<'a> {
    #[serde(borrow)]
    bucket: Named<'a>,
    #[serde(borrow)]
    object: S3Object<'a>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
struct S3Object<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(rename = "eTag", alias = "etag", borrow, default)]
    etag: Option<Cow<'a, str>>,
    #[serde(rename = "versionId", alias = "version-id", borrow, default)]
    version: Option<Cow<'a, str>>,
    /// Orders the events of one key; with the key, identifies a notification.
    #[serde(borrow, default)]
    sequencer: Option<Cow<'a, str>>,
}

impl S3Record<'_> {
    /// The bucket's name.
    pub(crate) fn bucket_name(&self) -> &str {
        &self.s3.bucket.name
    }

    /// The neutral event (key URL-decoded).
    pub(crate) fn to_event(&self) -> Result<StorageEvent, InvocationError> {
        let action = notification_action(&self.event_name)?;
        let object = &self.s3.object;
        let mut event = StorageEvent::new(
            action,
            self.s3.bucket.name.as_ref(),
            decode_key(&object.key)?,
        );
        event.size = object.size;
        event.etag = object.etag.as_deref().map(str::to_owned);
        event.version = object.version.as_deref().map(str::to_owned);
        event.time = self.event_time;
        // S3 notifications have no event id: the key and its sequencer are unique.
        event.id = object
            .sequencer
            .as_deref()
            .map(|seq| format!("{}@{seq}", event.key));
        Ok(event)
    }
}

/// Maps S3 notification event names (`ObjectCreated:Put`, …) to actions.
fn notification_action(name: &str) -> Result<StorageAction, InvocationError> {
    let family = name
        .trim_start_matches("s3:")
        .split(':')
        .next()
        .unwrap_or_default();
    match family {
        "ObjectCreated" => Ok(StorageAction::Created),
        "ObjectRemoved" | "LifecycleExpiration" => Ok(StorageAction::Deleted),
        "ObjectRestore" | "LifecycleTransition" | "IntelligentTiering" => {
            Ok(StorageAction::Archived)
        }
        "ObjectTagging" | "ObjectAcl" => Ok(StorageAction::MetadataUpdated),
        _ => Err(InvocationError::unsupported(format!(
            "S3 event `{name}` is not supported"
        ))),
    }
}

/// An EventBridge event whose `source` is `aws.s3`.
#[derive(Deserialize)]
pub(crate) struct EventBridgeS3<'a> {
    #[serde(rename = "detail-type", borrow)]
    detail_type: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    time: Option<DateTime<Utc>>,
    #[serde(borrow)]
    detail: EventBridgeS3Detail<'a>,
}

#[derive(Deserialize)]
struct EventBridgeS3Detail<'a> {
    #[serde(borrow)]
    bucket: Named<'a>,
    #[serde(borrow)]
    object: S3Object<'a>,
}

impl EventBridgeS3<'_> {
    /// The neutral event (key URL-decoded).
    pub(crate) fn to_event(&self) -> Result<StorageEvent, InvocationError> {
        let action = match self.detail_type.as_ref() {
            "Object Created" => StorageAction::Created,
            "Object Deleted" => StorageAction::Deleted,
            "Object Restore Initiated"
            | "Object Restore Completed"
            | "Object Restore Expired"
            | "Object Storage Class Changed" => StorageAction::Archived,
            other => {
                return Err(InvocationError::unsupported(format!(
                    "EventBridge S3 event `{other}` is not supported"
                )));
            }
        };
        let object = &self.detail.object;
        let mut event = StorageEvent::new(
            action,
            self.detail.bucket.name.as_ref(),
            decode_key(&object.key)?,
        );
        event.size = object.size;
        event.etag = object.etag.as_deref().map(str::to_owned);
        event.version = object.version.as_deref().map(str::to_owned);
        event.time = self.time;
        event.id = self.id.as_deref().map(str::to_owned);
        Ok(event)
    }
}

/// S3 sends keys form-URL-encoded: `+` is a space, `%XX` a byte.
pub(crate) fn decode_key(key: &str) -> Result<String, InvocationError> {
    let spaced: Cow<'_, str> = if key.contains('+') {
        Cow::Owned(key.replace('+', " "))
    } else {
        Cow::Borrowed(key)
    };
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|e| {
            InvocationError::invalid_event(format!(
                "object key `{key}` does not decode to UTF-8: {e}"
            ))
        })
}

/// True when an SQS body looks like an S3 notification (cheap test before parsing).
pub(crate) fn looks_like_notification(body: &str) -> bool {
    body.trim_start().starts_with('{')
        && (body.contains("\"aws:s3\"") || body.contains("\"s3:TestEvent\""))
}

/// True for the `s3:TestEvent` S3 sends when a notification is configured.
pub(crate) fn is_test_event(body: &str) -> bool {
    body.contains("\"s3:TestEvent\"") && !body.contains("\"Records\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(decode_key("Happy%20Face.jpg").unwrap(), "Happy Face.jpg");
        assert_eq!(decode_key("red+flower.jpg").unwrap(), "red flower.jpg");
        assert_eq!(decode_key("a%2Bb/c%3A1").unwrap(), "a+b/c:1");
        assert_eq!(decode_key("caf%C3%A9").unwrap(), "café");
        assert!(decode_key("bad%FF").is_err());
    }

    #[test]
    fn event_names_map_to_actions() {
        assert_eq!(
            notification_action("ObjectCreated:Put").unwrap(),
            StorageAction::Created
        );
        assert_eq!(
            notification_action("ObjectRemoved:DeleteMarkerCreated").unwrap(),
            StorageAction::Deleted
        );
        assert_eq!(
            notification_action("ObjectRestore:Completed").unwrap(),
            StorageAction::Archived
        );
        assert_eq!(
            notification_action("s3:ObjectTagging:Put").unwrap(),
            StorageAction::MetadataUpdated
        );
        assert!(notification_action("ReducedRedundancyLostObject").is_err());
    }

    #[test]
    fn notifications_carry_their_id() {
        let fixture = |name: &str| nubes_test_support::fixtures::text(&format!("aws/{name}"));
        let text = fixture("s3-object-created-put.json");
        let doc: S3Notification<'_> = serde_json::from_str(&text).unwrap();
        let event = doc.records[0].to_event().unwrap();
        assert_eq!(event.id.as_deref(), Some("Happy Face.jpg@Happy Sequencer"));
        let text = fixture("eventbridge-s3-object-created.json");
        let event = serde_json::from_str::<EventBridgeS3<'_>>(&text)
            .unwrap()
            .to_event()
            .unwrap();
        assert_eq!(
            event.id.as_deref(),
            Some("f5f1e65c-dc3a-93ca-6c1e-b1647eac7963")
        );
    }
}
