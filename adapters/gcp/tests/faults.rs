//! Nothing is lost under injected failures, against the real Pub/Sub
//! emulator: 1000 messages pushed to a nubes server on loopback whose handler
//! fails the first delivery of a deterministic ~10% of them (by a hash of the
//! payload). Every message ends up handled successfully exactly once, and
//! every failed one was redelivered. The pull worker (feature `pubsub-pull`)
//! gets the same run.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::emulator::Emulator;
use common::loopback;
use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_gcp::GcpConfig;
use serde_json::{Value, json};

const MESSAGES: usize = 1000;
/// The emulator's redelivery backoff starts at 1 s (it raises any shorter
/// `minimumBackoff` to that), so the whole run takes a few seconds.
const BOUND: Duration = Duration::from_secs(90);

/// Whether the payload's first delivery fails: ~10%, by FNV-1a of the payload.
fn fails_first(payload: &str) -> bool {
    let hash = payload.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % 10 == 0
}

/// What the handler did, by Pub/Sub message id.
#[derive(Default)]
struct Ledger {
    runs: HashMap<String, u32>,
    successes: HashMap<String, u32>,
    /// Payload of each message id, to check ids against what was published.
    payloads: HashMap<String, String>,
    injected: usize,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Ledger>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ledger> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn fault_app(ledger: &Shared) -> App {
    let ledger = ledger.clone();
    App::new().on_queue("bulk", move |msg: QueueMessage, _ctx: Context| {
        let ledger = ledger.clone();
        async move {
            let payload = msg.text()?.to_owned();
            let mut l = ledger.lock();
            let runs = l.runs.entry(msg.id.clone()).or_default();
            *runs += 1;
            if *runs == 1 && fails_first(&payload) {
                l.injected += 1;
                return Err::<(), BoxError>("injected transient failure".into());
            }
            *l.successes.entry(msg.id.clone()).or_default() += 1;
            l.payloads.insert(msg.id, payload);
            Ok(())
        }
    })
}

/// REST calls the shared emulator helper does not make.
struct Admin {
    http: reqwest::Client,
    base: String,
    project: String,
}

impl Admin {
    fn new(emulator: &Emulator) -> Admin {
        Admin {
            http: reqwest::Client::new(),
            base: format!("http://{}/v1/projects/{}", emulator.host, emulator.project),
            project: emulator.project.clone(),
        }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Value {
        let res = request
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "emulator answered {status}: {body}");
        body
    }

    async fn create_topic(&self, topic: &str) {
        self.call(self.http.put(format!("{}/topics/{topic}", self.base)))
            .await;
    }

    /// A subscription with the shortest redelivery backoff the API accepts,
    /// and an ack deadline long enough that a busy CI machine never makes an
    /// acknowledged delivery come back.
    async fn create_subscription(&self, name: &str, topic: &str, push_endpoint: Option<&str>) {
        let mut body = json!({
            "topic": format!("projects/{}/topics/{topic}", self.project),
            "ackDeadlineSeconds": 60,
            "retryPolicy": {"minimumBackoff": "0s", "maximumBackoff": "1s"},
        });
        if let Some(endpoint) = push_endpoint {
            body["pushConfig"] = json!({ "pushEndpoint": endpoint });
        }
        self.call(
            self.http
                .put(format!("{}/subscriptions/{name}", self.base))
                .json(&body),
        )
        .await;
    }

    /// Publishes `payloads` 100 per request; returns payload → message id.
    async fn publish_all(&self, topic: &str, payloads: &[String]) -> HashMap<String, String> {
        let mut ids = HashMap::new();
        for chunk in payloads.chunks(100) {
            let messages: Vec<Value> = chunk
                .iter()
                .map(|p| json!({"data": base64::engine::general_purpose::STANDARD.encode(p)}))
                .collect();
            let reply = self
                .call(
                    self.http
                        .post(format!("{}/topics/{topic}:publish", self.base))
                        .json(&json!({ "messages": messages })),
                )
                .await;
            let got = reply["messageIds"].as_array().unwrap();
            assert_eq!(got.len(), chunk.len());
            for (payload, id) in chunk.iter().zip(got) {
                ids.insert(payload.clone(), id.as_str().unwrap().to_owned());
            }
        }
        ids
    }
}

/// Figures of one run, printed for docs/reliability.md.
struct Figures {
    messages: usize,
    injected_failures: usize,
    redeliveries: usize,
    lost: usize,
    duplicates: usize,
    elapsed: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages, {} injected failures, {} redeliveries, lost {}, duplicates {}, in {:?}",
            self.messages,
            self.injected_failures,
            self.redeliveries,
            self.lost,
            self.duplicates,
            self.elapsed
        )
    }
}

