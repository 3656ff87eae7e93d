//! Objects: their metadata, their bytes as a stream, and how to write them.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt as _};

use crate::Error;

/// The bytes of an object, chunk by chunk, as the backend delivers them.
pub type ObjectStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send + 'static>>;

/// What a bucket knows about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The `Content-Type` it was stored with.
    pub content_type: Option<String>,
    /// The backend's entity tag (changes with the content).
    pub etag: Option<String>,
    /// When it was last written.
    pub last_modified: Option<DateTime<Utc>>,
    /// The user metadata it was stored with.
    pub metadata: BTreeMap<String, String>,
}

impl ObjectMeta {
    /// Metadata of the object `key` of `size` bytes, nothing else known.
    pub fn new(key: impl Into<String>, size: u64) -> Self {
        ObjectMeta {
            key: key.into(),
            size,
            content_type: None,
            etag: None,
            last_modified: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Sets the content type.
    pub fn with_content_type(mut self, content_type: Option<String>) -> Self {
        self.content_type = content_type;
        self
    }

    /// Sets the entity tag.
    pub fn with_etag(mut self, etag: Option<String>) -> Self {
        self.etag = etag;
        self
    }

    /// Sets the modification time.
    pub fn with_last_modified(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.last_modified = at;
        self
    }

    /// Sets the user metadata.
    pub fn with_metadata(mut self, metadata: BTreeMap<String, String>) -> Self {
        self.metadata = metadata;
        self
    }
}

/// An object being read: its metadata and a stream of its bytes (or of the
/// requested range). Nothing is buffered until [`Object::bytes`] is called.
pub struct Object {
    meta: ObjectMeta,
    body: ObjectStream,
}

impl Object {
    /// An object with `meta` whose bytes come from `body`.
    pub fn new(meta: ObjectMeta, body: ObjectStream) -> Self {
        Object { meta, body }
    }

    /// The object's metadata (`size` is the whole object's, also for a range).
    pub fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    /// The bytes, as a stream: memory stays bounded whatever the object's size.
    pub fn into_stream(self) -> ObjectStream {
        self.body
    }

    /// Splits into metadata and byte stream.
    pub fn into_parts(self) -> (ObjectMeta, ObjectStream) {
        (self.meta, self.body)
    }

    /// Reads every byte into memory.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let mut buf = BytesMut::new();
        while let Some(chunk) = self.body.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object").field("meta", &self.meta).finish()
    }
}

/// How to store an object: its content type and user metadata.
///
/// ```
/// use nubes_core::bucket::PutOptions;
///
/// let opts = PutOptions::new().content_type("text/csv").metadata("source", "import");
/// assert_eq!(opts.content_type.as_deref(), Some("text/csv"));
/// assert_eq!(opts.metadata["source"], "import");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutOptions {
    /// The `Content-Type` to store (backends default to `application/octet-stream`).
    pub content_type: Option<String>,
    /// User metadata. Names are lower-cased ASCII on every backend.
    pub metadata: BTreeMap<String, String>,
}

impl PutOptions {
    /// No content type, no metadata.
    pub fn new() -> Self {
        PutOptions::default()
    }

    /// Sets the content type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Adds one user metadata entry (the name lower-cased).
    pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .insert(name.into().to_ascii_lowercase(), value.into());
        self
    }

    /// Refuses metadata names that some backend cannot store (Azure takes C#
    /// identifiers, HTTP headers take tokens): ASCII letters, digits and `_`,
    /// not starting with a digit.
    pub fn check(&self) -> Result<(), Error> {
        for name in self.metadata.keys() {
            let ok = name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(Error::invalid_input(format!(
                    "metadata name `{name}`: use ASCII letters, digits and `_`, not starting with a digit"
                )));
            }
        }
        Ok(())
    }
}
