//! The two buckets of the pipeline and the lookup of a route's `{bucket}`.

use nubes::{Access, Bucket, Error};

/// `uploads` and `results`, both fully usable by the routes.
#[derive(Clone, Debug)]
pub(crate) struct Buckets {
    pub(crate) uploads: Bucket,
    pub(crate) results: Bucket,
}

impl Buckets {
    pub(crate) fn new() -> Self {
        let all = Access::READ | Access::WRITE | Access::DELETE;
        Buckets {
            uploads: Bucket::new("uploads").allow(all),
            results: Bucket::new("results").allow(all),
        }
    }

    /// The bucket a route names; any other name is a 404.
    pub(crate) fn named(&self, name: &str) -> Result<&Bucket, Error> {
        match name {
            "uploads" => Ok(&self.uploads),
            "results" => Ok(&self.results),
            other => Err(Error::not_found(format!("no bucket named `{other}`"))),
        }
    }
}
