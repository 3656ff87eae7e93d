//! Idempotent handlers: run a queue, storage or schedule handler at most once
//! successfully per key, on every cloud, with one API.
//!
//! Platforms deliver events *at least once*: SQS, Pub/Sub, Service Bus and
//! storage notifications all redeliver, and a retry after a timeout may overlap
//! the first run. Wrap a handler with [`idempotent`] and duplicates of an event
//! that already succeeded are acknowledged without running it again:
//!
//! ```
//! use std::time::Duration;
//! use nubes_core::{App, BoxError, Context, QueueMessage};
//! use nubes_core::idempotency::{idempotent, MemoryStore};
//!
//! async fn charge_card(msg: QueueMessage, _ctx: Context) -> Result<(), BoxError> {
//!     // … call the payment provider once per message …
//!     Ok(())
//! }
//!
//! let app = App::new().on_queue(
//!     "payments",
//!     idempotent(charge_card)                    // key: the platform's message id
//!         .store(MemoryStore::new())             // or RedisStore (feature `redis`)
//!         .ttl(Duration::from_secs(24 * 3600)),  // how long a success is remembered
//! );
//! # assert!(app.validate().is_ok());
//! ```
//!
//! | Situation | What the wrapper does | Outcome reported |
//! |---|---|---|
//! | first delivery | takes an in-progress lease, runs the handler | the handler's |
//! | handler succeeded | marks the key completed for the TTL | success |
//! | handler failed (retryable error or panic) | releases the key | retry |
//! | handler failed permanently | releases the key | permanent (acknowledged) |
//! | duplicate while the first still runs | does not run | retry ([`InProgress`]) |
//! | duplicate after a success, within the TTL | does not run, logs at info | success |
//! | duplicate after the lease lapsed (crashed run) | runs | the handler's |
//! | store unreachable before the run | does not run | retry |
//! | store unreachable after a success | logs at error | success |
//!
//! Stores implement [`IdempotencyStore`] (three atomic operations). Provided:
//! [`MemoryStore`] (per process; the default) and, with the `redis` feature,
//! `RedisStore`. `docs/idempotency.md` shows how to write DynamoDB, Firestore
//! and Cosmos DB stores.

mod guard;
mod in_progress;
mod instances;
mod key;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod store;
mod wrapper;

pub use in_progress::InProgress;
pub(crate) use instances::check as check_instances;
pub use key::{IdempotencyKey, PlatformId};
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::RedisStore;
pub use store::{Begin, IdempotencyStore};
pub use wrapper::{DEFAULT_LEASE, DEFAULT_TTL, Idempotent, idempotent};
