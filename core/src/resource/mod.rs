//! Resources a handler acts on: buckets today; queues, topics, key-value
//! stores and secrets build on the same model.
//!
//! A resource is **declared in code** with the [`Access`] the app needs
//! (`Bucket::new("uploads").allow(Access::READ)`) and registered on the
//! [`App`](crate::App) with [`App::uses`](crate::App::uses). From there:
//!
//! - [`App::describe`](crate::App::describe) lists it ([`ResourceDescription`]),
//!   so the generated manifests create it and grant exactly that access;
//! - its cloud identifier comes from `NUBES_<KIND>_<NAME>` ([`env_var`],
//!   [`physical_name`]), which the manifests set; unset means the logical name;
//! - a resource and a trigger with the same name are the same thing
//!   (`on_storage("uploads", …)` and `Bucket::new("uploads")` are one bucket);
//! - its client is created on first use, by the backend of the platform the
//!   app runs on, never at cold start.
//!
//! Using a resource the app did not declare, or in a way it did not declare,
//! is a [`PermissionDenied`](crate::ErrorKind::PermissionDenied) error on
//! every platform, locally too: a missing declaration shows up before the
//! cloud's IAM refuses it.

mod access;
mod declaration;
mod kind;
mod naming;

pub use access::Access;
pub use declaration::{Resource, ResourceDescription};
pub use kind::ResourceKind;
pub use naming::{env_var, physical_name, physical_name_from};
