//! The framework's own error type.

use std::fmt;

use serde::Serialize;

/// A type-erased error, the error type of handlers and HTTP services.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, in the terms every adapter reports the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The platform delivered an event that could not be decoded (malformed JSON,
    /// wrong shape, bad base64, oversize body).
    InvalidEvent,
    /// An event arrived for a trigger that nobody registered.
    UnknownTrigger,
    /// The application or environment is misconfigured (bad cron, duplicate
    /// trigger, unreadable environment variable, adapter not compiled in).
    Config,
    /// The platform itself misbehaved or could not be reached (bind failure,
    /// runtime API error, I/O).
    Platform,
    /// A user handler returned an error, panicked or ran out of time.
    Handler,
    /// A resource operation named something that does not exist (an object,
    /// a key, a bucket).
    NotFound,
    /// The cloud refused the operation, or the app did not declare the access
    /// it needs on the resource.
    PermissionDenied,
    /// A condition of the operation did not hold (the object exists already,
    /// a version changed meanwhile).
    Conflict,
    /// The service asked to slow down; retrying later succeeds.
    Throttled,
    /// A temporary failure (timeout, connection reset, 5xx); retrying succeeds.
    /// Returned from a handler, the platform redelivers the event.
    Transient,
    /// The operation or option is not available on this platform or backend.
    Unsupported,
    /// An argument of a resource operation is invalid (an empty key, a range
    /// that ends before it starts, an expiry the platform cannot sign).
    InvalidInput,
}

impl ErrorKind {
    /// The stable snake_case name of the kind, as used in JSON error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidEvent => "invalid_event",
            ErrorKind::UnknownTrigger => "unknown_trigger",
            ErrorKind::Config => "config",
            ErrorKind::Platform => "platform",
            ErrorKind::Handler => "handler",
            ErrorKind::NotFound => "not_found",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Transient => "transient",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidInput => "invalid_input",
        }
    }

    /// True for the kinds that a later retry may fix ([`ErrorKind::Throttled`],
    /// [`ErrorKind::Transient`]).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error nubes itself returns: a [`ErrorKind`], a human message and an
/// optional source.
///
/// ```
/// use nubes_core::{Error, ErrorKind};
///
/// let err = Error::invalid_event("missing field `Records`");
/// assert_eq!(err.kind(), ErrorKind::InvalidEvent);
/// assert_eq!(err.to_string(), "invalid event: missing field `Records`");
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// An [`ErrorKind::InvalidEvent`] error.
    pub fn invalid_event(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidEvent, message)
    }

    /// An [`ErrorKind::UnknownTrigger`] error for the trigger `name` of `kind`.
    pub fn unknown_trigger(kind: crate::TriggerKind, name: &str) -> Self {
        Error::new(
            ErrorKind::UnknownTrigger,
            format!("no {kind} trigger named `{name}` is registered"),
        )
    }

    /// An [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// An [`ErrorKind::Platform`] error.
    pub fn platform(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Platform, message)
    }

    /// An [`ErrorKind::Handler`] error wrapping what a handler returned.
    pub fn handler(source: BoxError) -> Self {
        Error {
            kind: ErrorKind::Handler,
            message: source.to_string(),
            source: Some(source),
        }
    }

    /// An [`ErrorKind::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    /// An [`ErrorKind::PermissionDenied`] error.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::PermissionDenied, message)
    }

    /// An [`ErrorKind::Unsupported`] error.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported, message)
    }

    /// An [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error as the JSON body adapters answer with:
    /// `{"error":{"kind":"…","message":"…"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "kind": self.kind, "message": self.message } })
    }
}

/// `{:?}` reads like the message (what `fn main() -> Result<(), nubes::Error>`
/// prints on failure), with the cause chain; `{:#?}` shows the structure.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            fmt::Display::fmt(self, f)?;
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                let text = cause.to_string();
                // Handler errors carry their cause's text as message already.
                if text != self.message {
                    write!(f, "\n  caused by: {text}")?;
                }
                source = cause.source();
            }
            return Ok(());
        }
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.kind {
            ErrorKind::InvalidEvent => "invalid event",
            ErrorKind::UnknownTrigger => "unknown trigger",
            ErrorKind::Config => "configuration error",
            ErrorKind::Platform => "platform error",
            ErrorKind::Handler => "handler error",
            ErrorKind::NotFound => "not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Transient => "temporary failure",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidInput => "invalid input",
        };
        write!(f, "{prefix}: {}", self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_names_the_kind() {
        let err = Error::config("bad cron `x`");
        assert_eq!(err.to_string(), "configuration error: bad cron `x`");
        assert_eq!(err.kind().as_str(), "config");
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::other("disk full");
        let err = Error::platform("writing object").with_source(io);
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("disk full")
        );
    }

    #[test]
    fn json_body_has_kind_and_message() {
        let err = Error::unknown_trigger(crate::TriggerKind::Queue, "orders");
        assert_eq!(
            err.to_json(),
            serde_json::json!({"error": {"kind": "unknown_trigger", "message": "no queue trigger named `orders` is registered"}})
        );
    }
}
