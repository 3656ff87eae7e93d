//! The local runner passes the conformance suite.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::time::Duration;

use nubes_conformance::{
    HttpReply, Platform, Recorder, Verdict, conformance_app, conformance_tests, send,
};
use nubes_local::{LocalConfig, LocalServer};

/// The local runner with one attempt per event, so "retry" shows up as a
/// dead letter at once.
struct Local {
    server: LocalServer,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn setup() -> (Local, Recorder) {
    let recorder = Recorder::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().to_path_buf();
    config.max_attempts = 1;
    config.retry_delay = Duration::from_millis(1);
    config.run_schedules = false;
    config.watch_storage = false;
    let server = nubes_local::start(conformance_app(&recorder), config)
        .await
        .expect("runner starts");
    (
        Local {
            server,
            http: reqwest::Client::new(),
            _dir: dir,
        },
        recorder,
    )
}

impl Local {
    async fn event(&self, request: reqwest::RequestBuilder) -> Verdict {
        let res = request.send().await.expect("runner reachable");
        if !res.status().is_success() {
            return Verdict::Retry;
        }
        let fate: serde_json::Value = res.json().await.expect("JSON fate");
        match fate["status"].as_str() {
            Some("handled" | "failed_permanently") => Verdict::Acknowledged,
            _ => Verdict::Retry,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }
}

impl Platform for Local {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn deliver_queue(
        &self,
        trigger: &str,
        body: &[u8],
        attributes: &[(&str, &str)],
    ) -> Verdict {
        let mut req = self
            .http
            .post(self.url(&format!("/_nubes/queues/{trigger}?wait=true")))
            .body(body.to_vec());
        for (k, v) in attributes {
            req = req.header(format!("x-nubes-attr-{k}"), *v);
        }
        self.event(req).await
    }

    async fn deliver_storage_created(&self, bucket: &str, key: &str, content: &[u8]) -> Verdict {
        let key: Vec<String> = key.split('/').map(|s| s.replace(' ', "%20")).collect();
        let url = self.url(&format!(
            "/_nubes/storage/{bucket}/{}?wait=true",
            key.join("/")
        ));
        self.event(self.http.put(url).body(content.to_vec())).await
    }

    async fn deliver_schedule(&self, name: &str) -> Verdict {
        self.event(
            self.http
                .post(self.url(&format!("/_nubes/schedules/{name}?wait=true"))),
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
            &self.server.url(),
            method,
            path_and_query,
            headers,
            body,
        )
        .await
    }
}

conformance_tests!(setup());
