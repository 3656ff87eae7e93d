//! External tools some tests need (emulators, linters): CI installs them, so
//! there a missing one fails the test; elsewhere the test is skipped, with a
//! visible line saying so.

use std::process::Command;

/// Whether `program` runs with `args` and succeeds (e.g. `--version`).
///
/// When it does not and the env var `CI` is set, this panics with
/// `install` (how to get the tool) in the message; otherwise it prints a
/// `SKIP:` line and returns `false`, and the caller returns.
///
/// # Panics
///
/// Under CI, when the tool is missing.
pub fn tool_available(program: &str, args: &[&str], install: &str) -> bool {
    let found = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        let tool = std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            std::env::var_os("CI").is_none(),
            "`{tool}` does not run, and CI must have it: {install}"
        );
        eprintln!("SKIP: `{tool}` does not run here ({install})");
    }
    found
}

/// Whether `cargo lambda` (cargo-lambda, from PyPI) is installed; see
/// [`tool_available`] for what happens when it is not.
///
/// # Panics
///
/// Under CI, when cargo-lambda is missing.
pub fn cargo_lambda_available() -> bool {
    tool_available(
        "cargo",
        &["lambda", "--version"],
        "run .ci/install-aws.sh (pip install cargo-lambda)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_that_runs_is_available() {
        assert!(tool_available("sh", &["-c", "exit 0"], "any shell"));
    }

    #[test]
    fn a_failing_tool_is_skipped_or_fails_under_ci() {
        let outcome =
            std::panic::catch_unwind(|| tool_available("sh", &["-c", "exit 1"], "a fake tool"));
        match std::env::var_os("CI") {
            Some(_) => assert!(outcome.is_err(), "CI must fail on a missing tool"),
            None => assert!(matches!(outcome, Ok(false))),
        }
    }
}
