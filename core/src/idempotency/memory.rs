//! The in-process store: a map behind a mutex, purged of expired records as it
//! grows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::store::{Begin, IdempotencyStore};
use crate::Error;

/// Below this many records the map is never swept.
const MIN_SWEEP: usize = 1024;

/// Keeps idempotency records in this process's memory: the default store.
///
/// Right for the local runner, tests, and a single long-lived instance. It does
/// not dedupe across instances (Lambda execution environments, Cloud Run
/// instances, Azure workers each have their own): use a shared store such as
/// `RedisStore` there.
///
/// Memory stays bounded by the live records: expired ones are dropped in a
/// sweep whenever the map has doubled since the last one (amortised O(1) per
/// call). Clones share the same records.
///
/// ```
/// use std::time::Duration;
/// use nubes_core::idempotency::{Begin, IdempotencyStore, MemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let lease = Duration::from_secs(30);
/// assert_eq!(store.begin("k", "t1", lease).await?, Begin::Acquired);
/// assert!(matches!(store.begin("k", "t2", lease).await?, Begin::InProgress { .. }));
/// store.complete("k", "t1", Duration::from_secs(3600)).await?;
/// assert_eq!(store.begin("k", "t3", lease).await?, Begin::Completed);
/// # Ok::<(), nubes_core::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<Records>>,
}

#[derive(Debug, Default)]
struct Records {
    map: HashMap<String, Record>,
    /// Sweep expired records once the map reaches this size.
    sweep_at: usize,
}

#[derive(Debug)]
struct Record {
    /// `Some(token)` while in progress, `None` once completed.
    owner: Option<String>,
    expires: Instant,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Records held, including expired ones not swept yet.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        // Nothing panics while the lock is held; a poisoned map is still consistent.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Records {
    /// The record of `key` if it has not expired.
    fn live(&self, key: &str, now: Instant) -> Option<&Record> {
        self.map.get(key).filter(|r| r.expires > now)
    }

    fn sweep_if_grown(&mut self, now: Instant) {
        if self.map.len() < self.sweep_at.max(MIN_SWEEP) {
            return;
        }
        self.map.retain(|_, r| r.expires > now);
        self.sweep_at = (self.map.len() * 2).max(MIN_SWEEP);
    }
}

impl IdempotencyStore for MemoryStore {
    async fn begin(&self, key: &str, token: &str, lease: Duration) -> Result<Begin, Error> {
        let now = Instant::now();
        let mut records = self.lock();
        if let Some(record) = records.live(key, now) {
            return Ok(match record.owner {
                Some(_) => Begin::InProgress {
                    expires_in: Some(record.expires - now),
                },
                None => Begin::Completed,
            });
        }
        records.sweep_if_grown(now);
        records.map.insert(
            key.to_owned(),
            Record {
                owner: Some(token.to_owned()),
                expires: now + lease,
            },
        );
        Ok(Begin::Acquired)
    }

    async fn complete(&self, key: &str, token: &str, ttl: Duration) -> Result<(), Error> {
        let now = Instant::now();
        let mut records = self.lock();
        let ours_or_lapsed = match records.live(key, now) {
            None => true,
            Some(record) => record.owner.as_deref() == Some(token),
        };
        if ours_or_lapsed {
            records.map.insert(
                key.to_owned(),
                Record {
                    owner: None,
                    expires: now + ttl,
                },
            );
        }
        Ok(())
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), Error> {
        let mut records = self.lock();
        if records
            .map
            .get(key)
            .is_some_and(|r| r.owner.as_deref() == Some(token))
        {
            records.map.remove(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn release_only_touches_the_callers_lease() {
        let store = MemoryStore::new();
        assert_eq!(store.begin("k", "a", LONG).await.unwrap(), Begin::Acquired);
        store.release("k", "someone-else").await.unwrap();
        assert!(matches!(
            store.begin("k", "b", LONG).await.unwrap(),
            Begin::InProgress { .. }
        ));
        store.release("k", "a").await.unwrap();
        assert_eq!(store.begin("k", "b", LONG).await.unwrap(), Begin::Acquired);
    }

    #[tokio::test]
    async fn complete_leaves_a_newer_lease_alone() {
        let store = MemoryStore::new();
        store
            .begin("k", "a", Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        // a's lease lapsed; b took over, then a finishes late.
        assert_eq!(store.begin("k", "b", LONG).await.unwrap(), Begin::Acquired);
        store.complete("k", "a", LONG).await.unwrap();
        assert!(matches!(
            store.begin("k", "c", LONG).await.unwrap(),
            Begin::InProgress { .. }
        ));
        store.complete("k", "b", LONG).await.unwrap();
        assert_eq!(store.begin("k", "c", LONG).await.unwrap(), Begin::Completed);
    }

    #[tokio::test]
    async fn expired_records_are_swept_as_the_map_grows() {
        let store = MemoryStore::new();
        let short = Duration::from_millis(1);
        for i in 0..MIN_SWEEP {
            store.begin(&format!("old-{i}"), "t", short).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        // The next insertion finds the map at the threshold and sweeps it.
        for i in 0..10 {
            store.begin(&format!("new-{i}"), "t", LONG).await.unwrap();
        }
        assert!(store.len() <= 10, "{} records left", store.len());
        // Rounds of short-lived records: memory stays bounded by what is live.
        for round in 0..4 {
            for i in 0..MIN_SWEEP {
                store
                    .begin(&format!("r{round}-{i}"), "t", short)
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            store.len() <= 2 * (MIN_SWEEP + 10),
            "memory grows with expired records: {}",
            store.len()
        );
    }
}
