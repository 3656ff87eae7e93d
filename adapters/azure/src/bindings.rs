//! Binding names the decoders look for: the `function.json` files that
//! `nubes-deploy` generates name their bindings this way (it keeps its own
//! copy; its tests serve the generated functions with this adapter), so the
//! handler knows where the trigger's value is and how it was encoded.

/// The HTTP trigger's input binding (`Data.req`).
pub(crate) const HTTP_IN: &str = "req";
/// The HTTP output binding (`Outputs.res`).
pub(crate) const HTTP_OUT: &str = "res";
/// Queue and Service Bus triggers, declared `dataType: binary`, so the host
/// always sends the message bytes as base64 under this name (which says so,
/// for anyone reading a payload or writing a `function.json` by hand).
pub(crate) const MESSAGE: &str = "messageBase64";
/// Blob triggers, declared `dataType: binary` (base64 under this name).
pub(crate) const BLOB: &str = "blobBase64";
/// Event Grid triggers (`Data.event`, one event per invocation).
pub(crate) const EVENT: &str = "event";
/// Timer triggers (`Data.timer`).
pub(crate) const TIMER: &str = "timer";
