//! Entry points for fuzz and property tests only. **Unstable**: not part of
//! the public API, hidden from the docs, may change in any release.

use std::sync::Arc;

use nubes_core::{App, Error, TriggerKind};

use crate::AzureConfig;
use crate::envelope::Envelope;
use crate::runtime::Runtime;

/// The custom handler's request handling for `app` as a router, to drive
/// with `tower::ServiceExt::oneshot`.
pub fn router(app: App, config: AzureConfig) -> axum::Router {
    let rt = Arc::new(Runtime::new(app, config));
    axum::Router::new().fallback_service(crate::router::build(rt))
}

/// Decodes an invocation request `body` for function `function` of `kind`
/// (what the router does before dispatch). `Http` decodes `Data.req`.
pub fn decode(kind: TriggerKind, function: &str, body: &[u8]) -> Result<(), Error> {
    let envelope = Envelope::parse(body)?;
    match kind {
        TriggerKind::Queue => crate::trigger::queue(&envelope, function).map(drop),
        TriggerKind::Storage => crate::trigger::storage(&envelope, function).map(drop),
        TriggerKind::Schedule => crate::trigger::timer::decode(&envelope, function).map(drop),
        _ => crate::trigger::http_binding::request(&envelope).map(drop),
    }
}