/// Publishes the messages, waits until all succeeded (within [`BOUND`]) and
/// checks each was handled successfully exactly once and every injected
/// failure was redelivered.
async fn run_and_check(admin: &Admin, topic: &str, ledger: &Shared) -> Figures {
    let payloads: Vec<String> = (0..MESSAGES).map(|n| format!("order-{n:04}")).collect();
    let expected_failures = payloads.iter().filter(|p| fails_first(p)).count();
    assert!(
        (60..=140).contains(&expected_failures),
        "~10% injected: {expected_failures}"
    );
    let started = Instant::now();
    let ids = admin.publish_all(topic, &payloads).await;
    loop {
        let done = ledger.lock().successes.len();
        if done >= MESSAGES {
            break;
        }
        assert!(
            started.elapsed() < BOUND,
            "only {done} of {MESSAGES} handled within {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    // Anything acknowledged must not come back: give it a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let l = ledger.lock();
    let lost = payloads
        .iter()
        .filter(|p| !l.successes.contains_key(&ids[*p]))
        .count();
    let duplicates = l.successes.values().filter(|n| **n > 1).count();
    assert_eq!(lost, 0, "every published message handled");
    assert_eq!(duplicates, 0, "each handled successfully exactly once");
    assert_eq!(l.successes.len(), MESSAGES, "no unknown message ids");
    for payload in &payloads {
        let id = &ids[payload];
        assert_eq!(&l.payloads[id], payload, "message {id} carried its payload");
        let runs = l.runs[id];
        if fails_first(payload) {
            assert!(runs >= 2, "{payload} failed once, so it was redelivered");
        }
    }
    assert_eq!(l.injected, expected_failures);
    let total_runs: u32 = l.runs.values().sum();
    Figures {
        messages: MESSAGES,
        injected_failures: l.injected,
        redeliveries: total_runs as usize - MESSAGES,
        lost,
        duplicates,
        elapsed,
    }
}

async fn serve(config: GcpConfig, ledger: &Shared) -> nubes_gcp::GcpServer {
    nubes_gcp::start(fault_app(ledger), config).await.unwrap()
}

#[tokio::test]
#[ignore = "needs the Pub/Sub emulator: .ci/install-gcp.sh"]
async fn a_thousand_pushed_messages_with_transient_failures_are_all_handled_once() {
    let emulator = Emulator::start("nubes-faults-push").await;
    let admin = Admin::new(&emulator);
    let ledger = Shared::default();
    let server = serve(loopback(), &ledger).await;
    admin.create_topic("bulk-topic").await;
    let endpoint = format!("{}/_nubes/queues/bulk", server.url());
    admin
        .create_subscription("bulk-push", "bulk-topic", Some(&endpoint))
        .await;
    let figures = run_and_check(&admin, "bulk-topic", &ledger).await;
    println!("Pub/Sub push: {figures}");
    server.shutdown().await.unwrap();
}

#[cfg(feature = "pubsub-pull")]
#[tokio::test]
#[ignore = "needs the Pub/Sub emulator: .ci/install-gcp.sh"]
async fn a_thousand_pulled_messages_with_transient_failures_are_all_handled_once() {
    let emulator = Emulator::start("nubes-faults-pull").await;
    let admin = Admin::new(&emulator);
    admin.create_topic("bulk-topic").await;
    admin
        .create_subscription("bulk-pull", "bulk-topic", None)
        .await;
    let ledger = Shared::default();
    let mut config = loopback();
    config.project_id = Some(emulator.project.clone());
    config.pull.mode = nubes_gcp::Mode::Pull;
    config.pull.endpoint = Some(format!("http://{}", emulator.host));
    config.pull.anonymous = true;
    config.pull.subscriptions = vec![("bulk".into(), "bulk-pull".into())];
    let server = serve(config, &ledger).await;
    let figures = run_and_check(&admin, "bulk-topic", &ledger).await;
    println!("Pub/Sub pull: {figures}");
    server.shutdown().await.unwrap();
}
