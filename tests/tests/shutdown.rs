//! Graceful shutdown under load, with a real process and a real SIGTERM, on
//! each HTTP-based platform (local runner, Cloud Run, Azure custom handler).
//!
//! `shutdown-app` (src/bin) is started on port 0 (it says which port it
//! bound in its start-up line); 64 client loops send
//! `GET /fast` and `GET /slow?ms=300` in turn for 2 s; SIGTERM arrives after
//! 1 s. Every request the server had accepted must get its normal `200`, no
//! `5xx` ever, no request started well after SIGTERM may succeed, and the
//! process must exit 0 within the grace period. Also: the HTTP deadline
//! (`Context::remaining`, and a JSON `504` for a handler that outlives it).

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nubes_test_support::bound_port::bound_port;
use nubes_test_support::log_file::log_file;
use nubes_test_support::process::{self, Group, wait_exit};

const CONCURRENCY: usize = 64;
const LOAD: Duration = Duration::from_secs(2);
const SIGTERM_AFTER: Duration = Duration::from_secs(1);
/// The default grace period, which the app runs with.
const GRACE: Duration = Duration::from_secs(10);
/// A request started this long before SIGTERM was surely read by the server.
const SURELY_ACCEPTED: Duration = Duration::from_millis(200);
/// Requests started this long after SIGTERM must not be served.
const SURELY_REFUSED: Duration = Duration::from_millis(200);

/// The tests of this file run one at a time: each loads the machine, and the
/// deadline test measures time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The app process, in its own process group, killed if the test fails
/// (before its folder is removed).
struct App {
    process: Group,
    base: String,
    _dir: tempfile::TempDir,
}

