//! Per-invocation context handed to every handler.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::{Provider, RawEvent, TraceContext, TriggerKind};

/// What nubes knows about one invocation: who sent it, for which trigger, how long
/// is left, the trace it belongs to and the raw provider event.
///
/// `Context` is cheap to clone (one reference count). HTTP handlers find it in the
/// request extensions (`axum::Extension<nubes::Context>`).
///
/// ```
/// use nubes_core::{Context, Provider, TriggerKind};
/// use std::time::{Duration, SystemTime};
///
/// let ctx = Context::builder(Provider::Local, TriggerKind::Queue, "orders")
///     .invocation_id("msg-1")
///     .deadline(SystemTime::now() + Duration::from_secs(30))
///     .build();
/// assert_eq!(ctx.trigger(), "orders");
/// assert!(ctx.remaining().unwrap() <= Duration::from_secs(30));
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    invocation_id: String,
    provider: Provider,
    kind: TriggerKind,
    trigger: String,
    attempt: u32,
    deadline: Option<SystemTime>,
    trace: TraceContext,
    raw: Option<RawEvent>,
    shutdown: CancellationToken,
    /// Provider-specific details (e.g. `nubes_aws::Invocation`), by type.
    extensions: http::Extensions,
}

impl Context {
    /// Starts building a context for an invocation of `trigger` (of `kind`) on `provider`.
    pub fn builder(
        provider: Provider,
        kind: TriggerKind,
        trigger: impl Into<String>,
    ) -> ContextBuilder {
        ContextBuilder {
            inner: Inner {
                invocation_id: String::new(),
                provider,
                kind,
                trigger: trigger.into(),
                attempt: 1,
                deadline: None,
                trace: TraceContext::none(),
                raw: None,
                shutdown: CancellationToken::new(),
                extensions: http::Extensions::new(),
            },
        }
    }

    /// The platform's id for this invocation (Lambda request id, Pub/Sub message id,
    /// Azure invocation id, or a generated one locally).
    pub fn invocation_id(&self) -> &str {
        &self.inner.invocation_id
    }

    /// The platform that delivered the invocation.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// The kind of trigger being invoked.
    pub fn trigger_kind(&self) -> TriggerKind {
        self.inner.kind
    }

    /// The logical trigger name (queue, bucket or schedule name; `http` for HTTP).
    pub fn trigger(&self) -> &str {
        &self.inner.trigger
    }

    /// Which delivery of this event this is, starting at 1.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// When the platform will stop waiting for this invocation, if it says.
    pub fn deadline(&self) -> Option<SystemTime> {
        self.inner.deadline
    }

    /// Time left before the deadline (zero once it has passed), if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.inner.deadline.map(|d| {
            d.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        })
    }

    /// The trace this invocation belongs to.
    pub fn trace(&self) -> &TraceContext {
        &self.inner.trace
    }

    /// The provider's own event, as delivered.
    pub fn raw_event(&self) -> Option<&RawEvent> {
        self.inner.raw.as_ref()
    }

    /// Fires when the process is asked to shut down; long handlers may stop early.
    /// In-flight work is still given the grace period to finish.
    pub fn shutdown_signal(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// True once shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }

    /// Provider-specific details the adapter attached, by type: for instance
    /// `ctx.extension::<nubes::aws::Invocation>()` gives the invoked function
    /// ARN on AWS. `None` on other platforms.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner.extensions.get::<T>()
    }
}

/// Builds a [`Context`]; used by adapters and by tests of user handlers.
#[derive(Debug)]
pub struct ContextBuilder {
    inner: Inner,
}

impl ContextBuilder {
    /// Sets the invocation id.
    pub fn invocation_id(mut self, id: impl Into<String>) -> Self {
        self.inner.invocation_id = id.into();
        self
    }

    /// Sets the delivery attempt (1 for the first delivery).
    pub fn attempt(mut self, attempt: u32) -> Self {
        self.inner.attempt = attempt.max(1);
        self
    }

    /// Sets the platform deadline.
    pub fn deadline(mut self, deadline: SystemTime) -> Self {
        self.inner.deadline = Some(deadline);
        self
    }

    /// Sets the trace context.
    pub fn trace(mut self, trace: TraceContext) -> Self {
        self.inner.trace = trace;
        self
    }

    /// Attaches the raw provider event.
    pub fn raw_event(mut self, raw: RawEvent) -> Self {
        self.inner.raw = Some(raw);
        self
    }

    /// Links the context to the process shutdown signal.
    pub fn shutdown_signal(mut self, token: CancellationToken) -> Self {
        self.inner.shutdown = token;
        self
    }

    /// Attaches a provider-specific value, readable with [`Context::extension`].
    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.inner.extensions.insert(value);
        self
    }

    /// Finishes the context.
    pub fn build(self) -> Context {
        Context {
            inner: Arc::new(self.inner),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_is_zero_after_the_deadline() {
        let ctx = Context::builder(Provider::Aws, TriggerKind::Queue, "q")
            .deadline(SystemTime::UNIX_EPOCH)
            .build();
        assert_eq!(ctx.remaining(), Some(Duration::ZERO));
    }

    #[test]
    fn extensions_are_found_by_type() {
        #[derive(Clone, Debug, PartialEq)]
        struct Arn(&'static str);
        let ctx = Context::builder(Provider::Aws, TriggerKind::Queue, "q")
            .extension(Arn("arn:aws:lambda:eu-west-1:1:function:f"))
            .build();
        assert_eq!(
            ctx.extension::<Arn>(),
            Some(&Arn("arn:aws:lambda:eu-west-1:1:function:f"))
        );
        assert_eq!(ctx.extension::<u32>(), None);
    }

    #[test]
    fn defaults_are_sensible() {
        let ctx = Context::builder(Provider::Local, TriggerKind::Schedule, "nightly").build();
        assert_eq!(ctx.attempt(), 1);
        assert!(ctx.deadline().is_none());
        assert!(ctx.raw_event().is_none());
        assert!(!ctx.is_shutting_down());
    }
}
