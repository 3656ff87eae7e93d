//! What the Runtime API says about one invocation (its `Lambda-Runtime-*` headers).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use nubes_core::TraceContext;

/// Values below this many milliseconds cannot be an epoch time of this century
/// (it is 1973-03-03): emulators such as cargo-lambda send a plain timeout
/// (`600000`) in `Lambda-Runtime-Deadline-Ms`, which is then read as relative.
const EPOCH_MS_FLOOR: u64 = 100_000_000_000;

/// One invocation's metadata, from the Runtime API's `/next` response headers.
/// Build one directly to drive [`LambdaHandler::handle`](crate::LambdaHandler::handle) in tests.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// When Lambda stops the invocation (`Lambda-Runtime-Deadline-Ms`), if known.
    pub deadline: Option<SystemTime>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id` (the X-Ray header value).
    pub xray_trace_id: Option<String>,
}

impl Invocation {
    /// An invocation with `request_id` and nothing else known.
    pub fn new(request_id: impl Into<String>) -> Self {
        Invocation {
            request_id: request_id.into(),
            ..Invocation::default()
        }
    }

    /// Sets the deadline.
    pub fn with_deadline(mut self, deadline: SystemTime) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the X-Ray trace header.
    pub fn with_xray_trace_id(mut self, trace: impl Into<String>) -> Self {
        self.xray_trace_id = Some(trace.into());
        self
    }

    /// Reads the `Lambda-Runtime-*` headers of a `/next` response, received at `now`.
    /// Never fails: a missing or unreadable header leaves its field empty.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let deadline = text("lambda-runtime-deadline-ms")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|ms| deadline_from_ms(ms, now));
        Invocation {
            request_id: text("lambda-runtime-aws-request-id").unwrap_or_default(),
            deadline,
            invoked_function_arn: text("lambda-runtime-invoked-function-arn").unwrap_or_default(),
            xray_trace_id: text("lambda-runtime-trace-id"),
        }
    }

    /// The trace context: the X-Ray header when it parses, else a new root.
    pub fn trace(&self) -> TraceContext {
        self.xray_trace_id
            .as_deref()
            .and_then(TraceContext::from_xray)
            .unwrap_or_else(TraceContext::new_root)
    }
}

/// Epoch milliseconds as AWS sends them; small values (emulators) are a timeout
/// relative to `now`. Saturates instead of overflowing.
fn deadline_from_ms(ms: u64, now: SystemTime) -> SystemTime {
    let span = Duration::from_millis(ms);
    let base = if ms < EPOCH_MS_FLOOR { now } else { UNIX_EPOCH };
    base.checked_add(span).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn epoch_deadlines_are_absolute() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let inv = Invocation::from_headers(
            &headers(&[
                ("lambda-runtime-aws-request-id", "r-1"),
                ("lambda-runtime-deadline-ms", "1700000003000"),
                ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:x"),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                ),
            ]),
            now,
        );
        assert_eq!(inv.request_id, "r-1");
        assert_eq!(inv.deadline, Some(now + Duration::from_secs(3)));
        assert_eq!(
            inv.trace().trace_id(),
            Some("5759e988bd862e3fe1be46a994272793")
        );
    }

    #[test]
    fn emulator_timeouts_are_relative_and_garbage_is_ignored() {
        let now = SystemTime::now();
        let inv =
            Invocation::from_headers(&headers(&[("lambda-runtime-deadline-ms", "600000")]), now);
        assert_eq!(inv.deadline, Some(now + Duration::from_secs(600)));
        let inv = Invocation::from_headers(&headers(&[("lambda-runtime-deadline-ms", "-5")]), now);
        assert_eq!(inv.deadline, None);
        let inv = Invocation::from_headers(
            &headers(&[("lambda-runtime-deadline-ms", "18446744073709551615")]),
            now,
        );
        assert!(inv.deadline.is_some());
        assert!(inv.trace().trace_id().is_some(), "a root trace is made up");
    }
}
