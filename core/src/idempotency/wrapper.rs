//! `Idempotent`: the handler combinator that runs a handler at most once
//! successfully per key.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;

use super::guard::LeaseGuard;
use super::in_progress::InProgress;
use super::key::{IdempotencyKey, PlatformId};
use super::memory::MemoryStore;
use super::store::{Begin, DynStore, IdempotencyStore};
use crate::{BoxError, Context, Error, EventHandler};

/// How long a success is remembered unless [`Idempotent::ttl`] says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);
/// The in-progress lease when neither [`Idempotent::lease`] nor the platform's
/// deadline gives one.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);
/// Added to the time left before the deadline, so the lease outlives the
/// platform's own timeout.
const LEASE_MARGIN: Duration = Duration::from_secs(1);

/// Wraps `handler` so it runs at most once successfully per key within a time
/// to live; see [`Idempotent`].
///
/// ```
/// use nubes_core::{App, BoxError, Context, QueueMessage};
/// use nubes_core::idempotency::idempotent;
///
/// async fn charge(msg: QueueMessage, _ctx: Context) -> Result<(), BoxError> { Ok(()) }
///
/// let app = App::new().on_queue("payments", idempotent(charge));
/// # assert!(app.validate().is_ok());
/// ```
pub fn idempotent<H>(handler: H) -> Idempotent<H> {
    Idempotent::new(handler)
}

/// A handler that runs at most once successfully per idempotency key within
/// its time to live (TTL).
///
/// - The key is the platform's own event id ([`PlatformId`]) unless
///   [`key`](Idempotent::key) derives one from the payload; it is namespaced by
///   trigger kind and name.
/// - The first delivery takes an *in-progress* lease (the time left before the
///   platform's deadline, else [`DEFAULT_LEASE`], or [`lease`](Idempotent::lease))
///   and runs the handler. A duplicate arriving meanwhile fails with a retryable
///   [`InProgress`] error: never two runs at once.
/// - Success marks the key *completed* for the TTL ([`DEFAULT_TTL`]); later
///   duplicates are acknowledged without running (logged at info).
/// - A failure (error, permanent error, panic) releases the key so a retry can
///   run. A crashed or cancelled run's lease simply expires.
/// - A store error before the run fails the delivery retryably: the handler
///   never runs unguarded.
///
/// Records live in a [`MemoryStore`] unless [`store`](Idempotent::store) names
/// a shared one (Redis with the `redis` feature, or your own
/// [`IdempotencyStore`]). A memory store protects one instance only, so on
/// AWS, GCP and Azure, which run many, the default store is a startup error:
/// name the store, `.store(MemoryStore::new())` included when one instance's
/// memory is really what you want.
///
/// ```
/// use std::time::Duration;
/// use nubes_core::{App, BoxError, Context, QueueMessage};
/// use nubes_core::idempotency::{Idempotent, MemoryStore};
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: String }
///
/// async fn ship(msg: QueueMessage, _ctx: Context) -> Result<(), BoxError> { Ok(()) }
///
/// let store = MemoryStore::new();
/// let handler = Idempotent::new(ship)
///     .store(store.clone())
///     .ttl(Duration::from_secs(24 * 3600))
///     .key(|msg: &QueueMessage, _: &Context| Ok(msg.json::<Order>()?.id));
/// let app = App::new().on_queue("orders", handler);
/// # assert!(app.validate().is_ok());
/// ```
pub struct Idempotent<H, K = PlatformId> {
    handler: H,
    key: K,
    store: Arc<dyn DynStore>,
    /// True until [`store`](Idempotent::store) is called: the records are in
    /// this instance's memory without the user having chosen it.
    implicit_store: bool,
    ttl: Duration,
    lease: Option<Duration>,
}

impl<H> Idempotent<H> {
    /// Wraps `handler` with the defaults: platform id key, in-memory store
    /// (accepted by the local runner only, see above), one-hour TTL,
    /// deadline-based lease.
    pub fn new(handler: H) -> Self {
        Idempotent {
            handler,
            key: PlatformId,
            store: Arc::new(MemoryStore::new()),
            implicit_store: true,
            ttl: DEFAULT_TTL,
            lease: None,
        }
    }
}

impl<H, K> Idempotent<H, K> {
    /// Keeps the records in `store`.
    pub fn store(mut self, store: impl IdempotencyStore) -> Self {
        self.store = Arc::new(store);
        self.implicit_store = false;
        self
    }

