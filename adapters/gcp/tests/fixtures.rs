//! Every payload in `fixtures/gcp/` through the running server, on its
//! reserved path and on `/`, with the neutral fields the handler saw.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Seen, fixture, fixture_headers, loopback, serve};
use serde_json::{Value, json};

/// How one fixture is delivered: the body file, its headers, and the
/// reserved path it belongs to.
struct Case {
    body: &'static str,
    headers: Vec<(String, String)>,
    path: &'static str,
    expect: Value,
}

fn json_type() -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into())]
}

fn cases() -> Vec<Case> {
    let scheduler_ce = vec![
        ("ce-specversion".into(), "1.0".into()),
        ("ce-id".into(), "sched-1".into()),
        (
            "ce-type".into(),
            "google.cloud.scheduler.job.v1.executed".into(),
        ),
        (
            "ce-source".into(),
            "//cloudscheduler.googleapis.com/projects/p/locations/europe-west1/jobs/nightly".into(),
        ),
        ("ce-time".into(), "2026-11-28T03:00:00Z".into()),
        ("content-type".into(), "application/json".into()),
    ];
    let queue = |id: &str, body: &str| json!({"kind": "queue", "id": id, "body": body});
    let storage = |action: &str, bucket: &str, key: &str, size: u64| json!({"kind": "storage", "action": action, "bucket": bucket, "key": key, "size": size});
    vec![
        Case {
            body: "cloudevent-pubsub-messagePublished.structured.json",
            headers: vec![("content-type".into(), "application/cloudevents+json".into())],
            path: "/_nubes/queues/orders",
            expect: json!({"kind": "queue", "id": "message-id", "body": "test message 3",
                "attributes": {"attr1": "attr1-value"}, "ordering_key": "ordering-key",
                "published_at": "2021-02-05T04:06:14.109Z", "raw_type": "application/cloudevents+json"}),
        },
        Case {
            body: "cloudevent-scheduler-job-executed.binary.body.json",
            headers: scheduler_ce,
            path: "/_nubes/schedules/nightly",
            expect: json!({"kind": "schedule", "name": "nightly", "scheduled_time": "2026-11-28T03:00:00Z"}),
        },
        Case {
            body: "cloudevent-storage-finalized.binary.body.json",
            headers: fixture_headers("cloudevent-storage-finalized.binary.headers.json"),
            path: "/_nubes/storage/uploads",
            expect: json!({"kind": "storage", "action": "created", "bucket": "sample-bucket",
                "key": "folder/Test.cs", "size": 352, "etag": "CNHZkbuF/ugCEAE=",
                "content_type": "text/plain", "version": "1587627537231057",
                "time": "2020-09-29T11:32:00.123Z", "invocation_id": "aaaaaa-1111-bbbb-2222-cccccccccccc"}),
        },
        Case {
            body: "cloudevent-storage-finalized.structured.json",
            headers: vec![("content-type".into(), "application/cloudevents+json".into())],
            path: "/_nubes/storage/uploads",
            expect: storage("created", "some-bucket", "folder/Test.cs", 352),
        },
        Case {
            body: "eventarc-pubsub-binary.body.json",
            headers: fixture_headers("eventarc-pubsub-binary.headers.json")
                .into_iter()
                .filter(|(k, _)| k != "host")
                .collect(),
            path: "/_nubes/queues/orders",
            expect: json!({"kind": "queue", "id": "1408577928008405", "body": "Hello there",
                "published_at": "2020-08-06T22:31:14.536Z",
                "trace_id": "9df407335d114d56ea27ee69ff12943f"}),
        },
        Case {
            body: "legacy-pubsub-publish-binary-data.json",
            headers: json_type(),
            path: "/_nubes/queues/orders",
            expect: json!({"kind": "queue", "id": "1144231683168617", "body": "\u{1}\u{2}\u{3}\u{4}",
                "source": "gcf-test"}),
        },
        Case {
            body: "legacy-pubsub-publish-flat-format.json",
            headers: json_type(),
            path: "/_nubes/queues/orders",
            expect: json!({"kind": "queue", "id": "1215011316659232", "body": "This is a sample message",
                "attributes": {"attribute1": "value1"}, "published_at": "2020-05-18T12:13:19.209Z"}),
        },
        Case {
            body: "legacy-pubsub-publish.json",
            headers: json_type(),
            path: "/_nubes/queues/orders",
            expect: queue("1144231683168617", "test message 3"),
        },
        Case {
            body: "legacy-storage-object-change-deleted.json",
            headers: json_type(),
            path: "/_nubes/storage/uploads",
            expect: json!({"kind": "storage", "action": "deleted", "bucket": "sample-bucket",
                "key": "MyFile", "size": 0, "version": "1588778055917163",
                "time": "2020-05-18T09:07:51.799Z"}),
        },
        Case {
            body: "legacy-storage-object-finalize.json",
            headers: json_type(),
            path: "/_nubes/storage/uploads",
            expect: storage("created", "some-bucket", "folder/Test.cs", 352),
        },
        Case {
            body: "pubsub-push-envelope-emulator.json",
            headers: json_type(),
            path: "/_nubes/queues/orders",
            expect: json!({"kind": "queue", "id": "1", "body": "Test message from emulator",
                "attributes": {"attr1": "attr-value1"}, "source": "test-subscription"}),
        },
        Case {
            body: "pubsub-push-envelope.json",
            headers: json_type(),
            path: "/_nubes/queues/orders",
            expect: json!({"kind": "queue", "id": "4102184774039362", "body": "Text message",
                "attributes": {"attr1": "value1"}, "ordering_key": "orderxyz",
                "published_at": "2022-02-15T11:28:32.942Z", "source": "sample-subscription",
                "attempt": 1}),
        },
    ]
}

