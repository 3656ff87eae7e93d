//! One behaviour suite for every bucket backend (feature `bucket-suite`):
//! S3 on moto, Google Cloud Storage on gcp-storage-emulator, Azure Blob on
//! Azurite, and the local runner's storage folder run the same checks
//! (opendal's `core/tests/behavior` is the model).
//!
//! Each check is its own `pub async fn` taking a [`Bucket`] declared with
//! [`Access::ALL`] on an empty bucket (or one whose keys the check does not
//! collide with: every check writes under its own prefix), so a backend's
//! test file names each check in its own `#[tokio::test]` and a failure says
//! which behaviour broke.

use std::time::Duration;

use futures_util::StreamExt as _;
use nubes_core::ErrorKind;
use nubes_core::bucket::{Bucket, PutOptions};
use nubes_core::bytes::Bytes;
use sha2::{Digest as _, Sha256};

/// Keys every backend must store, read, list and delete unchanged.
pub const ODD_KEYS: &[&str] = &[
    "odd/with space.txt",
    "odd/plus+sign",
    "odd/percent%20encoded%2F",
    "odd/unicodé/日本語/ファイル.txt",
    "odd/emoji 🚀.bin",
    "odd/quote'and\"double",
    "odd/hash#frag?q=1&x=2",
    "odd/deeply/nested/a/b/c/d/e.txt",
    "odd/tilde~and,comma;semi=eq@at",
    "odd/(parens) [brackets] {braces}",
];

/// Put, get, head and exists round trip, with content type and metadata.
pub async fn put_get_head(b: &Bucket) {
    let key = "basic/hello.txt";
    let opts = PutOptions::new()
        .content_type("text/plain; charset=utf-8")
        .metadata("origin", "suite");
    let put = b.put_with(key, "hello, bucket", opts).await.expect("put");
    assert_eq!(put.size, 13);
    assert_eq!(b.get(key).await.expect("get"), "hello, bucket");
    let head = b.head(key).await.expect("head");
    assert_eq!(head.key, key);
    assert_eq!(head.size, 13);
    assert_eq!(
        head.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        head.metadata.get("origin").map(String::as_str),
        Some("suite")
    );
    assert!(b.exists(key).await.expect("exists"));
    let object = b.get_object(key).await.expect("get_object");
    assert_eq!(object.meta().size, 13);
    assert_eq!(object.bytes().await.expect("bytes"), "hello, bucket");
}

/// An empty object is an object.
pub async fn empty_object(b: &Bucket) {
    let key = "empty/nothing";
    b.put(key, Bytes::new()).await.expect("put empty");
    assert_eq!(b.head(key).await.expect("head").size, 0);
    assert!(b.get(key).await.expect("get").is_empty());
}

/// Missing objects are `NotFound` for reads, and deleting them succeeds.
pub async fn missing_objects(b: &Bucket) {
    let key = "missing/never-written";
    let kind = |r: Result<_, nubes_core::Error>| r.map(|_| ()).expect_err("missing").kind();
    assert_eq!(kind(b.get(key).await.map(|_| ())), ErrorKind::NotFound);
    assert_eq!(kind(b.head(key).await.map(|_| ())), ErrorKind::NotFound);
    assert!(!b.exists(key).await.expect("exists"));
    b.delete(key)
        .await
        .expect("deleting a missing object succeeds");
}

/// Delete removes; a second delete still succeeds; overwrite replaces.
pub async fn delete_and_overwrite(b: &Bucket) {
    let key = "delete/me";
    b.put(key, "first").await.expect("put");
    b.put(key, "second, longer").await.expect("overwrite");
    assert_eq!(b.get(key).await.expect("get"), "second, longer");
    b.delete(key).await.expect("delete");
    assert!(!b.exists(key).await.expect("exists"));
    b.delete(key).await.expect("delete again");
}

/// Byte ranges: bounded, open-ended, inclusive, clamped at the end.
pub async fn ranges(b: &Bucket) {
    let key = "range/digits";
    b.put(key, "0123456789").await.expect("put");
    let read = |r: nubes_core::bucket::ByteRange| async move {
        b.get_range(key, r)
            .await
            .expect("range")
            .bytes()
            .await
            .expect("bytes")
    };
    assert_eq!(read((2..5).into()).await, "234");
    assert_eq!(read((7..).into()).await, "789");
    assert_eq!(read((0..=0).into()).await, "0");
    assert_eq!(read((8..100).into()).await, "89");
    let empty = b.get_range(key, 5..5).await.expect_err("empty range");
    assert_eq!(empty.kind(), ErrorKind::InvalidInput);
}

/// Keys with spaces, `+`, `%`, unicode, quotes and nested `/` round trip
/// through put, head, get, list and delete.
pub async fn odd_keys(b: &Bucket) {
    for key in ODD_KEYS {
        b.put(key, key.as_bytes().to_vec())
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
    }
    for key in ODD_KEYS {
        assert_eq!(
            b.get(key)
                .await
                .unwrap_or_else(|e| panic!("get {key}: {e}")),
            key.as_bytes()
        );
        assert_eq!(
            b.head(key)
                .await
                .unwrap_or_else(|e| panic!("head {key}: {e}"))
                .key,
            *key
        );
    }
    let mut expected: Vec<String> = ODD_KEYS.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(b.list_keys("odd/").await.expect("list"), expected);
    for key in ODD_KEYS {
        b.delete(key)
            .await
            .unwrap_or_else(|e| panic!("delete {key}: {e}"));
    }
    assert!(b.list_keys("odd/").await.expect("list").is_empty());
}

