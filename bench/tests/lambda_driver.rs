//! The Lambda driver against real function binaries: every invocation it
//! hands out comes back answered, with the reply the function should give.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;

fn fixture(path: &str) -> String {
    nubes_test_support::fixtures::path(path)
        .display()
        .to_string()
}

fn drive(function: &str, event: &str, invocations: usize) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lambda-driver"))
        .args(["run", "--bin", function, "--event", event])
        .args(["--invocations", &invocations.to_string(), "--warmup", "2"])
        .args(["--timeout-s", "60"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn echo_baseline_answers_every_invocation() {
    let event = fixture("aws/sqs-batch.json");
    let report = drive(env!("CARGO_BIN_EXE_lambda-echo-baseline"), &event, 20);
    assert_eq!(report["invocations"], 20, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    let reply: Value = serde_json::from_str(report["first_reply"].as_str().unwrap()).unwrap();
    let sent: Value = serde_json::from_str(&std::fs::read_to_string(&event).unwrap()).unwrap();
    assert_eq!(reply, sent, "the echo must return the event");
    assert!(report["p50_us"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["peak_rss_kib"].as_u64().unwrap() > 0, "{report}");
}

#[cfg(feature = "aws")]
#[test]
fn nubes_acknowledges_the_sqs_batch() {
    let event = fixture("aws/sqs-batch.json");
    let report = drive(env!("CARGO_BIN_EXE_lambda-nubes"), &event, 10);
    assert_eq!(report["invocations"], 10, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(
        report["first_reply"], r#"{"batchItemFailures":[]}"#,
        "{report}"
    );
}

#[test]
fn start_reports_the_time_to_the_first_poll() {
    let out = Command::new(env!("CARGO_BIN_EXE_lambda-driver"))
        .args(["start", "--bin", env!("CARGO_BIN_EXE_lambda-echo-baseline")])
        .args(["--timeout-s", "60"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["start_ms"].as_f64().unwrap() > 0.0, "{report}");
}

#[test]
fn a_function_that_exits_fails_the_run() {
    // `true` exits at once without polling: the driver must say so, not hang.
    let out = Command::new(env!("CARGO_BIN_EXE_lambda-driver"))
        .args([
            "run",
            "--bin",
            "/bin/true",
            "--event",
            &fixture("aws/sqs-batch.json"),
        ])
        .args(["--timeout-s", "30"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exited early"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
