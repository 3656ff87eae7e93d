//! Per-invocation context handed to every handler.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::{Platform, RawEvent, TraceContext, TriggerKind};

/// What nubes knows about one invocation: who sent it, for which trigger, how long
/// is left, the trace it belongs to and the raw platform event.
///
/// `Context` is cheap to clone (one reference count). HTTP handlers find it in the
/// request extensions (`axum::Extension<nubes::Context>`).
///
/// ```
/// use nubes_core::raw::ContextBuilder;
/// use nubes_core::{Platform, TriggerKind};
/// use std::time::{Duration, SystemTime};
///
/// let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders")
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

// Ids and traces that the platform did not send are generated on first read
// (`OnceLock`), not per request: an HTTP handler that never looks at them
// costs nothing for them. The shutdown token is shared behind one `Arc`
// because cloning a `CancellationToken` takes a lock in its tree.
#[derive(Debug)]
struct Inner {
    invocation_id: OnceLock<String>,
    platform: Platform,
    kind: TriggerKind,
    trigger: Cow<'static, str>,
    attempt: u32,
    deadline: Option<SystemTime>,
    trace: OnceLock<TraceContext>,
    raw: Option<RawEvent>,
    shutdown: Option<Arc<CancellationToken>>,
    /// Platform-specific details (e.g. `nubes_aws::Invocation`), by type.
    extensions: http::Extensions,
    /// Where custom metrics go (disabled unless the adapter installs a sink).
    metrics: crate::metrics::Metrics,
    /// The app's resource backends (`None` when it declared none).
    resources: Option<Arc<crate::raw::Resources>>,
}

impl Context {
    /// The platform's id for this invocation (Lambda request id, Pub/Sub message id,
    /// Azure invocation id), or a random UUID generated on first read when the
    /// platform sent none.
    pub fn invocation_id(&self) -> &str {
        self.inner
            .invocation_id
            .get_or_init(|| uuid::Uuid::new_v4().to_string())
    }

    /// The platform that delivered the invocation.
    pub fn platform(&self) -> Platform {
        self.inner.platform
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

    /// The trace this invocation belongs to: the one the platform sent, or a
    /// new root trace (random ids, generated on first read) when it sent none.
    pub fn trace(&self) -> &TraceContext {
        self.inner.trace.get_or_init(TraceContext::new_root)
    }

    /// The platform's own event, as delivered.
    pub fn raw_event(&self) -> Option<&RawEvent> {
        self.inner.raw.as_ref()
    }

    /// The token cancelled when this instance begins to shut down (the platform
    /// sent SIGTERM, or Ctrl-C locally). A long handler may watch it
    /// (`ctx.shutdown().cancelled().await`) to stop early and leave the rest of
    /// its work to a redelivery; in-flight work is still given the grace period
    /// to finish. Never cancelled for a context that no adapter linked to the
    /// process (for instance one built in a unit test).
    pub fn shutdown(&self) -> &CancellationToken {
        static NEVER: OnceLock<CancellationToken> = OnceLock::new();
        match &self.inner.shutdown {
            Some(token) => token,
            None => NEVER.get_or_init(CancellationToken::new),
        }
    }

    /// True once shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner
            .shutdown
            .as_ref()
            .is_some_and(|token| token.is_cancelled())
    }

    /// Records custom metrics for this invocation:
    /// `ctx.metrics().count("orders_placed", 1.0).with_dimension("region", "eu")`.
    /// Emitted as CloudWatch EMF on AWS, structured log entries on GCP and
    /// Azure, and `GET /_nubes/metrics` locally.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// The resource backends the adapter attached (buckets and the other
    /// resource handles resolve through them); `None` when the app declared
    /// no resource.
    pub fn resources(&self) -> Option<&Arc<crate::raw::Resources>> {
        self.inner.resources.as_ref()
    }

    /// Platform-specific details the adapter attached, by type: for instance
    /// `ctx.extension::<nubes::aws::Invocation>()` gives the invoked function
    /// ARN on AWS. `None` on other platforms.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner.extensions.get::<T>()
    }
}

/// Builds a [`Context`]; used by adapters and by unit tests of handlers.
///
/// ```
/// use nubes_core::raw::ContextBuilder;
/// use nubes_core::{Platform, TriggerKind};
///
/// let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders")
///     .invocation_id("msg-1")
///     .attempt(2)
///     .build();
/// assert_eq!((ctx.invocation_id(), ctx.attempt()), ("msg-1", 2));
/// ```
#[derive(Debug)]
pub struct ContextBuilder {
    inner: Inner,
}

