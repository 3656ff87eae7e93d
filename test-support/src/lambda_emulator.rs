//! cargo-lambda's Lambda Runtime API emulator (`cargo lambda watch
//! --only-lambda-apis`), a real third-party implementation of the API a
//! Lambda function polls, with the Invoke API to send it events.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::log_file::{log_file, read_log};
use crate::port::{free_port, port_opens_within};
use crate::process::Group;

/// The emulator's output, in [`LambdaEmulator::dir`].
const LOG: &str = "emulator.log";
/// Longest wait for the emulator to listen (a cold `cargo` start is slow).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running emulator on a free loopback port, stopped with its whole
/// process group when dropped, and its folder then removed.
#[derive(Debug)]
pub struct LambdaEmulator {
    // Fields drop in order: the processes go before their folder.
    _process: Group,
    port: u16,
    dir: TempDir,
}

impl LambdaEmulator {
    /// Starts the emulator in a fresh folder holding the Cargo manifest
    /// (package `package`) it reads even though it builds nothing, and waits
    /// until it listens. Tests that start it are
    /// `#[ignore = "needs cargo-lambda: .ci/install-aws.sh"]`.
    ///
    /// # Panics
    ///
    /// When cargo-lambda is not installed (saying how to install it), the
    /// folder cannot be written, or the emulator does not listen within 60 s
    /// (the message holds its output).
    pub fn start(package: &str) -> LambdaEmulator {
        crate::tool::require_cargo_lambda();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary folder: {e}"));
        write_dummy_package(dir.path(), package);
        let port = free_port();
        let process = Group::spawn(
            Command::new("cargo")
                .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1"])
                .arg("-P")
                .arg(port.to_string())
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(log_file(dir.path(), LOG))
                .stderr(log_file(dir.path(), LOG)),
        );
        assert!(
            port_opens_within(port, START_TIMEOUT),
            "cargo lambda watch did not start:\n{}",
            read_log(dir.path(), LOG)
        );
        LambdaEmulator {
            _process: process,
            port,
            dir,
        }
    }

    /// The emulator's folder: a place for the function's files and logs too,
    /// removed when the emulator is dropped.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the function `function`, in
    /// cargo-lambda's form (scheme and path; AWS itself gives `host:port`).
    pub fn runtime_api(&self, function: &str) -> String {
        format!("{}/.rt/{function}", self.base_url())
    }

    /// The Invoke API URL of `function` (synchronous invocations).
    pub fn invoke_url(&self, function: &str) -> String {
        format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.base_url()
        )
    }

    /// Everything the emulator has printed so far.
    pub fn log(&self) -> String {
        read_log(self.dir.path(), LOG)
    }
}

/// The smallest Cargo package `cargo lambda watch` accepts in its folder.
fn write_dummy_package(dir: &Path, package: &str) {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    };
    std::fs::create_dir_all(dir.join("src"))
        .unwrap_or_else(|e| panic!("cannot create {}/src: {e}", dir.display()));
    write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n"
        ),
    );
    write("src/main.rs", "fn main() {}\n");
}