/// The handler's view flattened: event fields plus context fields.
fn flat(seen: &Value) -> serde_json::Map<String, Value> {
    let mut out = seen["event"].as_object().cloned().unwrap_or_default();
    for (k, v) in seen["ctx"].as_object().cloned().unwrap_or_default() {
        out.entry(k).or_insert(v);
    }
    out
}

fn check(case: &Case, seen: &[Value], via: &str) {
    assert_eq!(seen.len(), 1, "{} via {via}: {seen:#?}", case.body);
    let got = flat(&seen[0]);
    assert_eq!(got["provider"], "gcp");
    let trigger = case.path.rsplit('/').next().unwrap();
    assert_eq!(got["trigger"], trigger, "{} via {via}", case.body);
    for (key, want) in case.expect.as_object().unwrap() {
        let got = got.get(key).unwrap_or(&Value::Null);
        let same = match (got.as_str(), want.as_str()) {
            // Times compare as instants (the JSON view may write `+00:00`).
            (Some(g), Some(w)) if key.ends_with("time") || key == "published_at" => {
                chrono::DateTime::parse_from_rfc3339(g).ok()
                    == chrono::DateTime::parse_from_rfc3339(w).ok()
            }
            _ => got == want,
        };
        assert!(
            same,
            "{} via {via}: `{key}` is {got}, expected {want}",
            case.body
        );
    }
}

