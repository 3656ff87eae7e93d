//! Builds without the `push-auth` feature: no OIDC verifier is compiled in,
//! so asking for one is a startup error (fail closed) rather than event
//! paths silently left open. Cloud Run's IAM invoker check guards them.

use axum::response::Response;
use http::HeaderMap;
use nubes_core::Error;

use crate::PushAuthConfig;

/// No verifier can exist in this build: the type has no values.
pub(crate) enum Verifier {}

impl Verifier {
    /// Always the [`Config`](nubes_core::ErrorKind::Config) error that says
    /// which feature to enable.
    pub(crate) fn new(_config: PushAuthConfig) -> Result<Self, Error> {
        Err(crate::config::push_auth_not_built(
            "GcpConfig::push_auth is set",
        ))
    }
}

/// Deliveries pass: without a verifier there is nothing to check here.
pub(crate) async fn authorize(
    verifier: Option<&Verifier>,
    _headers: &HeaderMap,
) -> Result<(), Response> {
    match verifier {
        None => Ok(()),
        Some(never) => match *never {},
    }
}
