//! Nothing is lost under injected failures: SQS batches whose handlers fail
//! or panic on a deterministic ~10% / ~1% of messages (chosen by a hash of the
//! message id) report exactly those messages in `batchItemFailures`; a
//! simulated SQS redelivers them until every message has been handled once.
//! FIFO batches stop at the first failure and report it and everything after
//! it, so each message group keeps its order. The standard-queue batches run
//! in process through [`LambdaHandler::handle`]; one batch also goes end to
//! end through cargo-lambda's Runtime API emulator.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::collections::{HashMap, HashSet, VecDeque};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nubes_aws::{AwsConfig, Invocation, LambdaHandler};
use nubes_core::{App, BoxError, Context, QueueMessage};
use nubes_test_support::fixtures;
use nubes_test_support::lambda_emulator::LambdaEmulator;
use nubes_test_support::log_file::{log_file, read_log};
use nubes_test_support::process::Group;
use serde_json::{Value, json};

const STANDARD_QUEUE: &str = "orders";
const FIFO_QUEUE: &str = "orders.fifo";
const PANIC_TEXT: &str = "injected panic";

/// What a message's handler does on its first run (later runs succeed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Succeed,
    Fail,
    Panic,
}

/// ~1% panic, ~10% fail, the rest succeed: FNV-1a of the id, so every run of
/// the test injects the same faults.
fn fate(id: &str) -> Fate {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    match hash % 1000 {
        0..10 => Fate::Panic,
        10..110 => Fate::Fail,
        _ => Fate::Succeed,
    }
}

/// What the handlers did, by message id.
#[derive(Default)]
struct Ledger {
    runs: HashMap<String, u32>,
    successes: HashMap<String, u32>,
    /// Successful messages in the order they succeeded, with their group.
    succeeded_in_order: Vec<(Option<String>, String)>,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Ledger>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ledger> {
        // A panicking handler never holds the lock, but stay robust anyway.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Keeps the expected panics out of the test output; any other panic (a
/// failed assertion) is still printed.
fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info.payload().downcast_ref::<&str>() == Some(&PANIC_TEXT);
            if !injected {
                default(info);
            }
        }));
    });
}

/// Both queues share one handler: transient faults on the first run of the
/// ids `fate` picks, success (recorded) otherwise.
fn fault_app(ledger: &Shared) -> App {
    let handler = {
        let ledger = ledger.clone();
        move |msg: QueueMessage, _ctx: Context| {
            let ledger = ledger.clone();
            async move {
                let first_run = {
                    let mut l = ledger.lock();
                    let runs = l.runs.entry(msg.id.clone()).or_default();
                    *runs += 1;
                    *runs == 1
                };
                match (first_run, fate(&msg.id)) {
                    (true, Fate::Fail) => return Err::<(), BoxError>("injected failure".into()),
                    (true, Fate::Panic) => std::panic::panic_any(PANIC_TEXT),
                    _ => {}
                }
                let mut l = ledger.lock();
                *l.successes.entry(msg.id.clone()).or_default() += 1;
                l.succeeded_in_order
                    .push((msg.ordering_key.clone(), msg.id));
                Ok(())
            }
        }
    };
    App::new()
        .on_queue(STANDARD_QUEUE, handler.clone())
        .on_queue(FIFO_QUEUE, handler)
}

/// One queued message as the simulated SQS keeps it.
#[derive(Debug, Clone)]
struct Queued {
    id: String,
    group: Option<String>,
    receive_count: u32,
}

fn template_record() -> Value {
    fixtures::json("aws/sqs-batch.json")["Records"][0].clone()
}

