//! A Cloud Storage bucket: OpenDAL's GCS operator for the data, nubes'
//! own object-name encoding and signer choice for presigned URLs.

use std::time::Duration;

use futures_util::future::BoxFuture;
use nubes_core::Error;
use nubes_core::bucket::{
    ByteRange, Object, ObjectList, ObjectMeta, ObjectStream, OpendalBucket, PresignMethod,
    PresignedRequest, PutOptions,
};
use nubes_core::raw::BucketBackend;

use super::signing::Signing;

/// One bucket on Cloud Storage (or its emulator).
#[derive(Debug)]
pub(crate) struct GcsBucket {
    data: OpendalBucket,
    signing: Signing,
}

impl GcsBucket {
    pub(crate) fn new(data: OpendalBucket, signing: Signing) -> Self {
        GcsBucket { data, signing }
    }
}

impl BucketBackend for GcsBucket {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: ObjectStream,
        options: &'a PutOptions,
    ) -> BoxFuture<'a, Result<ObjectMeta, Error>> {
        self.data.put(key, body, options)
    }

    fn get<'a>(
        &'a self,
        key: &'a str,
        range: Option<ByteRange>,
    ) -> BoxFuture<'a, Result<Object, Error>> {
        self.data.get(key, range)
    }

    fn head<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<ObjectMeta, Error>> {
        self.data.head(key)
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.data.delete(key)
    }

    fn list(&self, prefix: &str) -> ObjectList {
        self.data.list(prefix)
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.data.copy(from, to)
    }

    fn presign<'a>(
        &'a self,
        method: PresignMethod,
        key: &'a str,
        expires: Duration,
    ) -> BoxFuture<'a, Result<PresignedRequest, Error>> {
        Box::pin(self.signing.presign(method, key, expires))
    }
}
