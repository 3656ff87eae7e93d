//! The `nubes` command end to end: `new` builds and serves, `invoke` reaches
//! the running app, errors say what to do.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn nubes(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nubes"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Build output of generated projects, kept between runs so only the first
/// run compiles their dependencies.
fn project_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("nubes-new-projects")
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn new_project_builds_serves_and_takes_invocations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = nubes(tmp.path(), &["new", "demo-app"]);
    assert!(out.status.success(), "{}", text(&out));
    let project = tmp.path().join("demo-app");
    assert!(project.join("Cargo.toml").is_file());
    assert!(project.join("src/main.rs").is_file());

    let again = nubes(tmp.path(), &["new", "demo-app"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    let build = Command::new(env!("CARGO"))
        .current_dir(&project)
        .args(["build", "--quiet"])
        .env("CARGO_TARGET_DIR", project_target_dir())
        .status()
        .unwrap();
    assert!(build.success(), "the generated project builds");
    let exe = project_target_dir().join("debug/demo-app");

    let port = free_port();
    let _app = Running(
        Command::new(&exe)
            .current_dir(&project)
            .env("PORT", port.to_string())
            .env("NUBES_PLATFORM", "local")
            .env("NUBES_LOCAL_SCHEDULES", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the app did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let ok = nubes(
        &project,
        &[
            "invoke",
            "jobs",
            "--url",
            &url,
            "--body",
            r#"{"task":"resize","id":7}"#,
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok));
    let reply: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(reply["status"], "handled");

    // A malformed job fails permanently: the command says it was not handled.
    let bad = nubes(
        &project,
        &["invoke", "jobs", "--url", &url, "--body", "not json"],
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("failed_permanently"), "{}", text(&bad));

    let tick = nubes(&project, &["invoke", "hourly", "--url", &url]);
    assert!(tick.status.success(), "{}", text(&tick));

    let unknown = nubes(&project, &["invoke", "nope", "--url", &url]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("jobs (queue)"),
        "{}",
        text(&unknown)
    );
}

#[test]
fn invoke_without_a_running_app_says_how_to_start_one() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = nubes(
        tmp.path(),
        &[
            "invoke",
            "jobs",
            "--url",
            &format!("http://127.0.0.1:{port}"),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("nubes dev"), "{}", text(&out));
}

#[test]
fn bad_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = nubes(tmp.path(), &["new", "2fast"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a valid package name"),
        "{}",
        text(&out)
    );
}