/// An SQS event for `batch`, built from the real fixture's record shape.
fn sqs_event(template: &Value, queue: &str, batch: &[Queued]) -> Value {
    let records: Vec<Value> = batch
        .iter()
        .map(|m| {
            let mut r = template.clone();
            r["messageId"] = json!(m.id);
            r["body"] = json!(format!("payload of {}", m.id));
            r["eventSourceARN"] = json!(format!("arn:aws:sqs:us-east-2:123456789012:{queue}"));
            r["attributes"]["ApproximateReceiveCount"] = json!(m.receive_count.to_string());
            if let Some(group) = &m.group {
                r["attributes"]["MessageGroupId"] = json!(group);
                r["attributes"]["SequenceNumber"] = json!("18849496460467696128");
            }
            r
        })
        .collect();
    json!({ "Records": records })
}

/// The ids in a `{"batchItemFailures":[{"itemIdentifier":…}]}` reply, in order.
fn failed_ids(reply: &[u8]) -> Vec<String> {
    let reply: Value = serde_json::from_slice(reply).unwrap();
    reply["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("not a batch response: {reply}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// The totals a run reports (printed for docs/reliability.md).
#[derive(Default)]
struct Figures {
    messages: usize,
    invocations: usize,
    injected_failures: usize,
    injected_panics: usize,
    redeliveries: usize,
    reported_not_run: usize,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages, {} invocations, {} injected failures, {} injected panics, \
             {} redeliveries ({} reported without running), lost 0",
            self.messages,
            self.invocations,
            self.injected_failures,
            self.injected_panics,
            self.redeliveries,
            self.reported_not_run
        )
    }
}

/// Each id succeeded exactly once and nothing else ran.
fn assert_nothing_lost(ledger: &Shared, ids: &[String]) {
    let l = ledger.lock();
    let lost: Vec<&String> = ids
        .iter()
        .filter(|id| l.successes.get(*id) != Some(&1))
        .collect();
    assert!(lost.is_empty(), "not handled exactly once: {lost:?}");
    assert_eq!(l.successes.len(), ids.len(), "unknown ids succeeded");
}

#[tokio::test]
async fn standard_batches_report_exactly_the_failed_messages_and_lose_nothing() {
    quiet_injected_panics();
    let ledger = Shared::default();
    let handler = LambdaHandler::new(fault_app(&ledger), AwsConfig::default()).unwrap();
    let template = template_record();
    let ids: Vec<String> = (0..20 * 100)
        .map(|n| format!("{:08x}-4b1d-4e3a-9c2f-{n:012}", n * 7919))
        .collect();
    let mut queue: VecDeque<Queued> = ids
        .iter()
        .map(|id| Queued {
            id: id.clone(),
            group: None,
            receive_count: 1,
        })
        .collect();
    let mut figures = Figures {
        messages: ids.len(),
        ..Figures::default()
    };
    let mut failed_before: HashSet<String> = HashSet::new();
    let started = Instant::now();
    while !queue.is_empty() {
        assert!(figures.invocations < 100, "the queue does not drain");
        let batch: Vec<Queued> = queue.drain(..queue.len().min(100)).collect();
        let event = sqs_event(&template, STANDARD_QUEUE, &batch);
        figures.invocations += 1;
        let reply = handler
            .handle(
                Bytes::from(event.to_string()),
                &Invocation::new(format!("req-{}", figures.invocations)),
            )
            .await
            .unwrap();
        let expected: Vec<String> = batch
            .iter()
            .filter(|m| fate(&m.id) != Fate::Succeed && !failed_before.contains(&m.id))
            .map(|m| m.id.clone())
            .collect();
        for id in &expected {
            match fate(id) {
                Fate::Panic => figures.injected_panics += 1,
                _ => figures.injected_failures += 1,
            }
        }
        let failed = failed_ids(&reply);
        assert_eq!(
            failed, expected,
            "invocation {}: every failed id, and only those",
            figures.invocations
        );
        // SQS makes the reported messages visible again.
        for m in batch.into_iter().filter(|m| failed.contains(&m.id)) {
            failed_before.insert(m.id.clone());
            figures.redeliveries += 1;
            queue.push_back(Queued {
                receive_count: m.receive_count + 1,
                ..m
            });
        }
    }
    let elapsed = started.elapsed();
    assert_nothing_lost(&ledger, &ids);
    assert_eq!(ledger.lock().successes.len(), figures.messages);
    let runs: u32 = ledger.lock().runs.values().sum();
    assert_eq!(
        runs as usize,
        ids.len() + figures.injected_failures + figures.injected_panics,
        "each message ran once, plus once more per injected fault"
    );
    // The hash really injected what the issue asks for (about 10% and 1%).
    assert!(
        (150..=250).contains(&figures.injected_failures),
        "{figures}"
    );
    assert!((5..=40).contains(&figures.injected_panics), "{figures}");
    println!("standard SQS: {figures} in {elapsed:?}");
}

