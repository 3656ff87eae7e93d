//! nubes adapter for Google Cloud Run and Cloud Functions (2nd gen, which is
//! Cloud Run underneath): one HTTP server on `0.0.0.0:$PORT` runs every
//! trigger of an [`App`](nubes_core::App).
//!
//! - The app's own routes are served unchanged.
//! - Events arrive on `POST /_nubes/queues/{name}`, `/_nubes/storage/{name}`
//!   and `/_nubes/schedules/{name}` (where the `triggers.sh` of `nubes-deploy` points
//!   Pub/Sub push subscriptions, Eventarc triggers and Cloud Scheduler jobs),
//!   and on `/` when the request plainly is an event and the app does not
//!   serve `/` itself. Understood: CloudEvents 1.0 (binary and structured;
//!   Pub/Sub `messagePublished`, Cloud Storage `object.v1.*`, Cloud Scheduler
//!   `job.v1.executed`), Pub/Sub push envelopes and unwrapped pushes, legacy
//!   background-function events, and Cloud Scheduler HTTP calls.
//! - Replies: handled → `204`; failed permanently → `200` (acknowledged,
//!   logged); failed → `500` so the platform redelivers; malformed → `400`
//!   with a JSON error; too large → `413`; shutting down → `503`.
//! - With the `push-auth` feature (nubes' `gcp-push-auth`) and
//!   `NUBES_GCP_PUSH_AUDIENCE` (and `NUBES_GCP_PUSH_SERVICE_ACCOUNTS`) every
//!   event delivery must carry a Google-signed OIDC token (`401` / `403`
//!   otherwise); the app's own routes are not affected. Without the feature
//!   those variables are a startup error, never silently ignored; Cloud Run's
//!   IAM invoker check (`--no-allow-unauthenticated`) then guards the service.
//! - `NUBES_GCP_MODE=pull` (feature `pubsub-pull`) also pulls each queue
//!   trigger's subscription with bounded concurrency.
//! - With the `bucket` feature (nubes' `bucket`), the app's declared buckets
//!   are Cloud Storage buckets ([`GcsBuckets`]), connected on first use.
//! - Logs are Cloud Logging JSON ([`CloudLogging`]); SIGTERM drains in-flight
//!   requests within the grace period.
//!
//! ```no_run
//! # async fn demo() -> Result<(), nubes_core::Error> {
//! use nubes_core::App;
//! use nubes_gcp::{GcpConfig, start};
//!
//! let mut config = GcpConfig::default();
//! config.host = [127, 0, 0, 1].into();
//! config.port = 0; // any free port
//! let server = start(App::new(), config).await?;
//! println!("serving on {}", server.url());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "push-auth")]
mod auth;
#[cfg(not(feature = "push-auth"))]
#[path = "auth_unavailable.rs"]
mod auth;
#[cfg(feature = "bucket")]
mod bucket;
mod config;
mod event;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "push-auth")]
mod jwks;
#[cfg(feature = "push-auth")]
mod jwt;
mod logging;
mod metadata;
mod observability;
#[cfg(feature = "pubsub-pull")]
mod pull;
mod reply;
mod routes;
mod runtime;
mod server;
#[cfg(feature = "pubsub-pull")]
mod tls;
mod user_http;

#[cfg(feature = "bucket")]
pub use bucket::GcsBuckets;
pub use config::{GOOGLE_JWKS_URL, GcpConfig, Mode, PullConfig, PushAuthConfig};
pub use logging::CloudLogging;
pub use server::{GcpServer, run, start};
