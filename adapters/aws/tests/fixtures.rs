//! Every relevant real payload in `fixtures/aws/` decoded and
//! dispatched through the in-process entry point, with assertions on what the
//! handlers saw and on the reply Lambda gets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::routing::any;
use bytes::Bytes;
use nubes_aws::{AwsConfig, Invocation, LambdaHandler};
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent, permanent};
use serde_json::{Value, json};

type Lines = Arc<Mutex<Vec<Value>>>;

fn fixture(name: &str) -> Vec<u8> {
    nubes_test_support::fixtures::bytes(&format!("aws/{name}"))
}

/// Echoes each request as JSON: method, full URI, headers, body.
async fn echo_request(req: http::Request<axum::body::Body>) -> axum::Json<Value> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut headers = serde_json::Map::new();
    for name in parts.headers.keys() {
        let values: Vec<&str> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        headers.insert(name.to_string(), json!(values.join(",")));
    }
    let ctx = parts.extensions.get::<Context>().unwrap();
    let lambda = parts.extensions.get::<Invocation>().unwrap();
    assert_eq!(lambda.request_id, ctx.invocation_id());
    axum::Json(json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
        "request_id": ctx.invocation_id(),
        "has_raw": ctx.raw_event().is_some(),
    }))
}

fn recording_app(lines: &Lines) -> App {
    let queue = {
        let lines = lines.clone();
        move |msg: QueueMessage, ctx: Context| {
            let lines = lines.clone();
            async move {
                lines.lock().unwrap().push(json!({
                    "kind": "queue", "trigger": ctx.trigger(), "id": msg.id, "body": msg.text()?,
                    "attributes": msg.attributes, "attempt": msg.attempt, "source": msg.source,
                    "request_id": ctx.invocation_id(), "raw": ctx.raw_event().is_some(),
                    "arn": ctx.extension::<Invocation>().map(|i| i.invoked_function_arn.clone()),
                }));
                match &msg.body[..] {
                    b"fail" => Err::<(), BoxError>("asked to fail".into()),
                    b"panic" => panic!("asked to panic"),
                    b"permanent" => Err(permanent("asked to fail permanently")),
                    b"slow" => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        }
    };
    let storage = {
        let lines = lines.clone();
        move |ev: StorageEvent, ctx: Context| {
            let lines = lines.clone();
            async move {
                lines.lock().unwrap().push(json!({
                    "kind": "storage", "trigger": ctx.trigger(), "action": ev.action.as_str(),
                    "bucket": ev.bucket, "key": ev.key, "size": ev.size, "etag": ev.etag,
                }));
                Ok::<(), BoxError>(())
            }
        }
    };
    let schedule = {
        let lines = lines.clone();
        move |ev: ScheduledEvent, ctx: Context| {
            let lines = lines.clone();
            async move {
                lines.lock().unwrap().push(json!({
                    "kind": "schedule", "trigger": ctx.trigger(), "name": ev.name,
                    "scheduled_time": ev.scheduled_time, "trace": ctx.trace().trace_id(),
                }));
                Ok::<(), BoxError>(())
            }
        }
    };
    App::new()
        .http(
            axum::Router::new()
                .route(
                    "/slow",
                    axum::routing::get(|| async {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        "late"
                    }),
                )
                .fallback(any(echo_request)),
        )
        .on_queue("my-queue", queue.clone())
        .on_queue("SQSQueue", queue.clone())
        .on_queue("TopicSendToMe", queue.clone())
        .on_queue("orders.fifo", queue)
        .on_storage("sourcebucket", storage.clone())
        .on_storage("xxx", storage.clone())
        .on_storage("example-bucket", storage.clone())
        .on_storage("lambda-artifacts-deafc19498e3f2df", storage)
        .on_schedule("demoschedule", "0 3 * * *", schedule)
}

const INVOKED_ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders:live";

struct Harness {
    handler: LambdaHandler,
    lines: Lines,
}

impl Harness {
    fn new() -> Self {
        Self::with_config(AwsConfig::default())
    }

    fn with_config(config: AwsConfig) -> Self {
        let lines = Lines::default();
        let handler = LambdaHandler::new(recording_app(&lines), config).unwrap();
        Harness { handler, lines }
    }

    fn invocation() -> Invocation {
        let mut invocation = Invocation::new("req-1")
            .with_deadline(SystemTime::now() + Duration::from_secs(30))
            .with_xray_trace_id(
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            );
        invocation.invoked_function_arn = INVOKED_ARN.to_owned();
        invocation
    }

    async fn invoke(&self, payload: impl Into<Bytes>) -> Result<Value, nubes_aws::InvocationError> {
        let reply = self
            .handler
            .handle(payload.into(), &Self::invocation())
            .await?;
        Ok(serde_json::from_slice(&reply).expect("replies are JSON"))
    }

    async fn ok(&self, name: &str) -> Value {
        self.invoke(fixture(name))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }
}

fn http_body(reply: &Value) -> Value {
    assert_eq!(reply["isBase64Encoded"], false, "{reply}");
    serde_json::from_str(reply["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn rest_v1_proxy() {
    let h = Harness::new();
    let reply = h.ok("apigw-rest-v1-proxy.json").await;
    assert_eq!(reply["statusCode"], 200);
    assert!(
        reply["multiValueHeaders"]["content-type"].is_array(),
        "{reply}"
    );
    let seen = http_body(&reply);
    assert_eq!(seen["method"], "POST");
    assert_eq!(
        seen["uri"], "/hello/world?name=me",
        "the stage is not in the path"
    );
    assert_eq!(seen["headers"]["headername"], "headerValue");
    assert_eq!(seen["body"], "{\r\n\t\"a\": 1\r\n}");
    assert_eq!(seen["request_id"], "req-1");
    assert_eq!(seen["has_raw"], true);
}

#[tokio::test]
async fn rest_v1_multi_value_query_and_console_test_with_null_headers() {
    let h = Harness::new();
    let seen = http_body(&h.ok("apigw-rest-v1-multivalue-query.json").await);
    let uri = seen["uri"].as_str().unwrap();
    assert!(uri.starts_with("/hello/world?"), "{uri}");
    assert!(
        uri.contains("multiValueName=you&multiValueName=me"),
        "{uri}"
    );
    let seen = http_body(&h.ok("apigw-rest-v1-console-test-invoke.json").await);
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["uri"], "/myPath");
    assert_eq!(seen["headers"], json!({}));
    assert_eq!(seen["body"], "{\r\n\t\"a\": 1\r\n}");
}

#[tokio::test]
async fn rest_v1_stage_in_path_is_removed() {
    let h = Harness::new();
    let mut ev: Value = serde_json::from_slice(&fixture("apigw-rest-v1-proxy.json")).unwrap();
    ev["path"] = json!("/testStage/hello/world");
    let seen = http_body(&h.invoke(ev.to_string()).await.unwrap());
    assert_eq!(seen["uri"], "/hello/world?name=me");
}

#[tokio::test]
async fn http_api_v2() {
    let h = Harness::new();
    let reply = h.ok("apigw-http-v2.json").await;
    assert!(
        reply["headers"].is_object() && reply.get("multiValueHeaders").is_none(),
        "{reply}"
    );
    let seen = http_body(&reply);
    assert_eq!(seen["method"], "POST");
    assert_eq!(
        seen["uri"],
        "/my/path?parameter1=value1&parameter1=value2&parameter2=value"
    );
    assert_eq!(seen["headers"]["cookie"], "cookie1=value1; cookie2=value2");
    assert_eq!(seen["headers"]["header1"], "value1");
    assert_eq!(seen["body"], "Hello from Lambda");
    let seen = http_body(&h.ok("apigw-http-v2-get-no-authorizer.json").await);
    assert_eq!(
        (seen["method"].as_str(), seen["uri"].as_str()),
        (Some("GET"), Some("/"))
    );
}

#[tokio::test]
async fn function_urls_with_base64_body_cookies_and_joined_values() {
    let h = Harness::new();
    let seen = http_body(&h.ok("function-url-post-base64-body.json").await);
    assert_eq!(seen["body"], "<idk/>");
    let seen = http_body(&h.ok("function-url-post-text-body-cookies.json").await);
    assert_eq!(seen["uri"], "/hello?hello=world&foo=bar");
    assert_eq!(seen["headers"]["cookie"], "foo=bar; hello=hello");
    assert_eq!(seen["headers"]["header2"], "h1,h2");
    assert_eq!(seen["body"], "{\"hello\": \"world\"}");
}

#[tokio::test]
async fn alb_single_and_multi_value() {
    let h = Harness::new();
    let reply = h.ok("alb-multi-value-headers.json").await;
    assert_eq!(reply["statusDescription"], "200 OK");
    assert!(
        reply["multiValueHeaders"].is_object() && reply.get("headers").is_none(),
        "{reply}"
    );
    assert_eq!(http_body(&reply)["uri"], "/?key=hello");
    let reply = h.ok("alb-single-value-headers.json").await;
    assert!(
        reply["headers"].is_object() && reply.get("multiValueHeaders").is_none(),
        "{reply}"
    );
    let seen = http_body(&reply);
    assert_eq!(seen["headers"]["x-myheader"], "123");
    let seen = http_body(&h.ok("alb-multi-value-query.json").await);
    let uri = seen["uri"].as_str().unwrap();
    assert!(uri.contains("parameter1=value1&parameter1=value2"), "{uri}");
    assert_eq!(seen["headers"]["header2"], "value1,value2");
}

#[tokio::test]
async fn response_shapes_match_the_provider_examples() {
    // Our replies use the keys of AWS's own response examples.
    let h = Harness::new();
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    let url = h.ok("function-url-post-base64-body.json").await;
    let example: Value = serde_json::from_slice(&fixture("function-url-response.json")).unwrap();
    assert!(keys(&url).is_subset(&keys(&example)), "{url}");
    let alb = h.ok("alb-multi-value-headers.json").await;
    let example: Value = serde_json::from_slice(&fixture("alb-response-multi-value.json")).unwrap();
    assert!(keys(&alb).is_subset(&keys(&example)), "{alb}");
    let sqs = h.ok("sqs-batch.json").await;
    let example: Value = serde_json::from_slice(&fixture("sqs-batch-response.json")).unwrap();
    assert_eq!(keys(&sqs), keys(&example));
}

#[tokio::test]
async fn sqs_batch() {
    let h = Harness::new();
    let reply = h.ok("sqs-batch.json").await;
    assert_eq!(reply, json!({"batchItemFailures": []}));
    let mut lines = h.lines();
    lines.sort_by_key(|l| l["id"].as_str().unwrap().to_owned());
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "059f36b4-87a3-44ab-83d2-661975830a7d");
    assert_eq!(lines[0]["trigger"], "my-queue");
    assert_eq!(lines[0]["source"], "my-queue");
    assert_eq!(lines[0]["body"], "Test message.");
    assert_eq!(lines[0]["attributes"], json!({"testAttr": "100"}));
    assert_eq!(lines[0]["attempt"], 1);
    assert_eq!(lines[0]["request_id"], "req-1");
    assert_eq!(lines[0]["raw"], true);
    assert_eq!(
        lines[0]["arn"], INVOKED_ARN,
        "the invoked ARN reaches event handlers"
    );
    assert_eq!(lines[1]["body"], "{\"message\": \"foo1\"}");
}

#[tokio::test]
async fn sqs_message_attributes_and_attempt() {
    let h = Harness::new();
    h.ok("sqs-message-attributes.json").await;
    let lines = h.lines();
    assert_eq!(lines[0]["trigger"], "SQSQueue");
    assert_eq!(lines[0]["attempt"], 2);
    assert_eq!(lines[0]["attributes"]["Attribute1"], "AttributeValue1");
    assert_eq!(lines[0]["attributes"]["Attribute2"], "123");
    assert_eq!(lines[0]["attributes"]["Attribute3"], "MTEwMA==");
}

fn sqs_batch_with(bodies: &[&str], arn: &str) -> String {
    let mut ev: Value = serde_json::from_slice(&fixture("sqs-batch.json")).unwrap();
    let template = ev["Records"][0].clone();
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut r = template.clone();
            r["messageId"] = json!(format!("m{i}"));
            r["body"] = json!(body);
            r["eventSourceARN"] = json!(arn);
            r
        })
        .collect();
    ev["Records"] = json!(records);
    ev.to_string()
}

