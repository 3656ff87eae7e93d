//! The local runner loses no accepted message when it is killed outright
//! (SIGKILL) while it delivers, and restarted on the same `NUBES_LOCAL_DIR`.
//!
//! What each test asserts, with `lines` the echo lines (queue `orders`),
//! `before` those written before the kill, `after` those written after the
//! restart, and `spooled` the events left in `<NUBES_LOCAL_DIR>/spool/` by
//! the killed process:
//!
//! - nothing lost: every message answered `202` has a line in `before` or
//!   `after`. A kill that leaves `spooled` empty proves nothing, so the
//!   scenario is run again (at most 20 times) until one leaves unfinished events;
//! - exactly the unfinished ones are redelivered, each exactly once: the ids
//!   of `after` are `spooled`, without repeats; `before` has no repeats either;
//! - each ends handled: the spool folder empties after the restart and no
//!   message is dead-lettered; every line is attempt 1 (nothing failed).
//!
//! A message whose handler had run (its line is in `before`) but was not yet
//! marked finished when the process died is delivered again after the restart:
//! at-least-once, as on every cloud. Its count is printed, not asserted.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nubes_test_support::bound_port::bound_port;
use nubes_test_support::process::Group;
use nubes_test_support::wait;
use serde_json::Value;

/// Messages of each burst.
const BURST: usize = 300;
/// Scenario runs before giving up on a kill that leaves unfinished events.
const TRIES: usize = 20;
/// Longest wait for the restarted runner to drain its spool.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The echo binary, its port and its folders (state in `<dir>/state`).
struct Runner {
    process: Group,
    base: String,
}

