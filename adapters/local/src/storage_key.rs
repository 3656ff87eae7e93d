//! Object keys that cannot escape their bucket folder.

use std::path::{Path, PathBuf};

use nubes_core::Error;

/// Longest accepted key, as on S3 and Cloud Storage.
const MAX_KEY_BYTES: usize = 1024;
/// Longest file name common file systems store (`NAME_MAX` on Linux and
/// macOS): a longer segment is the caller's mistake (400), not an I/O error.
const MAX_SEGMENT_BYTES: usize = 255;

/// Maps `key` to a path under `bucket_dir`, rejecting anything that could
/// resolve outside it: `.` / `..` segments, empty segments (`a//b`, leading or
/// trailing `/`), backslashes, control characters (NUL included) and drive
/// prefixes, segments longer than a file name may be, and paths through a
/// symbolic link inside the bucket (it could point anywhere). Keys reach this
/// function already percent-decoded once; a key that still holds `%2e%2e`
/// after that is an ordinary file name, not a traversal.
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
            s if s.len() > MAX_SEGMENT_BYTES => {
                return Err(reject(
                    "each `/`-separated part is limited to 255 bytes (a file name)",
                ));
            }
            s => {
                path.push(s);
                // Folders the key passes through must be real folders: a
                // symbolic link would carry the write (or read) out of the bucket.
                if path.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
                    return Err(reject("the key passes through a symbolic link"));
                }
            }
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
        assert!(object_path(root, &"k".repeat(256)).is_err());
        assert!(object_path(root, &format!("{}/{}", "k".repeat(255), "k".repeat(255))).is_ok());
        // Colons are ordinary characters on Unix (and in S3 keys).
        assert_eq!(object_path(root, "a:b").is_ok(), !cfg!(windows));
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_inside_the_bucket_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let (bucket, outside) = (dir.path().join("bucket"), dir.path().join("outside"));
        std::fs::create_dir_all(&bucket).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, bucket.join("link")).unwrap();
        assert!(object_path(&bucket, "link/x").is_err());
        assert!(object_path(&bucket, "link").is_err());
        assert!(object_path(&bucket, "real/x").is_ok());
    }
}