fn failed_ids(reply: &Value) -> Vec<String> {
    reply["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sqs_reports_exactly_the_failed_messages() {
    let h = Harness::new();
    let arn = "arn:aws:sqs:us-east-2:123456789012:my-queue";
    let reply = h
        .invoke(sqs_batch_with(
            &["ok", "fail", "panic", "permanent", "ok"],
            arn,
        ))
        .await
        .unwrap();
    let mut failed = failed_ids(&reply);
    failed.sort();
    assert_eq!(failed, ["m1", "m2"]);
    assert_eq!(h.lines().len(), 5, "every message ran");
    // The next invocation is served normally after a panic.
    let reply = h.invoke(sqs_batch_with(&["after"], arn)).await.unwrap();
    assert_eq!(reply, json!({"batchItemFailures": []}));
}

#[tokio::test]
async fn fifo_stops_at_the_first_failure() {
    let h = Harness::new();
    let arn = "arn:aws:sqs:us-east-2:123456789012:orders.fifo";
    let reply = h
        .invoke(sqs_batch_with(&["a", "fail", "b", "c"], arn))
        .await
        .unwrap();
    assert_eq!(failed_ids(&reply), ["m1", "m2", "m3"]);
    let bodies: Vec<Value> = h.lines().iter().map(|l| l["body"].clone()).collect();
    assert_eq!(
        bodies,
        [json!("a"), json!("fail")],
        "in order, nothing after the failure"
    );
}

#[tokio::test]
async fn unknown_queue_fails_every_message() {
    let h = Harness::new();
    let reply = h
        .invoke(sqs_batch_with(
            &["x", "y"],
            "arn:aws:sqs:us-east-2:1:nobody-listens",
        ))
        .await
        .unwrap();
    assert_eq!(failed_ids(&reply), ["m0", "m1"]);
    assert!(h.lines().is_empty());
}

#[tokio::test]
async fn malformed_sqs_records_fail_alone() {
    let h = Harness::new();
    let mut ev: Value =
        serde_json::from_str(&sqs_batch_with(&["ok", "ok"], "arn:aws:sqs:r:1:my-queue")).unwrap();
    ev["Records"][1]["body"] = json!(42);
    let reply = h.invoke(ev.to_string()).await.unwrap();
    assert_eq!(failed_ids(&reply), ["m1"]);
    ev["Records"][1] = json!({"no": "id"});
    let err = h.invoke(ev.to_string()).await.unwrap_err();
    assert_eq!(err.error_type(), "Nubes.InvalidEvent");
}

#[tokio::test]
async fn name_prefix_is_stripped() {
    let mut config = AwsConfig::default();
    config.name_prefix = "stack-".into();
    let h = Harness::with_config(config);
    let reply = h
        .invoke(sqs_batch_with(&["x"], "arn:aws:sqs:r:1:stack-my-queue"))
        .await
        .unwrap();
    assert_eq!(failed_ids(&reply), Vec::<String>::new());
    assert_eq!(h.lines()[0]["trigger"], "my-queue");
    assert_eq!(h.lines()[0]["source"], "stack-my-queue");
}

#[tokio::test]
async fn s3_notifications() {
    let h = Harness::new();
    assert_eq!(h.ok("s3-object-created-put.json").await, Value::Null);
    assert_eq!(h.ok("s3-object-removed-delete.json").await, Value::Null);
    let lines = h.lines();
    assert_eq!(
        lines[0],
        json!({"kind":"storage","trigger":"sourcebucket","action":"created","bucket":"sourcebucket",
               "key":"Happy Face.jpg","size":1024,"etag":"d41d8cd98f00b204e9800998ecf8427e"})
    );
    assert_eq!(lines[1]["action"], "deleted");
    assert_eq!(lines[1]["bucket"], "lambda-artifacts-deafc19498e3f2df");
    assert_eq!(lines[1]["size"], Value::Null);
}

#[tokio::test]
async fn s3_notification_in_an_sqs_body_is_storage() {
    let h = Harness::new();
    assert_eq!(
        h.ok("sqs-s3-notification-in-body.json").await,
        json!({"batchItemFailures": []})
    );
    let lines = h.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "storage");
    assert_eq!(lines[0]["bucket"], "xxx");
    assert_eq!(lines[0]["key"], "test.pdf");
    assert_eq!(lines[0]["size"], 104681);
}

