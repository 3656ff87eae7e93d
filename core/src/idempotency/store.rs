//! The storage contract behind [`Idempotent`](super::Idempotent): three atomic
//! operations on one record per key.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::Error;

/// What [`IdempotencyStore::begin`] found for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Begin {
    /// There was no live record: the caller now holds an in-progress lease and
    /// runs the handler.
    Acquired,
    /// Another delivery holds a live in-progress lease; `expires_in` is what is
    /// left of it, when the store knows.
    InProgress {
        /// Time until the other delivery's lease lapses.
        expires_in: Option<Duration>,
    },
    /// A delivery already succeeded within the record's time to live.
    Completed,
}

/// Where idempotency records live: one record per key, either *in progress*
/// (owned by the delivery holding `token`, until the lease expires) or
/// *completed* (until its time to live expires). An expired record counts as
/// absent.
///
/// Each method must be atomic with respect to the others for the same key;
/// that is the whole guarantee. A store for a database needs one conditional
/// write per method (see `docs/idempotency.md` for DynamoDB, Firestore and
/// Cosmos DB sketches).
///
/// Implement it with `async fn`s; [`MemoryStore`](super::MemoryStore) and,
/// with the `redis` feature, `RedisStore` are provided. `Arc<S>` is a store
/// too, so one store can back several triggers.
pub trait IdempotencyStore: Send + Sync + 'static {
    /// If `key` has no live record, writes an in-progress record owned by
    /// `token` that expires after `lease` and answers [`Begin::Acquired`];
    /// otherwise reports the live record without changing it.
    fn begin(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, Error>> + Send;

    /// Marks `key` completed for `ttl`, if the in-progress record is still
    /// `token`'s or has lapsed. A live lease of another delivery (ours
    /// expired and it took over) is left alone; so is a completed record.
    fn complete(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Deletes `key`'s record if it is the in-progress record of `token`, so a
    /// retry can run at once; anything else is left alone.
    fn release(&self, key: &str, token: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

impl<S: IdempotencyStore> IdempotencyStore for Arc<S> {
    fn begin(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, Error>> + Send {
        S::begin(self, key, token, lease)
    }

    fn complete(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        S::complete(self, key, token, ttl)
    }

    fn release(&self, key: &str, token: &str) -> impl Future<Output = Result<(), Error>> + Send {
        S::release(self, key, token)
    }
}

/// The object-safe twin of [`IdempotencyStore`], what the wrapper holds.
pub(crate) trait DynStore: Send + Sync {
    fn begin<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Begin, Error>>;

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Error>>;

    fn release<'a>(&'a self, key: &'a str, token: &'a str) -> BoxFuture<'a, Result<(), Error>>;
}

impl<S: IdempotencyStore> DynStore for S {
    fn begin<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Begin, Error>> {
        Box::pin(IdempotencyStore::begin(self, key, token, lease))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(IdempotencyStore::complete(self, key, token, ttl))
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(IdempotencyStore::release(self, key, token))
    }
}
