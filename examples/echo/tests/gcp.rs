//! End to end on Cloud Run's terms: the real `echo` binary runs the GCP
//! adapter (`K_SERVICE` set, as on Cloud Run), and the real Pub/Sub emulator
//! pushes to its `/_nubes/queues/orders` endpoint. A `fail` message is
//! redelivered; a good one lands in the echo file exactly once.

#![cfg(feature = "gcp")]
#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

#[path = "../../../adapters/gcp/tests/common/emulator.rs"]
mod emulator;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emulator::Emulator;
use nubes_test_support::bound_port::bound_port;
use nubes_test_support::process::Group;
use serde_json::Value;

struct Echo {
    process: Group,
    port: u16,
    dir: tempfile::TempDir,
}

impl Echo {
    async fn start() -> Echo {
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("stdout.log")).unwrap();
        let process = Group::spawn(
            Command::new(env!("CARGO_BIN_EXE_echo"))
                .current_dir(dir.path())
                .env("K_SERVICE", "echo")
                .env("NUBES_PLATFORM", "gcp")
                .env("PORT", "0")
                .env("NUBES_HOST", "127.0.0.1")
                .env("NUBES_ECHO_FILE", dir.path().join("echo.jsonl"))
                .env("GOOGLE_CLOUD_PROJECT", "nubes-e2e")
                .env("RUST_LOG", "info")
                .env_remove("NUBES_GCP_PUSH_AUDIENCE")
                .env_remove("NUBES_GCP_MODE")
                .stdout(Stdio::from(log))
                .stderr(Stdio::null()),
        );
        // Port 0: the OS picks it, and echo's start-up line says which.
        let port = bound_port(
            dir.path(),
            "stdout.log",
            "nubes is serving",
            Duration::from_secs(20),
        );
        Echo { process, port, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("echo.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn logs(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("stdout.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn with_body(&self, body: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["body"] == body)
            .collect()
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        self.process.terminate(Duration::from_secs(15))
    }
}

#[tokio::test]
#[ignore = "needs the Pub/Sub emulator: .ci/install-gcp.sh"]
async fn emulator_pushes_are_acknowledged_or_redelivered() {
    let emulator = Emulator::start("nubes-e2e").await;
    let echo = Echo::start().await;
    emulator.create_topic("orders").await;
    emulator
        .create_subscription(
            "orders-push",
            "orders",
            Some(&echo.url("/_nubes/queues/orders")),
            10,
        )
        .await;
    let good = emulator
        .publish("orders", b"good order", &[("tenant", "acme")])
        .await;
    emulator.publish("orders", b"fail", &[]).await;

    let started = Instant::now();
    while echo.with_body("fail").len() < 2 || echo.with_body("good order").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out; lines: {:#?}",
            echo.lines()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a wrongly unacknowledged good message time to come back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let goods = echo.with_body("good order");
    assert_eq!(goods.len(), 1, "delivered once: {goods:#?}");
    assert_eq!(goods[0]["kind"], "queue");
    assert_eq!(goods[0]["trigger"], "orders");
    assert_eq!(goods[0]["id"], good.as_str());
    assert_eq!(goods[0]["attributes"]["tenant"], "acme");
    assert_eq!(goods[0]["attempt"], 1);

    // The user's routes are served by the same process.
    let text = reqwest::get(echo.url("/hello/world"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "hello world");

    // Logs are Cloud Logging JSON; the failure is an ERROR with a trace link.
    let logs = echo.logs();
    let failure = logs
        .iter()
        .find(|l| l["severity"] == "ERROR" && l["trigger"] == "orders")
        .unwrap_or_else(|| panic!("no ERROR line in {logs:#?}"));
    assert!(failure["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        failure["logging.googleapis.com/trace"]
            .as_str()
            .is_some_and(|t| t.starts_with("projects/nubes-e2e/traces/")),
        "{failure}"
    );

    let status = echo.terminate();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}
