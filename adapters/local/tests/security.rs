//! Storage keys cannot escape their bucket folder: encoded, double-encoded,
//! backslash, absolute, NUL, drive-letter, over-long and symbolic-link
//! variants, sent as raw bytes (no client-side URL normalisation) to
//! `PUT` / `GET` / `DELETE /_nubes/storage/{bucket}/{*key}`, and through the
//! folder watcher. Each refusal is a 4xx JSON error, and nothing is written,
//! read or deleted outside the bucket folder.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nubes_core::{App, BoxError, Context, StorageEvent};
use nubes_local::{LocalConfig, LocalServer, start};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const SECRET: &str = "outside-content-that-must-not-leak";

struct Runner {
    server: LocalServer,
    dir: tempfile::TempDir,
    /// The bucket's folder.
    bucket: PathBuf,
    keys: Arc<Mutex<Vec<String>>>,
}

impl Runner {
    async fn start() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        // Something outside the data folder to read, overwrite or delete.
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret.txt"), SECRET).unwrap();
        let keys: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = keys.clone();
        let app = App::new().on_storage("files", move |ev: StorageEvent, _ctx: Context| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(ev.key);
                Ok::<(), BoxError>(())
            }
        });
        let mut config = LocalConfig::default();
        config.port = 0;
        config.data_dir = dir.path().join(".nubes");
        config.run_schedules = false;
        config.max_attempts = 1;
        let server = start(app, config).await.unwrap();
        let bucket = dir.path().join(".nubes/storage/files");
        Runner {
            server,
            dir,
            bucket,
            keys,
        }
    }

    /// Sends `method target` as raw bytes; (status, body).
    async fn raw(&self, method: &str, target: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.server.local_addr())
            .await
            .unwrap();
        let body = "overwritten";
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

