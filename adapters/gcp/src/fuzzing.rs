//! Entry points for fuzz and property tests only. **Unstable**: not part of
//! the public API, hidden from the docs, may change in any release.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use nubes_core::{App, Error, TriggerKind};

use crate::GcpConfig;
use crate::runtime::Runtime;

/// The server's router for `app` (no listener, no push authentication), to
/// drive with `tower::ServiceExt::oneshot`.
pub fn router(app: App, config: GcpConfig) -> axum::Router {
    axum::Router::new().fallback_service(crate::routes::build(Arc::new(Runtime::new(
        app, config, None,
    ))))
}

/// Runs the event decoders on one request: `Ok(None)` when it is no Google
/// event, `Ok(Some(kind))` with the decoded event's kind, `Err` when malformed.
pub fn decode(headers: &HeaderMap, body: &Bytes) -> Result<Option<TriggerKind>, Error> {
    crate::event::decode(headers, body).map(|d| d.map(|d| d.event.kind()))
}