/// A prefix is a plain string prefix, not a folder.
pub async fn list_by_prefix(b: &Bucket) {
    for key in ["pfx/a", "pfx/ab", "pfx/a/b", "pfx/a/b/c", "pfx/b", "pfxx"] {
        b.put(key, "x").await.expect("put");
    }
    assert_eq!(
        b.list_keys("pfx/a").await.expect("list"),
        ["pfx/a", "pfx/a/b", "pfx/a/b/c", "pfx/ab"]
    );
    assert_eq!(
        b.list_keys("pfx/a/").await.expect("list"),
        ["pfx/a/b", "pfx/a/b/c"]
    );
    assert_eq!(b.list_keys("pfx").await.expect("list").len(), 6);
    assert!(b.list_keys("pfx/zzz").await.expect("list").is_empty());
    let listed: Vec<_> = b.list("pfx/b").collect().await;
    assert_eq!(listed.len(), 1);
    let meta = listed.into_iter().next().expect("one").expect("ok");
    assert_eq!((meta.key.as_str(), meta.size), ("pfx/b", 1));
}

/// More keys than one page (1000 on S3, GCS and Azure): every page is read.
pub async fn list_many(b: &Bucket, count: usize) {
    let keys: Vec<String> = (0..count).map(|i| format!("many/{i:05}")).collect();
    futures_util::stream::iter(keys.iter())
        .for_each_concurrent(32, |key| async move {
            b.put(key, Bytes::from_static(b"k"))
                .await
                .unwrap_or_else(|e| panic!("put {key}: {e}"));
        })
        .await;
    let listed = b.list_keys("many/").await.expect("list");
    assert_eq!(listed.len(), count, "every page listed");
    assert_eq!(listed, keys);
}

/// Copy inside the bucket keeps the bytes and the content type.
pub async fn copy(b: &Bucket) {
    b.put_with(
        "copy/src",
        "copied",
        PutOptions::new().content_type("text/x-test"),
    )
    .await
    .expect("put");
    b.copy("copy/src", "copy/dst").await.expect("copy");
    assert_eq!(b.get("copy/dst").await.expect("get"), "copied");
    assert_eq!(b.get("copy/src").await.expect("source stays"), "copied");
    let missing = b
        .copy("copy/none", "copy/x")
        .await
        .expect_err("missing source");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

/// Presigned GET and PUT work with a plain HTTP client and no credentials.
/// With `expiry_enforced`, a 1-second URL stops working (some emulators do
/// not check expiry: the backend's test says so).
pub async fn presigned(b: &Bucket, expiry_enforced: bool) {
    let http = reqwest::Client::new();
    let key = "presign/file name+ü.txt";
    b.put(key, "signed bytes").await.expect("put");
    let get = b
        .presign_get(key, Duration::from_secs(300))
        .await
        .expect("presign get");
    assert_eq!(get.method, http::Method::GET);
    let resp = http.get(&get.url).send().await.expect("GET presigned");
    assert_eq!(resp.status(), 200, "GET {}", get.url);
    assert_eq!(resp.bytes().await.expect("body"), "signed bytes");

    let put = b
        .presign_put("presign/uploaded", Duration::from_secs(300))
        .await
        .expect("presign put");
    let mut req = http.put(&put.url).body("uploaded through a URL");
    for (name, value) in &put.headers {
        req = req.header(name, value);
    }
    let resp = req.send().await.expect("PUT presigned");
    assert!(
        resp.status().is_success(),
        "PUT {}: {}",
        put.url,
        resp.status()
    );
    assert_eq!(
        b.get("presign/uploaded").await.expect("get"),
        "uploaded through a URL"
    );

    if expiry_enforced {
        let short = b
            .presign_get(key, Duration::from_secs(1))
            .await
            .expect("presign");
        crate::wait::until_async(
            "the 1-second URL to expire",
            Duration::from_secs(15),
            || {
                let (http, url) = (http.clone(), short.url.clone());
                async move {
                    http.get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_client_error())
                }
            },
        )
        .await;
    }
}

/// Streams an object of `size` bytes up and down without holding it in
/// memory: the upload is generated chunk by chunk, the download hashed
/// chunk by chunk, and the largest chunk seen is returned for the caller's
/// memory check.
pub async fn large_object(b: &Bucket, size: u64) -> usize {
    const CHUNK: u64 = 1024 * 1024;
    let key = "large/object.bin";
    let chunk_at = move |i: u64| {
        let len = CHUNK.min(size - i * CHUNK) as usize;
        Bytes::from(vec![(i % 251) as u8; len])
    };
    let chunks = size.div_ceil(CHUNK);
    let mut expected = Sha256::new();
    for i in 0..chunks {
        expected.update(chunk_at(i));
    }
    let body =
        futures_util::stream::iter((0..chunks).map(move |i| Ok::<_, std::io::Error>(chunk_at(i))));
    let meta = b
        .put_stream(key, body, PutOptions::new())
        .await
        .expect("streamed put");
    assert_eq!(meta.size, size);
    assert_eq!(b.head(key).await.expect("head").size, size);

    let mut stream = b.get_object(key).await.expect("get").into_stream();
    let (mut got, mut hasher, mut largest) = (0u64, Sha256::new(), 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        largest = largest.max(chunk.len());
        got += chunk.len() as u64;
        hasher.update(&chunk);
    }
    assert_eq!(got, size);
    assert_eq!(hasher.finalize(), expected.finalize(), "same bytes back");
    b.delete(key).await.expect("delete");
    largest
}

/// The peak resident memory of this process (`VmHWM`), in bytes: a test
/// that runs alone in its binary compares it before and after a transfer.
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
