//! The behaviour every idempotency store must show, run through
//! `App::dispatch_*` exactly as adapters run handlers. Each check takes a
//! fresh, empty store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nubes_core::idempotency::{IdempotencyStore, InProgress, idempotent};
use nubes_core::raw::{AppDispatch as _, ContextBuilder, Outcome};
use nubes_core::{
    App, BoxError, Context, Platform, QueueMessage, ScheduledEvent, StorageAction, StorageEvent,
    TriggerKind, permanent,
};

/// Counts handler runs.
#[derive(Clone, Default)]
pub(crate) struct Runs(Arc<AtomicU32>);

impl Runs {
    pub(crate) fn bump(&self) -> u32 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    pub(crate) fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

fn ctx(kind: TriggerKind, trigger: &str) -> Context {
    ContextBuilder::new(Platform::Local, kind, trigger.to_owned()).build()
}

async fn deliver(app: &App, msg: &QueueMessage) -> Outcome {
    app.dispatch_queue(msg.clone(), ctx(TriggerKind::Queue, "orders"))
        .await
}

fn is_in_progress(outcome: &Outcome) -> bool {
    let Outcome::Retry(err) = outcome else {
        return false;
    };
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        if e.is::<InProgress>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// A queue app whose handler counts its runs, sleeps `work`, then succeeds.
fn counting_app(store: impl IdempotencyStore, runs: &Runs, work: Duration) -> App {
    let runs = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        let runs = runs.clone();
        async move {
            runs.bump();
            tokio::time::sleep(work).await;
            Ok::<(), BoxError>(())
        }
    };
    App::new().on_queue("orders", idempotent(handler).store(store))
}

/// The same message delivered three times in a row runs once; every delivery
/// is acknowledged.
pub(crate) async fn sequential_duplicates_run_once(store: impl IdempotencyStore) {
    let runs = Runs::default();
    let app = counting_app(store, &runs, Duration::ZERO);
    let msg = QueueMessage::new("m-1", "{}");
    for _ in 0..3 {
        assert!(deliver(&app, &msg).await.is_success());
    }
    assert_eq!(runs.get(), 1);
    // Another message id is another event.
    assert!(
        deliver(&app, &QueueMessage::new("m-2", "{}"))
            .await
            .is_success()
    );
    assert_eq!(runs.get(), 2);
}

/// Eight copies at once: one runs, the others are told "in progress" (retry);
/// their redeliveries after the success are acknowledged without running.
pub(crate) async fn concurrent_duplicates_run_once(store: impl IdempotencyStore) {
    let runs = Runs::default();
    let app = Arc::new(counting_app(store, &runs, Duration::from_millis(300)));
    let msg = QueueMessage::new("m-1", "{}");
    let copies: Vec<_> = (0..8)
        .map(|_| {
            let app = Arc::clone(&app);
            let msg = msg.clone();
            tokio::spawn(async move { deliver(&app, &msg).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for copy in copies {
        outcomes.push(copy.await.expect("delivery task"));
    }
    assert_eq!(runs.get(), 1, "the handler ran more than once at a time");
    assert_eq!(outcomes.iter().filter(|o| o.is_success()).count(), 1);
    let busy = outcomes.iter().filter(|o| is_in_progress(o)).count();
    assert_eq!(busy, 7, "{outcomes:?}");
    for _ in 0..busy {
        assert!(deliver(&app, &msg).await.is_success());
    }
    assert_eq!(runs.get(), 1);
}

/// A failed run releases the key: the retry runs, succeeds, and only then is
/// the key completed.
pub(crate) async fn failed_runs_can_be_retried(store: impl IdempotencyStore) {
    let runs = Runs::default();
    let counter = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        let run = counter.bump();
        async move {
            match run {
                1 => Err::<(), BoxError>("payment provider unavailable".into()),
                2 => panic!("handler bug on the second run"),
                _ => Ok(()),
            }
        }
    };
    let app = App::new().on_queue("orders", idempotent(handler).store(store));
    let msg = QueueMessage::new("m-1", "{}");
    let first = deliver(&app, &msg).await;
    assert!(matches!(first, Outcome::Retry(_)) && !is_in_progress(&first));
    let second = deliver(&app, &msg).await;
    assert!(
        second
            .error()
            .is_some_and(|e| e.message().contains("panicked"))
    );
    assert!(deliver(&app, &msg).await.is_success());
    assert!(deliver(&app, &msg).await.is_success());
    assert_eq!(runs.get(), 3);
}

/// A permanent failure is acknowledged and releases the key, so a later copy
/// of the event runs again (only successes are remembered).
pub(crate) async fn permanent_failures_release_the_key(store: impl IdempotencyStore) {
    let runs = Runs::default();
    let counter = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        counter.bump();
        async move { Err::<(), BoxError>(permanent("order rejected")) }
    };
    let app = App::new().on_queue("orders", idempotent(handler).store(store));
    let msg = QueueMessage::new("m-1", "{}");
    assert!(matches!(deliver(&app, &msg).await, Outcome::Permanent(_)));
    assert!(matches!(deliver(&app, &msg).await, Outcome::Permanent(_)));
    assert_eq!(runs.get(), 2);
}

/// A run that crashed (its process died holding the lease) blocks duplicates
/// only until the lease lapses; then a redelivery runs.
pub(crate) async fn lapsed_leases_let_a_later_delivery_run<S: IdempotencyStore + Clone>(store: S) {
    let runs = Runs::default();
    let app = counting_app(store.clone(), &runs, Duration::ZERO);
    // What a crashed run leaves behind: its lease, under the namespaced key.
    let lease = Duration::from_millis(400);
    store
        .begin("queue:orders:m-1", "crashed-run", lease)
        .await
        .expect("begin");
    let msg = QueueMessage::new("m-1", "{}");
    assert!(is_in_progress(&deliver(&app, &msg).await));
    assert_eq!(runs.get(), 0);
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    assert!(deliver(&app, &msg).await.is_success());
    assert_eq!(runs.get(), 1);
}

/// A run cancelled by the adapter (timeout, shutdown) gives its lease back.
pub(crate) async fn cancelled_runs_release_the_key(store: impl IdempotencyStore) {
    let runs = Runs::default();
    let counter = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        let run = counter.bump();
        async move {
            if run == 1 {
                // Hangs until the adapter gives up on it.
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Ok::<(), BoxError>(())
        }
    };
    let app = App::new().on_queue("orders", idempotent(handler).store(store));
    let msg = QueueMessage::new("m-1", "{}");
    let cut = tokio::time::timeout(Duration::from_millis(100), deliver(&app, &msg)).await;
    assert!(cut.is_err(), "the hanging handler finished");
    // The release runs in the background: redeliveries see "in progress" until then.
    for _ in 0..100 {
        let outcome = deliver(&app, &msg).await;
        if outcome.is_success() {
            assert_eq!(runs.get(), 2);
            return;
        }
        assert!(is_in_progress(&outcome), "{outcome:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the cancelled run's lease was not released");
}

/// Successes are remembered for the TTL only.
pub(crate) async fn completed_keys_expire_after_the_ttl(store: impl IdempotencyStore) {
    let runs = Runs::default();
    let counter = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        counter.bump();
        async { Ok::<(), BoxError>(()) }
    };
    let ttl = Duration::from_millis(400);
    let app = App::new().on_queue("orders", idempotent(handler).store(store).ttl(ttl));
    let msg = QueueMessage::new("m-1", "{}");
    assert!(deliver(&app, &msg).await.is_success());
    assert!(deliver(&app, &msg).await.is_success());
    assert_eq!(runs.get(), 1);
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert!(deliver(&app, &msg).await.is_success());
    assert_eq!(runs.get(), 2);
}

/// A key derived from the body: the same order sent as two messages runs once;
/// a body without the key fails permanently without running.
pub(crate) async fn user_derived_keys(store: impl IdempotencyStore) {
    #[derive(serde::Deserialize)]
    struct Order {
        id: String,
    }
    let runs = Runs::default();
    let counter = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        counter.bump();
        async { Ok::<(), BoxError>(()) }
    };
    let wrapped = idempotent(handler)
        .store(store)
        .key(|msg: &QueueMessage, _: &Context| {
            msg.json::<Order>().map(|o| o.id).map_err(permanent)
        });
    let app = App::new().on_queue("orders", wrapped);
    let order = |msg_id: &str, order_id: &str| {
        QueueMessage::new(msg_id, format!(r#"{{"id":"{order_id}"}}"#))
    };
    assert!(deliver(&app, &order("m-1", "o-1")).await.is_success());
    assert!(deliver(&app, &order("m-2", "o-1")).await.is_success());
    assert_eq!(runs.get(), 1);
    assert!(deliver(&app, &order("m-3", "o-2")).await.is_success());
    assert_eq!(runs.get(), 2);
    let bad = deliver(&app, &QueueMessage::new("m-4", "not json")).await;
    assert!(matches!(bad, Outcome::Permanent(_)), "{bad:?}");
    assert_eq!(runs.get(), 2);
}

/// Storage events dedupe on their notification id, schedules on their
/// scheduled time; keys of different triggers never collide.
pub(crate) async fn storage_and_schedule_keys<S: IdempotencyStore + Clone>(store: S) {
    let runs = Runs::default();
    let (on_storage, on_schedule) = (runs.clone(), runs.clone());
    let app = App::new()
        .on_storage(
            "uploads",
            idempotent(move |_ev: StorageEvent, _ctx: Context| {
                on_storage.bump();
                async { Ok::<(), BoxError>(()) }
            })
            .store(store.clone()),
        )
        .on_schedule(
            "nightly",
            "0 3 * * *",
            idempotent(move |_ev: ScheduledEvent, _ctx: Context| {
                on_schedule.bump();
                async { Ok::<(), BoxError>(()) }
            })
            .store(store),
        );
    let upload = StorageEvent::new(StorageAction::Created, "uploads", "a.txt").with_id("evt-1");
    for _ in 0..2 {
        let out = app
            .dispatch_storage(upload.clone(), ctx(TriggerKind::Storage, "uploads"))
            .await;
        assert!(out.is_success());
    }
    assert_eq!(runs.get(), 1);
    let night = ScheduledEvent::new("nightly", "2026-11-28T03:00:00Z".parse().expect("time"));
    for _ in 0..2 {
        let out = app
            .dispatch_schedule(night.clone(), ctx(TriggerKind::Schedule, "nightly"))
            .await;
        assert!(out.is_success());
    }
    assert_eq!(runs.get(), 2);
    let next = ScheduledEvent::new("nightly", "2026-11-29T03:00:00Z".parse().expect("time"));
    let out = app
        .dispatch_schedule(next, ctx(TriggerKind::Schedule, "nightly"))
        .await;
    assert!(out.is_success());
    assert_eq!(runs.get(), 3);
}
