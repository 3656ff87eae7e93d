//! The portable object key rules.

use crate::Error;

/// The longest key every backend stores (S3's and GCS's limit, in UTF-8 bytes).
const MAX_KEY_BYTES: usize = 1024;

/// Checks that `key` names an object the same way on every backend.
///
/// ```
/// use nubes_core::bucket::check_key;
///
/// assert!(check_key("reports/2026/q1 summary+final%20.pdf").is_ok());
/// assert!(check_key("résumé/日本.txt").is_ok());
/// assert!(check_key("").is_err());
/// assert!(check_key("/etc/passwd").is_err());
/// assert!(check_key("a/../b").is_err());
/// assert!(check_key("folder/").is_err());
/// ```
pub fn check_key(key: &str) -> Result<(), Error> {
    let refuse = |why: &str| Err(Error::invalid_input(format!("object key `{key}`: {why}")));
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return refuse("keys must be 1 to 1024 bytes of UTF-8");
    }
    if key.contains('\0') {
        return refuse("keys must not contain NUL");
    }
    if key.starts_with('/') || key.ends_with('/') {
        return refuse("keys must not start or end with `/`");
    }
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return refuse("keys must not have empty, `.` or `..` segments");
    }
    Ok(())
}