#[tokio::test]
async fn eventbridge_s3_events() {
    let h = Harness::new();
    h.ok("eventbridge-s3-object-created.json").await;
    h.ok("eventbridge-s3-object-deleted.json").await;
    let lines = h.lines();
    assert_eq!(lines[0]["action"], "created");
    assert_eq!(lines[0]["trigger"], "example-bucket");
    assert_eq!(lines[0]["key"], "IMG_m7fzo3.jpg");
    assert_eq!(lines[0]["size"], 184662);
    assert_eq!(lines[1]["action"], "deleted");
}

#[tokio::test]
async fn eventbridge_schedule() {
    let h = Harness::new();
    h.ok("eventbridge-scheduled-event.json").await;
    assert_eq!(
        h.lines()[0],
        json!({"kind":"schedule","trigger":"demoschedule","name":"demoschedule",
               "scheduled_time":"2020-09-30T15:58:34Z","trace":"5759e988bd862e3fe1be46a994272793"})
    );
}

#[tokio::test]
async fn sns_notification() {
    let h = Harness::new();
    h.ok("sns.json").await;
    let line = &h.lines()[0];
    assert_eq!(line["trigger"], "TopicSendToMe");
    assert_eq!(line["id"], "dc918f50-80c6-56a2-ba33-d8a9bbf013ab");
    assert_eq!(line["body"], "{\n  \"id\": 42,\n  \"name\": \"Bob\"\n}");
    assert_eq!(line["attributes"], json!({"name": "Bob"}));
}

