//! Decoding the real payloads in `fixtures/gcp` and malformed ones.

#![allow(clippy::unwrap_used)]

use super::*;
use nubes_core::StorageAction;

fn fixture(name: &str) -> Bytes {
    Bytes::from(nubes_test_support::fixtures::bytes(&format!("gcp/{name}")))
}

fn headers_of(name: &str) -> HeaderMap {
    let map: BTreeMap<String, String> = serde_json::from_slice(&fixture(name)).unwrap();
    let mut headers = HeaderMap::new();
    for (k, v) in map {
        headers.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    headers
}

use std::collections::BTreeMap;

fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", "application/json".parse().unwrap());
    h
}

#[test]
fn push_envelope_with_both_spellings() {
    let d = decode(&json_headers(), &fixture("pubsub-push-envelope.json"))
        .unwrap()
        .unwrap();
    let NeutralEvent::Queue(m) = d.event else {
        panic!()
    };
    assert_eq!(m.id, "4102184774039362");
    assert_eq!(m.text().unwrap(), "Text message");
    assert_eq!(m.attributes["attr1"], "value1");
    assert_eq!(m.ordering_key.as_deref(), Some("orderxyz"));
    assert_eq!(m.source, "sample-subscription");
    assert_eq!(
        m.published_at.unwrap().to_rfc3339(),
        "2022-02-15T11:28:32.942+00:00"
    );
}

