//! A notification about an object in a bucket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StorageAction {
    /// The object was created or overwritten.
    Created,
    /// The object was deleted.
    Deleted,
    /// The object was archived (moved to a cold tier) or restored from one.
    Archived,
    /// The object's metadata changed.
    MetadataUpdated,
}

impl StorageAction {
    /// snake_case name: `created`, `deleted`, `archived`, `metadata_updated`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageAction::Created => "created",
            StorageAction::Deleted => "deleted",
            StorageAction::Archived => "archived",
            StorageAction::MetadataUpdated => "metadata_updated",
        }
    }
}

/// One object notification: S3, EventBridge S3, Cloud Storage, Blob Storage or
/// the local storage folder.
///
/// ```
/// use nubes_core::{StorageAction, StorageEvent};
///
/// let ev = StorageEvent::new(StorageAction::Created, "uploads", "cats/tom.jpg").with_size(1024);
/// let json = serde_json::to_value(&ev).unwrap();
/// assert_eq!(json["action"], "created");
/// assert_eq!(json["size"], 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StorageEvent {
    /// What happened.
    pub action: StorageAction,
    /// Bucket or container name.
    pub bucket: String,
    /// Object key, URL-decoded.
    pub key: String,
    /// Object size in bytes, when known (never for deletions on most clouds).
    pub size: Option<u64>,
    /// Entity tag, when known.
    pub etag: Option<String>,
    /// Media type, when known.
    pub content_type: Option<String>,
    /// Version id / generation, when the bucket is versioned.
    pub version: Option<String>,
    /// When it happened, per the platform.
    pub time: Option<DateTime<Utc>>,
    /// The platform's id of this notification, the same on every redelivery of
    /// it (CloudEvent / Event Grid / EventBridge `id`; for S3 notifications the
    /// object key and its `sequencer`), when it has one. The default
    /// [idempotency](crate::idempotency) key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl StorageEvent {
    /// An event with only the required fields.
    pub fn new(action: StorageAction, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        StorageEvent {
            action,
            bucket: bucket.into(),
            key: key.into(),
            size: None,
            etag: None,
            content_type: None,
            version: None,
            time: None,
            id: None,
        }
    }

    /// Sets the object size.
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Sets the entity tag.
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }

    /// Sets the media type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Sets the version id / generation.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sets the event time.
    pub fn with_time(mut self, time: DateTime<Utc>) -> Self {
        self.time = Some(time);
        self
    }

    /// Sets the platform's notification id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}