#[tokio::test]
async fn unknown_triggers_fail_the_invocation() {
    let lines = Lines::default();
    let handler = LambdaHandler::new(App::new(), AwsConfig::default()).unwrap();
    for name in [
        "s3-object-created-put.json",
        "eventbridge-scheduled-event.json",
        "sns.json",
    ] {
        let err = handler
            .handle(fixture(name).into(), &Harness::invocation())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Nubes.UnknownTrigger", "{name}: {err}");
    }
    assert!(lines.lock().unwrap().is_empty());
    // No HTTP service: an HTTP 404 answer, not an invocation error.
    let reply = handler
        .handle(fixture("apigw-http-v2.json").into(), &Harness::invocation())
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply["statusCode"], 404);
}

#[tokio::test]
async fn other_sources_and_malformed_input_are_clear_errors() {
    let h = Harness::new();
    for name in [
        "kinesis.json",
        "dynamodb-streams.json",
        "dynamodb-streams-all-attribute-types.json",
        "cloudwatch-logs.json",
    ] {
        let err = h.invoke(fixture(name)).await.unwrap_err();
        assert_eq!(err.error_type(), "Nubes.UnsupportedEvent", "{name}: {err}");
    }
    let cases: [(&str, &str); 6] = [
        ("{", "Nubes.InvalidEvent"),
        ("null", "Nubes.InvalidEvent"),
        ("{}", "Nubes.UnsupportedEvent"),
        (
            r#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}},"body":"!!","isBase64Encoded":true}"#,
            "Nubes.InvalidEvent",
        ),
        (
            r#"{"detail-type":"Scheduled Event","source":"aws.events","time":"x","resources":[]}"#,
            "Nubes.InvalidEvent",
        ),
        (
            r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"sourcebucket"},"object":{"key":"bad%FF"}}}]}"#,
            "Nubes.InvalidEvent",
        ),
    ];
    for (payload, error_type) in cases {
        let err = h.invoke(payload.to_owned()).await.unwrap_err();
        assert_eq!(err.error_type(), error_type, "{payload}: {err}");
        assert!(!err.message().is_empty());
    }
    // Still serving.
    assert_eq!(h.ok("apigw-http-v2.json").await["statusCode"], 200);
}