#[test]
fn binary_storage_cloudevent() {
    let d = decode(
        &headers_of("cloudevent-storage-finalized.binary.headers.json"),
        &fixture("cloudevent-storage-finalized.binary.body.json"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(d.id.as_deref(), Some("aaaaaa-1111-bbbb-2222-cccccccccccc"));
    let NeutralEvent::Storage(e) = d.event else {
        panic!()
    };
    assert_eq!(e.action, StorageAction::Created);
    assert_eq!(
        (e.bucket.as_str(), e.key.as_str(), e.size),
        ("sample-bucket", "folder/Test.cs", Some(352))
    );
    assert_eq!(e.version.as_deref(), Some("1587627537231057"));
    // The CloudEvent id is the notification id (the idempotency key).
    assert_eq!(e.id.as_deref(), Some("aaaaaa-1111-bbbb-2222-cccccccccccc"));
}

#[test]
fn legacy_flat_storage_deletion() {
    let d = decode(
        &json_headers(),
        &fixture("legacy-storage-object-change-deleted.json"),
    )
    .unwrap()
    .unwrap();
    let NeutralEvent::Storage(e) = d.event else {
        panic!()
    };
    assert_eq!(e.action, StorageAction::Deleted);
    assert_eq!(e.key, "MyFile");
}

#[test]
fn non_events_are_not_claimed() {
    assert!(
        decode(&json_headers(), &Bytes::from_static(b"{\"hello\":1}"))
            .unwrap()
            .is_none()
    );
    assert!(
        decode(&HeaderMap::new(), &Bytes::from_static(b"plain text"))
            .unwrap()
            .is_none()
    );
    assert!(
        decode(&json_headers(), &Bytes::from_static(b"[{\"a\":1}]"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn malformed_events_are_errors_not_panics() {
    let bad = [
        &b"{\"message\":{\"data\":\"!!!\",\"messageId\":\"1\"}}"[..],
        b"{\"message\":{\"data\":\"aGk=\"}}",
        b"{\"message\":7}",
        b"{\"message\":{\"messageId\":\"1\",\"publishTime\":\"soon\"}}",
        b"{\"eventType\":\"google.storage.object.finalize\",\"data\":{\"bucket\":\"b\"}}",
        b"{\"eventType\":\"google.storage.object.finalize\",\"data\":{\"bucket\":\"b\",\"name\":\"k\",\"size\":\"big\"}}",
        b"{\"context\":{\"eventType\":\"google.firebase.x\"},\"data\":{}}",
        b"{\"context\":\"nope\"}",
    ];
    for body in bad {
        let err = decode(&json_headers(), &Bytes::from_static(body)).unwrap_err();
        assert_eq!(err.kind(), nubes_core::ErrorKind::InvalidEvent, "{err}");
    }
    let mut ce = HeaderMap::new();
    ce.insert("ce-specversion", "1.0".parse().unwrap());
    assert!(decode(&ce, &Bytes::new()).is_err());
    ce.insert(
        "content-type",
        "application/cloudevents+json".parse().unwrap(),
    );
    assert!(decode(&ce, &Bytes::from_static(b"{\"specversion\":\"1.0\"}")).is_err());
    assert!(decode(&ce, &Bytes::from_static(&[0xff, 0xfe])).is_err());
}

/// Every prefix and many single-byte corruptions of every fixture, under
/// every header set: decoding returns an error or an event, never panics.
#[test]
fn mangled_fixtures_never_panic() {
    let mut header_sets = vec![HeaderMap::new(), json_headers()];
    let mut structured = HeaderMap::new();
    structured.insert(
        "content-type",
        "application/cloudevents+json".parse().unwrap(),
    );
    header_sets.push(structured);
    header_sets.push(headers_of(
        "cloudevent-storage-finalized.binary.headers.json",
    ));
    header_sets.push(headers_of("eventarc-pubsub-binary.headers.json"));
    let mut unwrapped = HeaderMap::new();
    unwrapped.insert("x-goog-pubsub-message-id", "1".parse().unwrap());
    unwrapped.insert("x-goog-pubsub-publish-time", "garbage".parse().unwrap());
    header_sets.push(unwrapped);
    let mut decoded = 0usize;
    for name in nubes_test_support::fixtures::names("gcp") {
        let body = fixture(&name);
        for headers in &header_sets {
            for end in 0..=body.len() {
                let _ = decode(headers, &body.slice(..end));
                decoded += 1;
            }
            for at in (0..body.len()).step_by(3) {
                for byte in [b'"', b'{', b'}', b'0', 0xff, b'\\'] {
                    let mut bytes = body.to_vec();
                    bytes[at] = byte;
                    let _ = decode(headers, &Bytes::from(bytes));
                    decoded += 1;
                }
            }
        }
    }
    assert!(decoded > 10_000, "{decoded}");
}

/// Structured Pub/Sub CloudEvents decode the same in one pass as in two.
#[test]
fn structured_pubsub_in_one_pass_or_two() {
    let fixture = fixture("cloudevent-pubsub-messagePublished.structured.json");
    let value: serde_json::Value = serde_json::from_slice(&fixture).unwrap();
    let mut variants = vec![value.clone()];
    let mut v = value.clone();
    v["data"]["message"]["publishTime"] = "2021-02-05T05:00:00Z".into();
    variants.push(v);
    let mut v = value.clone();
    v["data"]["message"]
        .as_object_mut()
        .unwrap()
        .remove("publishTime");
    variants.push(v);
    let mut v = value.clone();
    v["data"]["message"]["attributes"]["esc\"aped"] = "a\nb".into();
    v["type"] = "com.google.cloud.pubsub.topic.publish".into();
    variants.push(v);
    let mut v = value.clone();
    v["data"]["message"]["data"] = "!!".into();
    variants.push(v);
    let mut v = value;
    v["specversion"] = "2.0".into();
    variants.push(v);
    for v in variants {
        let text = v.to_string();
        let one = cloudevent::decode_structured(&Bytes::from(text.clone()));
        let two = cloudevent::decode_in_two_passes(&text);
        match (one, two) {
            (Ok(one), Ok(two)) => {
                let (NeutralEvent::Queue(a), NeutralEvent::Queue(b)) = (one.event, two.event)
                else {
                    panic!("{text}")
                };
                assert_eq!(a, b, "{text}");
                assert_eq!((one.id, one.names), (two.id, two.names));
            }
            (Err(one), Err(two)) => assert_eq!(one.to_string(), two.to_string()),
            (one, two) => panic!("{text}: {one:?} / {two:?}"),
        }
    }
}
