//! Listing a bucket: every page, fetched as the stream is read.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;

use super::ObjectMeta;
use crate::Error;

/// The objects under a prefix, one page fetched at a time as the stream is
/// polled. Order is the backend's (S3, GCS and Azure list in key order);
/// [`Bucket::list_keys`](super::Bucket::list_keys) sorts.
pub struct ObjectList {
    inner: Pin<Box<dyn Stream<Item = Result<ObjectMeta, Error>> + Send + 'static>>,
}

impl ObjectList {
    /// Wraps a backend's listing stream.
    pub fn new(inner: impl Stream<Item = Result<ObjectMeta, Error>> + Send + 'static) -> Self {
        ObjectList {
            inner: Box::pin(inner),
        }
    }

    /// A listing that fails at once with `error`.
    pub fn failed(error: Error) -> Self {
        ObjectList::new(futures_util::stream::once(async move { Err(error) }))
    }
}

impl Stream for ObjectList {
    type Item = Result<ObjectMeta, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for ObjectList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObjectList")
    }
}
