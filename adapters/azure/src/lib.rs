//! nubes adapter for Azure Functions custom handlers.
//!
//! The Functions host starts the app's executable with
//! `FUNCTIONS_CUSTOMHANDLER_PORT` set and talks to it over HTTP on
//! `127.0.0.1`:
//!
//! - **Events**: the host POSTs `{"Data":{…},"Metadata":{…}}` to
//!   `/{FunctionName}`; the handler answers `{"Outputs":{…},"Logs":[…],
//!   "ReturnValue":…}`. Each trigger of the [`App`](nubes_core::App) is one
//!   function, named [`event_function_name`] (`nubes-queue-orders`): one-segment
//!   `POST /nubes-…` paths are reserved for invocations, so no app route can
//!   be mistaken for one. Queue triggers accept `queueTrigger` (Storage
//!   queues) and `serviceBusTrigger` payloads, storage triggers accept
//!   `blobTrigger` and `eventGridTrigger` (Blob Storage events, Event Grid or
//!   CloudEvents schema), schedules accept `timerTrigger`. `200` completes
//!   the invocation; a handler error or panic answers `500` so the host
//!   retries (and eventually poisons the message); a
//!   [`permanent`](nubes_core::permanent) error answers `200` with the error
//!   in `Logs`; a malformed payload `400`, an oversize one `413`, an unknown
//!   function `404`, always as JSON (in an app with HTTP routes, a request to
//!   a path that is no function is the routes' to answer).
//! - **HTTP**: with `enableProxyingHttpRequest` (what `nubes-deploy` generates)
//!   or `enableForwardingHttpRequest` the original request reaches the app's
//!   routes unchanged. Without them the host POSTs `Data.req` to `/http` (see
//!   [`AzureConfig::http_function`]) and the response goes back as
//!   `Outputs.res`.
//!
//! Log lines emitted during an invocation are returned in `Logs` and written
//! to stdout as JSON. `host.json`, one `function.json` per function and
//! `local.settings.json` are deploy-time files: `nubes-deploy` generates them
//! from the app.
//!
//! ```no_run
//! # async fn demo() -> Result<(), nubes_core::Error> {
//! use nubes_azure::{AzureConfig, start};
//! use nubes_core::App;
//!
//! let server = start(App::new(), AzureConfig::default()).await?; // port 0: any free port
//! println!("custom handler on {}", server.url());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

mod bindings;
mod config;
mod context;
mod envelope;
mod function_name;
#[doc(hidden)]
pub mod fuzzing;
mod invocation;
mod logs;
mod reply;
mod router;
mod runtime;
mod server;
mod trigger;

pub use config::{AzureConfig, DEFAULT_FUNCTION_TIMEOUT, DEFAULT_HTTP_FUNCTION};
pub use function_name::{RESERVED_PREFIX, event_function_name};
pub use logs::{CaptureLayer, JsonLines, init as init_logging};
pub use server::{AzureServer, run, start};
