//! The `Bucket` handle.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt as _};

use super::{
    ByteRange, Object, ObjectList, ObjectMeta, ObjectStream, PresignMethod, PresignedRequest,
    PutOptions, check_expiry, check_key,
};
use crate::raw::{BucketBackend, Resources};
use crate::resource::{Access, Resource, ResourceDescription, ResourceKind};
use crate::{BoxError, Error};

/// A bucket the app reads and writes: cheap to clone (two `Arc`s), usable
/// in axum state and in event handlers.
///
/// Declare what the app does with it ([`Bucket::allow`]) and register it
/// with [`App::uses`](crate::App::uses); the manifests then create the
/// bucket and grant exactly that. The backend of the platform the app runs
/// on is reached on first use.
///
/// ```no_run
/// # async fn demo() -> Result<(), nubes_core::Error> {
/// use nubes_core::bucket::Bucket;
/// use nubes_core::resource::Access;
///
/// let docs = Bucket::new("docs").allow(Access::READ | Access::WRITE);
/// docs.put("notes/today.txt", "hello").await?;
/// assert_eq!(docs.get("notes/today.txt").await?, "hello");
/// assert_eq!(docs.list_keys("notes/").await?, ["notes/today.txt"]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Bucket {
    name: Arc<str>,
    access: Access,
    /// A backend bound directly (tests, tools), bypassing the app's resources.
    bound: Option<Arc<dyn BucketBackend>>,
}

