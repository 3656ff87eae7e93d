//! The bucket behaviour suite (`nubes_test_support::bucket_suite`) on Cloud
//! Storage, against gcp-storage-emulator: one emulator for this test binary,
//! a fresh bucket per test, the backend the adapter builds from
//! `STORAGE_EMULATOR_HOST`.
//!
//! Emulator limits, each kept visible here rather than weakening a check:
//! - it checks no signature, so presigned URLs are served unsigned there and
//!   their expiry is not enforced (`presigned(…, false)`); the V4 signature
//!   itself is verified offline in `src/bucket/signing/tests.rs`;
//! - media uploads of empty or `application/json` bodies crash it: the
//!   launcher in `nubes_test_support::gcs_emulator` patches that (real GCS
//!   stores both).

#![cfg(feature = "bucket")]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use nubes_core::bucket::Bucket;
use nubes_core::resource::Access;
use nubes_gcp::GcsBuckets;
use nubes_test_support::bucket_suite;
use nubes_test_support::gcs_emulator::GcsEmulator;

/// The emulator every test of this binary shares (it exits with the process).
fn emulator() -> &'static GcsEmulator {
    static EMULATOR: OnceLock<GcsEmulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("nubes-gcs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("log dir");
        GcsEmulator::start(&dir)
    })
}

/// A new, empty bucket with every access, through the adapter's connector.
async fn fresh_bucket(check: &str) -> Bucket {
    static N: AtomicUsize = AtomicUsize::new(0);
    let emulator = emulator();
    let name = format!(
        "nubes-{check}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
    .replace('_', "-");
    emulator.create_bucket(&name).await;
    let backend = GcsBuckets::emulator(emulator.host())
        .connect_physical(&name)
        .expect("connect");
    Bucket::new(name).allow(Access::ALL).with_backend(backend)
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn put_get_head() {
    bucket_suite::put_get_head(&fresh_bucket("put-get-head").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn empty_object() {
    bucket_suite::empty_object(&fresh_bucket("empty").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn missing_objects() {
    bucket_suite::missing_objects(&fresh_bucket("missing").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn delete_and_overwrite() {
    bucket_suite::delete_and_overwrite(&fresh_bucket("delete").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn ranges() {
    bucket_suite::ranges(&fresh_bucket("ranges").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn odd_keys() {
    bucket_suite::odd_keys(&fresh_bucket("odd").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn list_by_prefix() {
    bucket_suite::list_by_prefix(&fresh_bucket("prefix").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn list_many() {
    // More than GCS's 1000-object page: every page is listed.
    bucket_suite::list_many(&fresh_bucket("many").await, 1100).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn copy() {
    bucket_suite::copy(&fresh_bucket("copy").await).await;
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn presigned() {
    // Expiry not enforced: the emulator checks no signature (see the top).
    bucket_suite::presigned(&fresh_bucket("presigned").await, false).await;
}
