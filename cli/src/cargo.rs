//! Driving cargo: building a package and finding its binary, asking the binary
//! to describe its app.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nubes_core::AppDescription;

use crate::error::CliError;

/// What to build.
#[derive(Debug, Default, Clone)]
pub(crate) struct BuildRequest<'a> {
    pub(crate) package: Option<&'a str>,
    pub(crate) features: Vec<String>,
    pub(crate) no_default_features: bool,
    pub(crate) profile: Option<&'a str>,
    pub(crate) target: Option<&'a str>,
    /// `--config KEY=VALUE` overrides (profiles, linkers).
    pub(crate) config: Vec<String>,
}

/// A built binary: its path and its target name.
#[derive(Debug, Clone)]
pub(crate) struct Binary {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
}

/// Runs `cargo build` and returns the path of the one binary it produced for
/// the requested package. Compiler diagnostics go to the terminal as usual.
pub(crate) fn build(req: &BuildRequest<'_>) -> Result<PathBuf, CliError> {
    build_binary(req).map(|b| b.path)
}

/// Like [`build`], with the binary's name.
pub(crate) fn build_binary(req: &BuildRequest<'_>) -> Result<Binary, CliError> {
    let mut cmd = Command::new(cargo_program());
    cmd.arg("build")
        .arg("--message-format=json-render-diagnostics");
    if let Some(package) = req.package {
        cmd.args(["--package", package]);
    }
    if req.no_default_features {
        cmd.arg("--no-default-features");
    }
    for config in &req.config {
        cmd.args(["--config", config]);
    }
    if !req.features.is_empty() {
        cmd.args(["--features", &req.features.join(",")]);
    }
    if let Some(profile) = req.profile {
        cmd.args(["--profile", profile]);
    }
    if let Some(target) = req.target {
        cmd.args(["--target", target]);
    }
    let output = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            CliError::new(format!("cannot run cargo: {e}")).hint("install Rust with rustup")
        })?;
    if !output.status.success() {
        let mut err = CliError::new("the build failed (see the messages above)");
        if let Some(feature) = req.features.first() {
            err = err.hint(format!(
                "a missing feature? The app's Cargo.toml needs `{feature} = [\"nubes/{feature}\"]` under [features]"
            ));
        }
        return Err(err);
    }
    let mut binaries = Vec::new();
    for line in output.stdout.split(|b| *b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let is_bin = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "bin"));
        if let (true, Some(exe)) = (is_bin, msg["executable"].as_str()) {
            binaries.push((
                msg["target"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                PathBuf::from(exe),
            ));
        }
    }
    match binaries.as_slice() {
        [(name, exe)] => Ok(Binary {
            path: exe.clone(),
            name: name.clone(),
        }),
        [] => Err(CliError::new("the build produced no binary")
            .hint("run nubes in a package with a `src/main.rs`, or pass -p PACKAGE")),
        many => {
            let names: Vec<_> = many.iter().map(|(n, _)| n.as_str()).collect();
            Err(CliError::new(format!(
                "the build produced several binaries: {}",
                names.join(", ")
            ))
            .hint("pick one with -p PACKAGE"))
        }
    }
}

/// Builds `package` for this machine with only the platform `feature` (dev
/// profile) and asks it to describe itself. Using the feature set of `nubes
/// build --platform PLATFORM --debug` means both write the same binary, never two
/// different ones to one path.
pub(crate) fn describe_package(
    package: Option<&str>,
    feature: &str,
) -> Result<(Binary, AppDescription), CliError> {
    let binary = build_binary(&BuildRequest {
        package,
        features: vec![feature.to_owned()],
        no_default_features: true,
        target: Some(crate::toolchain::host_triple()),
        ..BuildRequest::default()
    })?;
    let description = describe(&binary.path)?;
    Ok((binary, description))
}

/// Asks the app binary to describe itself (`NUBES_DESCRIBE=1`) without serving.
pub(crate) fn describe(binary: &Path) -> Result<AppDescription, CliError> {
    let output = Command::new(binary)
        .env("NUBES_DESCRIBE", "1")
        .env("NUBES_PLATFORM", "local")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CliError::new(format!("cannot run {}: {e}", binary.display())))?;
    if !output.status.success() {
        return Err(CliError::new(format!(
            "{} could not describe its app: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .hint("is this a nubes app that calls `nubes::run(app)`?"));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        CliError::new(format!(
            "{} printed no app description: {e}",
            binary.display()
        ))
        .hint("is this a nubes app that calls `nubes::run(app)`?")
    })
}

/// cargo's target directory for the current workspace.
pub(crate) fn target_dir() -> Result<PathBuf, CliError> {
    let output = Command::new(cargo_program())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| CliError::new(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(CliError::new("`cargo metadata` failed (see above)"));
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| CliError::new(format!("unreadable `cargo metadata` output: {e}")))?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| CliError::new("`cargo metadata` named no target directory"))
}

/// The folder of the workspace (or package) cargo works in.
pub(crate) fn workspace_root() -> Result<PathBuf, CliError> {
    let output = Command::new(cargo_program())
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .map_err(|e| CliError::new(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(CliError::new("no Cargo.toml here or in a parent folder")
            .hint("run nubes inside a project, or create one with `nubes new NAME`"));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    manifest
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| CliError::new("cargo reported an odd manifest path"))
}

fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}
