//! Buckets: objects a handler reads and writes on every platform.
//!
//! [`Bucket`] is a cheap, cloneable handle. Declare it with the access the
//! app needs and register it on the [`App`](crate::App); the platform's
//! backend (S3, Google Cloud Storage, Azure Blob, the local runner's storage
//! folder) is created on first use.
//!
//! ```no_run
//! use nubes_core::bucket::{Bucket, PutOptions};
//! use nubes_core::resource::Access;
//! use nubes_core::{App, BoxError, Context, StorageEvent};
//!
//! let uploads = Bucket::new("uploads").allow(Access::READ);
//! let results = Bucket::new("results").allow(Access::WRITE);
//!
//! let app = App::new()
//!     .uses(&uploads)
//!     .uses(&results)
//!     .on_storage("uploads", move |ev: StorageEvent, _ctx: Context| {
//!         let (uploads, results) = (uploads.clone(), results.clone());
//!         async move {
//!             let data = uploads.get(&ev.key).await?;
//!             let summary = format!("{} bytes", data.len());
//!             results
//!                 .put_with(&format!("{}.txt", ev.key), summary, PutOptions::new().content_type("text/plain"))
//!                 .await?;
//!             Ok::<_, BoxError>(())
//!         }
//!     });
//! ```
//!
//! Keys are UTF-8, 1 to 1024 bytes, and portable: no leading or trailing
//! `/`, no empty, `.` or `..` path segments (they would mean different
//! objects on different clouds, or a path outside the folder locally).

mod handle;
mod key;
mod list;
mod object;
#[cfg(feature = "opendal")]
mod opendal_backend;
mod presign;
mod range;

pub use handle::Bucket;
pub use key::check_key;
pub use list::ObjectList;
pub use object::{Object, ObjectMeta, ObjectStream, PutOptions};
#[cfg(feature = "opendal")]
#[cfg_attr(docsrs, doc(cfg(feature = "opendal")))]
pub use opendal_backend::OpendalBucket;
pub use presign::{PresignMethod, PresignedRequest, check_expiry};
pub use range::ByteRange;
