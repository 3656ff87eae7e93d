//! Marking a handler error as permanent: acknowledged and logged, never retried.

use std::fmt;

use crate::BoxError;

/// A handler error that retrying cannot fix (a malformed payload, a business rule
/// that rejects the message). The platform acknowledges the event and nubes logs
/// the error at error level instead of asking for a redelivery.
///
/// Every error that is *not* wrapped in `Permanent` means "retry".
///
/// ```
/// use nubes_core::{permanent, is_permanent, BoxError};
///
/// let err: BoxError = permanent("order total is negative");
/// assert!(is_permanent(err.as_ref()));
/// assert_eq!(err.to_string(), "order total is negative");
/// ```
pub struct Permanent {
    inner: BoxError,
}

impl Permanent {
    /// Wraps `err` as permanent.
    pub fn new(err: impl Into<BoxError>) -> Self {
        Permanent { inner: err.into() }
    }

    /// The wrapped error.
    pub fn into_inner(self) -> BoxError {
        self.inner
    }
}

impl fmt::Debug for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Permanent").field(&self.inner).finish()
    }
}

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl std::error::Error for Permanent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.inner.as_ref())
    }
}

/// Wraps `err` so the platform acknowledges the event instead of retrying it.
///
/// Use it with `map_err`: `serde_json::from_slice(..).map_err(nubes::permanent)?`.
pub fn permanent(err: impl Into<BoxError>) -> BoxError {
    Box::new(Permanent::new(err))
}

/// True when `err`, or any error in its source chain, was marked [`Permanent`].
pub fn is_permanent(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<Permanent>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Extension for `Result` to mark its error permanent in place:
/// `msg.json::<Order>().permanent()?`.
pub trait ResultExt<T> {
    /// Maps the error into a [`Permanent`] one.
    fn permanent(self) -> Result<T, BoxError>;
}

impl<T, E: Into<BoxError>> ResultExt<T> for Result<T, E> {
    fn permanent(self) -> Result<T, BoxError> {
        self.map_err(permanent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_errors_are_not_permanent() {
        let err: BoxError = "boom".into();
        assert!(!is_permanent(err.as_ref()));
    }

    #[test]
    fn permanent_is_found_through_the_source_chain() {
        let inner = permanent("bad input");
        let outer = crate::Error::handler(inner);
        assert!(is_permanent(&outer));
    }

    #[test]
    fn result_ext_marks_errors() {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("x"));
        let err = r.permanent().unwrap_err();
        assert!(is_permanent(err.as_ref()));
    }
}
