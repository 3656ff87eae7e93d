//! The retryable error of a duplicate that arrives while the first delivery
//! still runs.

use std::fmt;
use std::time::Duration;

/// Another delivery of the same event holds the idempotency lease: this one
/// fails *retryably* so the platform redelivers it later, by which time the
/// first has either completed (the redelivery is acknowledged without running)
/// or failed and released the key (the redelivery runs).
///
/// Find it in a failure's source chain with
/// `err.downcast_ref::<InProgress>()` (for example in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProgress {
    key: String,
    expires_in: Option<Duration>,
}

impl InProgress {
    pub(crate) fn new(key: String, expires_in: Option<Duration>) -> Self {
        InProgress { key, expires_in }
    }

    /// The full key (`<kind>:<trigger>:<key>`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is left of the other delivery's lease, when the store says.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }
}

impl fmt::Display for InProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "idempotency key `{}` is being handled by another delivery",
            self.key
        )?;
        if let Some(left) = self.expires_in {
            write!(f, " (its lease ends in {:.1}s)", left.as_secs_f64())?;
        }
        f.write_str("; the platform will redeliver this one")
    }
}

impl std::error::Error for InProgress {}
