//! The nubes local runner: runs an [`App`](nubes_core::App) on your machine with
//! no cloud at all.
//!
//! - the app's HTTP service on `127.0.0.1:$PORT` (default 3000);
//! - `POST /_nubes/queues/{name}` enqueues a message (headers `x-nubes-attr-<key>`
//!   become attributes) and answers `202 {"id":…}`; a failed delivery is retried
//!   after `NUBES_LOCAL_RETRY_DELAY_MS` with the next attempt number, up to
//!   `NUBES_LOCAL_MAX_ATTEMPTS`, then dead-lettered
//!   (`GET /_nubes/queues/{name}/dead`);
//! - `PUT` / `DELETE /_nubes/storage/{bucket}/{key}` write and remove objects
//!   under `.nubes/storage/{bucket}/` and fire `created` / `deleted`; files other
//!   programs change in that folder fire the same events;
//! - schedules fire on their cron (UTC); `POST /_nubes/schedules/{name}` fires one now;
//! - `GET /_nubes/triggers` describes the app; `GET /_nubes/` is a dev console.
//! - `/_nubes/` answers only requests sent to the runner's own hosts
//!   (`localhost`, loopback, `NUBES_HOST`, `NUBES_ALLOWED_HOSTS`) and not
//!   state-changing ones from other sites' pages (DNS rebinding, cross-site
//!   requests); the app's routes are the app's business.
//!
//! Errors are JSON (`{"error":{"kind":…,"message":…}}`); a panicking handler
//! fails only its own delivery; Ctrl-C / SIGTERM drains in-flight work.
//!
//! ```no_run
//! # async fn demo() -> Result<(), nubes_core::Error> {
//! use nubes_core::App;
//! use nubes_local::{LocalConfig, start};
//!
//! let mut config = LocalConfig::default();
//! config.port = 0; // any free port
//! let server = start(App::new(), config).await?;
//! println!("serving on {}", server.url());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

mod allowed_hosts;
mod config;
mod dead_letters;
mod delivery;
#[doc(hidden)]
pub mod fuzzing;
mod introspection;
mod json_error;
mod metrics_routes;
mod queue_routes;
mod router;
mod runtime;
mod schedule_routes;
mod scheduler;
mod server;
mod site_guard;
mod spool;
mod storage_folder;
mod storage_key;
mod storage_routes;
mod user_http;
mod watcher;

pub use config::LocalConfig;
pub use server::{LocalServer, run, start};
