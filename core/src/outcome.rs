//! What became of one event delivery, in the terms every adapter reports.

use crate::Error;

/// The result of dispatching one event to its handler.
///
/// Adapters turn it into their platform's reply: success and permanent failures
/// are acknowledged; `Retry` is reported as a failure so the platform redelivers
/// the event (and eventually dead-letters it).
#[derive(Debug)]
#[must_use]
pub enum Outcome {
    /// The handler succeeded: acknowledge.
    Success,
    /// The handler failed (error, panic, unknown trigger): report failure so the
    /// platform retries.
    Retry(Error),
    /// The handler failed with a [`permanent`](crate::permanent) error:
    /// acknowledge; the error has been logged.
    Permanent(Error),
}

impl Outcome {
    /// True when the platform should consider the event handled (success or
    /// permanent failure).
    pub fn should_acknowledge(&self) -> bool {
        !matches!(self, Outcome::Retry(_))
    }

    /// True only for [`Outcome::Success`].
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// The error, for failures.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Outcome::Success => None,
            Outcome::Retry(e) | Outcome::Permanent(e) => Some(e),
        }
    }
}
