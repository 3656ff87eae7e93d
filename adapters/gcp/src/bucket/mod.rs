//! Buckets on Google Cloud Storage (feature `bucket`): the connector that
//! gives each declared bucket an OpenDAL GCS operator on first use, and the
//! resources of a running app.
//!
//! - The bucket's cloud name is `NUBES_BUCKET_<NAME>` (unset: the logical name).
//! - `STORAGE_EMULATOR_HOST` (`host:port` or a URL) points every bucket at an
//!   emulator, with anonymous access and no credential lookup at all.
//! - Otherwise credentials come from Google's standard chain:
//!   `GOOGLE_APPLICATION_CREDENTIALS` (a key file), gcloud's application
//!   default credentials, then the metadata server (Cloud Run).
//! - Presigned URLs are V4 signatures ([`signing`]): with a service-account
//!   key they are signed in-process; on Cloud Run (no key) through the IAM
//!   Credentials `signBlob` API with the metadata server's token.

mod backend;
mod connector;
pub(crate) mod signing;

pub use connector::GcsBuckets;

use std::sync::Arc;

use nubes_core::raw::Resources;
use nubes_core::resource::ResourceKind;
use nubes_core::{AppDescription, Platform};

/// The resources of an app that declares buckets, installed for code outside
/// handlers; `None` when it declares none (nothing is built or linked then).
pub(crate) fn resources(app: &AppDescription) -> Option<Arc<Resources>> {
    let resources = Resources::new(Platform::Gcp, app);
    if !resources.declares(ResourceKind::Bucket) {
        return None;
    }
    let resources = Arc::new(resources.with_buckets(GcsBuckets::from_env()));
    resources.install();
    Some(resources)
}
