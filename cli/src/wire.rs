//! The exact bytes each platform sends for an event, so `nubes invoke --platform
//! PLATFORM` exercises an app the way the platform would.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use nubes_core::TriggerKind;
use serde_json::{Value, json};

/// One event to send: which trigger, its body and details.
#[derive(Debug)]
pub(crate) struct Event<'a> {
    pub(crate) kind: TriggerKind,
    pub(crate) trigger: &'a str,
    pub(crate) body: &'a [u8],
    pub(crate) key: Option<&'a str>,
    pub(crate) attributes: &'a [(String, String)],
    pub(crate) id: String,
    pub(crate) now: String,
}

/// An HTTP request: path (after the app's base URL), headers, JSON body.
#[derive(Debug)]
pub(crate) struct WireRequest {
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

fn json_request(path: String, body: &Value) -> WireRequest {
    WireRequest {
        path,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// AWS: the Lambda event, to `POST /2015-03-31/functions/{function}/invocations`
/// of a Runtime API emulator (cargo-lambda's `watch`).
pub(crate) fn aws(e: &Event<'_>, function: &str) -> WireRequest {
    let path = format!("/2015-03-31/functions/{function}/invocations");
    let body = match e.kind {
        TriggerKind::Queue => {
            let attributes: serde_json::Map<String, Value> = e
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), json!({"stringValue": v, "dataType": "String"})))
                .collect();
            json!({"Records": [{
                "messageId": e.id,
                "receiptHandle": format!("nubes-invoke-{}", e.id),
                "body": String::from_utf8_lossy(e.body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": chrono_millis(&e.now),
                    "SenderId": ACCOUNT,
                    "ApproximateFirstReceiveTimestamp": chrono_millis(&e.now),
                },
                "messageAttributes": attributes,
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", e.trigger),
                "awsRegion": REGION,
            }]})
        }
        TriggerKind::Storage => {
            let key = e.key.unwrap_or_default();
            json!({"Records": [{
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": e.now,
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "nubes-invoke",
                    "bucket": {"name": e.trigger, "arn": format!("arn:aws:s3:::{}", e.trigger)},
                    "object": {"key": s3_key(key), "size": e.body.len(), "sequencer": "0"},
                },
            }]})
        }
        _ => json!({
            "version": "0",
            "id": e.id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": e.now,
            "region": REGION,
            "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{}", e.trigger)],
            "detail": {},
        }),
    };
    json_request(path, &body)
}

/// GCP: a Pub/Sub push envelope, a Cloud Storage CloudEvent (binary mode) or
/// a Cloud Scheduler call, on the paths the generated triggers point at.
pub(crate) fn gcp(e: &Event<'_>) -> WireRequest {
    match e.kind {
        TriggerKind::Queue => {
            let attributes: serde_json::Map<String, Value> = e
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json_request(
                format!("/_nubes/queues/{}", e.trigger),
                &json!({
                    "message": {
                        "data": STANDARD.encode(e.body),
                        "attributes": attributes,
                        "messageId": e.id,
                        "publishTime": e.now,
                    },
                    "subscription": format!("projects/nubes-invoke/subscriptions/{}", e.trigger),
                    "deliveryAttempt": 1,
                }),
            )
        }
        TriggerKind::Storage => {
            let key = e.key.unwrap_or_default();
            let mut request = json_request(
                format!("/_nubes/storage/{}", e.trigger),
                &json!({
                    "bucket": e.trigger,
                    "name": key,
                    "size": e.body.len().to_string(),
                    "generation": "1",
                    "timeCreated": e.now,
                    "updated": e.now,
                }),
            );
            request.headers.extend([
                ("ce-specversion".into(), "1.0".into()),
                ("ce-id".into(), e.id.clone()),
                (
                    "ce-type".into(),
                    "google.cloud.storage.object.v1.finalized".into(),
                ),
                (
                    "ce-source".into(),
                    format!("//storage.googleapis.com/projects/_/buckets/{}", e.trigger),
                ),
                ("ce-subject".into(), format!("objects/{key}")),
                ("ce-time".into(), e.now.clone()),
            ]);
            request
        }
        _ => WireRequest {
            path: format!("/_nubes/schedules/{}", e.trigger),
            headers: vec![
                ("x-cloudscheduler".into(), "true".into()),
                ("x-cloudscheduler-jobname".into(), e.trigger.to_owned()),
                ("x-cloudscheduler-scheduletime".into(), e.now.clone()),
                ("content-type".into(), "application/octet-stream".into()),
            ],
            body: e.body.to_vec(),
        },
    }
}

