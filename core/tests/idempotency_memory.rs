//! The idempotency behaviour suite on the in-memory store, plus what only a
//! stub store can show: store failures never run the handler unguarded.

#![allow(clippy::unwrap_used)]

mod idempotency_suite;

use std::time::Duration;

use idempotency_suite as suite;
use nubes_core::idempotency::{Begin, IdempotencyStore, MemoryStore, idempotent};
use nubes_core::raw::{AppDispatch as _, ContextBuilder, Outcome};
use nubes_core::{App, BoxError, Context, Error, Platform, QueueMessage, TriggerKind};

#[tokio::test]
async fn sequential_duplicates_run_once() {
    suite::sequential_duplicates_run_once(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_run_once() {
    suite::concurrent_duplicates_run_once(MemoryStore::new()).await;
}

#[tokio::test]
async fn failed_runs_can_be_retried() {
    suite::failed_runs_can_be_retried(MemoryStore::new()).await;
}

#[tokio::test]
async fn permanent_failures_release_the_key() {
    suite::permanent_failures_release_the_key(MemoryStore::new()).await;
}

#[tokio::test]
async fn lapsed_leases_let_a_later_delivery_run() {
    suite::lapsed_leases_let_a_later_delivery_run(MemoryStore::new()).await;
}

#[tokio::test]
async fn cancelled_runs_release_the_key() {
    suite::cancelled_runs_release_the_key(MemoryStore::new()).await;
}

#[tokio::test]
async fn completed_keys_expire_after_the_ttl() {
    suite::completed_keys_expire_after_the_ttl(MemoryStore::new()).await;
}

#[tokio::test]
async fn user_derived_keys() {
    suite::user_derived_keys(MemoryStore::new()).await;
}

#[tokio::test]
async fn storage_and_schedule_keys() {
    suite::storage_and_schedule_keys(MemoryStore::new()).await;
}

/// A store that cannot be reached.
struct Unreachable;

impl IdempotencyStore for Unreachable {
    async fn begin(&self, _: &str, _: &str, _: Duration) -> Result<Begin, Error> {
        Err(Error::platform("connection refused"))
    }
    async fn complete(&self, _: &str, _: &str, _: Duration) -> Result<(), Error> {
        Err(Error::platform("connection refused"))
    }
    async fn release(&self, _: &str, _: &str) -> Result<(), Error> {
        Err(Error::platform("connection refused"))
    }
}

#[tokio::test]
async fn an_unreachable_store_fails_the_delivery_without_running() {
    let runs = suite::Runs::default();
    let counter = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        counter.bump();
        async { Ok::<(), BoxError>(()) }
    };
    let app = App::new().on_queue("orders", idempotent(handler).store(Unreachable));
    let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders").build();
    let outcome = app.dispatch_queue(QueueMessage::new("m-1", "x"), ctx).await;
    let Outcome::Retry(err) = outcome else {
        panic!("expected a retry, got {outcome:?}");
    };
    assert!(err.message().contains("did not run"), "{err}");
    assert_eq!(runs.get(), 0);
}
