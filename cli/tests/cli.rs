//! The `nubes` command end to end: `new` builds and serves, `invoke` reaches
//! the running app, errors say what to do.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nubes_test_support::bound_port::bound_port;
use nubes_test_support::log_file::log_file;
use nubes_test_support::port::free_port;
use nubes_test_support::process::{Group, sigterm};

use common::{nubes_in, text};

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

#[test]
fn new_project_builds_serves_and_takes_invocations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = nubes_in(tmp.path(), &["new", "demo-app"]);
    assert!(out.status.success(), "{}", text(&out));
    let project = tmp.path().join("demo-app");
    assert!(project.join("Cargo.toml").is_file());
    assert!(project.join("src/main.rs").is_file());

    let again = nubes_in(tmp.path(), &["new", "demo-app"]);
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

    // Port 0: the OS picks it, and the runner's start-up line says which.
    let _app = Running(
        Command::new(&exe)
            .current_dir(&project)
            .env("PORT", "0")
            .env("NUBES_PLATFORM", "local")
            .env("NUBES_LOCAL_SCHEDULES", "false")
            .stdout(Stdio::null())
            .stderr(log_file(tmp.path(), "app.log"))
            .spawn()
            .unwrap(),
    );
    let port = bound_port(
        tmp.path(),
        "app.log",
        "listening on",
        Duration::from_secs(20),
    );
    let url = format!("http://127.0.0.1:{port}");

    let ok = nubes_in(
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
    let bad = nubes_in(
        &project,
        &["invoke", "jobs", "--url", &url, "--body", "not json"],
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("failed_permanently"), "{}", text(&bad));

    let tick = nubes_in(&project, &["invoke", "hourly", "--url", &url]);
    assert!(tick.status.success(), "{}", text(&tick));

    let unknown = nubes_in(&project, &["invoke", "nope", "--url", &url]);
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
    let out = nubes_in(
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
    let out = nubes_in(tmp.path(), &["new", "2fast"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a valid package name"),
        "{}",
        text(&out)
    );
}

/// GET `url`, as text, or `None` when nothing answers yet.
fn get(url: &str) -> Option<String> {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "2", url])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn dev_serves_rebuilds_on_change_and_stops_on_a_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = nubes_in(tmp.path(), &["new", "dev-app"]);
    assert!(out.status.success(), "{}", text(&out));
    let project = tmp.path().join("dev-app");
    let port = free_port();
    let log = tmp.path().join("dev.log");
    // Its own process group: if the test fails, the app nubes dev started
    // goes down with it.
    let mut dev = Group::spawn(
        Command::new(env!("CARGO_BIN_EXE_nubes"))
            .current_dir(&project)
            .args(["dev", "--port", &port.to_string()])
            .env("CARGO_TARGET_DIR", project_target_dir())
            .env("NUBES_LOCAL_SCHEDULES", "false")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(tmp.path().join("dev.err")).unwrap()),
    );
    let url = format!("http://127.0.0.1:{port}/hello/x");
    // The first build compiles nubes and its dependencies into a fresh target
    // dir: minutes on a busy 2-core machine, hence the generous bounds.
    wait_for("the first build", Duration::from_secs(900), || {
        get(&url).as_deref() == Some("hello x")
    });
    let printed = std::fs::read_to_string(tmp.path().join("dev.err")).unwrap();
    assert!(
        printed.contains(&format!("serving on http://127.0.0.1:{port}")),
        "{printed}"
    );
    assert!(
        printed.contains("jobs") && printed.contains("hourly"),
        "the triggers are listed: {printed}"
    );

    let main = project.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        source.replace("format!(\"hello {name}\")", "format!(\"hi {name}\")"),
    )
    .unwrap();
    wait_for("the rebuilt app", Duration::from_secs(600), || {
        get(&url).as_deref() == Some("hi x")
    });

    sigterm(dev.child());
    wait_for("nubes dev to exit", Duration::from_secs(30), || {
        dev.child().try_wait().unwrap().is_some()
    });
    wait_for("the app to stop", Duration::from_secs(15), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    });
}
