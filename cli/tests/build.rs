//! `nubes build` and `nubes manifest` on `examples/echo`, for every cloud:
//! the listed artefacts exist and say what the cloud needs.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{nubes, text};

use nubes_test_support::tool::tool_available;

/// Builds of echo share one output path, so they take turns: a build must
/// not overwrite another's binary before it is copied into the artefacts.
static BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Builds echo for `cloud` (dev profile: the size profile only changes
/// compiler settings) and returns the artefact folder the command printed.
fn build(cloud: &str) -> PathBuf {
    let _turn = BUILDS.lock().unwrap_or_else(|p| p.into_inner());
    let out = nubes(&["build", "--platform", cloud, "-p", "echo", "--debug"]);
    assert!(out.status.success(), "{}", text(&out));
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        dir.ends_with(format!("nubes/{cloud}/echo")),
        "{}",
        dir.display()
    );
    dir
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
}

/// A tool CI installs; elsewhere its absence skips the check visibly.
fn tool(name: &str) -> bool {
    tool_available(name, &["--version"], "see .ci/install-aws.sh")
}

#[test]
fn aws_build_gives_bootstrap_zip_and_a_valid_sam_template() {
    let dir = build("aws");
    let bootstrap = dir.join("bootstrap");
    assert!(is_executable(&bootstrap));
    let zip = Command::new("python3")
        .args(["-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); i=z.getinfo('bootstrap'); print(z.namelist(), oct(i.external_attr >> 16))"])
        .arg(dir.join("bootstrap.zip"))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&zip.stdout);
    assert!(
        listing.contains("['bootstrap']") && listing.contains("0o100755"),
        "{listing}"
    );
    let template = json(&dir.join("template.yaml"));
    let function = &template["Resources"]["Function"]["Properties"];
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    assert_eq!(function["CodeUri"], "bootstrap.zip");
    assert_eq!(function["Architectures"][0], "x86_64");
    let events = function["Events"].as_object().unwrap();
    assert!(events.values().any(|e| e["Type"] == "SQS"), "{events:?}");
    assert!(events.values().any(|e| e["Type"] == "S3"), "{events:?}");
    assert!(
        events
            .values()
            .any(|e| e["Properties"]["Schedule"] == "cron(0 3 * * ? *)"),
        "{events:?}"
    );
    if tool("cfn-lint") {
        let lint = Command::new("cfn-lint")
            .arg(dir.join("template.yaml"))
            .output()
            .unwrap();
        assert!(lint.status.success(), "cfn-lint: {}", text(&lint));
    }
}

#[test]
fn gcp_build_gives_binary_dockerfile_service_and_triggers() {
    let dir = build("gcp");
    assert!(is_executable(&dir.join("echo")));
    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("COPY echo /app"), "{dockerfile}");
    let service = std::fs::read_to_string(dir.join("service.yaml")).unwrap();
    assert!(service.contains("name: echo"), "{service}");
    let script = dir.join("triggers.sh");
    assert!(is_executable(&script));
    let script_text = std::fs::read_to_string(&script).unwrap();
    assert!(
        script_text.contains("/_nubes/queues/orders"),
        "{script_text}"
    );
    assert!(
        script_text.contains("/_nubes/storage/uploads"),
        "{script_text}"
    );
    assert!(
        script_text.contains("/_nubes/schedules/nightly"),
        "{script_text}"
    );
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{}", text(&syntax));
}

#[test]
fn azure_build_gives_a_function_app_folder_and_zip() {
    let dir = build("azure");
    assert!(is_executable(&dir.join("echo")));
    let host = json(&dir.join("host.json"));
    assert_eq!(
        host["customHandler"]["description"]["defaultExecutablePath"],
        "echo"
    );
    assert_eq!(host["customHandler"]["enableProxyingHttpRequest"], true);
    for (function, binding) in [
        ("http", "httpTrigger"),
        ("orders", "queueTrigger"),
        ("uploads", "blobTrigger"),
        ("nightly", "timerTrigger"),
    ] {
        let f = json(&dir.join(function).join("function.json"));
        assert_eq!(f["bindings"][0]["type"], binding, "{function}: {f}");
    }
    assert_eq!(
        json(&dir.join("nightly/function.json"))["bindings"][0]["schedule"],
        "0 0 3 * * *"
    );
    let zip = Command::new("python3")
        .args([
            "-c",
            "import sys,zipfile; print(sorted(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(dir.join("echo.zip"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&zip.stdout).trim(),
        "['echo', 'host.json', 'http/function.json', 'nightly/function.json', 'orders/function.json', 'uploads/function.json']"
    );
}

#[test]
fn manifest_prints_without_building_artefacts() {
    let _turn = BUILDS.lock().unwrap_or_else(|p| p.into_inner());
    let out = nubes(&["manifest", "--platform", "azure", "-p", "echo"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("==> orders/function.json <=="), "{stdout}");
    assert!(stdout.contains("\"queueTrigger\""), "{stdout}");
    let out = nubes(&["manifest", "--platform", "aws", "-p", "echo"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("AWS::Serverless::Function"));
}

#[test]
fn a_missing_cross_toolchain_is_explained() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let has_arm = installed
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("aarch64-unknown-linux-gnu"));
    if has_arm {
        eprintln!("SKIP: the arm64 target is installed here");
        return;
    }
    let out = nubes(&[
        "build",
        "--platform",
        "aws",
        "--arch",
        "arm64",
        "-p",
        "echo",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("rustup target add aarch64-unknown-linux-gnu"),
        "{}",
        text(&out)
    );
}
