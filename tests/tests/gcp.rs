//! The Cloud Run adapter passes the conformance suite: the server runs
//! in-process on loopback and receives Google's real wire formats (a Pub/Sub
//! push envelope, a Cloud Storage CloudEvent in binary mode, a Cloud Scheduler
//! call, plain HTTP). Pub/Sub, Eventarc and Cloud Scheduler acknowledge on
//! 2xx and redeliver on anything else, which is the verdict reported here.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use nubes_conformance::{
    HttpReply, Platform, Recorder, Verdict, conformance_app, conformance_tests, send,
};
use nubes_gcp::{GcpConfig, GcpServer};
use serde_json::json;

struct Gcp {
    server: GcpServer,
    http: reqwest::Client,
}

async fn setup() -> (Gcp, Recorder) {
    let recorder = Recorder::new();
    let mut config = GcpConfig::default();
    config.host = [127, 0, 0, 1].into();
    config.port = 0;
    let server = nubes_gcp::start(conformance_app(&recorder), config)
        .await
        .expect("server starts");
    (
        Gcp {
            server,
            http: reqwest::Client::new(),
        },
        recorder,
    )
}

impl Gcp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    async fn verdict(&self, request: reqwest::RequestBuilder) -> Verdict {
        let res = request.send().await.expect("server reachable");
        if res.status().is_success() {
            Verdict::Acknowledged
        } else {
            Verdict::Retry
        }
    }
}

impl Platform for Gcp {
    fn name(&self) -> &'static str {
        "gcp"
    }

    async fn deliver_queue(
        &self,
        trigger: &str,
        body: &[u8],
        attributes: &[(&str, &str)],
    ) -> Verdict {
        let attributes: serde_json::Map<String, serde_json::Value> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let envelope = json!({
            "message": {
                "data": STANDARD.encode(body),
                "attributes": attributes,
                "messageId": "17352840962843",
                "message_id": "17352840962843",
                "publishTime": "2026-11-28T12:00:00.123Z",
                "publish_time": "2026-11-28T12:00:00.123Z",
            },
            "subscription": format!("projects/conformance/subscriptions/{trigger}"),
        });
        self.verdict(
            self.http
                .post(self.url(&format!("/_nubes/queues/{trigger}")))
                .json(&envelope),
        )
        .await
    }

    async fn deliver_storage_created(&self, bucket: &str, key: &str, content: &[u8]) -> Verdict {
        let object = json!({
            "bucket": bucket,
            "name": key,
            "size": content.len().to_string(),
            "contentType": "text/plain",
            "generation": "1764331200000000",
            "updated": "2026-11-28T12:00:00.000Z",
        });
        self.verdict(
            self.http
                .post(self.url(&format!("/_nubes/storage/{bucket}")))
                .header("ce-specversion", "1.0")
                .header("ce-id", "9120331451534223")
                .header("ce-type", "google.cloud.storage.object.v1.finalized")
                .header(
                    "ce-source",
                    format!("//storage.googleapis.com/projects/_/buckets/{bucket}"),
                )
                .header("ce-subject", format!("objects/{key}"))
                .header("ce-time", "2026-11-28T12:00:00.000Z")
                .json(&object),
        )
        .await
    }

    async fn deliver_schedule(&self, name: &str) -> Verdict {
        self.verdict(
            self.http
                .post(self.url(&format!("/_nubes/schedules/{name}")))
                .header("x-cloudscheduler", "true")
                .header("x-cloudscheduler-jobname", name)
                .header("x-cloudscheduler-scheduletime", "2026-11-28T03:00:00Z"),
        )
        .await
    }

    async fn http(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpReply {
        send(
            &self.http,
            &self.url(""),
            method,
            path_and_query,
            headers,
            body,
        )
        .await
    }
}

conformance_tests!(setup());
