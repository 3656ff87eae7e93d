//! Running a handler for one event: panic isolation, outcome, logs.
//!
//! Every adapter goes through here, so "unknown trigger = retry", "panic = this
//! event failed" and "permanent = acknowledged + logged" are the same on every
//! cloud.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use tracing::Instrument as _;

use crate::raw::{BoxedHandler, Outcome};
use crate::{Context, Error, is_permanent};

/// Runs `handler` (the one registered for `ctx.trigger()`, if any) for `event`.
pub(crate) async fn run<E: Send + 'static>(
    handler: Option<&BoxedHandler<E>>,
    event: E,
    ctx: Context,
) -> Outcome {
    // At debug level: log formats find the invocation's ids and trace
    // through `current_context()`, so at the default level no span is made
    // (formatting its fields for every message of a batch cost more than
    // the whole decoding). Tracing layers that want one span per event get
    // it with `RUST_LOG=nubes_core=debug`.
    let span = tracing::debug_span!(
        "invocation",
        kind = %ctx.trigger_kind(),
        trigger = ctx.trigger(),
        invocation_id = ctx.invocation_id(),
        attempt = ctx.attempt(),
        trace_id = ctx.trace().trace_id().unwrap_or_default(),
        span_id = ctx.trace().span_id().unwrap_or_default(),
    );
    let started = std::time::Instant::now();
    // Log formatters find the invocation (and its trace) through the
    // task-local copy; metrics are recorded once the outcome is known.
    let current = ctx.clone();
    let outcome = crate::current::scope(ctx.clone(), run_caught(handler, event, ctx))
        .instrument(span)
        .await;
    current.metrics().record_invocation(
        current.trigger_kind(),
        current.trigger(),
        !outcome.is_success(),
        started.elapsed(),
    );
    outcome
}

/// Runs the handler, turning errors, permanent errors and panics into outcomes.
async fn run_caught<E: Send + 'static>(
    handler: Option<&BoxedHandler<E>>,
    event: E,
    ctx: Context,
) -> Outcome {
    let Some(handler) = handler else {
        let err = Error::unknown_trigger(ctx.trigger_kind(), ctx.trigger());
        tracing::error!(error = %err, "event not handled; reporting failure so the platform retries or dead-letters it");
        return Outcome::Retry(err);
    };
    let result = AssertUnwindSafe(handler.call(event, ctx))
        .catch_unwind()
        .await;
    match result {
        Ok(Ok(())) => Outcome::Success,
        Ok(Err(err)) if is_permanent(err.as_ref()) => {
            let err = Error::handler(err);
            tracing::error!(error = %err, "handler failed permanently; event acknowledged, not retried");
            Outcome::Permanent(err)
        }
        Ok(Err(err)) if err.is::<crate::idempotency::InProgress>() => {
            // An expected case, not a failure of the handler: a duplicate
            // delivery of an event whose first delivery is still running.
            let err = Error::handler(err);
            tracing::info!(error = %err, "duplicate delivery while the first still runs; the platform will retry");
            Outcome::Retry(err)
        }
        Ok(Err(err)) => {
            let err = Error::handler(err);
            tracing::error!(error = %err, "handler failed; the platform will retry");
            Outcome::Retry(err)
        }
        Err(panic) => {
            let err = Error::new(
                crate::ErrorKind::Handler,
                format!("handler panicked: {}", panic_message(panic.as_ref())),
            );
            tracing::error!(error = %err, "handler panicked; the platform will retry");
            Outcome::Retry(err)
        }
    }
}

/// The text of a panic payload (`panic!("…")` gives `&str` or `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::AppDispatch as _;
    use crate::raw::ContextBuilder;
    use crate::{App, QueueMessage};
    use crate::{BoxError, ErrorKind, Platform, TriggerKind, permanent};

    fn ctx(name: &str) -> Context {
        ContextBuilder::new(Platform::Local, TriggerKind::Queue, name.to_owned()).build()
    }

    async fn behave(msg: QueueMessage, _: Context) -> Result<(), BoxError> {
        match msg.text()? {
            "fail" => Err("asked to fail".into()),
            "permanent" => Err(permanent("asked to fail permanently")),
            "panic" => panic!("asked to panic"),
            _ => Ok(()),
        }
    }

    fn app() -> App {
        App::new().on_queue("orders", behave)
    }

    #[tokio::test]
    async fn success_is_acknowledged() {
        let out = app()
            .dispatch_queue(QueueMessage::new("1", "ok"), ctx("orders"))
            .await;
        assert!(out.is_success());
    }

    #[tokio::test]
    async fn errors_retry_and_permanent_errors_ack() {
        let app = app();
        let out = app
            .dispatch_queue(QueueMessage::new("1", "fail"), ctx("orders"))
            .await;
        assert!(!out.should_acknowledge());
        assert_eq!(out.error().unwrap().kind(), ErrorKind::Handler);
        let out = app
            .dispatch_queue(QueueMessage::new("2", "permanent"), ctx("orders"))
            .await;
        assert!(matches!(out, Outcome::Permanent(_)));
        assert!(out.should_acknowledge());
    }

    #[tokio::test]
    async fn panics_become_retryable_failures() {
        let out = app()
            .dispatch_queue(QueueMessage::new("1", "panic"), ctx("orders"))
            .await;
        let err = out.error().unwrap();
        assert!(err.message().contains("asked to panic"), "{err}");
        assert!(!out.should_acknowledge());
    }

    #[tokio::test]
    async fn unknown_triggers_are_not_acknowledged() {
        let out = app()
            .dispatch_queue(QueueMessage::new("1", "ok"), ctx("nope"))
            .await;
        assert_eq!(out.error().unwrap().kind(), ErrorKind::UnknownTrigger);
        assert!(!out.should_acknowledge());
    }
}
