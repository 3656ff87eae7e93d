//! The Azure Functions custom-handler adapter passes the conformance suite.
//!
//! The adapter's server runs in-process; each delivery is the request the
//! Functions host would send for the generated `function.json` files:
//! `queueTrigger` (or `serviceBusTrigger` when the message has properties,
//! which Storage queues cannot carry), `blobTrigger`, `timerTrigger`, and
//! proxied plain HTTP for the app's routes. A `200` reply completes the
//! invocation; anything else makes the host retry.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use nubes_azure::{AzureConfig, AzureServer, event_function_name};
use nubes_conformance::{
    HttpReply, Platform, Recorder, Verdict, conformance_app, conformance_tests, send,
};
use nubes_core::TriggerKind;
use serde_json::{Value, json};

struct Azure {
    server: AzureServer,
    http: reqwest::Client,
}

async fn setup() -> (Azure, Recorder) {
    let recorder = Recorder::new();
    let server = nubes_azure::start(conformance_app(&recorder), AzureConfig::default())
        .await
        .expect("handler starts");
    (
        Azure {
            server,
            http: reqwest::Client::new(),
        },
        recorder,
    )
}

fn sys(method: &str) -> Value {
    json!({"MethodName": method, "UtcNow": "2026-11-28T03:00:00.0000001Z",
        "RandGuid": "24ad4c06-24ad-4e5b-8294-3da9714877e9"})
}

impl Azure {
    /// Invokes the function of event trigger `trigger` of `kind`, as the
    /// host does: at the generated function's name.
    async fn invoke(&self, kind: TriggerKind, trigger: &str, payload: Value) -> Verdict {
        let function = event_function_name(kind, trigger);
        let res = self
            .http
            .post(format!("{}/{function}", self.server.url()))
            .header("content-type", "application/json")
            .header(
                "x-azure-functions-invocationid",
                "7b0e8a1f-4ad6-4c3e-9a57-0c9e6b9f3c21",
            )
            .body(payload.to_string())
            .send()
            .await
            .expect("handler reachable");
        if res.status() != 200 {
            // Failures are JSON too, except for a function the app lacks: with
            // HTTP routes, that request is the routes' to answer (a 404).
            return Verdict::Retry;
        }
        let reply: Value = res.json().await.expect("JSON reply");
        assert!(reply["Logs"].is_array(), "reply has Logs: {reply}");
        Verdict::Acknowledged
    }
}

impl Platform for Azure {
    fn name(&self) -> &'static str {
        "azure"
    }

    async fn deliver_queue(
        &self,
        trigger: &str,
        body: &[u8],
        attributes: &[(&str, &str)],
    ) -> Verdict {
        let data = json!({"messageBase64": STANDARD.encode(body)});
        let metadata = if attributes.is_empty() {
            json!({
                "DequeueCount": 1, "Id": "800ae4b3-bdd2-4c08-badd-f08e5a34b865",
                "InsertionTime": "2026-11-28T02:59:58+00:00",
                "PopReceipt": "AgAAAAMAAAAAAAAAAgtnj8x+1QE=", "sys": sys(trigger),
            })
        } else {
            let props: serde_json::Map<String, Value> = attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                .collect();
            json!({
                "DeliveryCount": "1", "MessageId": "\"4e773554-f6b7-4ea2-b07d-4c5fd5aba741\"",
                "SequenceNumber": "1", "EnqueuedTimeUtc": "2026-11-28T02:59:58",
                "ApplicationProperties": props, "UserProperties": props, "sys": sys(trigger),
            })
        };
        self.invoke(
            TriggerKind::Queue,
            trigger,
            json!({"Data": data, "Metadata": metadata}),
        )
        .await
    }

    async fn deliver_storage_created(&self, bucket: &str, key: &str, content: &[u8]) -> Verdict {
        let encoded_key = key.replace(' ', "%20");
        let payload = json!({
            "Data": {"blobBase64": STANDARD.encode(content)},
            "Metadata": {
                "Uri": format!("https://acct.blob.core.windows.net/{bucket}/{encoded_key}"),
                "Properties": {"ContentLength": content.len(), "ContentType": "text/plain"},
                "name": key,
                "sys": sys(bucket),
            }
        });
        self.invoke(TriggerKind::Storage, bucket, payload).await
    }

    async fn deliver_schedule(&self, name: &str) -> Verdict {
        let payload = json!({
            "Data": {"timer": {
                "Schedule": {"AdjustForDST": true},
                "ScheduleStatus": {"Last": "2026-11-27T03:00:00Z", "Next": "2026-11-28T03:00:00Z",
                    "LastUpdated": "2026-11-27T03:00:00Z"},
                "IsPastDue": false,
            }},
            "Metadata": {"sys": sys(name)},
        });
        self.invoke(TriggerKind::Schedule, name, payload).await
    }

    async fn http(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpReply {
        // With `enableProxyingHttpRequest` the host forwards the request as is.
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
