//! A [`BucketBackend`] over an Apache OpenDAL [`Operator`]: the S3, Google
//! Cloud Storage and Azure Blob backends of the adapters are this type with
//! their service's operator.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt as _, StreamExt as _, TryFutureExt as _, TryStreamExt as _};
use opendal::{EntryMode, Operator};

use super::{
    ByteRange, Object, ObjectList, ObjectMeta, ObjectStream, PresignMethod, PresignedRequest,
    PutOptions,
};
use crate::raw::BucketBackend;
use crate::{Error, ErrorKind};

/// Parts of multipart uploads: S3's minimum is 5 MiB, 8 MiB keeps a 5 GiB
/// object under its 10 000-part limit with room to spare (640 parts).
const UPLOAD_PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts uploaded at once: bounds memory to about this many parts in flight.
const UPLOAD_CONCURRENCY: usize = 4;
/// Ranged reads of this size stream a large object with bounded memory.
const READ_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// One bucket behind an OpenDAL operator whose root is the bucket.
#[derive(Debug, Clone)]
pub struct OpendalBucket {
    op: Operator,
    /// The bucket's cloud name, for error messages.
    bucket: String,
}

impl OpendalBucket {
    /// The bucket `bucket` (its cloud name, for messages) served by `op`.
    pub fn new(op: Operator, bucket: impl Into<String>) -> Self {
        // OpenDAL's process-wide HTTP client (reqwest, rustls), installed on
        // the first bucket's first use rather than by a constructor before
        // `main`; later calls do nothing.
        opendal::install_default();
        OpendalBucket {
            op,
            bucket: bucket.into(),
        }
    }

    fn error(&self, what: &str, key: &str) -> impl FnOnce(opendal::Error) -> Error + '_ {
        let context = format!("{what} `{key}` in bucket `{}`", self.bucket);
        move |e| map_error(context, e)
    }
}

/// An OpenDAL error as a nubes error of the matching kind.
fn map_error(context: String, e: opendal::Error) -> Error {
    use opendal::ErrorKind as K;
    let kind = match e.kind() {
        K::NotFound => ErrorKind::NotFound,
        K::PermissionDenied => ErrorKind::PermissionDenied,
        K::AlreadyExists | K::ConditionNotMatch => ErrorKind::Conflict,
        K::RateLimited => ErrorKind::Throttled,
        K::Unsupported => ErrorKind::Unsupported,
        K::ConfigInvalid => ErrorKind::Config,
        K::IsADirectory | K::NotADirectory | K::IsSameFile | K::RangeNotSatisfied => {
            ErrorKind::InvalidInput
        }
        _ if !e.is_permanent() => ErrorKind::Transient,
        _ => ErrorKind::Platform,
    };
    let message = match kind {
        ErrorKind::NotFound => format!("{context}: no such object"),
        _ => format!("{context}: {}", e.message()),
    };
    Error::new(kind, message).with_source(e)
}

