//! `nubes invoke --platform aws|gcp|azure`: the event reaches the real echo
//! binary in each cloud's wire format, and failures are reported as such.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nubes_test_support::bound_port::bound_port;
use nubes_test_support::lambda_emulator::LambdaEmulator;
use nubes_test_support::log_file::log_file;
use nubes_test_support::process::Group;

use common::{nubes, text};

/// Starts echo in `dir` on port 0 with its output in `dir/echo.log`, and
/// returns the port its start-up line (containing `ready`) names.
fn start_echo(cmd: &mut Command, dir: &Path, ready: &str) -> (Group, u16) {
    let app = Group::spawn(
        cmd.current_dir(dir)
            .env("NUBES_ECHO_FILE", dir.join("echo.jsonl"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file(dir, "echo.log"))
            .stderr(log_file(dir, "echo.log")),
    );
    let port = bound_port(dir, "echo.log", ready, Duration::from_secs(60));
    (app, port)
}

/// `cmd` in its own process group, output discarded, killed with whatever
/// it started when dropped.
fn spawn(cmd: &mut Command) -> Group {
    Group::spawn(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// Builds of echo (by `nubes build`, and by `nubes invoke` looking up a
/// trigger's kind) share one output path per feature set, so the tests take
/// turns: one cloud's build must not replace another's binary mid-test.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn my_turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// The echo binary for `cloud`, as `nubes build` leaves it.
fn echo_for(cloud: &str) -> PathBuf {
    let out = nubes(&["build", "--platform", cloud, "-p", "echo", "--debug"]);
    assert!(out.status.success(), "{}", text(&out));
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    dir.join(if cloud == "aws" { "bootstrap" } else { "echo" })
}

fn lines(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Sends a queue message, a storage event and a schedule firing, then a
/// failing message, and checks the echo lines.
fn exercise(target: &str, url: &str, extra: &[&str], echo_file: &Path) {
    let invoke = |args: &[&str]| {
        let mut all = vec!["invoke"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--platform", target, "--url", url]);
        all.extend_from_slice(extra);
        nubes(&all)
    };
    let ok = invoke(&[
        "orders",
        "--kind",
        "queue",
        "--body",
        "hello",
        "--attr",
        "tenant=acme",
    ]);
    assert!(ok.status.success(), "{target}: {}", text(&ok));
    let ok = invoke(&[
        "uploads",
        "--kind",
        "storage",
        "--key",
        "docs/a b.txt",
        "--body",
        "12345",
    ]);
    assert!(ok.status.success(), "{target}: {}", text(&ok));
    // Without --kind the trigger's kind comes from the app itself.
    let ok = invoke(&["nightly", "-p", "echo"]);
    assert!(ok.status.success(), "{target}: {}", text(&ok));
    let failed = invoke(&["orders", "--kind", "queue", "--body", "fail"]);
    assert!(!failed.status.success(), "{target}: {}", text(&failed));
    assert!(
        text(&failed).contains("not handled"),
        "{target}: {}",
        text(&failed)
    );

    let lines = lines(echo_file);
    assert_eq!(lines.len(), 4, "{target}: {lines:?}");
    assert_eq!(lines[0]["body"], "hello");
    assert_eq!(lines[0]["attributes"]["tenant"], "acme");
    assert_eq!(
        (&lines[1]["action"], &lines[1]["key"], &lines[1]["size"]),
        (
            &serde_json::json!("created"),
            &serde_json::json!("docs/a b.txt"),
            &serde_json::json!(5)
        ),
        "{target}"
    );
    assert_eq!(lines[2]["trigger"], "nightly");
    assert_eq!(lines[3]["body"], "fail");
}

#[test]
fn gcp_wire_format_reaches_the_app() {
    let _turn = my_turn();
    let exe = echo_for("gcp");
    let dir = tempfile::tempdir().unwrap();
    let (_app, port) = start_echo(
        Command::new(&exe)
            .env("K_SERVICE", "echo")
            .env("PORT", "0")
            .env("NUBES_HOST", "127.0.0.1"),
        dir.path(),
        "nubes is serving",
    );
    exercise(
        "gcp",
        &format!("http://127.0.0.1:{port}"),
        &[],
        &dir.path().join("echo.jsonl"),
    );
}

#[test]
fn azure_wire_format_reaches_the_app() {
    let _turn = my_turn();
    let exe = echo_for("azure");
    let dir = tempfile::tempdir().unwrap();
    let (_app, port) = start_echo(
        Command::new(&exe).env("FUNCTIONS_CUSTOMHANDLER_PORT", "0"),
        dir.path(),
        "custom handler ready",
    );
    exercise(
        "azure",
        &format!("http://127.0.0.1:{port}"),
        &[],
        &dir.path().join("echo.jsonl"),
    );
}

#[test]
#[ignore = "needs cargo-lambda: .ci/install-aws.sh"]
fn aws_events_go_through_a_runtime_api_emulator() {
    let _turn = my_turn();
    let exe = echo_for("aws");
    let emulator = LambdaEmulator::start("echo");
    let dir = emulator.dir();
    let _function = spawn(
        Command::new(&exe)
            .current_dir(dir)
            .env("AWS_LAMBDA_RUNTIME_API", emulator.runtime_api("echo"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "echo")
            .env("NUBES_ECHO_FILE", dir.join("echo.jsonl")),
    );
    exercise(
        "aws",
        &emulator.base_url(),
        &["--function", "echo"],
        &dir.join("echo.jsonl"),
    );
}
