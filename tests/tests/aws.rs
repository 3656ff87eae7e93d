//! The AWS Lambda adapter passes the conformance suite: each delivery is a
//! real-shaped Lambda event (SQS batch, S3 notification, EventBridge schedule,
//! HTTP API v2), fed through the adapter's in-process entry point exactly as
//! the Runtime API loop would.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use nubes_aws::{AwsConfig, Invocation, LambdaHandler};
use nubes_conformance::{
    HttpReply, Platform, Recorder, Verdict, conformance_app, conformance_tests,
};
use serde_json::{Value, json};

struct Aws {
    handler: LambdaHandler,
    next_id: AtomicU64,
}

async fn setup() -> (Aws, Recorder) {
    let recorder = Recorder::new();
    let handler = LambdaHandler::new(conformance_app(&recorder), AwsConfig::default()).unwrap();
    let aws = Aws {
        handler,
        next_id: AtomicU64::new(1),
    };
    (aws, recorder)
}

impl Aws {
    fn id(&self) -> String {
        format!("0000-{:08}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    async fn invoke(&self, event: Value) -> Result<Value, nubes_aws::InvocationError> {
        let invocation = Invocation::new(self.id())
            .with_deadline(SystemTime::now() + Duration::from_secs(30))
            .with_xray_trace_id("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
        let reply = self
            .handler
            .handle(event.to_string().into(), &invocation)
            .await?;
        Ok(serde_json::from_slice(&reply).unwrap())
    }
}

/// S3 notifications carry keys form-URL-encoded (`+` for spaces).
fn s3_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Platform for Aws {
    fn name(&self) -> &'static str {
        "aws"
    }

    async fn deliver_queue(
        &self,
        trigger: &str,
        body: &[u8],
        attributes: &[(&str, &str)],
    ) -> Verdict {
        let id = self.id();
        let attributes: serde_json::Map<String, Value> = attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!({"stringValue": v, "stringListValues": [], "binaryListValues": [], "dataType": "String"})))
            .collect();
        let event = json!({"Records": [{
            "messageId": id,
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": String::from_utf8_lossy(body),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185"
            },
            "messageAttributes": attributes,
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": format!("arn:aws:sqs:us-east-2:123456789012:{trigger}"),
            "awsRegion": "us-east-2"
        }]});
        match self.invoke(event).await {
            Ok(reply) => {
                let failed = reply["batchItemFailures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["itemIdentifier"] == id.as_str());
                if failed {
                    Verdict::Retry
                } else {
                    Verdict::Acknowledged
                }
            }
            Err(_) => Verdict::Retry,
        }
    }

    async fn deliver_storage_created(&self, bucket: &str, key: &str, content: &[u8]) -> Verdict {
        let event = json!({"Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-28T12:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "EXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": format!("arn:aws:s3:::{bucket}")},
                "object": {"key": s3_key(key), "size": content.len(), "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0A1B2C3D4E5F678901"}
            }
        }]});
        match self.invoke(event).await {
            Ok(_) => Verdict::Acknowledged,
            Err(_) => Verdict::Retry,
        }
    }

    async fn deliver_schedule(&self, name: &str) -> Verdict {
        let event = json!({
            "version": "0",
            "id": self.id(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2026-11-29T03:00:00Z",
            "region": "eu-central-1",
            "resources": [format!("arn:aws:events:eu-central-1:123456789012:rule/{name}")],
            "detail": {}
        });
        match self.invoke(event).await {
            Ok(_) => Verdict::Acknowledged,
            Err(_) => Verdict::Retry,
        }
    }

    async fn http(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpReply {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut header_map: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
            .collect();
        header_map.insert(
            "host".into(),
            json!("api-id.execute-api.us-east-1.amazonaws.com"),
        );
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": header_map,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api-id",
                "domainName": "api-id.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "api-id",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "conformance"},
                "requestId": self.id(),
                "routeKey": "$default",
                "stage": "$default",
                "time": "28/Nov/2026:12:00:00 +0000",
                "timeEpoch": 1_795_867_200_000_u64
            },
            "body": String::from_utf8_lossy(body),
            "isBase64Encoded": false
        });
        let reply = self.invoke(event).await.unwrap();
        assert_eq!(
            reply["isBase64Encoded"], false,
            "conformance replies are text: {reply}"
        );
        let headers = reply["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        HttpReply {
            status: u16::try_from(reply["statusCode"].as_u64().unwrap()).unwrap(),
            headers,
            body: reply["body"].as_str().unwrap().as_bytes().to_vec(),
        }
    }
}

conformance_tests!(setup());