/// Azure: the custom-handler invocation the Functions host POSTs to
/// `/{function}` (function names and bindings as `nubes build --platform
/// azure` generates them).
pub(crate) fn azure(e: &Event<'_>) -> WireRequest {
    let function = nubes_deploy::azure::function_name(e.kind, e.trigger);
    let sys = json!({"MethodName": function, "UtcNow": e.now, "RandGuid": e.id});
    let body = match e.kind {
        // Storage queues carry no attributes; with some, send what a Service
        // Bus trigger delivers (user properties).
        TriggerKind::Queue if !e.attributes.is_empty() => {
            let properties: serde_json::Map<String, Value> = e
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json!({
                "Data": {"messageBase64": STANDARD.encode(e.body)},
                "Metadata": {
                    "MessageId": e.id, "DeliveryCount": 1, "SequenceNumber": 1,
                    "EnqueuedTimeUtc": e.now, "UserProperties": properties, "sys": sys,
                },
            })
        }
        TriggerKind::Queue => json!({
            "Data": {"messageBase64": STANDARD.encode(e.body)},
            "Metadata": {
                "Id": e.id, "DequeueCount": 1, "InsertionTime": e.now,
                "NextVisibleTime": e.now, "ExpirationTime": e.now, "PopReceipt": "nubes-invoke",
                "sys": sys,
            },
        }),
        TriggerKind::Storage => {
            let key = e.key.unwrap_or_default();
            json!({
                "Data": {"blobBase64": STANDARD.encode(e.body)},
                "Metadata": {
                    "BlobTrigger": format!("{}/{key}", e.trigger),
                    "name": key,
                    "Properties": {"Length": e.body.len(), "LastModified": e.now},
                    "sys": sys,
                },
            })
        }
        _ => json!({
            "Data": {"timer": {
                "Schedule": {"AdjustForDST": true},
                "ScheduleStatus": {"Last": e.now, "Next": e.now, "LastUpdated": e.now},
                "IsPastDue": false,
            }},
            "Metadata": {"sys": sys},
        }),
    };
    let mut request = json_request(format!("/{function}"), &body);
    request
        .headers
        .push(("x-azure-functions-invocationid".into(), e.id.clone()));
    request
}

/// S3 notifications URL-encode keys (`+` for spaces).
fn s3_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Milliseconds since the epoch of an RFC 3339 time, as SQS writes them.
fn chrono_millis(rfc3339: &str) -> String {
    nubes_core::chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp_millis().to_string())
        .unwrap_or_else(|_| "0".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: TriggerKind) -> Event<'static> {
        Event {
            kind,
            trigger: "orders",
            body: b"hi",
            key: Some("a b/c.txt"),
            attributes: &[],
            id: "id-1".into(),
            now: "2026-11-28T03:00:00Z".into(),
        }
    }

    #[test]
    fn aws_events_name_their_source() {
        let r = aws(&event(TriggerKind::Queue), "echo");
        assert_eq!(r.path, "/2015-03-31/functions/echo/invocations");
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            v["Records"][0]["eventSourceARN"],
            "arn:aws:sqs:us-east-1:123456789012:orders"
        );
        assert_eq!(
            v["Records"][0]["attributes"]["SentTimestamp"],
            "1795834800000"
        );
        let v: Value =
            serde_json::from_slice(&aws(&event(TriggerKind::Storage), "echo").body).unwrap();
        assert_eq!(v["Records"][0]["s3"]["object"]["key"], "a+b/c.txt");
    }

    #[test]
    fn gcp_and_azure_use_their_envelopes() {
        let r = gcp(&event(TriggerKind::Queue));
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["message"]["data"], "aGk=");
        let r = gcp(&event(TriggerKind::Storage));
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "ce-subject" && v == "objects/a b/c.txt")
        );
        let r = azure(&event(TriggerKind::Schedule));
        assert_eq!(r.path, "/nubes-schedule-orders");
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["Data"]["timer"]["IsPastDue"], false);
    }
}
