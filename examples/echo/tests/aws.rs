//! The echo binary as an AWS Lambda function, against a real third-party
//! Lambda Runtime API: `cargo lambda watch --only-lambda-apis` (from PyPI's
//! `cargo-lambda`, installed by `.ci/install-aws.sh`). Events are the real
//! fixture payloads, invoked through the emulator's Invoke API and its
//! Function URL endpoint.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::process::{Command, Stdio};
use std::time::Duration;

use nubes_test_support::lambda_emulator::LambdaEmulator;
use nubes_test_support::log_file::{log_file, read_log};
use nubes_test_support::process::Group;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    nubes_test_support::fixtures::json(&format!("aws/{name}"))
}

struct Lambda {
    base: String,
    http: reqwest::Client,
    // Dropped first to last: the function, then the emulator and its folder.
    _function: Group,
    emulator: LambdaEmulator,
}

impl Lambda {
    async fn start() -> Lambda {
        let emulator = LambdaEmulator::start("echo");
        let dir = emulator.dir();
        let function = Group::spawn(
            Command::new(env!("CARGO_BIN_EXE_echo"))
                .current_dir(dir)
                .env("AWS_LAMBDA_RUNTIME_API", emulator.runtime_api("echo"))
                .env("AWS_LAMBDA_FUNCTION_NAME", "echo")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("NUBES_ECHO_FILE", dir.join("echo.jsonl"))
                .env_remove("NUBES_PLATFORM")
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(log_file(dir, "function.log"))
                .stderr(log_file(dir, "function.log")),
        );
        Lambda {
            base: emulator.base_url(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            _function: function,
            emulator,
        }
    }

    /// Invokes the function synchronously with `event`: (HTTP status, JSON reply).
    async fn invoke(&self, event: &Value) -> (u16, Value) {
        self.invoke_raw(event.to_string()).await
    }

    async fn invoke_raw(&self, payload: String) -> (u16, Value) {
        let url = self.emulator.invoke_url("echo");
        let res = self
            .http
            .post(url)
            .body(payload)
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoke failed: {e}\nfunction log:\n{}", self.logs()));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let reply = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("reply is not JSON ({e}): {text}\n{}", self.logs()));
        (status, reply)
    }

    fn logs(&self) -> String {
        format!(
            "--- function\n{}\n--- emulator\n{}",
            read_log(self.emulator.dir(), "function.log"),
            self.emulator.log()
        )
    }

    fn lines(&self) -> Vec<Value> {
        read_log(self.emulator.dir(), "echo.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn lines_of(&self, kind: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["kind"] == kind)
            .collect()
    }
}

fn sqs_batch(bodies: &[&str]) -> (Value, Vec<String>) {
    let mut event = fixture("sqs-batch.json");
    let template = event["Records"][0].clone();
    let mut ids = Vec::new();
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut r = template.clone();
            let id = format!("msg-{i}-{body}");
            r["messageId"] = json!(id);
            r["body"] = json!(body);
            r["eventSourceARN"] = json!("arn:aws:sqs:us-east-2:123456789012:orders");
            ids.push(id);
            r
        })
        .collect();
    event["Records"] = json!(records);
    (event, ids)
}