#[tokio::test]
async fn fifo_batches_stop_at_the_first_failure_and_keep_each_group_in_order() {
    quiet_injected_panics();
    let ledger = Shared::default();
    let handler = LambdaHandler::new(fault_app(&ledger), AwsConfig::default()).unwrap();
    let template = template_record();
    // 400 messages in 4 interleaved groups; FIFO batches hold at most 10.
    let published: Vec<Queued> = (0..400)
        .map(|n| Queued {
            id: format!("fifo-{n:04}"),
            group: Some(format!("group-{}", n % 4)),
            receive_count: 1,
        })
        .collect();
    let ids: Vec<String> = published.iter().map(|m| m.id.clone()).collect();
    let mut queue: VecDeque<Queued> = published.iter().cloned().collect();
    let mut figures = Figures {
        messages: ids.len(),
        ..Figures::default()
    };
    let mut failed_before: HashSet<String> = HashSet::new();
    let started = Instant::now();
    while !queue.is_empty() {
        assert!(figures.invocations < 200, "the queue does not drain");
        let batch: Vec<Queued> = queue.drain(..queue.len().min(10)).collect();
        let runs_before: HashMap<String, u32> = ledger.lock().runs.clone();
        let event = sqs_event(&template, FIFO_QUEUE, &batch);
        figures.invocations += 1;
        let reply = handler
            .handle(
                Bytes::from(event.to_string()),
                &Invocation::new(format!("fifo-req-{}", figures.invocations)),
            )
            .await
            .unwrap();
        // The first message that fails stops the batch: it and every later
        // message (whatever its group) go back, the later ones never ran.
        let first_failure = batch
            .iter()
            .position(|m| fate(&m.id) != Fate::Succeed && !failed_before.contains(&m.id));
        let expected: Vec<String> = match first_failure {
            Some(at) => batch[at..].iter().map(|m| m.id.clone()).collect(),
            None => Vec::new(),
        };
        let failed = failed_ids(&reply);
        assert_eq!(failed, expected, "invocation {}", figures.invocations);
        let runs_after = ledger.lock().runs.clone();
        for (index, m) in batch.iter().enumerate() {
            let ran = runs_after.get(&m.id) != runs_before.get(&m.id);
            let should_run = first_failure.is_none_or(|at| index <= at);
            assert_eq!(ran, should_run, "{} ran: {ran}", m.id);
        }
        if let Some(at) = first_failure {
            match fate(&batch[at].id) {
                Fate::Panic => figures.injected_panics += 1,
                _ => figures.injected_failures += 1,
            }
            failed_before.insert(batch[at].id.clone());
            figures.reported_not_run += batch.len() - at - 1;
        }
        // The reported messages are the head of their groups again.
        for m in batch.into_iter().rev().filter(|m| failed.contains(&m.id)) {
            figures.redeliveries += 1;
            queue.push_front(Queued {
                receive_count: m.receive_count + 1,
                ..m
            });
        }
    }
    let elapsed = started.elapsed();
    assert_nothing_lost(&ledger, &ids);
    let l = ledger.lock();
    assert_eq!(l.successes.len(), figures.messages);
    for group in 0..4 {
        let group = format!("group-{group}");
        let published_order: Vec<&String> = published
            .iter()
            .filter(|m| m.group.as_deref() == Some(group.as_str()))
            .map(|m| &m.id)
            .collect();
        let handled_order: Vec<&String> = l
            .succeeded_in_order
            .iter()
            .filter(|(g, _)| g.as_deref() == Some(group.as_str()))
            .map(|(_, id)| id)
            .collect();
        assert_eq!(handled_order, published_order, "{group} kept its order");
    }
    assert!(
        figures.injected_failures + figures.injected_panics >= 20,
        "{figures}"
    );
    println!("FIFO SQS: {figures} in {elapsed:?}");
}

