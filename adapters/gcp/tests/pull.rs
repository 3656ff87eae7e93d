//! The pull worker against the real Pub/Sub emulator: a good message is
//! acked once, a failing one is nacked and redelivered, and shutdown is
//! graceful.

#![cfg(feature = "pubsub-pull")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::emulator::Emulator;
use common::{Seen, loopback, serve};
use nubes_gcp::Mode;
use serde_json::Value;

fn bodies(seen: &Seen, body: &str) -> Vec<Value> {
    seen.all()
        .into_iter()
        .filter(|v| v["event"]["body"] == body)
        .collect()
}

#[tokio::test]
async fn pulled_messages_are_acked_on_success_and_nacked_on_failure() {
    let Some(emulator) = Emulator::start("nubes-pull").await else {
        return;
    };
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

    let started = Instant::now();
    while bodies(&seen, "fail").len() < 2 || bodies(&seen, "good").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out; seen: {:#?}",
            seen.all()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Past the ack deadline nothing acked comes back.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let goods = bodies(&seen, "good");
    assert_eq!(goods.len(), 1, "acked once: {goods:#?}");
    assert_eq!(goods[0]["event"]["id"], good.as_str());
    assert_eq!(goods[0]["event"]["attributes"]["tenant"], "acme");
    assert_eq!(goods[0]["event"]["source"], "orders-sub");
    assert_eq!(goods[0]["ctx"]["trigger"], "orders");
    assert!(goods[0]["event"]["published_at"].is_string());

    let stopping = Instant::now();
    server.shutdown().await.unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(9));
}

#[tokio::test]
async fn in_flight_messages_are_bounded() {
    let Some(emulator) = Emulator::start("nubes-flow").await else {
        return;
    };
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
    // Each `slow` message takes 1 s; with 2 in flight, 6 need about 3 s.
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let early = seen.all().len();
    assert!(
        early <= 4,
        "at most 2 at a time: {early} started within 1.5 s"
    );
    while seen.all().len() < 6 {
        assert!(started.elapsed() < Duration::from_secs(30), "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await.unwrap();
}