/// Starts the app on port 0 and reads the port from its start-up line
/// (each platform's own: a line on stderr locally, an `info` log line on
/// Cloud Run and Azure).
async fn start(platform: &str, extra: &[(&str, &str)]) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_shutdown-app"));
    command
        .env("NUBES_PLATFORM", platform)
        .env("NUBES_HOST", "127.0.0.1")
        .env("NUBES_LOCAL_DIR", dir.path())
        .env("RUST_LOG", "warn,nubes_gcp=info,nubes_azure=info")
        .env_remove("NUBES_SHUTDOWN_GRACE_MS")
        .stdout(log_file(dir.path(), "app.log"))
        .stderr(log_file(dir.path(), "app.log"));
    let ready = match platform {
        "azure" => {
            command.env("FUNCTIONS_CUSTOMHANDLER_PORT", "0");
            "custom handler ready"
        }
        "gcp" => {
            command.env("PORT", "0");
            "nubes is serving"
        }
        _ => {
            command.env("PORT", "0");
            "listening on"
        }
    };
    for (k, v) in extra {
        command.env(k, v);
    }
    let process = Group::spawn(&mut command);
    let port = bound_port(dir.path(), "app.log", ready, Duration::from_secs(30));
    App {
        process,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

/// How many `/slow` requests the app is handling now.
async fn in_flight(client: &reqwest::Client, base: &str) -> usize {
    let res = client.get(format!("{base}/in-flight")).send().await;
    match res {
        Ok(res) => res.text().await.unwrap_or_default().parse().unwrap_or(0),
        Err(_) => 0,
    }
}

/// One request as the client saw it.
struct Sent {
    started: Instant,
    ended: Instant,
    slow: bool,
    /// The status, or the error text.
    result: Result<u16, String>,
}

async fn client_loop(
    client: reqwest::Client,
    base: String,
    stop: Arc<AtomicBool>,
    n: usize,
) -> Vec<Sent> {
    let mut sent = Vec::new();
    let mut slow = n.is_multiple_of(2);
    while !stop.load(Ordering::Relaxed) {
        let url = if slow {
            format!("{base}/slow?ms=300")
        } else {
            format!("{base}/fast")
        };
        let started = Instant::now();
        let result = match client.get(url).send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                match res.text().await {
                    Ok(body) if status != 200 || body == if slow { "slow" } else { "fast" } => {
                        Ok(status)
                    }
                    Ok(body) => Err(format!("wrong body {body:?}")),
                    Err(e) => Err(format!("body cut off: {e}")),
                }
            }
            Err(e) => Err(format!("{e:?}")),
        };
        let failed = result.is_err();
        sent.push(Sent {
            started,
            ended: Instant::now(),
            slow,
            result,
        });
        slow = !slow;
        if failed {
            // Do not spin on a refused connection.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    sent
}

async fn shutdown_under_load(platform: &str) {
    let _serial = SERIAL.lock().await;
    let mut app = start(platform, &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let loops: Vec<_> = (0..CONCURRENCY)
        .map(|n| {
            tokio::spawn(client_loop(
                client.clone(),
                app.base.clone(),
                stop.clone(),
                n,
            ))
        })
        .collect();
    // The load runs for SIGTERM_AFTER (a duration of the scenario, not a
    // guess at readiness), and until enough slow requests are being handled.
    tokio::time::sleep(SIGTERM_AFTER).await;
    let waiting = Instant::now();
    while in_flight(&client, &app.base).await < CONCURRENCY / 4 {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "{platform}: the slow requests never ran {} at once",
            CONCURRENCY / 4
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sigterm = Instant::now();
    process::sigterm(app.process.child());
    let exit = tokio::task::spawn_blocking(move || {
        let status = wait_exit(app.process.child(), GRACE + Duration::from_secs(5));
        (status, sigterm.elapsed(), app)
    });
    tokio::time::sleep(LOAD - SIGTERM_AFTER).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for l in loops {
        all.extend(l.await.unwrap());
    }
    let (status, exited_after, _app) = exit.await.unwrap();
    let status = status.unwrap_or_else(|| panic!("{platform}: no exit within {GRACE:?} + 5 s"));

    let before = |s: &Sent| s.started + SURELY_ACCEPTED <= sigterm;
    let completed_before = all.iter().filter(|s| s.ended < sigterm).count();
    let in_flight: Vec<&Sent> = all
        .iter()
        .filter(|s| s.started < sigterm && s.ended >= sigterm)
        .collect();
    let in_flight_ok = in_flight.iter().filter(|s| s.result == Ok(200)).count();
    let errors: Vec<&Sent> = all.iter().filter(|s| s.result.is_err()).collect();
    let late: Vec<&Sent> = all
        .iter()
        .filter(|s| s.started >= sigterm + SURELY_REFUSED)
        .collect();
    let line = format!(
        "{platform}: {} requests, {completed_before} completed before SIGTERM, {} in flight at SIGTERM \
         ({in_flight_ok} answered 200, {} of them slow), {} connection errors ({} of requests started \
         after SIGTERM), {} started ≥ {SURELY_REFUSED:?} after SIGTERM (0 served), exit {status} after {exited_after:?}",
        all.len(),
        in_flight.len(),
        in_flight
            .iter()
            .filter(|s| s.slow && s.result == Ok(200))
            .count(),
        errors.len(),
        errors.iter().filter(|s| s.started >= sigterm).count(),
        late.len(),
    );
    eprintln!("{line}");

    // No 5xx (nor any other status than 200), ever.
    for s in &all {
        if let Ok(code) = s.result {
            assert_eq!(code, 200, "{line}");
        }
    }
    // Everything surely accepted before SIGTERM got its normal answer.
    for s in all.iter().filter(|s| before(s)) {
        assert_eq!(
            s.result,
            Ok(200),
            "{platform}: a request started {:?} before SIGTERM: {line}",
            sigterm - s.started
        );
    }
    assert!(
        in_flight_ok >= CONCURRENCY / 4,
        "slow requests were in flight: {line}"
    );
    // Nothing started well after SIGTERM was served.
    for s in &late {
        assert!(
            s.result.is_err(),
            "{platform}: served after shutdown began: {line}"
        );
    }
    assert!(!late.is_empty(), "the load went on after SIGTERM: {line}");
    assert!(status.success(), "{line}");
    assert!(exited_after < GRACE, "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_shuts_down_gracefully_under_load() {
    shutdown_under_load("local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_shuts_down_gracefully_under_load() {
    shutdown_under_load("gcp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_shuts_down_gracefully_under_load() {
    shutdown_under_load("azure").await;
}

/// The HTTP deadline on each platform: `Context::remaining` reflects the
/// configured timeout, and a handler outliving it gets a JSON `504` shortly
/// before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_handlers_are_cancelled_before_the_request_timeout() {
    let _serial = SERIAL.lock().await;
    for (platform, var) in [
        ("local", "NUBES_LOCAL_TIMEOUT_MS"),
        ("gcp", "NUBES_GCP_REQUEST_TIMEOUT_MS"),
        ("azure", "NUBES_AZURE_FUNCTION_TIMEOUT_MS"),
    ] {
        let app = start(platform, &[(var, "1000")]).await;
        let client = reqwest::Client::new();
        let left: u64 = client
            .get(format!("{}/remaining", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("{platform}: {e}"));
        // A generous window: the request may wait for a busy machine.
        assert!((500..=1000).contains(&left), "{platform}: {left} ms left");
        let started = Instant::now();
        let res = client
            .get(format!("{}/slow?ms=5000", app.base))
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(res.status(), 504, "{platform}");
        let body: serde_json::Value = res.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(var), "{platform}: {body}");
        // Not before the deadline's margin; and long before the 5 s the
        // handler would take (a generous bound: the machine may be busy).
        assert!(
            took >= Duration::from_millis(850) && took < Duration::from_secs(3),
            "{platform}: answered after {took:?}"
        );
        eprintln!("{platform}: {var}=1000 → 504 after {took:?}");
    }
}

/// Work that outlives the grace period (`NUBES_SHUTDOWN_GRACE_MS`) does not
/// keep the process alive: it exits 0 shortly after the grace period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_bounds_the_exit() {
    let _serial = SERIAL.lock().await;
    let grace = Duration::from_millis(500);
    for platform in ["local", "gcp", "azure"] {
        let mut app = start(platform, &[("NUBES_SHUTDOWN_GRACE_MS", "500")]).await;
        let stuck = tokio::spawn(reqwest::get(format!("{}/slow?ms=20000", app.base)));
        let client = reqwest::Client::new();
        let waiting = Instant::now();
        while in_flight(&client, &app.base).await == 0 {
            assert!(
                waiting.elapsed() < Duration::from_secs(10),
                "{platform}: the stuck request never reached its handler"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let sigterm = Instant::now();
        process::sigterm(app.process.child());
        let (status, exited_after, _app) = tokio::task::spawn_blocking(move || {
            let status = wait_exit(app.process.child(), Duration::from_secs(10));
            (status, sigterm.elapsed(), app)
        })
        .await
        .unwrap();
        let status =
            status.unwrap_or_else(|| panic!("{platform}: still running 10 s after SIGTERM"));
        assert!(status.success(), "{platform}: {status}");
        // The grace period, plus Cloud Run's half second to send cut-off
        // replies, plus a generous margin for a busy machine: well before the
        // 20 s the stuck request would take.
        assert!(
            exited_after >= grace && exited_after < grace + Duration::from_secs(5),
            "{platform}: exited {exited_after:?} after SIGTERM"
        );
        // The stuck request was not answered as if it had succeeded.
        let outcome = stuck.await.unwrap();
        assert!(
            outcome.as_ref().map_or(true, |res| res.status() != 200),
            "{platform}: {outcome:?}"
        );
        eprintln!(
            "{platform}: grace 500 ms, exit {status} {exited_after:?} after SIGTERM; cut-off request: {}",
            outcome.map_or_else(|e| format!("error {e}"), |r| r.status().to_string())
        );
    }
}
