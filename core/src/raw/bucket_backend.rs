//! The object-safe trait every bucket backend implements.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::Error;
use crate::bucket::{
    ByteRange, Object, ObjectList, ObjectMeta, ObjectStream, PresignMethod, PresignedRequest,
    PutOptions,
};

/// One bucket of one backend (S3, Google Cloud Storage, Azure Blob, the
/// local storage folder), behind `Arc<dyn BucketBackend>`.
///
/// [`Bucket`](crate::bucket::Bucket) checks keys, ranges, expiries and
/// declared access before calling it, so implementations only translate.
/// Errors carry nubes kinds: a missing object is
/// [`NotFound`](crate::ErrorKind::NotFound), a refused credential
/// [`PermissionDenied`](crate::ErrorKind::PermissionDenied), a 5xx or a
/// timeout [`Transient`](crate::ErrorKind::Transient), a 429/503 slow-down
/// [`Throttled`](crate::ErrorKind::Throttled).
pub trait BucketBackend: Send + Sync + fmt::Debug + 'static {
    /// Stores `body` as `key`, replacing any object there; streams, so the
    /// object is never held in memory whole.
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: ObjectStream,
        options: &'a PutOptions,
    ) -> BoxFuture<'a, Result<ObjectMeta, Error>>;

    /// Reads `key` (or the bytes of `range`); `NotFound` when missing.
    fn get<'a>(
        &'a self,
        key: &'a str,
        range: Option<ByteRange>,
    ) -> BoxFuture<'a, Result<Object, Error>>;

    /// The metadata of `key`; `NotFound` when missing.
    fn head<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<ObjectMeta, Error>>;

    /// Deletes `key`; succeeds when it is missing.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Every object whose key starts with `prefix` (a plain string prefix,
    /// not a folder), page by page as the stream is read.
    fn list(&self, prefix: &str) -> ObjectList;

    /// Copies `from` to `to` inside the bucket; `NotFound` when `from` is missing.
    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Signs a `GET` or `PUT` of `key` valid for `expires`.
    fn presign<'a>(
        &'a self,
        method: PresignMethod,
        key: &'a str,
        expires: Duration,
    ) -> BoxFuture<'a, Result<PresignedRequest, Error>>;
}
