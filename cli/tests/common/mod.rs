//! Shared by the `nubes` command's tests: running the binary under test and
//! reading what it printed.

#![allow(dead_code)] // Each test file uses its own part.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root, where `-p echo` finds the example.
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `nubes <args>` run in the workspace root, to completion.
pub(crate) fn nubes(args: &[&str]) -> Output {
    nubes_in(&workspace(), args)
}

/// `nubes <args>` run in `dir`, to completion.
pub(crate) fn nubes_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nubes"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run nubes: {e}"))
}

/// Everything a finished command printed: stdout, then stderr.
pub(crate) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