impl Bucket {
    /// The bucket with logical name `name`, with no access yet: add it with
    /// [`Bucket::allow`].
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Bucket {
            name: name.into(),
            access: Access::NONE,
            bound: None,
        }
    }

    /// Adds `access` to what the app declares for this bucket.
    pub fn allow(mut self, access: Access) -> Self {
        self.access |= access;
        self
    }

    /// Uses `backend` directly instead of the running app's (a test against an
    /// emulator, a tool outside any app). The declared access still applies.
    pub fn with_backend(mut self, backend: Arc<dyn BucketBackend>) -> Self {
        self.bound = Some(backend);
        self
    }

    /// The logical name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared access.
    pub fn access(&self) -> Access {
        self.access
    }

    /// The backend, for an operation that needs `needed`.
    fn backend(&self, needed: Access) -> Result<Arc<dyn BucketBackend>, Error> {
        if !self.access.contains(needed) {
            return Err(Error::permission_denied(format!(
                "bucket `{}` is declared with {} access; this operation needs {needed}: \
                 declare it with `Bucket::new(\"{}\").allow(Access::…)`",
                self.name, self.access, self.name
            )));
        }
        if let Some(bound) = &self.bound {
            return Ok(Arc::clone(bound));
        }
        let resources = Resources::current().ok_or_else(|| {
            Error::config(format!(
                "bucket `{}` was used outside a running nubes app (no platform backend): \
                 run the app with `nubes::run`, or bind a backend with `Bucket::with_backend`",
                self.name
            ))
        })?;
        resources.bucket(&self.name, needed)
    }

    /// Stores `bytes` as `key` (replacing any object there).
    pub async fn put(&self, key: &str, bytes: impl Into<Bytes>) -> Result<ObjectMeta, Error> {
        self.put_with(key, bytes, PutOptions::new()).await
    }

    /// Stores `bytes` as `key` with a content type and user metadata.
    pub async fn put_with(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
        options: PutOptions,
    ) -> Result<ObjectMeta, Error> {
        let bytes = bytes.into();
        let body: ObjectStream = Box::pin(futures_util::stream::once(async move { Ok(bytes) }));
        self.put_checked(key, body, options).await
    }

    /// Streams `body` into `key` without holding the object in memory
    /// (uploads of any size, in parts where the backend needs them).
    pub async fn put_stream<S, E>(
        &self,
        key: &str,
        body: S,
        options: PutOptions,
    ) -> Result<ObjectMeta, Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let body: ObjectStream = Box::pin(body.map_err(|e| {
            let e: BoxError = e.into();
            Error::new(
                crate::ErrorKind::InvalidInput,
                format!("reading the body to upload: {e}"),
            )
            .with_source(e)
        }));
        self.put_checked(key, body, options).await
    }

    async fn put_checked(
        &self,
        key: &str,
        body: ObjectStream,
        options: PutOptions,
    ) -> Result<ObjectMeta, Error> {
        check_key(key)?;
        options.check()?;
        self.backend(Access::WRITE)?.put(key, body, &options).await
    }

    /// Reads the whole object `key` into memory; `NotFound` when missing.
    pub async fn get(&self, key: &str) -> Result<Bytes, Error> {
        self.get_object(key).await?.bytes().await
    }

    /// Opens `key` for streaming: its metadata and a stream of its bytes.
    pub async fn get_object(&self, key: &str) -> Result<Object, Error> {
        check_key(key)?;
        self.backend(Access::READ)?.get(key, None).await
    }

    /// Opens the bytes `range` of `key` (`10..20`, `100..`, `0..=9`).
    pub async fn get_range(&self, key: &str, range: impl Into<ByteRange>) -> Result<Object, Error> {
        check_key(key)?;
        let range = range.into();
        range.check()?;
        self.backend(Access::READ)?.get(key, Some(range)).await
    }

    /// The metadata of `key`; `NotFound` when missing.
    pub async fn head(&self, key: &str) -> Result<ObjectMeta, Error> {
        check_key(key)?;
        self.backend(Access::READ)?.head(key).await
    }

    /// True when `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        match self.head(key).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == crate::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes `key`; deleting a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        check_key(key)?;
        self.backend(Access::DELETE)?.delete(key).await
    }

    /// Every object whose key starts with `prefix` (`""`: all), fetched page
    /// by page as the stream is read.
    pub fn list(&self, prefix: &str) -> ObjectList {
        match self.backend(Access::READ) {
            Ok(backend) => backend.list(prefix),
            Err(e) => ObjectList::failed(e),
        }
    }

    /// The keys starting with `prefix`, every page, sorted.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys: Vec<String> = self.list(prefix).map_ok(|m| m.key).try_collect().await?;
        keys.sort_unstable();
        Ok(keys)
    }

    /// Copies `from` to `to` inside this bucket; `NotFound` when `from` is missing.
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), Error> {
        check_key(from)?;
        check_key(to)?;
        self.backend(Access::READ | Access::WRITE)?
            .copy(from, to)
            .await
    }

    /// A URL that downloads `key` with no other credentials until `expires`
    /// has passed (1 second to 7 days).
    pub async fn presign_get(
        &self,
        key: &str,
        expires: Duration,
    ) -> Result<PresignedRequest, Error> {
        self.presign(PresignMethod::Get, key, expires).await
    }

    /// A URL that uploads `key` with no other credentials until `expires` has
    /// passed; send the request's [`headers`](PresignedRequest::headers) too.
    pub async fn presign_put(
        &self,
        key: &str,
        expires: Duration,
    ) -> Result<PresignedRequest, Error> {
        self.presign(PresignMethod::Put, key, expires).await
    }

    /// A signed `method` request for `key`.
    pub async fn presign(
        &self,
        method: PresignMethod,
        key: &str,
        expires: Duration,
    ) -> Result<PresignedRequest, Error> {
        check_key(key)?;
        check_expiry(expires)?;
        let needed = match method {
            PresignMethod::Get => Access::READ,
            PresignMethod::Put => Access::WRITE,
        };
        self.backend(needed)?.presign(method, key, expires).await
    }
}

impl Resource for Bucket {
    fn description(&self) -> ResourceDescription {
        ResourceDescription {
            kind: ResourceKind::Bucket,
            name: self.name.to_string(),
            access: self.access,
        }
    }
}
