//! The provider-produced payloads of `shared/fixtures/` (beside the
//! repository; provenance in its SOURCES.md), read by path.

use std::path::PathBuf;

/// Where `shared/fixtures/<name>` is, e.g. `fixtures::path("aws/sqs-batch.json")`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name)
}

/// The bytes of `shared/fixtures/<name>`.
///
/// # Panics
///
/// When the file cannot be read (a test without its fixture must fail).
pub fn bytes(name: &str) -> Vec<u8> {
    let path = path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures_are_found_beside_the_repository() {
        assert!(super::bytes("aws/sqs-batch.json").starts_with(b"{"));
        assert!(super::path("SOURCES.md").is_file());
    }
}
