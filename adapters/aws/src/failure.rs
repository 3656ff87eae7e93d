//! The error an invocation reports to Lambda (`/invocation/{id}/error`).

use std::fmt;

use lambda_runtime::Diagnostic;
use nubes_core::{Error, ErrorKind};

/// A failed invocation: Lambda records it, retries asynchronous events and
/// returns SQS messages to their queue. `error_type` is one of
/// `Nubes.InvalidEvent`, `Nubes.UnsupportedEvent`, `Nubes.UnknownTrigger`,
/// `Nubes.HandlerError`, `Nubes.DeadlineExceeded`, `Nubes.ConfigError`,
/// `Nubes.PlatformError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationError {
    error_type: &'static str,
    message: String,
}

impl InvocationError {
    /// A malformed event (bad JSON, wrong shape, bad base64).
    pub(crate) fn invalid_event(message: impl Into<String>) -> Self {
        InvocationError {
            error_type: "Nubes.InvalidEvent",
            message: message.into(),
        }
    }

    /// A well-formed event from a source nubes does not map.
    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        InvocationError {
            error_type: "Nubes.UnsupportedEvent",
            message: message.into(),
        }
    }

    /// The platform deadline came before the work finished.
    pub(crate) fn deadline_exceeded(message: impl Into<String>) -> Self {
        InvocationError {
            error_type: "Nubes.DeadlineExceeded",
            message: message.into(),
        }
    }

    /// A failure of nubes itself (a bug, or a reply Lambda refused).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        InvocationError {
            error_type: "Nubes.PlatformError",
            message: message.into(),
        }
    }

    /// Appends `suffix` to the message.
    pub(crate) fn with_suffix(mut self, suffix: impl AsRef<str>) -> Self {
        self.message.push_str(suffix.as_ref());
        self
    }

    /// The `errorType` reported to Lambda.
    pub fn error_type(&self) -> &str {
        self.error_type
    }

    /// The `errorMessage` reported to Lambda.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON body Lambda expects: `{"errorType":…,"errorMessage":…}`.
    pub fn to_json(&self) -> Vec<u8> {
        let diagnostic = Diagnostic {
            error_type: self.error_type.to_owned(),
            error_message: self.message.clone(),
        };
        // Serialising two strings cannot fail; fall back to a fixed body anyway.
        serde_json::to_vec(&diagnostic).unwrap_or_else(|_| {
            br#"{"errorType":"Nubes.PlatformError","errorMessage":"unserialisable error"}"#.to_vec()
        })
    }
}

impl From<Error> for InvocationError {
    fn from(err: Error) -> Self {
        let error_type = match err.kind() {
            ErrorKind::InvalidEvent => "Nubes.InvalidEvent",
            ErrorKind::UnknownTrigger => "Nubes.UnknownTrigger",
            ErrorKind::Config => "Nubes.ConfigError",
            ErrorKind::Handler => "Nubes.HandlerError",
            _ => "Nubes.PlatformError",
        };
        InvocationError {
            error_type,
            message: err.to_string(),
        }
    }
}

impl fmt::Display for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for InvocationError {}
