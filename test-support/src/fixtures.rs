//! The real provider payloads vendored in the repository's `fixtures/`
//! folder (provenance in its `SOURCES.md`), read by their path inside it,
//! e.g. `"aws/sqs-batch.json"`.
//!
//! The folder is found from this crate's own manifest directory, so every
//! test, bench and unit test of the workspace reads the same copy, and a
//! clone of the repository alone has all of them.

use std::path::PathBuf;

use serde_json::Value;

/// The repository's `fixtures/` folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Where `fixtures/<name>` is, e.g. `fixtures::path("aws/sqs-batch.json")`.
pub fn path(name: &str) -> PathBuf {
    dir().join(name)
}

/// The bytes of `fixtures/<name>`.
///
/// # Panics
///
/// When the file cannot be read (a test without its fixture must fail).
pub fn bytes(name: &str) -> Vec<u8> {
    let path = path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `fixtures/<name>`.
///
/// # Panics
///
/// When the file cannot be read or is not UTF-8.
pub fn text(name: &str) -> String {
    let path = path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `fixtures/<name>` parsed as JSON.
///
/// # Panics
///
/// When the file cannot be read or is not JSON.
pub fn json(name: &str) -> Value {
    serde_json::from_slice(&bytes(name)).unwrap_or_else(|e| panic!("fixtures/{name}: {e}"))
}

/// The names of the files directly in `fixtures/<folder>` (sub-folders left
/// out), sorted, e.g. `fixtures::names("gcp")`: for tests that check every
/// fixture of a platform is covered.
///
/// # Panics
///
/// When the folder cannot be read.
pub fn names(folder: &str) -> Vec<String> {
    let path = path(folder);
    let entries = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_vendored_fixtures_are_found_in_the_repository() {
        assert!(super::bytes("aws/sqs-batch.json").starts_with(b"{"));
        assert!(super::path("SOURCES.md").is_file());
    }

    #[test]
    fn names_lists_the_files_of_a_folder_sorted_without_sub_folders() {
        let names = super::names("azure");
        assert!(names.contains(&"queue-trigger.request.json".to_owned()));
        assert!(!names.contains(&"config".to_owned()));
        assert!(names.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn json_and_text_read_the_same_file() {
        let text = super::text("gcp/pubsub-push-envelope.json");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(super::json("gcp/pubsub-push-envelope.json"), value);
        assert!(value.is_object());
    }
}
