//! Checking that a cross target can be built here, and saying what to install
//! when it cannot.

use std::process::Command;

use crate::error::CliError;

/// For a target other than the host: the `--config` overrides it needs (its
/// linker), or an error naming what to install.
pub(crate) fn check(triple: &str) -> Result<Vec<String>, CliError> {
    if triple == host_triple() {
        return Ok(Vec::new());
    }
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == triple)
        })
        .unwrap_or(false);
    if !installed {
        return Err(
            CliError::new(format!("the Rust target {triple} is not installed"))
                .hint(format!("rustup target add {triple}")),
        );
    }
    let Some(linker) = linker_for(triple) else {
        return Ok(Vec::new());
    };
    let found = Command::new(linker)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        return Err(
            CliError::new(format!("no linker for {triple}: `{linker}` was not found"))
                .hint("install it, e.g. `apt-get install gcc-aarch64-linux-gnu` on Debian/Ubuntu"),
        );
    }
    Ok(vec![format!("target.{triple}.linker=\"{linker}\"")])
}

/// The C cross-linker a glibc target needs.
fn linker_for(triple: &str) -> Option<&'static str> {
    match triple {
        "aarch64-unknown-linux-gnu" => Some("aarch64-linux-gnu-gcc"),
        _ => None,
    }
}

/// The triple this `nubes` runs on (x86_64 or aarch64 Linux).
pub(crate) fn host_triple() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "aarch64-unknown-linux-gnu"
    } else {
        "x86_64-unknown-linux-gnu"
    }
}