impl Runner {
    async fn start(dir: &Path) -> Runner {
        // Port 0: the OS picks it, and the runner's start-up line says which.
        // A restart truncates the log, so the line read is this start's.
        let log = std::fs::File::create(dir.join("runner.log")).unwrap();
        let process = Group::spawn(
            Command::new(env!("CARGO_BIN_EXE_echo"))
                .current_dir(dir)
                .env("PORT", "0")
                .env("NUBES_LOCAL_DIR", dir.join("state"))
                .env("NUBES_ECHO_FILE", dir.join("echo.jsonl"))
                .env("NUBES_LOCAL_SCHEDULES", "false")
                .env("RUST_LOG", "warn")
                .env_remove("NUBES_PLATFORM")
                .stdout(Stdio::null())
                .stderr(Stdio::from(log)),
        );
        let port = bound_port(dir, "runner.log", "listening on", Duration::from_secs(20));
        Runner {
            process,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// SIGKILL: no chance to finish or clean up anything.
    fn kill(&mut self) {
        self.process.child().kill().unwrap();
        self.process.child().wait().unwrap();
    }
}

fn lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("echo.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Ids of the events in the spool folder (`<NUBES_LOCAL_DIR>/spool/<id>.json`).
fn spooled(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join("state/spool"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect()
}

/// Posts `BURST` messages to queue `orders`, 64 at a time; the ids of those
/// answered `202` go to `accepted` (a post cut off by the kill is not).
async fn burst(http: reqwest::Client, base: String, accepted: Arc<std::sync::Mutex<Vec<String>>>) {
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let mut posts = tokio::task::JoinSet::new();
    for n in 0..BURST {
        let (http, url, accepted) = (
            http.clone(),
            format!("{base}/_nubes/queues/orders"),
            accepted.clone(),
        );
        let permit = gate.clone().acquire_owned().await.unwrap();
        posts.spawn(async move {
            let _permit = permit;
            let Ok(res) = http.post(url).body(format!("order {n}")).send().await else {
                return;
            };
            if res.status() != reqwest::StatusCode::ACCEPTED {
                return;
            }
            if let Ok(body) = res.json::<Value>().await
                && let Some(id) = body["id"].as_str()
            {
                accepted.lock().unwrap().push(id.to_owned());
            }
        });
    }
    while posts.join_next().await.is_some() {}
}

/// Restarts on the same folder, waits for the spool to drain and checks the
/// promises listed at the top of this file. `false` (nothing checked) when the
/// kill came after every delivery had finished: the caller tries again.
async fn restart_and_check(
    dir: &Path,
    http: &reqwest::Client,
    accepted: &[String],
    case: &str,
) -> bool {
    let before = lines(dir);
    let spooled = self::spooled(dir);
    if spooled.is_empty() {
        println!("{case}: the kill came after every delivery had finished; again");
        return false;
    }
    let started = Instant::now();
    let runner = Runner::start(dir).await;
    loop {
        let left = self::spooled(dir).len();
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < DRAIN_TIMEOUT,
            "{case}: the restarted runner did not finish {left} spooled events"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let drained = started.elapsed();
    let all = lines(dir);
    let after = &all[before.len()..];
    let id = |l: &Value| l["id"].as_str().unwrap().to_owned();

    for line in &all {
        assert_eq!(line["kind"], "queue", "{case}: {line}");
        assert_eq!(line["attempt"], 1, "{case}: nothing failed: {line}");
    }
    let before_ids: HashSet<String> = before.iter().map(id).collect();
    assert_eq!(
        before_ids.len(),
        before.len(),
        "{case}: a repeat before the kill"
    );
    let after_ids: BTreeSet<String> = after.iter().map(id).collect();
    assert_eq!(
        after_ids.len(),
        after.len(),
        "{case}: a repeat after the restart"
    );
    assert_eq!(
        after_ids, spooled,
        "{case}: exactly the unfinished events are redelivered"
    );
    let lost: Vec<&String> = accepted
        .iter()
        .filter(|a| !before_ids.contains(*a) && !after_ids.contains(*a))
        .collect();
    assert!(lost.is_empty(), "{case}: accepted and lost: {lost:?}");
    let dead: Value = http
        .get(format!("{}/_nubes/queues/orders/dead", runner.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead, serde_json::json!([]), "{case}: dead letters");
    let again = after_ids
        .intersection(&before_ids.iter().cloned().collect())
        .count();
    println!(
        "{case}: {} accepted, {} handled before the kill, {} spooled at the kill \
         ({again} of them already handled once: redelivered), restarted and drained in {drained:?}",
        accepted.len(),
        before.len(),
        spooled.len()
    );
    true
}

/// Newlines in the echo file (safe to read while the runner appends).
fn delivered(dir: &Path) -> usize {
    std::fs::read(dir.join("echo.jsonl"))
        .unwrap_or_default()
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// Runs `scenario` (start, burst, SIGKILL; it returns the folder and the
/// accepted ids) until its kill leaves unfinished events, then checks the
/// restart. Bounded: each try takes 0.1 to 0.3 s here.
async fn until_checked<F, Fut>(case: &str, scenario: F)
where
    F: Fn(reqwest::Client) -> Fut,
    Fut: std::future::Future<Output = (tempfile::TempDir, Vec<String>)>,
{
    let http = reqwest::Client::new();
    for attempt in 1..=TRIES {
        let (dir, accepted) = scenario(http.clone()).await;
        if restart_and_check(dir.path(), &http, &accepted, case).await {
            println!("{case}: checked at try {attempt}");
            return;
        }
    }
    panic!("{case}: in {TRIES} tries, no kill left an unfinished event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_while_handlers_run_loses_no_message() {
    until_checked("kill while handlers run", |http| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut runner = Runner::start(dir.path()).await;
        let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
        let posting = tokio::spawn(burst(http.clone(), runner.base.clone(), accepted.clone()));
        // Killed as soon as handlers run, while messages still arrive.
        let started = Instant::now();
        while delivered(dir.path()) < 20 {
            assert!(started.elapsed() < Duration::from_secs(20), "no delivery");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        runner.kill();
        posting.await.unwrap();
        let accepted = accepted.lock().unwrap().clone();
        (dir, accepted)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_right_after_a_burst_loses_no_message() {
    until_checked("kill right after a burst", |http| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut runner = Runner::start(dir.path()).await;
        let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
        burst(http.clone(), runner.base.clone(), accepted.clone()).await;
        runner.kill(); // the moment the last message is accepted
        let accepted = accepted.lock().unwrap().clone();
        assert_eq!(accepted.len(), BURST, "every post answered 202");
        (dir, accepted)
    })
    .await;
}

/// Uploads of the storage burst.
const UPLOADS: usize = 2000;

/// The object keys named by the storage events in the spool folder.
fn spooled_keys(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join("state/spool"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .filter_map(|r| r["event"]["event"]["key"].as_str().map(str::to_owned))
        .collect()
}

/// Keys of the objects in the `uploads` folder.
fn objects(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join("state/storage/uploads"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// Puts `UPLOADS` objects `k<n>.txt`, 64 at a time; the keys answered `201`
/// go to `acked`.
async fn uploads(
    http: reqwest::Client,
    base: String,
    acked: Arc<std::sync::Mutex<BTreeSet<String>>>,
) {
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let mut puts = tokio::task::JoinSet::new();
    for n in 0..UPLOADS {
        let (http, acked) = (http.clone(), acked.clone());
        let key = format!("k{n}.txt");
        let url = format!("{base}/_nubes/storage/uploads/{key}");
        let permit = gate.clone().acquire_owned().await.unwrap();
        puts.spawn(async move {
            let _permit = permit;
            if let Ok(res) = http.put(url).body(format!("object {n}")).send().await
                && res.status() == reqwest::StatusCode::CREATED
            {
                acked.lock().unwrap().insert(key);
            }
        });
    }
    while puts.join_next().await.is_some() {}
}

/// Issue 23: after a kill during concurrent uploads, one stored object had
/// no event. Every object on disk (and every upload answered `201`) must have
/// its `created` event, and no event may name an object that is not there.
/// A key's event runs twice only when it was spooled at the kill with its
/// handler already run (at-least-once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_concurrent_uploads_leaves_one_event_per_object() {
    let http = reqwest::Client::new();
    for attempt in 1..=TRIES {
        let dir = tempfile::tempdir().unwrap();
        let mut runner = Runner::start(dir.path()).await;
        let acked = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
        let posting = tokio::spawn(uploads(http.clone(), runner.base.clone(), acked.clone()));
        // Killed once handlers run, while uploads still arrive.
        let started = Instant::now();
        while delivered(dir.path()) < 100 {
            assert!(started.elapsed() < Duration::from_secs(20), "no delivery");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        runner.kill();
        posting.await.unwrap();
        let in_flight = spooled_keys(dir.path());
        let before = lines(dir.path()).len();
        let restarted = Runner::start(dir.path()).await;
        wait::until("the spool drains", DRAIN_TIMEOUT, || {
            spooled(dir.path()).is_empty()
        })
        .await;
        let all = lines(dir.path());
        let mut events: std::collections::BTreeMap<String, usize> = Default::default();
        for line in &all {
            assert_eq!(line["action"], "created", "{line}");
            *events
                .entry(line["key"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        let on_disk = objects(dir.path());
        let acked = acked.lock().unwrap().clone();
        let unacked_stored = on_disk.difference(&acked).count();
        assert!(acked.is_subset(&on_disk), "acknowledged and not stored");
        let keys: BTreeSet<String> = events.keys().cloned().collect();
        assert_eq!(
            keys, on_disk,
            "objects without an event, or events without an object"
        );
        let again: Vec<&String> = events
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, _)| k)
            .collect();
        for key in &again {
            assert_eq!(events[*key], 2, "{key}");
            assert!(
                in_flight.contains(*key),
                "{key} ran twice without being spooled"
            );
        }
        drop(restarted);
        println!(
            "try {attempt}: {} acknowledged, {} objects ({unacked_stored} stored but cut off \
             before their 201), {} events ({before} before the kill), {} spooled at the kill, \
             {} redelivered after having run",
            acked.len(),
            on_disk.len(),
            all.len(),
            in_flight.len(),
            again.len()
        );
        if !in_flight.is_empty() {
            return;
        }
    }
    panic!("in {TRIES} tries, no kill left an unfinished upload");
}
