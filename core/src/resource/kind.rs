//! The kinds of resource.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a resource is. The kind names its environment variable
/// (`NUBES_<KIND>_<NAME>`) and the manifests' resource types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResourceKind {
    /// An object store: S3 bucket, GCS bucket, Azure Blob container, a folder locally.
    Bucket,
}

impl ResourceKind {
    /// The snake_case name, as in JSON and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Bucket => "bucket",
        }
    }

    /// The `<KIND>` of `NUBES_<KIND>_<NAME>`.
    pub fn env_segment(self) -> &'static str {
        match self {
            ResourceKind::Bucket => "BUCKET",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
