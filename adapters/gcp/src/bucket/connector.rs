//! Which GCS endpoint and credentials each bucket's operator uses.

use std::sync::Arc;

use nubes_core::Error;
use nubes_core::bucket::OpendalBucket;
use nubes_core::raw::{BucketBackend, BucketConnector};
use nubes_core::resource::{ResourceKind, physical_name};
use opendal::Operator;
use opendal::services::Gcs;

use super::backend::GcsBucket;
use super::signing::Signing;

/// The bucket connector of Cloud Run: one OpenDAL GCS operator per bucket,
/// built on the bucket's first use (building one does no I/O: credentials
/// are fetched on the first request).
///
/// ```
/// use nubes_core::raw::BucketConnector as _;
/// use nubes_gcp::GcsBuckets;
///
/// let buckets = GcsBuckets::emulator("127.0.0.1:9023");
/// let uploads = buckets.connect("uploads").unwrap();
/// # let _ = uploads;
/// ```
#[derive(Debug, Clone)]
pub struct GcsBuckets {
    /// The emulator's base URL (`STORAGE_EMULATOR_HOST`), if any.
    emulator: Option<String>,
    /// A key file named by `GOOGLE_APPLICATION_CREDENTIALS`.
    key_file: Option<String>,
}

impl GcsBuckets {
    /// Settings from the environment: `STORAGE_EMULATOR_HOST`, else Google's
    /// credential chain (`GOOGLE_APPLICATION_CREDENTIALS`, the metadata server).
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        GcsBuckets {
            emulator: var("STORAGE_EMULATOR_HOST").map(|h| emulator_url(&h)),
            key_file: var("GOOGLE_APPLICATION_CREDENTIALS"),
        }
    }

    /// Every bucket on the emulator at `host` (`host:port`, or a URL).
    pub fn emulator(host: &str) -> Self {
        GcsBuckets {
            emulator: Some(emulator_url(host)),
            key_file: None,
        }
    }

    /// The backend of the bucket whose cloud name is `physical`.
    pub fn connect_physical(&self, physical: &str) -> Result<Arc<dyn BucketBackend>, Error> {
        let data = self.operator(physical)?;
        let signing = match (&self.emulator, &self.key_file) {
            // The emulator serves `/<bucket>/<object>` and checks no signature.
            (Some(_), _) => Signing::Unsigned(data.clone()),
            // The key signs in-process (a user's gcloud credentials cannot:
            // the signing error says so).
            (None, Some(_)) => Signing::Operator(data.clone()),
            (None, None) => Signing::metadata(physical),
        };
        Ok(Arc::new(GcsBucket::new(
            OpendalBucket::new(data, physical),
            signing,
        )))
    }

    fn operator(&self, physical: &str) -> Result<Operator, Error> {
        let mut builder = Gcs::default().bucket(physical);
        if let Some(endpoint) = &self.emulator {
            builder = builder
                .endpoint(endpoint)
                .skip_signature()
                .disable_vm_metadata()
                .disable_config_load();
        }
        build(builder, physical)
    }
}

/// An OpenDAL GCS operator, or a configuration error naming the bucket.
pub(super) fn build(builder: Gcs, physical: &str) -> Result<Operator, Error> {
    // OpenDAL's process-wide HTTP client (reqwest, rustls), installed on the
    // first bucket's first use rather than by a constructor before `main`;
    // later calls do nothing.
    opendal::install_default();
    Operator::new(builder)
        .map_err(|e| Error::config(format!("Cloud Storage bucket `{physical}`: {e}")))
}

impl BucketConnector for GcsBuckets {
    fn connect(&self, name: &str) -> Result<Arc<dyn BucketBackend>, Error> {
        self.connect_physical(&physical_name(ResourceKind::Bucket, name))
    }
}

/// `STORAGE_EMULATOR_HOST` as a base URL: Google's libraries accept it with
/// or without a scheme (`localhost:9023`, `http://localhost:9023/`).
fn emulator_url(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    if host.starts_with("http://") || host.starts_with("https://") {
        host.to_owned()
    } else {
        format!("http://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulator_host_is_taken_with_or_without_scheme() {
        assert_eq!(emulator_url("127.0.0.1:9023"), "http://127.0.0.1:9023");
        assert_eq!(
            emulator_url("http://localhost:9023/"),
            "http://localhost:9023"
        );
        assert_eq!(emulator_url(" https://gcs.test "), "https://gcs.test");
    }

    /// The HTTPS client is built on the first request: a build whose
    /// rustls has no crypto provider would panic there, not fail.
    #[tokio::test]
    async fn https_requests_fail_as_errors_not_panics() {
        let buckets = GcsBuckets::emulator("https://127.0.0.1:1");
        let bucket = buckets.connect_physical("uploads").expect("connect");
        let err = bucket.head("a.txt").await.expect_err("nothing listens");
        assert!(
            matches!(
                err.kind(),
                nubes_core::ErrorKind::Transient | nubes_core::ErrorKind::Platform
            ),
            "{err}"
        );
    }

    #[test]
    fn connecting_does_no_io_and_refuses_bad_names() {
        let buckets = GcsBuckets::emulator("127.0.0.1:1");
        assert!(buckets.connect_physical("uploads").is_ok());
        let err = buckets.connect_physical("").unwrap_err();
        assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
    }
}
