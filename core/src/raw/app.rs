//! What adapters do with an [`App`]: find its triggers and run them.

use std::future::Future;

use http::Request;

use crate::dispatch;
use crate::http_dispatch::{self, Call};
use crate::raw::{BoxedHandler, HttpDispatch, HttpService, HttpTimeout, Outcome, ScheduleTrigger};
use crate::{
    App, Body, Context, Error, Platform, QueueMessage, ScheduledEvent, StorageEvent, TriggerKind,
};

/// An [`App`] seen from an adapter: its triggers looked up by name, and the one
/// path by which handlers run (so "unknown trigger = retry", "panic = this event
/// failed" and "permanent = acknowledged + logged" are the same on every
/// platform).
///
/// Implemented for [`App`] only; bring it into scope with
/// `use nubes_core::raw::AppDispatch as _;`.
pub trait AppDispatch: sealed::Sealed {
    /// [`App::validate`], plus what `platform` requires of the app: where many
    /// instances run (AWS, GCP, Azure), an
    /// [`idempotent`](crate::idempotency::idempotent) handler must name its
    /// store. Every adapter calls it before serving.
    fn validate_on(&self, platform: Platform) -> Result<(), Error>;

    /// The HTTP service, if one was registered.
    fn http_service(&self) -> Option<&HttpService>;

    /// The handler of queue `name`.
    fn queue_handler(&self, name: &str) -> Option<&BoxedHandler<QueueMessage>>;

    /// The handler of bucket `name`.
    fn storage_handler(&self, name: &str) -> Option<&BoxedHandler<StorageEvent>>;

    /// The schedule `name`.
    fn schedule(&self, name: &str) -> Option<&ScheduleTrigger>;

    /// Every registered schedule, by name.
    fn schedules(&self) -> impl Iterator<Item = (&str, &ScheduleTrigger)>;

    /// True when a trigger of `kind` named `name` is registered.
    fn has_trigger(&self, kind: TriggerKind, name: &str) -> bool;

    /// Runs the queue handler named by `ctx.trigger()` for `message`.
    fn dispatch_queue(
        &self,
        message: QueueMessage,
        ctx: Context,
    ) -> impl Future<Output = Outcome> + Send;

    /// Runs the storage handler named by `ctx.trigger()` for `event`.
    fn dispatch_storage(
        &self,
        event: StorageEvent,
        ctx: Context,
    ) -> impl Future<Output = Outcome> + Send;

    /// Runs the schedule handler named by `ctx.trigger()` for `event`.
    fn dispatch_schedule(
        &self,
        event: ScheduledEvent,
        ctx: Context,
    ) -> impl Future<Output = Outcome> + Send;

    /// Serves `request` with the app's HTTP service. `ctx` is inserted into the
    /// request extensions (handlers read it with `Extension<nubes::Context>`)
    /// and is the [current context](crate::current_context) while the service
    /// runs.
    ///
    /// Never fails: no HTTP service → `404`; a service error or panic → `500`,
    /// each with a JSON body `{"error":{"kind":…,"message":…}}`, logged at error
    /// level. The process keeps serving.
    fn dispatch_http(&self, request: Request<Body>, ctx: Context) -> HttpDispatch;

    /// [`dispatch_http`](Self::dispatch_http), cut off `timeout`'s margin
    /// before `ctx`'s deadline: the service's future is then dropped and the
    /// answer is a JSON `504` naming the limit, logged at error level.
    fn dispatch_http_within(
        &self,
        request: Request<Body>,
        ctx: Context,
        timeout: &HttpTimeout,
    ) -> HttpDispatch;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::App {}
}

impl AppDispatch for App {
    fn validate_on(&self, platform: Platform) -> Result<(), Error> {
        self.validate()?;
        crate::idempotency::check_instances(self, platform)
    }

    #[inline]
    fn http_service(&self) -> Option<&HttpService> {
        self.http.as_ref()
    }

    #[inline]
    fn queue_handler(&self, name: &str) -> Option<&BoxedHandler<QueueMessage>> {
        self.queues.get(name)
    }

    #[inline]
    fn storage_handler(&self, name: &str) -> Option<&BoxedHandler<StorageEvent>> {
        self.storage.get(name)
    }

    #[inline]
    fn schedule(&self, name: &str) -> Option<&ScheduleTrigger> {
        self.schedules.get(name)
    }

    fn schedules(&self) -> impl Iterator<Item = (&str, &ScheduleTrigger)> {
        self.schedules.iter().map(|(n, t)| (n.as_str(), t))
    }

    #[inline]
    fn has_trigger(&self, kind: TriggerKind, name: &str) -> bool {
        self.is_registered(kind, name)
    }

    fn dispatch_queue(
        &self,
        message: QueueMessage,
        ctx: Context,
    ) -> impl Future<Output = Outcome> + Send {
        dispatch::run(self.queues.get(ctx.trigger()), message, ctx)
    }

    fn dispatch_storage(
        &self,
        event: StorageEvent,
        ctx: Context,
    ) -> impl Future<Output = Outcome> + Send {
        dispatch::run(self.storage.get(ctx.trigger()), event, ctx)
    }

    fn dispatch_schedule(
        &self,
        event: ScheduledEvent,
        ctx: Context,
    ) -> impl Future<Output = Outcome> + Send {
        let handler = self.schedules.get(ctx.trigger()).map(|t| &t.handler);
        dispatch::run(handler, event, ctx)
    }

    #[inline]
    fn dispatch_http(&self, request: Request<Body>, ctx: Context) -> HttpDispatch {
        http_dispatch::dispatch(self, request, Call { ctx, timeout: None })
    }

    #[inline]
    fn dispatch_http_within(
        &self,
        request: Request<Body>,
        ctx: Context,
        timeout: &HttpTimeout,
    ) -> HttpDispatch {
        let timeout = Some(timeout.clone());
        http_dispatch::dispatch(self, request, Call { ctx, timeout })
    }
}
