//! **nubes** — write a serverless function once; run it on AWS Lambda, Google
//! Cloud Run / Cloud Functions, Azure Functions or locally.
//!
//! An [`App`] is an HTTP service (any `tower::Service`, such as an
//! `axum::Router`) plus named queue, storage and schedule triggers handled by
//! plain `async fn(Event, Context)`. [`run`] serves it on whichever platform
//! the process finds itself on.
//!
//! ```no_run
//! use nubes::{App, BoxError, Context, QueueMessage};
//!
//! async fn process_order(msg: QueueMessage, ctx: Context) -> Result<(), BoxError> {
//!     tracing::info!(id = %msg.id, attempt = ctx.attempt(), "order received: {}", msg.text()?);
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), nubes::Error> {
//!     let app = App::new().on_queue("orders", process_order);
//!     nubes::run(app).await
//! }
//! ```
//!
//! # Choosing the platform
//!
//! Cargo features decide what is compiled: `local` (default), `aws`, `gcp`,
//! `azure`; `gcp-pubsub-pull` adds the Pub/Sub pull worker, `gcp-push-auth`
//! in-process verification of Pub/Sub push tokens (without it, Cloud Run's IAM
//! invoker check guards the event paths), `redis` the Redis idempotency store. The environment decides what runs: `AWS_LAMBDA_RUNTIME_API` → AWS
//! Lambda, `FUNCTIONS_CUSTOMHANDLER_PORT` → Azure Functions, `K_SERVICE` →
//! Cloud Run, otherwise the local runner. `NUBES_PLATFORM=local|aws|gcp|azure`
//! overrides the detection. `NUBES_DESCRIBE=1` prints the app's description
//! (its triggers, as JSON) and exits without serving, for manifest generators.
//!
//! # Idempotent handlers
//!
//! [`idempotency::idempotent`] wraps a queue, storage or schedule handler so it
//! runs at most once successfully per event (or per key you derive), on every
//! platform. Records live in memory, or in Redis with the `redis` feature
//! ([`idempotency`] has the details).

#![cfg_attr(docsrs, feature(doc_cfg))]

// Only what handlers are written with; adapter plumbing stays in `raw`.
pub use nubes_core::{
    App, AppDescription, Body, BoxError, CancellationToken, Context, CronSchedule, Error,
    ErrorKind, EventHandler, Permanent, Platform, QueueMessage, RawEvent, ResultExt,
    ScheduledEvent, StorageAction, StorageEvent, TraceContext, TriggerDescription, TriggerKind,
    current_context, is_permanent, permanent, with_context,
};
pub use nubes_core::{bytes, chrono, idempotency, metrics, resource};

/// Buckets a handler reads and writes: S3, Google Cloud Storage, Azure Blob,
/// the local storage folder (feature `bucket`).
#[cfg(feature = "bucket")]
#[cfg_attr(docsrs, doc(cfg(feature = "bucket")))]
pub use nubes_core::bucket;

#[cfg(feature = "bucket")]
#[cfg_attr(docsrs, doc(cfg(feature = "bucket")))]
pub use nubes_core::bucket::Bucket;
pub use nubes_core::resource::Access;

pub use nubes_core::raw;

#[cfg(feature = "local")]
#[cfg_attr(docsrs, doc(cfg(feature = "local")))]
pub use nubes_local as local;

#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub use nubes_aws as aws;

#[cfg(feature = "gcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "gcp")))]
pub use nubes_gcp as gcp;

#[cfg(feature = "azure")]
#[cfg_attr(docsrs, doc(cfg(feature = "azure")))]
pub use nubes_azure as azure;

mod logging;
mod platform;

pub use platform::detect_platform;

/// Runs `app` on the detected platform until the platform stops it (or, locally,
/// until Ctrl-C / SIGTERM).
///
/// Fails at once with a [`Config`](ErrorKind::Config) error when the app's
/// registration is invalid (bad cron, duplicate trigger) or when the detected
/// platform's adapter was not compiled in (the message names the cargo feature).
pub async fn run(app: App) -> Result<(), Error> {
    app.validate()?;
    if std::env::var_os("NUBES_DESCRIBE").is_some_and(|v| !v.is_empty() && v != "0") {
        let json = serde_json::to_string_pretty(&app.describe())
            .map_err(|e| Error::platform(format!("describing the app: {e}")))?;
        println!("{json}");
        return Ok(());
    }
    let platform = detect_platform(|name| std::env::var(name).ok())?;
    // Cloud adapters install the log format of their platform themselves.
    if platform == Platform::Local {
        logging::init_local();
    }
    platform::run_on(platform, app).await
}
