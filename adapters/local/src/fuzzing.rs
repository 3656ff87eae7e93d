//! Entry points for fuzz and property tests only. **Unstable**: not part of
//! the public API, hidden from the docs, may change in any release.

use std::path::{Path, PathBuf};

use nubes_core::Error;

/// Where object `key` of the bucket folder `bucket_dir` is stored, or why the
/// key is refused (the decoder behind `/_nubes/storage/{bucket}/{*key}`).
pub fn object_path(bucket_dir: &Path, key: &str) -> Result<PathBuf, Error> {
    crate::storage_key::object_path(bucket_dir, key)
}
