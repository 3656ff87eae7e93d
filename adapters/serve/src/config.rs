//! What the server enforces on every connection and request.

use std::time::Duration;

use hyper::body::Incoming;

/// Limits and timeouts of [`serve`](crate::serve).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ServeConfig {
    /// How long a client may take to send a request's headers (from the
    /// connection's start, or from the end of the previous response on a
    /// keep-alive connection); the connection is closed after that. Zero
    /// disables the timeout.
    pub header_read_timeout: Duration,
    /// The longest pause in the arrival of a request body; after that the
    /// request is answered `408`. Zero disables the timeout.
    pub body_read_timeout: Duration,
}

impl ServeConfig {
    /// The defaults: 30 s for headers (hyper's own default), 30 s of silence
    /// in a body.
    pub const DEFAULT: ServeConfig = ServeConfig {
        header_read_timeout: Duration::from_secs(30),
        body_read_timeout: Duration::from_secs(30),
    };

    /// Settings with both timeouts.
    pub fn new(header_read_timeout: Duration, body_read_timeout: Duration) -> Self {
        ServeConfig {
            header_read_timeout,
            body_read_timeout,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig::DEFAULT
    }
}

/// The largest body a request may carry, decided per request (an adapter may
/// allow its platform's invocation requests more than its users' requests).
/// A plain `u64` is the same limit for every request.
pub trait BodyLimit: Clone + Send + Sync + 'static {
    /// The limit, in bytes, for `request` (its body not read yet).
    fn max_body_bytes(&self, request: &http::Request<Incoming>) -> u64;

    /// The setting that sets the limit of `request`, named in the `413`
    /// answer (`NUBES_MAX_BODY_BYTES` unless the implementation says otherwise).
    fn setting(&self, _request: &http::Request<Incoming>) -> &'static str {
        "NUBES_MAX_BODY_BYTES"
    }
}

impl BodyLimit for u64 {
    fn max_body_bytes(&self, _: &http::Request<Incoming>) -> u64 {
        *self
    }
}