async fn post(http: &reqwest::Client, url: String, case: &Case) -> reqwest::Response {
    let mut req = http.post(url).body(fixture(case.body));
    for (k, v) in &case.headers {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn every_fixture_reaches_its_handler_on_its_path_and_on_root() {
    let (server, seen) = serve(loopback()).await;
    let http = reqwest::Client::new();
    let cases = cases();
    for case in &cases {
        let res = post(&http, format!("{}{}", server.url(), case.path), case).await;
        assert_eq!(
            res.status(),
            204,
            "{}: {}",
            case.body,
            res.text().await.unwrap()
        );
        check(case, &seen.take(), case.path);
        // `/` has no route in this app, so events there are recognised too
        // (the names in these payloads match no trigger, so each goes to the
        // app's only trigger of its kind).
        let res = post(&http, format!("{}/", server.url()), case).await;
        assert_eq!(
            res.status(),
            204,
            "{} on /: {}",
            case.body,
            res.text().await.unwrap()
        );
        check(case, &seen.take(), "/");
    }
    // Every fixture file is covered (headers files ride along with bodies).
    for name in nubes_test_support::fixtures::names("gcp") {
        if name.ends_with(".headers.json") {
            continue;
        }
        assert!(
            cases.iter().any(|c| c.body == name),
            "fixture {name} has no test case"
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn replies_follow_the_outcome() {
    let (server, seen) = serve(loopback()).await;
    let http = reqwest::Client::new();
    let push = |body: &str, attempt: u32| {
        json!({
            "message": {"data": base64(body), "messageId": "m-1", "message_id": "m-1"},
            "subscription": "projects/p/subscriptions/orders",
            "deliveryAttempt": attempt,
        })
    };
    let url = format!("{}/_nubes/queues/orders", server.url());
    let res = http.post(&url).json(&push("fail", 3)).send().await.unwrap();
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "handler");
    assert_eq!(seen.take()[0]["event"]["attempt"], 3);
    let res = http
        .post(&url)
        .json(&push("permanent", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "failed_permanently");
    seen.take();
    // Unknown trigger: never acknowledged.
    let res = http
        .post(format!("{}/_nubes/queues/nobody", server.url()))
        .json(&push("x", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "unknown_trigger");
    assert!(seen.all().is_empty());
    server.shutdown().await.unwrap();
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A path, request headers and a body that must be refused.
type Malformed = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static [u8],
);

#[tokio::test]
async fn malformed_deliveries_get_a_json_400_and_never_reach_a_handler() {
    let (server, seen) = serve(loopback()).await;
    let http = reqwest::Client::new();
    let cases: Vec<Malformed> = vec![
        ("/_nubes/queues/orders", vec![("content-type", "application/json")], b"{not json"),
        ("/_nubes/queues/orders", vec![], b"plain text is no envelope"),
        ("/_nubes/queues/orders", vec![], b"{\"message\":{\"data\":\"%%%\",\"messageId\":\"1\"}}"),
        ("/_nubes/queues/orders", vec![], b"{\"message\":[]}"),
        ("/_nubes/queues/orders", vec![("ce-specversion", "1.0")], b"{}"),
        ("/_nubes/queues/orders", vec![("ce-specversion", "0.3"), ("ce-id", "1"), ("ce-source", "s"), ("ce-type", "t")], b"{}"),
        ("/_nubes/storage/uploads", vec![("content-type", "application/cloudevents+json")], b"{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"google.cloud.storage.object.v1.finalized\",\"data\":{\"bucket\":\"b\"}}"),
        ("/_nubes/storage/uploads", vec![("content-type", "application/cloudevents+json")], b"{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"com.example.other\",\"data\":{}}"),
        // A queue event on the storage path.
        ("/_nubes/storage/uploads", vec![], b"{\"message\":{\"messageId\":\"1\"},\"subscription\":\"s\"}"),
        ("/_nubes/schedules/nightly", vec![("x-cloudscheduler-jobname", "nightly"), ("x-cloudscheduler-scheduletime", "tomorrow")], b""),
        ("/", vec![("ce-specversion", "1.0"), ("ce-id", "1"), ("ce-source", "s"), ("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")], b"[]"),
    ];
    for (path, headers, body) in cases {
        let mut req = http
            .post(format!("{}{path}", server.url()))
            .body(body.to_vec());
        for (k, v) in &headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 400, "{path} {headers:?}");
        let json: Value = res.json().await.unwrap();
        assert_eq!(json["error"]["kind"], "invalid_event", "{path} {headers:?}");
    }
    assert!(seen.all().is_empty(), "{:#?}", seen.all());
    // Unknown nubes endpoints and methods are JSON errors too.
    let res = http
        .post(format!("{}/_nubes/nothing", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = http
        .get(format!("{}/_nubes/queues/orders", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversize_bodies_get_413() {
    let mut config = loopback();
    config.max_body_bytes = 64;
    let (server, seen) = serve(config).await;
    let res = reqwest::Client::new()
        .post(format!("{}/_nubes/queues/orders", server.url()))
        .body(vec![b'x'; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let json: Value = res.json().await.unwrap();
    assert!(json["error"]["message"].as_str().unwrap().contains("64"));
    assert!(seen.all().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unwrapped_push_and_bare_scheduler_calls() {
    let (server, seen) = serve(loopback()).await;
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/_nubes/queues/orders", server.url()))
        .header("x-goog-pubsub-message-id", "77")
        .header(
            "x-goog-pubsub-subscription-name",
            "projects/p/subscriptions/orders",
        )
        .header("x-goog-pubsub-publish-time", "2026-11-28T10:00:00Z")
        .header("tenant", "acme")
        .body("raw payload")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let got = seen.take();
    assert_eq!(got[0]["event"]["id"], "77");
    assert_eq!(got[0]["event"]["body"], "raw payload");
    assert_eq!(got[0]["event"]["attributes"]["tenant"], "acme");
    assert_eq!(got[0]["event"]["source"], "orders");
    // A Scheduler call with its headers, then a bare POST (fired now).
    let res = http
        .post(format!("{}/_nubes/schedules/nightly", server.url()))
        .header(
            "x-cloudscheduler-jobname",
            "projects/p/locations/l/jobs/nightly",
        )
        .header("x-cloudscheduler-scheduletime", "2026-11-28T03:00:00+00:00")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = http
        .post(format!("{}/_nubes/schedules/nightly", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let got = seen.take();
    assert_eq!(got[0]["event"]["scheduled_time"], "2026-11-28T03:00:00Z");
    assert_eq!(got[1]["event"]["name"], "nightly");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn user_routes_are_untouched_and_own_root_when_they_serve_it() {
    let (server, _seen) = serve(loopback()).await;
    let http = reqwest::Client::new();
    let res = http
        .get(format!("{}/hello", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "hello");
    // A JSON POST to `/` that is no event is the app's (here: a 404).
    let res = http
        .post(format!("{}/", server.url()))
        .json(&json!({"hello": "world"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    server.shutdown().await.unwrap();

    // An app that serves `/` itself gets even event-looking requests there.
    let seen = Seen::default();
    let app = nubes_core::App::new()
        .http(axum::Router::new().route("/", axum::routing::post(|| async { "mine" })))
        .on_queue(
            "orders",
            |_m: nubes_core::QueueMessage, _c: nubes_core::Context| async {
                Ok::<(), nubes_core::BoxError>(())
            },
        );
    let server = nubes_gcp::start(app, loopback()).await.unwrap();
    let res = http
        .post(format!("{}/", server.url()))
        .header("content-type", "application/json")
        .body(fixture("pubsub-push-envelope.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "mine");
    assert!(seen.all().is_empty());
    server.shutdown().await.unwrap();
}