impl ContextBuilder {
    /// Starts building a context for an invocation of `trigger` (of `kind`) on `platform`.
    #[inline]
    pub fn new(
        platform: Platform,
        kind: TriggerKind,
        trigger: impl Into<Cow<'static, str>>,
    ) -> ContextBuilder {
        ContextBuilder {
            inner: Inner {
                invocation_id: OnceLock::new(),
                platform,
                kind,
                trigger: trigger.into(),
                attempt: 1,
                deadline: None,
                trace: OnceLock::new(),
                raw: None,
                shutdown: None,
                extensions: http::Extensions::new(),
                metrics: crate::metrics::Metrics::disabled(),
                resources: None,
            },
        }
    }

    /// Sets the invocation id.
    #[inline]
    pub fn invocation_id(mut self, id: impl Into<String>) -> Self {
        self.inner.invocation_id = OnceLock::from(id.into());
        self
    }

    /// Sets the delivery attempt (1 for the first delivery).
    #[inline]
    pub fn attempt(mut self, attempt: u32) -> Self {
        self.inner.attempt = attempt.max(1);
        self
    }

    /// Sets the platform deadline.
    #[inline]
    pub fn deadline(mut self, deadline: SystemTime) -> Self {
        self.inner.deadline = Some(deadline);
        self
    }

    /// Sets the trace context.
    #[inline]
    pub fn trace(mut self, trace: TraceContext) -> Self {
        self.inner.trace = OnceLock::from(trace);
        self
    }

    /// Attaches the raw platform event.
    #[inline]
    pub fn raw_event(mut self, raw: RawEvent) -> Self {
        self.inner.raw = Some(raw);
        self
    }

    /// Sets the token of [`Context::shutdown`]: the adapter cancels it when the
    /// instance begins to shut down.
    ///
    /// Takes the token by `Arc` or by value; an adapter that builds a context
    /// per request keeps one `Arc<CancellationToken>` and passes clones of it,
    /// which is cheaper than cloning the token itself.
    #[inline]
    pub fn shutdown(mut self, token: impl Into<Arc<CancellationToken>>) -> Self {
        self.inner.shutdown = Some(token.into());
        self
    }

    /// Attaches the app's resource backends (see [`Context::resources`]).
    #[inline]
    pub fn resources(mut self, resources: Option<Arc<crate::raw::Resources>>) -> Self {
        self.inner.resources = resources;
        self
    }

    /// Sets where [`Context::metrics`] records (adapters install their sink).
    #[inline]
    pub fn metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.inner.metrics = metrics;
        self
    }

    /// Attaches a platform-specific value, readable with [`Context::extension`].
    #[inline]
    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.inner.extensions.insert(value);
        self
    }

    /// Finishes the context.
    #[inline]
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
        let ctx = ContextBuilder::new(Platform::Aws, TriggerKind::Queue, "q")
            .deadline(SystemTime::UNIX_EPOCH)
            .build();
        assert_eq!(ctx.remaining(), Some(Duration::ZERO));
    }

    #[test]
    fn extensions_are_found_by_type() {
        #[derive(Clone, Debug, PartialEq)]
        struct Arn(&'static str);
        let ctx = ContextBuilder::new(Platform::Aws, TriggerKind::Queue, "q")
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
        let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Schedule, "nightly").build();
        assert_eq!(ctx.attempt(), 1);
        assert!(ctx.deadline().is_none());
        assert!(ctx.raw_event().is_none());
        assert!(!ctx.is_shutting_down());
    }

    #[test]
    fn missing_ids_are_generated_once_and_kept() {
        let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Http, "http").build();
        let id = ctx.invocation_id().to_owned();
        assert_eq!(id.len(), 36, "a UUID: {id}");
        assert_eq!(ctx.clone().invocation_id(), id);
        let trace = ctx.trace().trace_id().unwrap().to_owned();
        assert_eq!(ctx.trace().trace_id(), Some(trace.as_str()));
        assert!(ctx.trace().traceparent().is_some());
    }

    #[test]
    fn given_ids_win_and_shutdown_is_shared() {
        let token = Arc::new(CancellationToken::new());
        let trace = TraceContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        let ctx = ContextBuilder::new(Platform::Gcp, TriggerKind::Http, String::from("http"))
            .invocation_id("req-1")
            .trace(trace.clone())
            .shutdown(token.clone())
            .build();
        assert_eq!(ctx.invocation_id(), "req-1");
        assert_eq!(ctx.trace(), &trace);
        token.cancel();
        assert!(ctx.is_shutting_down());
        assert!(ctx.shutdown().is_cancelled());
    }
}
