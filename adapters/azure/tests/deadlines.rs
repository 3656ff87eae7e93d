//! A timer handler that outlives the function timeout
//! (`NUBES_AZURE_FUNCTION_TIMEOUT_MS`, the host's `functionTimeout`) is
//! cancelled shortly before it and the invocation reported failed (queue
//! invocations: tests/host.rs; HTTP: tests/shutdown.rs of the conformance suite).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use nubes_azure::AzureConfig;
use nubes_core::{App, BoxError, Context, ScheduledEvent};

const TIMEOUT: Duration = Duration::from_millis(600);

#[tokio::test]
async fn a_late_timer_handler_is_cancelled_and_its_invocation_fails() {
    let app = App::new().on_schedule(
        "tick",
        "0 0 1 1 *",
        |_: ScheduledEvent, ctx: Context| async move {
            assert!(ctx.remaining().is_some_and(|left| left <= TIMEOUT));
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<(), BoxError>(())
        },
    );
    let mut config = AzureConfig::default();
    config.function_timeout = TIMEOUT;
    let server = nubes_azure::start(app, config).await.unwrap();
    let started = Instant::now();
    let res = reqwest::Client::new()
        .post(format!("{}/nubes-schedule-tick", server.url()))
        .body(nubes_test_support::fixtures::bytes(
            "azure/timer-trigger.request.json",
        ))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(res.status(), 500);
    let reply = res.text().await.unwrap();
    assert!(reply.contains("NUBES_AZURE_FUNCTION_TIMEOUT_MS"), "{reply}");
    // Not before the deadline's margin (the server's timer cannot fire early);
    // the upper bound is generous, as the client's clock also counts a busy
    // machine's delays, and far below the handler's 10 s.
    assert!(
        took >= TIMEOUT - Duration::from_millis(100) && took < TIMEOUT + Duration::from_secs(2),
        "{took:?}"
    );
    eprintln!("azure /nubes-schedule-tick: failed after {took:?} with a {TIMEOUT:?} timeout");
    server.shutdown().await.unwrap();
}
