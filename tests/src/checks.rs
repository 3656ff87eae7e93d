//! The behaviours every platform must show, one function each.

use serde_json::json;

use crate::{Platform, Recorder, Verdict};

/// A good message is acknowledged and the handler sees its id, body,
/// attributes, attempt 1 and the trigger name.
pub async fn queue_message_reaches_the_handler<P: Platform>(p: &P, rec: &Recorder) {
    let verdict = p
        .deliver_queue("orders", b"hello", &[("tenant", "acme")])
        .await;
    assert_eq!(verdict, Verdict::Acknowledged, "{}", p.name());
    let lines = rec.of_kind("queue");
    assert_eq!(lines.len(), 1, "{}: {lines:?}", p.name());
    assert_eq!(lines[0]["trigger"], "orders");
    assert_eq!(lines[0]["body"], "hello");
    assert_eq!(lines[0]["attributes"]["tenant"], "acme");
    assert_eq!(lines[0]["attempt"], 1);
    assert!(
        lines[0]["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{}: message id",
        p.name()
    );
}

/// A handler error asks the platform to redeliver.
pub async fn queue_error_is_retried<P: Platform>(p: &P, rec: &Recorder) {
    assert_eq!(
        p.deliver_queue("orders", b"fail", &[]).await,
        Verdict::Retry,
        "{}",
        p.name()
    );
    assert!(
        !rec.of_kind("queue").is_empty(),
        "{}: the handler ran",
        p.name()
    );
}

/// A permanent error is acknowledged (logged, not retried).
pub async fn queue_permanent_error_is_acknowledged<P: Platform>(p: &P, rec: &Recorder) {
    assert_eq!(
        p.deliver_queue("orders", b"permanent", &[]).await,
        Verdict::Acknowledged,
        "{}",
        p.name()
    );
    assert_eq!(
        rec.of_kind("queue").len(),
        1,
        "{}: exactly one run",
        p.name()
    );
}

/// A panic fails its own event, and the next event is served normally.
pub async fn queue_panic_fails_only_its_own_event<P: Platform>(p: &P, rec: &Recorder) {
    assert_eq!(
        p.deliver_queue("orders", b"panic", &[]).await,
        Verdict::Retry,
        "{}",
        p.name()
    );
    assert_eq!(
        p.deliver_queue("orders", b"after", &[]).await,
        Verdict::Acknowledged,
        "{}",
        p.name()
    );
    assert!(
        rec.of_kind("queue").iter().any(|l| l["body"] == "after"),
        "{}",
        p.name()
    );
    let reply = p.http("GET", "/hello/still-up", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", p.name());
}

/// An event for a trigger nobody registered is never acknowledged.
pub async fn unknown_queue_is_not_acknowledged<P: Platform>(p: &P, rec: &Recorder) {
    assert_eq!(
        p.deliver_queue("no-such-queue", b"x", &[]).await,
        Verdict::Retry,
        "{}",
        p.name()
    );
    assert!(rec.lines().is_empty(), "{}: no handler ran", p.name());
}

/// An object creation reaches the storage handler with bucket, key and size.
pub async fn storage_created_reaches_the_handler<P: Platform>(p: &P, rec: &Recorder) {
    let verdict = p
        .deliver_storage_created("uploads", "docs/report 1.txt", b"12345")
        .await;
    assert_eq!(verdict, Verdict::Acknowledged, "{}", p.name());
    let lines = rec.of_kind("storage");
    assert_eq!(
        lines,
        [
            json!({"kind":"storage","trigger":"uploads","action":"created","bucket":"uploads","key":"docs/report 1.txt","size":5})
        ],
        "{}",
        p.name()
    );
}

/// A schedule firing reaches its handler with a scheduled time.
pub async fn schedule_reaches_the_handler<P: Platform>(p: &P, rec: &Recorder) {
    assert_eq!(
        p.deliver_schedule("nightly").await,
        Verdict::Acknowledged,
        "{}",
        p.name()
    );
    let lines = rec.of_kind("schedule");
    assert_eq!(lines.len(), 1, "{}", p.name());
    assert_eq!(lines[0]["trigger"], "nightly");
    assert!(
        lines[0]["scheduled_time"]
            .as_str()
            .is_some_and(|t| t.contains('T')),
        "{}",
        p.name()
    );
}

/// The app's routes see the request as the client sent it.
pub async fn http_routes_are_served_unchanged<P: Platform>(p: &P, _rec: &Recorder) {
    let reply = p.http("GET", "/hello/world", &[], b"").await;
    assert_eq!(
        (reply.status, reply.body.as_slice()),
        (200, &b"hello world"[..]),
        "{}",
        p.name()
    );
    let reply = p
        .http(
            "POST",
            "/echo?a=1&b=two%20words",
            &[("x-custom", "Value"), ("content-type", "text/plain")],
            b"payload",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", p.name());
    let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("echo answers JSON");
    assert_eq!(body["method"], "POST");
    assert_eq!(body["path"], "/echo");
    assert_eq!(body["query"], json!({"a": "1", "b": "two words"}));
    assert_eq!(body["headers"]["x-custom"], "Value");
    assert_eq!(body["body"], "payload");
}
