//! The Pub/Sub emulator from the Google Cloud SDK (`gcloud beta emulators
//! pubsub start`), run in its own process group and killed with it: the Java
//! child outlives `gcloud` otherwise. It speaks the REST API on its port,
//! which is how topics, subscriptions and messages are made here.

#![allow(dead_code, unreachable_pub)]

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// What to install when `gcloud` or its emulator is missing.
const INSTALL: &str = "the Pub/Sub emulator is `gcloud` with the \
    google-cloud-cli-pubsub-emulator component and a JDK (Google's apt repository; \
    .ci/install-gcp.sh checks for it)";

/// A running emulator; dropping it kills its whole process group.
pub struct Emulator {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub host: String,
    /// The project every resource lives in.
    pub project: String,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Emulator {
    /// Starts the emulator and waits until it answers. Tests that start it
    /// are `#[ignore = "needs the Pub/Sub emulator: .ci/install-gcp.sh"]`.
    ///
    /// # Panics
    ///
    /// When `gcloud` is missing (saying what to install), or the emulator
    /// does not answer within 60 s.
    pub async fn start(project: &str) -> Emulator {
        nubes_test_support::tool::require_tool("gcloud", &["--version"], INSTALL);
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let child = Command::new("gcloud")
            .args(["beta", "emulators", "pubsub", "start", "--quiet"])
            .arg(format!("--host-port={host}"))
            .arg(format!("--project={project}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gcloud starts");
        let emulator = Emulator {
            child,
            host,
            project: project.to_owned(),
            http: reqwest::Client::new(),
        };
        let started = Instant::now();
        loop {
            let ready = emulator
                .http
                .get(format!("http://{}/", emulator.host))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the Pub/Sub emulator did not start within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        emulator
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/v1/projects/{}/{path}", self.host, self.project)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Value {
        let res = request
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("emulator reachable");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "emulator answered {status}: {body}");
        body
    }

    /// Creates topic `topic` (ids need 3+ characters).
    pub async fn create_topic(&self, topic: &str) {
        self.call(self.http.put(self.url(&format!("topics/{topic}"))))
            .await;
    }

    /// Creates subscription `name` on `topic`; a push subscription when
    /// `push_endpoint` is given.
    pub async fn create_subscription(
        &self,
        name: &str,
        topic: &str,
        push_endpoint: Option<&str>,
        ack_deadline_seconds: u32,
    ) {
        let mut body = json!({
            "topic": format!("projects/{}/topics/{topic}", self.project),
            "ackDeadlineSeconds": ack_deadline_seconds,
        });
        if let Some(endpoint) = push_endpoint {
            body["pushConfig"] = json!({ "pushEndpoint": endpoint });
        }
        self.call(
            self.http
                .put(self.url(&format!("subscriptions/{name}")))
                .json(&body),
        )
        .await;
    }

    /// Publishes one message; returns its id.
    pub async fn publish(&self, topic: &str, data: &[u8], attributes: &[(&str, &str)]) -> String {
        let attributes: serde_json::Map<String, Value> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let mut message = json!({ "data": base64::engine::general_purpose::STANDARD.encode(data) });
        if !attributes.is_empty() {
            message["attributes"] = Value::Object(attributes);
        }
        let body = self
            .call(
                self.http
                    .post(self.url(&format!("topics/{topic}:publish")))
                    .json(&json!({ "messages": [message] })),
            )
            .await;
        body["messageIds"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // The group id is gcloud's pid (it leads its own group).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}
