//! Log files of the processes a test starts, read back into its failure
//! messages.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// `dir/name` opened for appending (created if missing). Give one to a
/// child's stdout and another to its stderr: both streams end up in the one
/// file, in the order they were written, none overwriting the other.
///
/// # Panics
///
/// When the file cannot be opened.
pub fn log_file(dir: &Path, name: &str) -> File {
    let path = dir.join(name);
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

/// The text of `dir/name`, or an empty string when it does not exist (yet).
pub fn read_log(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}
