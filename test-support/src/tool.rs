//! External tools some tests need (emulators, linters, servers). Those tests
//! are `#[ignore = "needs <peer>: <install script>"]`, so a plain
//! `cargo test` counts them as ignored; CI installs every peer and runs them
//! with `-- --ignored`. A test that runs checks its peer first with
//! [`require_tool`], so a missing peer fails it with the install hint
//! instead of letting it pass without testing anything.

use std::process::Command;

/// Checks that `program` runs with `args` and succeeds (e.g. `--version`).
///
/// # Panics
///
/// When it does not, with `install` (how to get the tool) in the message.
pub fn require_tool(program: &str, args: &[&str], install: &str) {
    let found = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        let tool = std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        panic!("`{tool}` does not run here, and this test needs it: {install}");
    }
}

/// Checks that `cargo lambda` (cargo-lambda, from PyPI) is installed.
///
/// # Panics
///
/// When it is not, saying how to install it.
pub fn require_cargo_lambda() {
    require_tool(
        "cargo",
        &["lambda", "--version"],
        "run .ci/install-aws.sh (pip install cargo-lambda)",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_that_runs_is_accepted() {
        require_tool("sh", &["-c", "exit 0"], "any shell");
    }

    #[test]
    fn a_missing_tool_fails_with_its_install_hint() {
        let outcome = std::panic::catch_unwind(|| {
            require_tool("sh", &["-c", "exit 1"], "install a fake tool");
        });
        let message = outcome
            .err()
            .and_then(|p| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(message.contains("install a fake tool"), "{message:?}");
        assert!(message.contains("`sh -c exit 1`"), "{message:?}");
    }
}