#[tokio::test]
async fn the_error_body_is_what_lambda_expects() {
    let h = Harness::new();
    let err = h.invoke("{}".to_owned()).await.unwrap_err();
    let body: Value = serde_json::from_slice(&err.to_json()).unwrap();
    assert_eq!(body["errorType"], "Nubes.UnsupportedEvent");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no supported AWS source")
    );
}

#[tokio::test]
async fn unfinished_work_is_reported_failed_before_the_deadline() {
    let h = Harness::new();
    let soon =
        || Invocation::new("req-2").with_deadline(SystemTime::now() + Duration::from_millis(800));
    let started = std::time::Instant::now();
    let batch = sqs_batch_with(&["ok", "slow"], "arn:aws:sqs:us-east-2:1:my-queue");
    let reply = h.handler.handle(batch.into(), &soon()).await.unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(failed_ids(&reply), ["m1"]);
    let fifo = sqs_batch_with(&["slow", "after"], "arn:aws:sqs:us-east-2:1:orders.fifo");
    let reply = h.handler.handle(fifo.into(), &soon()).await.unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(failed_ids(&reply), ["m0", "m1"]);
    let mut event: Value = serde_json::from_slice(&fixture("apigw-http-v2.json")).unwrap();
    event["rawPath"] = json!("/slow");
    event["requestContext"]["http"]["method"] = json!("GET");
    let reply = h
        .handler
        .handle(event.to_string().into(), &soon())
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply["statusCode"], 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