/// Every regular file under `dir`, with its content, skipping the runner's
/// own bookkeeping folders.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let meta = entry.path().symlink_metadata().unwrap();
            if meta.is_dir() {
                walk(&entry.path(), out);
            } else if meta.is_file() {
                out.insert(entry.path(), std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

/// Traversal attempts, as they go on the wire after `/_nubes/storage/files/`.
const ESCAPES: &[&str] = &[
    // Plain and percent-encoded dot segments, both cases.
    "../../outside/secret.txt",
    "..%2f..%2foutside%2fsecret.txt",
    "..%2F..%2Foutside%2Fsecret.txt",
    "%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
    "%2E%2E/%2E%2E/outside/secret.txt",
    "a/%2e%2e/%2e%2e/%2e%2e/outside/secret.txt",
    "%2e%2e",
    "%2e",
    "./secret.txt",
    // Backslashes, raw and encoded.
    "..\\..\\outside\\secret.txt",
    "..%5c..%5coutside%5csecret.txt",
    "a%5c..%5c..%5c..%5coutside",
    // Absolute paths.
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "%2F..%2F..%2Foutside%2Fsecret.txt",
    // NUL and other control characters.
    "secret.txt%00.png",
    "%00",
    "a%0a..%2fb",
    // Windows drives and UNC prefixes.
    "C:%5cWindows%5cwin.ini",
    "%5c%5cserver%5cshare",
    // Overlong UTF-8 dots (invalid UTF-8 once decoded).
    "%c0%ae%c0%ae%2f%c0%ae%c0%ae%2foutside",
    "%c0%2e%c0%2e/secret.txt",
    // Empty segments.
    "a//b",
    "a/",
];

#[tokio::test]
async fn traversal_variants_are_refused_with_a_json_4xx_and_touch_nothing_outside() {
    let r = Runner::start().await;
    let outside_before = files(&r.dir.path().join("outside"));
    let mut refused = 0;
    for key in ESCAPES {
        for method in ["PUT", "GET", "DELETE"] {
            let target = format!("/_nubes/storage/files/{key}");
            let (status, body) = r.raw(method, &target).await;
            assert!(
                (400..500).contains(&status),
                "{method} {target}: {status} {body}"
            );
            // What reached the router is refused with a JSON error; hyper
            // itself refuses some request lines (e.g. a raw backslash) with
            // an empty 400 before any route runs.
            if !body.is_empty() {
                let json: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("{method} {target}: not JSON ({e}): {body}"));
                assert!(
                    json["error"]["message"].is_string(),
                    "{method} {target}: {json}"
                );
            }
            assert!(!body.contains(SECRET), "{method} {target} leaked the file");
            refused += 1;
        }
    }
    r.server.shutdown().await.unwrap();
    assert_eq!(
        files(&r.dir.path().join("outside")),
        outside_before,
        "nothing outside was written or deleted"
    );
    assert!(files(&r.bucket).is_empty(), "nothing stored");
    let top: Vec<_> = std::fs::read_dir(r.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(top, [".nubes", "outside"], "no new file beside them");
    assert!(r.keys.lock().unwrap().is_empty(), "no storage event fired");
    println!("{refused} traversal requests refused");
}

#[tokio::test]
async fn odd_but_harmless_keys_stay_inside_the_bucket() {
    let r = Runner::start().await;
    // Decoded once, these are plain names inside the bucket.
    let cases = [
        ("%252e%252e%252fescaped", "%2e%2e%2fescaped"),
        ("%252e%252e/%252e%252e/escaped", "%2e%2e/%2e%2e/escaped"),
        ("..escaped", "..escaped"),
        ("%e2%80%a4%e2%80%a4/escaped", "\u{2024}\u{2024}/escaped"),
    ];
    for (wire, key) in cases {
        let (status, body) = r.raw("PUT", &format!("/_nubes/storage/files/{wire}")).await;
        assert_eq!(status, 201, "{wire}: {body}");
        assert!(r.bucket.join(key).is_file(), "{wire} stored as `{key}`");
    }
    // `C:` is an ordinary folder name on Unix (a drive only on Windows).
    let (status, body) = r.raw("PUT", "/_nubes/storage/files/C:/escaped").await;
    if cfg!(windows) {
        assert_eq!(status, 400, "{body}");
    } else {
        assert_eq!(status, 201, "{body}");
        assert!(r.bucket.join("C:/escaped").is_file());
    }
    r.server.shutdown().await.unwrap();
    let everything = files(r.dir.path());
    for path in everything.keys() {
        assert!(
            path.starts_with(&r.bucket) || path.starts_with(r.dir.path().join("outside")),
            "{} written outside the bucket",
            path.display()
        );
    }
}

#[tokio::test]
async fn over_long_keys_are_a_400_not_an_io_error() {
    let r = Runner::start().await;
    let long_segment = "k".repeat(256);
    let long_key = format!("{}/{}", "k".repeat(200), "k".repeat(900));
    let fits = format!("{}/{}", "k".repeat(255), "k".repeat(255));
    for key in [long_segment.as_str(), long_key.as_str()] {
        for method in ["PUT", "GET", "DELETE"] {
            let (status, body) = r.raw(method, &format!("/_nubes/storage/files/{key}")).await;
            assert_eq!(status, 400, "{method} {} bytes: {body}", key.len());
            let json: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["error"]["kind"], "invalid_event", "{json}");
        }
    }
    let (status, body) = r.raw("PUT", &format!("/_nubes/storage/files/{fits}")).await;
    assert_eq!(status, 201, "{body}");
    r.server.shutdown().await.unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn symbolic_links_in_the_bucket_do_not_lead_outside() {
    let r = Runner::start().await;
    let outside = r.dir.path().join("outside");
    std::os::unix::fs::symlink(&outside, r.bucket.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), r.bucket.join("alias.txt")).unwrap();
    let before = files(&outside);
    for (method, key) in [
        ("PUT", "link/secret.txt"),
        ("PUT", "link/new.txt"),
        ("GET", "link/secret.txt"),
        ("DELETE", "link/secret.txt"),
        ("GET", "alias.txt"),
        ("DELETE", "alias.txt"),
        ("PUT", "alias.txt"),
    ] {
        let (status, body) = r.raw(method, &format!("/_nubes/storage/files/{key}")).await;
        assert!(
            (400..500).contains(&status),
            "{method} {key}: {status} {body}"
        );
        assert!(!body.contains(SECRET), "{method} {key} leaked the file");
        let json: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {key}: not JSON ({e}): {body}"));
        assert!(json["error"]["message"].is_string(), "{json}");
    }
    assert_eq!(files(&outside), before, "nothing outside changed");
    assert!(!outside.join("new.txt").exists());

    // The watcher does not follow the links either: a real file fires its
    // event, the files behind the links never do.
    std::fs::write(r.bucket.join("real.txt"), "inside").unwrap();
    std::fs::write(outside.join("later.txt"), "outside").unwrap();
    for _ in 0..200 {
        if r.keys.lock().unwrap().iter().any(|k| k == "real.txt") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let keys = r.keys.lock().unwrap().clone();
    assert_eq!(keys, ["real.txt"], "only the real file fired an event");
    r.server.shutdown().await.unwrap();
}