fn meta_of(key: &str, m: &opendal::Metadata) -> ObjectMeta {
    let metadata: BTreeMap<String, String> = m
        .user_metadata()
        .map(|um| {
            um.into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    ObjectMeta::new(key, m.content_length())
        .with_content_type(m.content_type().map(str::to_owned))
        .with_etag(m.etag().map(|e| e.trim_matches('"').to_owned()))
        .with_last_modified(
            m.last_modified()
                .map(|t| chrono::DateTime::<chrono::Utc>::from(SystemTime::from(t))),
        )
        .with_metadata(metadata)
}

impl BucketBackend for OpendalBucket {
    fn put<'a>(
        &'a self,
        key: &'a str,
        mut body: ObjectStream,
        options: &'a PutOptions,
    ) -> BoxFuture<'a, Result<ObjectMeta, Error>> {
        async move {
            let err = |e| self.error("writing", key)(e);
            let mut writer = self
                .op
                .writer_with(key)
                .chunk(UPLOAD_PART_BYTES)
                .concurrent(UPLOAD_CONCURRENCY);
            if let Some(ct) = &options.content_type {
                writer = writer.content_type(ct);
            }
            if !options.metadata.is_empty() {
                writer = writer.user_metadata(options.metadata.clone());
            }
            let mut writer = writer.await.map_err(err)?;
            let mut size = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk: Bytes = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(e);
                    }
                };
                size += chunk.len() as u64;
                if let Err(e) = writer.write(chunk).await {
                    let _ = writer.abort().await;
                    return Err(err(e));
                }
            }
            let written = writer.close().await.map_err(err)?;
            Ok(ObjectMeta::new(key, size)
                .with_content_type(options.content_type.clone())
                .with_etag(written.etag().map(|e| e.trim_matches('"').to_owned()))
                .with_last_modified(
                    written
                        .last_modified()
                        .map(|t| chrono::DateTime::<chrono::Utc>::from(SystemTime::from(t))),
                )
                .with_metadata(options.metadata.clone()))
        }
        .boxed()
    }

    fn get<'a>(
        &'a self,
        key: &'a str,
        range: Option<ByteRange>,
    ) -> BoxFuture<'a, Result<Object, Error>> {
        async move {
            // The size bounds the ranged reads (no second stat inside OpenDAL)
            // and the metadata comes with the object.
            let meta = self.head(key).await?;
            let size = meta.size;
            let (start, end) = match range {
                None => (0, size),
                Some(r) => (r.start, r.end.map_or(size, |e| e.min(size))),
            };
            if start >= end {
                if range.is_some() && start >= size && size > 0 {
                    return Err(Error::invalid_input(format!(
                        "byte range starting at {start} is past the end of `{key}` ({size} bytes)"
                    )));
                }
                return Ok(Object::new(meta, Box::pin(futures_util::stream::empty())));
            }
            let reader = self
                .op
                .reader_with(key)
                .chunk(READ_CHUNK_BYTES)
                .await
                .map_err(self.error("reading", key))?;
            let stream = reader
                .into_bytes_stream(start..end)
                .await
                .map_err(self.error("reading", key))?;
            let context = format!("reading `{key}` in bucket `{}`", self.bucket);
            let body: ObjectStream = Box::pin(stream.map_err(move |e| {
                Error::new(ErrorKind::Transient, format!("{context}: {e}")).with_source(e)
            }));
            Ok(Object::new(meta, body))
        }
        .boxed()
    }

    fn head<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<ObjectMeta, Error>> {
        async move {
            let stat = self
                .op
                .stat(key)
                .await
                .map_err(self.error("reading", key))?;
            Ok(meta_of(key, &stat))
        }
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        async move {
            match self.op.delete(key).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(self.error("deleting", key)(e)),
            }
        }
        .boxed()
    }

    fn list(&self, prefix: &str) -> ObjectList {
        let op = self.op.clone();
        let prefix = prefix.to_owned();
        let bucket = self.bucket.clone();
        let listing = async move {
            // OpenDAL lists a path without a trailing `/` as a plain prefix;
            // the bucket's root is `/`.
            let path = if prefix.is_empty() {
                "/"
            } else {
                prefix.as_str()
            };
            let context = format!("listing `{prefix}` in bucket `{bucket}`");
            let lister = op
                .lister_with(path)
                .recursive(true)
                .await
                .map_err(|e| map_error(context.clone(), e))?;
            Ok::<_, Error>(
                lister
                    .map_err(move |e| map_error(context.clone(), e))
                    .try_filter_map(move |entry| {
                        let keep = entry.metadata().mode() == EntryMode::FILE
                            && entry.path().starts_with(prefix.as_str());
                        let meta = keep.then(|| meta_of(entry.path(), entry.metadata()));
                        futures_util::future::ready(Ok(meta))
                    }),
            )
        };
        ObjectList::new(listing.try_flatten_stream())
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        async move {
            self.op
                .copy(from, to)
                .await
                .map(|_| ())
                .map_err(self.error("copying", from))
        }
        .boxed()
    }

    fn presign<'a>(
        &'a self,
        method: PresignMethod,
        key: &'a str,
        expires: Duration,
    ) -> BoxFuture<'a, Result<PresignedRequest, Error>> {
        async move {
            let signed = match method {
                PresignMethod::Get => self.op.presign_read(key, expires).await,
                PresignMethod::Put => self.op.presign_write(key, expires).await,
            }
            .map_err(self.error("signing", key))?;
            let mut request = PresignedRequest::new(
                signed.method().clone(),
                signed.uri().to_string(),
                SystemTime::now() + expires,
            );
            for (name, value) in signed.header() {
                if let Ok(value) = value.to_str() {
                    request = request.with_header(name.as_str(), value);
                }
            }
            Ok(request)
        }
        .boxed()
    }
}
