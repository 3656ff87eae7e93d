//! Cloud Storage object notifications (CloudEvents and legacy events).

use chrono::{DateTime, Utc};
use nubes_core::{Error, StorageAction, StorageEvent};
use serde::Deserialize;

use super::wire;

/// The object resource Cloud Storage sends (`StorageObjectData`).
#[derive(Debug, Deserialize)]
pub(super) struct StorageObject {
    #[serde(default)]
    bucket: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "wire::string_or_number")]
    size: Option<String>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(rename = "contentType", default)]
    content_type: Option<String>,
    #[serde(default, deserialize_with = "wire::string_or_number")]
    generation: Option<String>,
    #[serde(default)]
    updated: Option<String>,
    #[serde(rename = "timeDeleted", default)]
    time_deleted: Option<String>,
    #[serde(rename = "resourceState", default)]
    pub(super) resource_state: Option<String>,
}

impl StorageObject {
    /// The neutral event; `time` is the event's own time when it has one.
    pub(super) fn into_event(
        self,
        action: StorageAction,
        time: Option<DateTime<Utc>>,
    ) -> Result<StorageEvent, Error> {
        let bucket = self
            .bucket
            .filter(|b| !b.is_empty())
            .ok_or_else(|| Error::invalid_event("Cloud Storage object has no `bucket`"))?;
        // Object names are delivered as they are, not URL-encoded.
        let key = self
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::invalid_event("Cloud Storage object has no `name`"))?;
        let mut event = StorageEvent::new(action, bucket, key);
        if let Some(size) = self.size {
            event.size = Some(size.trim().parse().map_err(|_| {
                Error::invalid_event(format!(
                    "Cloud Storage object size `{size}` is not a number"
                ))
            })?);
        }
        event.etag = self.etag;
        event.content_type = self.content_type;
        event.version = self.generation;
        let fallback = match action {
            StorageAction::Deleted => self.time_deleted.or(self.updated),
            _ => self.updated,
        };
        event.time = match (time, fallback) {
            (Some(t), _) => Some(t),
            (None, Some(text)) => Some(wire::time(&text, "Cloud Storage object time")?),
            (None, None) => None,
        };
        Ok(event)
    }
}

/// The action of a `google.cloud.storage.object.v1.*` CloudEvent type.
pub(super) fn action_of_cloudevent(ty: &str) -> Option<StorageAction> {
    Some(match ty.strip_prefix("google.cloud.storage.object.v1.")? {
        "finalized" => StorageAction::Created,
        "deleted" => StorageAction::Deleted,
        "archived" => StorageAction::Archived,
        "metadataUpdated" => StorageAction::MetadataUpdated,
        _ => return None,
    })
}

/// The action of a legacy storage event type; `object.change` depends on the
/// object's `resourceState`.
pub(super) fn action_of_legacy(ty: &str, resource_state: Option<&str>) -> Option<StorageAction> {
    Some(match ty {
        "google.storage.object.finalize" => StorageAction::Created,
        "google.storage.object.delete" => StorageAction::Deleted,
        "google.storage.object.archive" => StorageAction::Archived,
        "google.storage.object.metadataUpdate" => StorageAction::MetadataUpdated,
        "providers/cloud.storage/eventTypes/object.change" => match resource_state {
            Some("not_exists") => StorageAction::Deleted,
            _ => StorageAction::Created,
        },
        _ => return None,
    })
}