// ---- End to end through cargo-lambda's Runtime API emulator ----

const CHILD_ENV: &str = "NUBES_FAULTS_LAMBDA_CHILD";

/// The Lambda function of the end-to-end test: this test binary, re-run with
/// `--ignored` and the Runtime API in its environment, serves the fault app
/// through `nubes_aws::run` until its process group is killed.
#[test]
#[ignore = "the function process of `one_batch_end_to_end_through_the_runtime_api_emulator`"]
fn lambda_function_process() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    quiet_injected_panics();
    let ledger = Shared::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let result = runtime.block_on(nubes_aws::run(fault_app(&ledger)));
    panic!("the function stopped serving: {result:?}");
}

#[tokio::test]
#[ignore = "needs cargo-lambda: .ci/install-aws.sh"]
async fn one_batch_end_to_end_through_the_runtime_api_emulator() {
    let started = Instant::now();
    let emulator = LambdaEmulator::start("faults");
    let dir = emulator.dir();
    let logs = || {
        format!(
            "--- function\n{}\n--- emulator\n{}",
            read_log(dir, "function.log"),
            emulator.log()
        )
    };
    let _function = Group::spawn(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "lambda_function_process",
                "--nocapture",
            ])
            .env(CHILD_ENV, "1")
            .env("AWS_LAMBDA_RUNTIME_API", emulator.runtime_api("faults"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "faults")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env_remove("RUST_LOG")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log_file(dir, "function.log"))
            .stderr(log_file(dir, "function.log")),
    );
    let batch: Vec<Queued> = (0..100)
        .map(|n| Queued {
            id: format!("e2e-{n:03}"),
            group: None,
            receive_count: 1,
        })
        .collect();
    let expected: Vec<String> = batch
        .iter()
        .filter(|m| fate(&m.id) != Fate::Succeed)
        .map(|m| m.id.clone())
        .collect();
    assert!(
        expected.iter().any(|id| fate(id) == Fate::Panic),
        "the batch holds a panicking message"
    );
    let template = template_record();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = emulator.invoke_url("faults");
    let invoke = |batch: Vec<Queued>| {
        let body = sqs_event(&template, STANDARD_QUEUE, &batch).to_string();
        let (http, url, logs) = (&http, &url, &logs);
        async move {
            let res = http
                .post(url)
                .body(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("invoke failed: {e}\n{}", logs()));
            let status = res.status().as_u16();
            let reply = res.bytes().await.unwrap();
            assert_eq!(
                status,
                200,
                "{}\n{}",
                String::from_utf8_lossy(&reply),
                logs()
            );
            failed_ids(&reply)
        }
    };
    let failed = invoke(batch.clone()).await;
    assert_eq!(failed, expected, "{}", logs());
    // SQS redelivers them to the same process (it kept serving after the
    // panics): they all succeed now.
    let again: Vec<Queued> = batch
        .into_iter()
        .filter(|m| failed.contains(&m.id))
        .map(|m| Queued {
            receive_count: 2,
            ..m
        })
        .collect();
    assert!(invoke(again).await.is_empty(), "{}", logs());
    println!(
        "end to end: 100 messages, {} failed then redelivered, in {:?}",
        expected.len(),
        started.elapsed()
    );
}
