//! The generated Azure files and the `nubes-azure` adapter agree: every
//! generated event function, invoked the way the Functions host invokes it
//! (`POST /{folder name}`, the trigger's value under the binding name its
//! `function.json` declares), reaches its handler in the real adapter; the
//! HTTP function's name and output binding, and the timeout `host.json`
//! states, are the adapter's. This crate keeps its own copy of those names
//! (it links no adapter), so this is what keeps the two in step.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
use nubes_deploy::azure::{self as manifest, ManifestOptions};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<String>>>;

fn app(seen: &Seen) -> App {
    let (q, s, t) = (seen.clone(), seen.clone(), seen.clone());
    let router = axum::Router::new().route("/jobs", axum::routing::get(|| async { "route" }));
    App::new()
        .http(router)
        .on_queue("jobs", move |_: QueueMessage, ctx: Context| {
            let seen = q.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(format!("queue {}", ctx.trigger()));
                Ok::<(), BoxError>(())
            }
        })
        .on_storage("uploads", move |ev: StorageEvent, ctx: Context| {
            let seen = s.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(format!("storage {} {}", ctx.trigger(), ev.key));
                Ok::<(), BoxError>(())
            }
        })
        .on_schedule(
            "nightly",
            "0 3 * * *",
            move |_: ScheduledEvent, ctx: Context| {
                let seen = t.clone();
                async move {
                    seen.lock()
                        .unwrap()
                        .push(format!("schedule {}", ctx.trigger()));
                    Ok::<(), BoxError>(())
                }
            },
        )
}

/// The trigger's value as the host puts it under binding `name` of `binding`.
fn data(binding: &Value) -> (Value, Value) {
    let name = binding["name"].as_str().unwrap();
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    match binding["type"].as_str().unwrap() {
        "queueTrigger" => (
            json!({ name: b64("hello") }),
            json!({"Id": "m-1", "DequeueCount": 1}),
        ),
        "blobTrigger" => (
            json!({ name: b64("12345") }),
            json!({"Uri": "https://acct.blob.core.windows.net/uploads/a.txt",
                "Properties": {"ContentLength": 5}, "name": "a.txt"}),
        ),
        "timerTrigger" => (
            json!({ name: {"Schedule": {"AdjustForDST": true}, "IsPastDue": false,
                "ScheduleStatus": {"Last": "2026-12-02T03:00:00Z", "Next": "2026-12-03T03:00:00Z"}} }),
            json!({}),
        ),
        other => panic!("no invocation for a {other} binding"),
    }
}

#[tokio::test]
async fn the_adapter_serves_every_generated_function() {
    let seen = Seen::default();
    let app = app(&seen);
    let files = manifest::generate(&app.describe(), &ManifestOptions::default()).unwrap();
    let server = nubes_azure::start(app, nubes_azure::AzureConfig::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let mut invoked = 0;
    for f in &files {
        let Some(function) = f
            .path
            .parent()
            .and_then(|p| p.to_str())
            .filter(|p| !p.is_empty())
        else {
            continue; // host.json, local.settings.json
        };
        let binding = &f.contents["bindings"][0];
        if binding["type"] == "httpTrigger" {
            assert_eq!(function, nubes_azure::DEFAULT_HTTP_FUNCTION);
            // Without proxying the host posts `Data.<in>` and reads `Outputs.<out>`.
            let request = json!({"Data": {binding["name"].as_str().unwrap():
                {"Url": "http://h/jobs", "Method": "GET"}}, "Metadata": {}});
            let reply: Value = http
                .post(format!("{}/{function}", server.url()))
                .body(request.to_string())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let out = f.contents["bindings"][1]["name"].as_str().unwrap();
            assert_eq!(reply["Outputs"][out]["body"], "route", "{reply}");
            continue;
        }
        let (data, metadata) = data(binding);
        let res = http
            .post(format!("{}/{function}", server.url()))
            .header("content-type", "application/json")
            .body(json!({"Data": data, "Metadata": metadata}).to_string())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let reply: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{function}: {reply}");
        invoked += 1;
    }
    assert_eq!(invoked, 3);
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        ["queue jobs", "schedule nightly", "storage uploads a.txt"]
    );
    // The app's own `GET /jobs` is still the route's.
    let res = http
        .get(format!("{}/jobs", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "route");
    server.shutdown().await.unwrap();
}

#[test]
fn the_names_and_timeout_are_the_adapters() {
    assert_eq!(
        manifest::DEFAULT_HTTP_FUNCTION,
        nubes_azure::DEFAULT_HTTP_FUNCTION
    );
    assert_eq!(
        manifest::FUNCTION_TIMEOUT,
        nubes_azure::DEFAULT_FUNCTION_TIMEOUT
    );
    assert_eq!(manifest::RESERVED_PREFIX, nubes_azure::RESERVED_PREFIX);
    for kind in [
        nubes_core::TriggerKind::Queue,
        nubes_core::TriggerKind::Storage,
        nubes_core::TriggerKind::Schedule,
    ] {
        assert_eq!(
            manifest::function_name(kind, "orders"),
            nubes_azure::event_function_name(kind, "orders")
        );
    }
}
