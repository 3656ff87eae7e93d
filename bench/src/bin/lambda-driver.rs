//! Drives one Lambda function binary through our own Runtime API on
//! 127.0.0.1 and prints what it measured as one JSON line.
//!
//! ```text
//! lambda-driver run   --bin PATH --event FILE [--invocations N] [--warmup W] [--timeout-s S] [--log FILE]
//! lambda-driver start --bin PATH [--log FILE]
//! ```
//!
//! `run` serves the event W + N times as fast as the function takes it and
//! reports invocations/s over the last N, the p50/p99 of `/next` answered →
//! reply received, the error count, the first reply and the process's peak
//! RSS (`VmHWM`). `start` reports exec → first `GET /next` in milliseconds.

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nubes_bench::runtime_api::RuntimeApi;
use nubes_bench::stats::percentile_us;
use serde_json::json;

struct Args {
    mode: String,
    bin: String,
    event: Option<String>,
    invocations: usize,
    warmup: usize,
    timeout: Duration,
    log: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut argv = std::env::args().skip(1);
    let mode = argv
        .next()
        .ok_or("usage: lambda-driver run|start --bin PATH ...")?;
    let mut args = Args {
        mode,
        bin: String::new(),
        event: None,
        invocations: 1000,
        warmup: 100,
        timeout: Duration::from_secs(300),
        log: None,
    };
    while let Some(flag) = argv.next() {
        let value = argv.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--bin" => args.bin = value.clone(),
            "--event" => args.event = Some(value.clone()),
            "--invocations" => args.invocations = number()?,
            "--warmup" => args.warmup = number()?,
            "--timeout-s" => args.timeout = Duration::from_secs(number()? as u64),
            "--log" => args.log = Some(value.clone()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.bin.is_empty() {
        return Err("--bin is required".into());
    }
    Ok(args)
}

/// Starts the function the way Lambda does: its settings in the environment.
fn spawn(args: &Args, runtime_api: std::net::SocketAddr) -> Result<Child, String> {
    let output = || -> Result<Stdio, String> {
        match &args.log {
            Some(path) => File::options()
                .create(true)
                .append(true)
                .open(path)
                .map(Stdio::from)
                .map_err(|e| format!("{path}: {e}")),
            None => Ok(Stdio::null()),
        }
    };
    Command::new(&args.bin)
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/28/[$LATEST]0123456789abcdef",
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
        .env("_HANDLER", "bootstrap")
        .env_remove("NUBES_PLATFORM")
        .stdin(Stdio::null())
        .stdout(output()?)
        .stderr(output()?)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", args.bin))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until `done` holds, the function exits, or the timeout passes.
async fn wait_for(
    api: &RuntimeApi,
    child: &mut Child,
    timeout: Duration,
    done: impl Fn(&RuntimeApi) -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if done(api) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the function exited early ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!("not done within {timeout:?}"));
        }
        let _ = tokio::time::timeout(Duration::from_millis(10), api.changed()).await;
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn start(args: &Args) -> Result<serde_json::Value, String> {
    let api = RuntimeApi::new(Bytes::new(), 0);
    let addr = api.serve().await.map_err(|e| e.to_string())?;
    let exec = Instant::now();
    let mut child = spawn(args, addr)?;
    let waited = wait_for(&api, &mut child, args.timeout, |api| {
        api.snapshot().first_next.is_some()
    })
    .await;
    stop(&mut child);
    waited?;
    let ready = api.snapshot().first_next.ok_or("no /next")?;
    Ok(json!({ "start_ms": ready.duration_since(exec).as_secs_f64() * 1e3 }))
}

async fn run(args: &Args) -> Result<serde_json::Value, String> {
    let path = args.event.as_deref().ok_or("--event is required for run")?;
    let event = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let total = args.warmup + args.invocations;
    let api = RuntimeApi::new(Bytes::from(event), total);
    let addr = api.serve().await.map_err(|e| e.to_string())?;
    let mut child = spawn(args, addr)?;
    let waited = wait_for(&api, &mut child, args.timeout, RuntimeApi::finished).await;
    let rss = peak_rss_kib(child.id());
    stop(&mut child);
    waited?;
    let observed = api.snapshot();
    if let Some(err) = observed.init_error {
        return Err(format!("the function reported an init error: {err}"));
    }
    let measured = observed.latencies.get(args.warmup..).unwrap_or_default();
    // Throughput over the measured part: from the last warm-up reply (or the
    // first measured hand-out) to the last reply.
    let first = args
        .warmup
        .checked_sub(1)
        .and_then(|i| observed.answered_at.get(i).copied())
        .or(observed.first_next);
    let last = observed.answered_at.last().copied();
    let seconds = match (first, last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    Ok(json!({
        "invocations": measured.len(),
        "seconds": seconds,
        "per_s": if seconds > 0.0 { measured.len() as f64 / seconds } else { 0.0 },
        "p50_us": percentile_us(measured, 50.0),
        "p99_us": percentile_us(measured, 99.0),
        "errors": observed.errors,
        "peak_rss_kib": rss,
        "first_reply": observed.first_reply,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let result = match parse_args() {
        Ok(args) if args.mode == "start" => start(&args).await,
        Ok(args) if args.mode == "run" => run(&args).await,
        Ok(args) => Err(format!("unknown mode {}", args.mode)),
        Err(err) => Err(err),
    };
    match result {
        Ok(value) => println!("{value}"),
        Err(err) => {
            eprintln!("lambda-driver: {err}");
            std::process::exit(1);
        }
    }
}
