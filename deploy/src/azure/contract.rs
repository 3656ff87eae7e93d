//! What the generated files and the `nubes-azure` adapter must agree on: the
//! event functions' names (the paths the host invokes), the binding names its
//! decoders look for, the HTTP function's default name and the function
//! timeout it assumes. The adapter keeps its own copy (it does
//! not depend on this crate, nor this crate on it); `tests/azure_agreement.rs`
//! serves the generated functions with the real adapter to prove they match.

use std::time::Duration;

use nubes_core::TriggerKind;

/// The prefix of every event function's name. The adapter reserves
/// one-segment `POST /nubes-…` paths for invocations, so an app route
/// (`POST /orders`, which proxying delivers at its own path) is never taken
/// for the invocation of a trigger of the same name.
pub const RESERVED_PREFIX: &str = "nubes-";

/// The name of the function that serves event trigger `trigger` of `kind`:
/// `nubes-{kind}-{trigger}` (`nubes-queue-orders`), the folder of its
/// `function.json` and the path the host invokes.
///
/// ```
/// use nubes_core::TriggerKind;
///
/// assert_eq!(nubes_deploy::azure::function_name(TriggerKind::Storage, "uploads"), "nubes-storage-uploads");
/// ```
pub fn function_name(kind: TriggerKind, trigger: &str) -> String {
    format!("{RESERVED_PREFIX}{}-{trigger}", kind.as_str())
}

/// The HTTP trigger's input binding (`Data.req`).
pub(crate) const HTTP_IN: &str = "req";
/// The HTTP output binding (`Outputs.res`).
pub(crate) const HTTP_OUT: &str = "res";
/// Queue and Service Bus triggers, declared `dataType: binary`, so the host
/// always sends the message bytes as base64 under this name.
pub(crate) const MESSAGE: &str = "messageBase64";
/// Blob triggers, declared `dataType: binary` (base64 under this name).
pub(crate) const BLOB: &str = "blobBase64";
/// Event Grid triggers (`Data.event`, one event per invocation).
pub(crate) const EVENT: &str = "event";
/// Timer triggers (`Data.timer`).
pub(crate) const TIMER: &str = "timer";

/// The HTTP function's name unless [`ManifestOptions::http_function`]
/// (and, at run time, `NUBES_AZURE_HTTP_FUNCTION`) says otherwise.
///
/// [`ManifestOptions::http_function`]: super::ManifestOptions::http_function
pub const DEFAULT_HTTP_FUNCTION: &str = "http";

/// The `functionTimeout` the generated `host.json` states: the Consumption
/// plan's default, which the adapter assumes unless
/// `NUBES_AZURE_FUNCTION_TIMEOUT_MS` says otherwise.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(300);
