//! The pipeline end to end on Cloud Run's terms: the real `pipeline` binary
//! runs the GCP adapter (`K_SERVICE` set) with its buckets on
//! gcp-storage-emulator (`STORAGE_EMULATOR_HOST`) under cloud names unlike
//! their logical ones (`NUBES_BUCKET_UPLOADS` / `_RESULTS`). Objects go in
//! through the routes; storage CloudEvents are delivered as Eventarc does
//! (binary mode on the trigger's path, structured on `/`) naming the
//! PHYSICAL bucket; the summaries are read back from the emulator itself.

#![cfg(feature = "gcp")]
#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::process::{Command, Stdio};
use std::time::Duration;

use nubes_test_support::bound_port::bound_port;
use nubes_test_support::fixtures;
use nubes_test_support::gcs_emulator::GcsEmulator;
use nubes_test_support::process::Group;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

struct Pipeline {
    _process: Group,
    port: u16,
    http: reqwest::Client,
}

impl Pipeline {
    fn start(dir: &std::path::Path, emulator: &GcsEmulator, uploads: &str, results: &str) -> Self {
        let log = std::fs::File::create(dir.join("stdout.log")).unwrap();
        let process = Group::spawn(
            Command::new(env!("CARGO_BIN_EXE_pipeline"))
                .current_dir(dir)
                .env("K_SERVICE", "pipeline")
                .env("NUBES_PLATFORM", "gcp")
                .env("PORT", "0")
                .env("NUBES_HOST", "127.0.0.1")
                .env("GOOGLE_CLOUD_PROJECT", "nubes-e2e")
                .env("STORAGE_EMULATOR_HOST", emulator.host())
                .env("NUBES_BUCKET_UPLOADS", uploads)
                .env("NUBES_BUCKET_RESULTS", results)
                .env("RUST_LOG", "info")
                .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
                .env_remove("NUBES_GCP_PUSH_AUDIENCE")
                .env_remove("NUBES_GCP_MODE")
                .stdout(Stdio::from(log))
                .stderr(Stdio::null()),
        );
        let port = bound_port(
            dir,
            "stdout.log",
            "nubes is serving",
            Duration::from_secs(20),
        );
        Pipeline {
            _process: process,
            port,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// `key` as one path segment list for the routes and the emulator's URLs.
fn encoded(key: &str) -> String {
    key.split('/')
        .map(|s| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The real Cloud Storage finalized event, for `key` (of `size` bytes) in
/// `bucket`.
fn finalized(text: &str, bucket: &str, key: &str, size: usize) -> String {
    text.replace("some-bucket", bucket)
        .replace("folder/Test.cs", key)
        .replace("\"352\"", &format!("\"{size}\""))
}

/// The object `key` of the emulator's bucket `bucket`, read with its JSON API.
async fn stored(emulator: &GcsEmulator, bucket: &str, key: &str) -> reqwest::Response {
    reqwest::get(format!(
        "{}/storage/v1/b/{bucket}/o/{}?alt=media",
        emulator.url(),
        encoded(key).replace('/', "%2F")
    ))
    .await
    .unwrap()
}

fn summary_of(key: &str, body: &[u8]) -> Value {
    json!({
        "key": key,
        "bytes": body.len(),
        "lines": body.iter().filter(|b| **b == b'\n').count(),
        "sha256": format!("{:x}", Sha256::digest(body)),
    })
}

#[tokio::test]
#[ignore = "needs gcp-storage-emulator: .ci/install-gcs.sh"]
async fn uploads_are_summarised_through_storage_cloudevents() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = GcsEmulator::start(dir.path());
    let (uploads, results) = ("nubes-e2e-uploads-7f3a", "nubes-e2e-results-7f3a");
    emulator.create_bucket(uploads).await;
    emulator.create_bucket(results).await;
    let app = Pipeline::start(dir.path(), &emulator, uploads, results);

    // Two uploads through the PUT route: ASCII (its event goes in headers),
    // and unicode with `+` and spaces.
    let first = ("docs/hello world+1.txt", b"line one\nline two\n".as_slice());
    let second = (
        "docs/ünïcode/b+c d.txt",
        b"no newline at the end".as_slice(),
    );
    for (key, body) in [first, second] {
        let put = app
            .http
            .put(app.url(&format!("/objects/uploads/{}", encoded(key))))
            .header("content-type", "text/plain")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "PUT {key}");
        let answer: Value = put.json().await.unwrap();
        assert_eq!(
            answer,
            json!({"bucket": "uploads", "key": key, "size": body.len()})
        );
        // Stored under the bucket's cloud name.
        let raw = stored(&emulator, uploads, key).await;
        assert_eq!(raw.status(), 200, "{key} in {uploads}");
        assert_eq!(raw.bytes().await.unwrap(), body);
    }

    // Eventarc's binary mode, on the path triggers.sh points it at.
    let headers = fixtures::json("gcp/cloudevent-storage-finalized.binary.headers.json");
    let body = fixtures::text("gcp/cloudevent-storage-finalized.binary.body.json");
    let mut request = app
        .http
        .post(app.url("/_nubes/storage/uploads"))
        .body(finalized(&body, uploads, first.0, first.1.len()));
    for (name, value) in headers.as_object().unwrap() {
        let value = finalized(value.as_str().unwrap(), uploads, first.0, first.1.len());
        request = request.header(name.as_str(), value);
    }
    let delivered = request.send().await.unwrap();
    assert_eq!(delivered.status(), 204, "binary CloudEvent handled");

    // Structured mode on `/`: the physical bucket name finds the trigger.
    let structured = fixtures::text("gcp/cloudevent-storage-finalized.structured.json");
    let delivered = app
        .http
        .post(app.url("/"))
        .header("content-type", "application/cloudevents+json")
        .body(finalized(&structured, uploads, second.0, second.1.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), 204, "structured CloudEvent handled");

    for (key, body) in [first, second] {
        let summary = stored(&emulator, results, &format!("{key}.json")).await;
        assert_eq!(summary.status(), 200, "results/{key}.json in {results}");
        let summary: Value = serde_json::from_slice(&summary.bytes().await.unwrap()).unwrap();
        assert_eq!(summary, summary_of(key, body), "summary of {key}");
    }

    // GET through the route: the bytes and the stored content type.
    let got = app
        .http
        .get(app.url(&format!("/objects/uploads/{}", encoded(first.0))))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "text/plain");
    assert_eq!(got.bytes().await.unwrap(), first.1);

    // Listings, sorted, on both buckets.
    let listed: Value = app
        .http
        .get(app.url("/objects/uploads?prefix=docs/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut keys = vec![first.0, second.0];
    keys.sort_unstable();
    assert_eq!(listed, json!({ "keys": keys }));
    let summaries: Value = app
        .http
        .get(app.url("/objects/results?prefix=docs/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected: Vec<String> = keys.iter().map(|k| format!("{k}.json")).collect();
    assert_eq!(summaries, json!({ "keys": expected }));

    // A presigned GET works with nothing else (the emulator checks no
    // signature: URLs there are unsigned; signatures are tested offline).
    let presigned: Value = app
        .http
        .get(app.url(&format!(
            "/presign/uploads/{}?method=GET&expires=60",
            encoded(second.0)
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fetched = reqwest::get(presigned["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200, "{presigned}");
    assert_eq!(fetched.bytes().await.unwrap(), second.1);

    // DELETE twice is 204 both times; then GET is a JSON 404.
    for _ in 0..2 {
        let deleted = app
            .http
            .delete(app.url(&format!("/objects/uploads/{}", encoded(first.0))))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
    }
    let gone = app
        .http
        .get(app.url(&format!("/objects/uploads/{}", encoded(first.0))))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let error: Value = gone.json().await.unwrap();
    assert!(error["error"]["kind"].is_string(), "{error}");
    assert_eq!(stored(&emulator, uploads, first.0).await.status(), 404);

    // Any other bucket is a 404.
    let other = app
        .http
        .get(app.url("/objects/elsewhere/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}