#[tokio::test]
#[ignore = "needs cargo-lambda: .ci/install-aws.sh"]
async fn echo_serves_every_trigger_under_cargo_lambda() {
    let lambda = Lambda::start().await;

    // HTTP API v2 event (fixture) routed to the app's axum router.
    let mut event = fixture("apigw-http-v2-get-no-authorizer.json");
    event["rawPath"] = json!("/hello/lambda");
    event["requestContext"]["http"]["path"] = json!("/hello/lambda");
    let (status, reply) = lambda.invoke(&event).await;
    assert_eq!(status, 200, "{reply}\n{}", lambda.logs());
    assert_eq!(reply["statusCode"], 200, "{reply}");
    assert_eq!(reply["body"], "hello lambda");

    // REST v1 event with the stage in `requestContext` only.
    let mut event = fixture("apigw-rest-v1-proxy.json");
    event["path"] = json!("/echo");
    let (_, reply) = lambda.invoke(&event).await;
    assert_eq!(reply["statusCode"], 200, "{reply}");
    let echoed: Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["path"], "/echo");
    assert_eq!(echoed["query"], json!({"name": "me"}));
    assert_eq!(echoed["body"], "{\r\n\t\"a\": 1\r\n}");

    // A Function URL call through the emulator's URL endpoint.
    let url = format!("{}/lambda-url/echo/echo?a=1&a=2", lambda.base);
    let res = lambda
        .http
        .post(url)
        .header("x-demo", "hi")
        .body("ping")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}\n{}", lambda.logs());
    let echoed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(echoed["path"], "/echo");
    assert_eq!(echoed["query"], json!({"a": "1,2"}));
    assert_eq!(echoed["headers"]["x-demo"], "hi");
    assert_eq!(echoed["body"], "ping");

    // SQS: exactly the failed message comes back in batchItemFailures.
    let (event, ids) = sqs_batch(&["one", "fail", "permanent", "panic", "two"]);
    let (status, reply) = lambda.invoke(&event).await;
    assert_eq!(status, 200, "{reply}");
    let mut failed: Vec<&str> = reply["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, [ids[1].as_str(), ids[3].as_str()], "{reply}");
    let queue = lambda.lines_of("queue");
    assert_eq!(queue.len(), 5, "{queue:?}");
    assert!(
        queue
            .iter()
            .all(|l| l["trigger"] == "orders" && l["attempt"] == 1)
    );
    assert!(
        queue
            .iter()
            .any(|l| l["body"] == "one" && l["attributes"]["testAttr"] == "100")
    );

    // S3 notification, key URL-decoded.
    let mut event = fixture("s3-object-created-put.json");
    event["Records"][0]["s3"]["bucket"]["name"] = json!("uploads");
    let (status, reply) = lambda.invoke(&event).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        lambda.lines_of("storage"),
        [
            json!({"kind":"storage","trigger":"uploads","action":"created","bucket":"uploads","key":"Happy Face.jpg","size":1024})
        ]
    );

    // EventBridge schedule.
    let mut schedule = fixture("eventbridge-scheduled-event.json");
    schedule["resources"] = json!(["arn:aws:events:eu-central-1:123456789012:rule/nightly"]);
    let (status, _) = lambda.invoke(&schedule).await;
    assert_eq!(status, 200);
    assert_eq!(
        lambda.lines_of("schedule"),
        [json!({"kind":"schedule","trigger":"nightly","scheduled_time":"2020-09-30T15:58:34Z"})]
    );

    // A malformed event is an error response; the next invocation still works.
    let (status, reply) = lambda.invoke_raw("{\"Records\": [".to_owned()).await;
    assert!(status >= 400, "{status} {reply}");
    assert_eq!(reply["errorType"], "Nubes.InvalidEvent", "{reply}");
    let (status, reply) = lambda.invoke(&fixture("kinesis.json")).await;
    assert!(status >= 400, "{status} {reply}");
    assert_eq!(reply["errorType"], "Nubes.UnsupportedEvent", "{reply}");
    // An event for a bucket nobody registered is reported failed, not dropped.
    let (status, reply) = lambda.invoke(&fixture("s3-object-created-put.json")).await;
    assert!(status >= 400, "{status} {reply}");
    assert_eq!(reply["errorType"], "Nubes.UnknownTrigger", "{reply}");
    let (status, _) = lambda.invoke(&schedule).await;
    assert_eq!(status, 200, "{}", lambda.logs());
    assert_eq!(lambda.lines_of("schedule").len(), 2);

    // Logs are CloudWatch JSON lines carrying the request id.
    let logs = read_log(lambda.emulator.dir(), "function.log");
    let error_line = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no JSON error line in:\n{logs}"));
    assert!(
        error_line["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{error_line}"
    );
    assert!(error_line["timestamp"].is_string());
}
