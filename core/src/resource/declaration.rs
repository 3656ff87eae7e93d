//! How a resource appears in an app's description.

use serde::{Deserialize, Serialize};

use super::{Access, ResourceKind};

/// A resource the app declared, as [`App::describe`](crate::App::describe)
/// lists it for manifest generators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDescription {
    /// Bucket, …
    pub kind: ResourceKind,
    /// The logical name (the cloud name comes from `NUBES_<KIND>_<NAME>`).
    pub name: String,
    /// What the app may do with it; manifests grant exactly this.
    pub access: Access,
}

/// Something an app can declare with [`App::uses`](crate::App::uses): a
/// resource handle such as [`Bucket`](crate::bucket::Bucket).
pub trait Resource {
    /// The kind, name and access the handle was declared with.
    fn description(&self) -> ResourceDescription;
}
