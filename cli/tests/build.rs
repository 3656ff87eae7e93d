//! `nubes build` and `nubes manifest` on `examples/echo`, for every cloud:
//! the listed artefacts exist and say what the cloud needs.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{nubes, text};

use nubes_test_support::tool::require_tool;

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

/// The entries of a zip archive in order, with their Unix modes.
fn zip_entries(path: &Path) -> Vec<(String, Option<u32>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    (0..archive.len())
        .map(|i| {
            let entry = archive.by_index(i).unwrap();
            (entry.name().unwrap().into_owned(), entry.unix_mode())
        })
        .collect()
}

#[test]
fn aws_build_gives_bootstrap_zip_and_a_valid_sam_template() {
    let dir = build("aws");
    let bootstrap = dir.join("bootstrap");
    assert!(is_executable(&bootstrap));
    // One regular file, executable by everyone: Lambda runs it as is.
    assert_eq!(
        zip_entries(&dir.join("bootstrap.zip")),
        [("bootstrap".to_owned(), Some(0o100_755))]
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
}

#[test]
#[ignore = "needs cfn-lint: .ci/install-aws.sh"]
fn aws_build_template_passes_cfn_lint() {
    require_tool(
        "cfn-lint",
        &["--version"],
        "run .ci/install-aws.sh (pip install cfn-lint)",
    );
    let dir = build("aws");
    let lint = Command::new("cfn-lint")
        .arg(dir.join("template.yaml"))
        .output()
        .unwrap();
    assert!(lint.status.success(), "cfn-lint: {}", text(&lint));
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
        ("nubes-queue-orders", "queueTrigger"),
        ("nubes-storage-uploads", "blobTrigger"),
        ("nubes-schedule-nightly", "timerTrigger"),
    ] {
        let f = json(&dir.join(function).join("function.json"));
        assert_eq!(f["bindings"][0]["type"], binding, "{function}: {f}");
    }
    assert_eq!(
        json(&dir.join("nubes-schedule-nightly/function.json"))["bindings"][0]["schedule"],
        "0 0 3 * * *"
    );
    let mut names: Vec<String> = zip_entries(&dir.join("echo.zip"))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "echo",
            "host.json",
            "http/function.json",
            "nubes-queue-orders/function.json",
            "nubes-schedule-nightly/function.json",
            "nubes-storage-uploads/function.json"
        ]
    );
}

#[test]
fn manifest_prints_without_building_artefacts() {
    let _turn = BUILDS.lock().unwrap_or_else(|p| p.into_inner());
    let out = nubes(&["manifest", "--platform", "azure", "-p", "echo"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("==> nubes-queue-orders/function.json <=="),
        "{stdout}"
    );
    assert!(stdout.contains("\"queueTrigger\""), "{stdout}");
    let out = nubes(&["manifest", "--platform", "aws", "-p", "echo"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("AWS::Serverless::Function"));
}

/// Whether or not this machine has the arm64 target, `nubes` is shown a
/// `rustup` that lists only the (x86_64) host's, so the check always runs.
#[cfg(target_arch = "x86_64")]
#[test]
fn a_missing_cross_toolchain_is_explained() {
    let bin = tempfile::tempdir().unwrap();
    let rustup = bin.path().join("rustup");
    std::fs::write(&rustup, "#!/bin/sh\necho x86_64-unknown-linux-gnu\n").unwrap();
    std::fs::set_permissions(&rustup, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.path().to_owned()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nubes"))
        .current_dir(common::workspace())
        .args([
            "build",
            "--platform",
            "aws",
            "--arch",
            "arm64",
            "-p",
            "echo",
        ])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("rustup target add aarch64-unknown-linux-gnu"),
        "{}",
        text(&out)
    );
}
