//! Giving up on work shortly before the platform's deadline, the same way on
//! every adapter.
//!
//! A platform that stops waiting (Lambda's deadline, Cloud Run's request
//! timeout, Azure's `functionTimeout`) kills the invocation without a word:
//! the event is redelivered only after its lease expires, and nobody learns
//! why. nubes cancels the handler `margin` before that moment instead and
//! reports the invocation failed itself: an event is answered with a
//! retryable failure (so the platform redelivers it at once), an HTTP request
//! with a JSON `504`.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use nubes_core::raw::deadline;
//!
//! # tokio_test_block(async {
//! let soon = Some(SystemTime::now() + Duration::from_millis(50));
//! let slow = tokio::time::sleep(Duration::from_secs(10));
//! assert!(deadline::within(soon, Duration::from_millis(10), slow).await.is_none());
//! assert_eq!(deadline::within(None, Duration::ZERO, async { 7 }).await, Some(7));
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, SystemTime};

use http::{Response, StatusCode};

use crate::raw::{Outcome, json_error};
use crate::{Body, Error};

/// How long before the platform's deadline unfinished work is given up, unless
/// an adapter is told otherwise: enough for the failure report to reach the
/// platform.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(500);

/// The margin to use for invocations that get `budget` in all: `margin`, but
/// never more than a tenth of the budget (a 300 ms timeout still leaves the
/// handler 270 ms).
pub fn margin_for(budget: Duration, margin: Duration) -> Duration {
    margin.min(budget / 10)
}

/// The instant `margin` before `deadline` (now, if that has passed).
pub fn cutoff(deadline: SystemTime, margin: Duration) -> tokio::time::Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .saturating_sub(margin);
    tokio::time::Instant::now() + left
}

/// Runs `work` until `margin` before `deadline`: its output, or `None` when
/// time ran out (`work` is then dropped, which cancels it). Without a
/// deadline, `work` runs to the end.
pub fn within<F: Future>(deadline: Option<SystemTime>, margin: Duration, work: F) -> Within<F> {
    Within {
        work,
        deadline,
        margin,
        timer: None,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`within`].
    ///
    /// The timer is set on the first poll that finds `work` unfinished, not
    /// before: work that is done on its first poll (most HTTP handlers) never
    /// touches the clock or the timer wheel.
    #[must_use = "futures do nothing unless polled"]
    pub struct Within<F> {
        #[pin]
        work: F,
        deadline: Option<SystemTime>,
        margin: Duration,
        #[pin]
        timer: Option<tokio::time::Sleep>,
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(output) = this.work.poll(cx) {
            return Poll::Ready(Some(output));
        }
        let Some(deadline) = *this.deadline else {
            return Poll::Pending;
        };
        if this.timer.is_none() {
            let at = cutoff(deadline, *this.margin);
            this.timer.set(Some(tokio::time::sleep_until(at)));
        }
        match this.timer.as_pin_mut().map(|timer| timer.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    }
}

/// Runs an event handler's dispatch like [`within`]; when time runs out, the
/// error made by `timed_out` is logged and the outcome is a retryable failure.
pub async fn outcome_within(
    deadline: Option<SystemTime>,
    margin: Duration,
    work: impl Future<Output = Outcome>,
    timed_out: impl FnOnce() -> Error,
) -> Outcome {
    match within(deadline, margin, work).await {
        Some(outcome) => outcome,
        None => {
            let err = timed_out();
            tracing::error!(error = %err, "handler cancelled at its deadline; the platform will retry");
            Outcome::Retry(err)
        }
    }
}

/// Runs an HTTP dispatch like [`within`]; when time runs out, the error made
/// by `timed_out` is logged and the response is a JSON `504`.
pub async fn response_within(
    deadline: Option<SystemTime>,
    margin: Duration,
    work: impl Future<Output = Response<Body>>,
    timed_out: impl FnOnce() -> Error,
) -> Response<Body> {
    match within(deadline, margin, work).await {
        Some(response) => response,
        None => {
            let err = timed_out();
            tracing::error!(error = %err, "HTTP handler cancelled at its deadline");
            json_error(StatusCode::GATEWAY_TIMEOUT, &err)
        }
    }
}

/// The error of a handler that ran out of time: `limit` names the setting,
/// e.g. `"the 300000 ms request timeout (NUBES_GCP_REQUEST_TIMEOUT_MS)"`.
pub fn timed_out(limit: impl std::fmt::Display) -> Error {
    Error::new(
        crate::ErrorKind::Handler,
        format!("the handler did not finish within {limit}; it was cancelled"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_never_eats_the_budget() {
        assert_eq!(
            margin_for(Duration::from_secs(300), DEFAULT_MARGIN),
            DEFAULT_MARGIN
        );
        assert_eq!(
            margin_for(Duration::from_millis(300), DEFAULT_MARGIN),
            Duration::from_millis(30)
        );
    }

    #[tokio::test]
    async fn late_work_is_cancelled_before_the_deadline() {
        let deadline = SystemTime::now() + Duration::from_millis(300);
        let started = std::time::Instant::now();
        let out = outcome_within(
            Some(deadline),
            Duration::from_millis(100),
            async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Outcome::Success
            },
            || timed_out("300 ms"),
        )
        .await;
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(150) && took < Duration::from_millis(280),
            "{took:?}"
        );
        assert!(!out.should_acknowledge());
        assert!(out.error().is_some_and(|e| e.message().contains("300 ms")));
        let res = response_within(
            Some(SystemTime::UNIX_EPOCH),
            Duration::ZERO,
            std::future::pending(),
            || timed_out("no time"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);
    }

    #[tokio::test]
    async fn work_in_time_is_untouched() {
        let deadline = Some(SystemTime::now() + Duration::from_secs(5));
        let out = outcome_within(deadline, DEFAULT_MARGIN, async { Outcome::Success }, || {
            timed_out("never")
        })
        .await;
        assert!(out.is_success());
    }
}
