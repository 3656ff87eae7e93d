//! Object keys that cannot escape their bucket folder.

use std::path::{Path, PathBuf};

use nubes_core::Error;

/// Longest accepted key, as on S3 and Cloud Storage.
const MAX_KEY_BYTES: usize = 1024;

/// Maps `key` to a path under `bucket_dir`, rejecting anything that could
/// resolve outside it: `.` / `..` segments, empty segments (`a//b`, leading or
/// trailing `/`), backslashes, control characters (NUL included) and drive
/// prefixes. Keys reach this function already percent-decoded once; a key that
/// still holds `%2e%2e` after that is an ordinary file name, not a traversal.
pub(crate) fn object_path(bucket_dir: &Path, key: &str) -> Result<PathBuf, Error> {
    let reject = |why: &str| {
        Error::invalid_event(format!(
            "object key `{}` rejected: {why}",
            key.escape_debug()
        ))
    };
    if key.is_empty() {
        return Err(reject("the key is empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(reject("keys are limited to 1024 bytes"));
    }
    if key.chars().any(char::is_control) {
        return Err(reject("control characters are not allowed"));
    }
    if key.contains('\\') {
        return Err(reject("backslashes are not allowed"));
    }
    let mut path = bucket_dir.to_path_buf();
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(reject(
                    "empty path segments (leading, trailing or double `/`) are not allowed",
                ));
            }
            "." | ".." => return Err(reject("`.` and `..` segments are not allowed")),
            s if cfg!(windows) && s.len() >= 2 && s.as_bytes()[1] == b':' => {
                return Err(reject("drive prefixes are not allowed"));
            }
            s => path.push(s),
        }
    }
    // Defence in depth: nothing above can leave the folder, check anyway.
    if !path.starts_with(bucket_dir) || path == bucket_dir {
        return Err(reject("the key leaves the bucket folder"));
    }
    Ok(path)
}

/// The key of `path` inside `bucket_dir` (segments joined with `/`).
pub(crate) fn key_of(bucket_dir: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(bucket_dir).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let parts = parts?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_keys_map_under_the_bucket() {
        let root = Path::new("/data/storage/uploads");
        assert_eq!(
            object_path(root, "a/b c.txt").unwrap(),
            root.join("a").join("b c.txt")
        );
        assert_eq!(
            key_of(root, &root.join("a").join("b c.txt")).as_deref(),
            Some("a/b c.txt")
        );
        // Still-encoded dots are just a file name.
        assert_eq!(object_path(root, "%2e%2e").unwrap(), root.join("%2e%2e"));
    }

    #[test]
    fn traversal_and_odd_keys_are_rejected() {
        let root = Path::new("/data/storage/uploads");
        for bad in [
            "",
            "..",
            "../x",
            "a/../../x",
            "./a",
            "/etc/passwd",
            "a//b",
            "a/",
            "a\\..\\b",
            "..\\x",
            "a\0b",
            "a\nb",
        ] {
            assert!(object_path(root, bad).is_err(), "{bad:?} accepted");
        }
        assert!(object_path(root, &"k".repeat(1025)).is_err());
        // Colons are ordinary characters on Unix (and in S3 keys).
        assert_eq!(object_path(root, "a:b").is_ok(), !cfg!(windows));
    }
}