    /// How long a success is remembered (duplicates within it are skipped).
    /// At least one millisecond.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.max(Duration::from_millis(1));
        self
    }

    /// A fixed in-progress lease instead of the time left before the platform's
    /// deadline. Make it longer than the handler's longest run: once it lapses a
    /// duplicate may run concurrently. At least one millisecond.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease.max(Duration::from_millis(1)));
        self
    }

    /// Derives the key from the event instead of the platform's id, e.g. an
    /// order id from the body so a client's resubmission is skipped too.
    ///
    /// The closure's error fails the delivery like a handler error (mark it
    /// [`permanent`](crate::permanent) when retrying cannot help).
    pub fn key<E, F>(self, key: F) -> Idempotent<H, F>
    where
        F: Fn(&E, &Context) -> Result<String, BoxError> + Send + Sync + 'static,
    {
        Idempotent {
            handler: self.handler,
            key,
            store: self.store,
            implicit_store: self.implicit_store,
            ttl: self.ttl,
            lease: self.lease,
        }
    }

    /// The lease for an invocation with `ctx`.
    fn lease_for(&self, ctx: &Context) -> Duration {
        self.lease
            .or_else(|| {
                ctx.remaining()
                    .filter(|left| !left.is_zero())
                    .map(|left| left + LEASE_MARGIN)
            })
            .unwrap_or(DEFAULT_LEASE)
    }
}

impl<E, H, K> EventHandler<E> for Idempotent<H, K>
where
    E: Send + 'static,
    H: EventHandler<E>,
    K: IdempotencyKey<E>,
{
    fn implicit_memory_store(&self) -> bool {
        self.implicit_store
    }

    async fn handle(&self, event: E, ctx: Context) -> Result<(), BoxError> {
        let key = format!(
            "{}:{}:{}",
            ctx.trigger_kind(),
            ctx.trigger(),
            self.key.key(&event, &ctx)?
        );
        let token = uuid::Uuid::new_v4().simple().to_string();
        let lease = self.lease_for(&ctx);
        match self.store.begin(&key, &token, lease).await {
            Ok(Begin::Acquired) => {}
            Ok(Begin::Completed) => {
                tracing::info!(
                    idempotency_key = %key,
                    "duplicate delivery of an event already handled; acknowledged without running the handler"
                );
                return Ok(());
            }
            Ok(Begin::InProgress { expires_in }) => {
                return Err(Box::new(InProgress::new(key, expires_in)));
            }
            Err(err) => {
                // Fail closed: running without the guard could run it twice.
                return Err(Box::new(
                    Error::platform(format!(
                        "idempotency store unavailable for key `{key}`; the handler did not run"
                    ))
                    .with_source(err),
                ));
            }
        }

        let guard = LeaseGuard::new(Arc::clone(&self.store), key, token);
        let started = Instant::now();
        let result = AssertUnwindSafe(self.handler.handle(event, ctx))
            .catch_unwind()
            .await;
        match result {
            Ok(Ok(())) => {
                if started.elapsed() > lease {
                    tracing::warn!(
                        idempotency_key = guard.key(),
                        lease_ms = lease.as_millis() as u64,
                        "the handler outlived its idempotency lease; a duplicate may have run meanwhile (raise `.lease(..)`)"
                    );
                }
                guard.complete(self.ttl).await;
                Ok(())
            }
            Ok(Err(err)) => {
                guard.release().await;
                Err(err)
            }
            Err(panic) => {
                guard.release().await;
                std::panic::resume_unwind(panic)
            }
        }
    }
}

impl<H, K> fmt::Debug for Idempotent<H, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idempotent")
            .field("ttl", &self.ttl)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::raw::ContextBuilder;
    use std::time::SystemTime;

    use super::*;
    use crate::{Platform, TriggerKind};

    async fn noop(_: crate::QueueMessage, _: Context) -> Result<(), BoxError> {
        Ok(())
    }

    fn ctx(deadline: Option<SystemTime>) -> Context {
        let builder = ContextBuilder::new(Platform::Aws, TriggerKind::Queue, "orders");
        match deadline {
            Some(at) => builder.deadline(at).build(),
            None => builder.build(),
        }
    }

    #[test]
    fn the_lease_follows_the_platform_deadline() {
        let wrapped = idempotent(noop);
        let in_ten = SystemTime::now() + Duration::from_secs(10);
        let lease = wrapped.lease_for(&ctx(Some(in_ten)));
        assert!(
            lease > Duration::from_secs(10) && lease <= Duration::from_secs(11),
            "{lease:?}"
        );
        // No deadline, or one already past (a clock-skewed emulator): the default.
        assert_eq!(wrapped.lease_for(&ctx(None)), DEFAULT_LEASE);
        let past = SystemTime::UNIX_EPOCH;
        assert_eq!(wrapped.lease_for(&ctx(Some(past))), DEFAULT_LEASE);
    }

    #[test]
    fn an_explicit_lease_wins_and_durations_are_never_zero() {
        let wrapped = idempotent(noop).lease(Duration::from_secs(90));
        let in_ten = SystemTime::now() + Duration::from_secs(10);
        assert_eq!(
            wrapped.lease_for(&ctx(Some(in_ten))),
            Duration::from_secs(90)
        );
        let zero = idempotent(noop).lease(Duration::ZERO).ttl(Duration::ZERO);
        assert_eq!(zero.lease_for(&ctx(None)), Duration::from_millis(1));
        assert_eq!(zero.ttl, Duration::from_millis(1));
    }
}
