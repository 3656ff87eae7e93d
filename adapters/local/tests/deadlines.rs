//! Event handlers that outlive their deadline (`NUBES_LOCAL_TIMEOUT_MS`) are
//! cancelled shortly before it and their delivery fails (so it is retried,
//! then dead-lettered), for queue, storage and schedule triggers alike; the
//! handler sees the deadline in its `Context`.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
use nubes_local::{LocalConfig, start};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_millis(600);

/// The time left each handler saw when it started, in ms.
type Seen = Arc<Mutex<Vec<u128>>>;

async fn outlive(ctx: Context, seen: Seen) -> Result<(), BoxError> {
    let left = ctx.remaining().ok_or("no deadline")?;
    seen.lock().unwrap().push(left.as_millis());
    tokio::time::sleep(Duration::from_secs(10)).await;
    Ok(())
}

#[tokio::test]
async fn late_event_handlers_are_cancelled_and_their_events_fail() {
    let seen = Seen::default();
    let (q, s, t) = (seen.clone(), seen.clone(), seen.clone());
    let app = App::new()
        .on_queue("jobs", move |_: QueueMessage, ctx: Context| {
            outlive(ctx, q.clone())
        })
        .on_storage("uploads", move |_: StorageEvent, ctx: Context| {
            outlive(ctx, s.clone())
        })
        .on_schedule(
            "tick",
            "0 0 1 1 *",
            move |_: ScheduledEvent, ctx: Context| outlive(ctx, t.clone()),
        );
    let dir = tempfile::tempdir().unwrap();
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().to_owned();
    config.run_schedules = false;
    config.watch_storage = false;
    config.max_attempts = 1;
    config.timeout = TIMEOUT;
    let server = start(app, config).await.unwrap();
    let client = reqwest::Client::new();
    for (method, path) in [
        ("POST", "/_nubes/queues/jobs"),
        ("PUT", "/_nubes/storage/uploads/a.txt"),
        ("POST", "/_nubes/schedules/tick"),
    ] {
        let started = Instant::now();
        let res = client
            .request(
                method.parse().unwrap(),
                format!("{}{path}?wait=true", server.url()),
            )
            .body("x")
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(res.status(), 200, "{path}");
        let fate: Value = res.json().await.unwrap();
        assert_eq!(fate["status"], "dead_lettered", "{path}: {fate}");
        assert!(
            fate["error"]
                .as_str()
                .unwrap()
                .contains("NUBES_LOCAL_TIMEOUT_MS"),
            "{path}: {fate}"
        );
        // Cancelled at the deadline's margin (the server's timer cannot fire
        // early); the upper bound is generous, as the client's clock also
        // counts a busy machine's delays, and far below the handler's 10 s.
        assert!(
            took >= TIMEOUT - Duration::from_millis(100) && took < TIMEOUT + Duration::from_secs(2),
            "{path}: {took:?}"
        );
        eprintln!("local {path}: failed after {took:?} with a {TIMEOUT:?} timeout");
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|ms| (500..=600).contains(ms)), "{seen:?}");
    server.shutdown().await.unwrap();
}
