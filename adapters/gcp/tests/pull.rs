//! The pull worker against the real Pub/Sub emulator: a good message is
//! acked once, a failing one is nacked and redelivered, and shutdown is
//! graceful.

#![cfg(feature = "pubsub-pull")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::emulator::Emulator;
use common::{Seen, loopback, serve};
use nubes_gcp::Mode;
use nubes_test_support::wait;
use serde_json::Value;

fn bodies(seen: &Seen, body: &str) -> Vec<Value> {
    seen.all()
        .into_iter()
        .filter(|v| v["event"]["body"] == body)
        .collect()
}

#[tokio::test]
#[ignore = "needs the Pub/Sub emulator: .ci/install-gcp.sh"]
async fn pulled_messages_are_acked_on_success_and_nacked_on_failure() {
    let emulator = Emulator::start("nubes-pull").await;
    emulator.create_topic("orders-topic").await;
    emulator
        .create_subscription("orders-sub", "orders-topic", None, 10)
        .await;
    let mut config = loopback();
    config.project_id = Some(emulator.project.clone());
    config.pull.mode = Mode::Pull;
    config.pull.endpoint = Some(format!("http://{}", emulator.host));
    config.pull.anonymous = true;
    config.pull.max_in_flight = 4;
    config.pull.subscriptions = vec![("orders".into(), "orders-sub".into())];
    let (server, seen) = serve(config).await;

    let good = emulator
        .publish("orders-topic", b"good", &[("tenant", "acme")])
        .await;
    emulator.publish("orders-topic", b"fail", &[]).await;

    wait::until(
        "`good` handled and `fail` redelivered",
        Duration::from_secs(60),
        || bodies(&seen, "fail").len() >= 2 && !bodies(&seen, "good").is_empty(),
    )
    .await;
    // Not a synchronisation but the observation window of "never again":
    // past the 10 s ack deadline nothing acked comes back.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let goods = bodies(&seen, "good");
    assert_eq!(goods.len(), 1, "acked once: {goods:#?}");
    assert_eq!(goods[0]["event"]["id"], good.as_str());
    assert_eq!(goods[0]["event"]["attributes"]["tenant"], "acme");
    assert_eq!(goods[0]["event"]["source"], "orders-sub");
    assert_eq!(goods[0]["ctx"]["trigger"], "orders");
    assert!(goods[0]["event"]["published_at"].is_string());

    // Nothing is in flight, so the worker stops well before the grace period.
    let stopping = std::time::Instant::now();
    server.shutdown().await.unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(9));
}

#[tokio::test]
#[ignore = "needs the Pub/Sub emulator: .ci/install-gcp.sh"]
async fn in_flight_messages_are_bounded() {
    let emulator = Emulator::start("nubes-flow").await;
    emulator.create_topic("slow-topic").await;
    emulator
        .create_subscription("orders", "slow-topic", None, 30)
        .await;
    let mut config = loopback();
    config.project_id = Some(emulator.project.clone());
    config.pull.mode = Mode::Pull;
    config.pull.endpoint = Some(format!("http://{}", emulator.host));
    config.pull.anonymous = true;
    config.pull.max_in_flight = 2;
    let (server, seen) = serve(config).await;
    for _ in 0..6 {
        emulator.publish("slow-topic", b"slow", &[]).await;
    }
    // Each `slow` message takes 1 s; the handler counts how many run at once.
    wait::until("all 6 messages handled", Duration::from_secs(60), || {
        seen.all().len() >= 6
    })
    .await;
    let most = seen.max_in_flight();
    assert!((1..=2).contains(&most), "at most 2 at a time: {most}");
    server.shutdown().await.unwrap();
}
