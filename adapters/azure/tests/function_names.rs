//! Issue #23: an app route and an event trigger of the same name cannot be
//! mistaken for each other. With `enableProxyingHttpRequest` the app's own
//! requests arrive at their original paths, so `POST /jobs` is the app's;
//! the host invokes queue trigger `jobs` as function `nubes-queue-jobs`.
//! Driven through the real server over loopback HTTP.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::sync::{Arc, Mutex};

use axum::routing::post;
use base64::Engine as _;
use nubes_azure::{AzureConfig, event_function_name};
use nubes_core::{App, BoxError, Context, QueueMessage, TriggerKind};
use serde_json::{Value, json};

/// A queue invocation as the host sends it for the generated `function.json`.
fn queue_invocation(body: &str) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(body);
    json!({"Data": {"messageBase64": data}, "Metadata": {"Id": "m-1", "DequeueCount": 1}})
}

#[tokio::test]
async fn a_route_and_a_queue_trigger_of_the_same_name_stay_apart() {
    let received = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let seen = received.clone();
    let router =
        axum::Router::new().route(
            "/jobs",
            post(|body: String| async move {
                (axum::http::StatusCode::CREATED, format!("http: {body}"))
            }),
        );
    let app = App::new()
        .http(router)
        .on_queue("jobs", move |msg: QueueMessage, ctx: Context| {
            let seen = seen.clone();
            async move {
                let text = msg.text().unwrap_or_default().to_owned();
                seen.lock().unwrap().push((ctx.trigger().to_owned(), text));
                Ok::<(), BoxError>(())
            }
        });
    let server = nubes_azure::start(app, AzureConfig::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    // What the host sends on invocations, on a proxied request too.
    let post = |path: &str, body: String| {
        http.post(format!("{}{path}", server.url()))
            .header("content-type", "application/json")
            .header("x-azure-functions-invocationid", "inv-1")
            .header("user-agent", "Azure-Functions-Host/4.1036.1")
            .body(body)
            .send()
    };

    // The app's own request reaches its route, even with an envelope-shaped body.
    let envelope = queue_invocation("from a client").to_string();
    let res = post("/jobs", envelope.clone()).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.text().await.unwrap(), format!("http: {envelope}"));
    assert!(received.lock().unwrap().is_empty(), "no queue handler ran");

    // The invocation for trigger `jobs` reaches the queue handler.
    let function = event_function_name(TriggerKind::Queue, "jobs");
    assert_eq!(function, "nubes-queue-jobs");
    let res = post(
        &format!("/{function}"),
        queue_invocation("work").to_string(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let reply: Value = res.json().await.unwrap();
    assert!(reply["Logs"].is_array(), "{reply}");
    assert_eq!(
        *received.lock().unwrap(),
        [("jobs".to_owned(), "work".to_owned())]
    );

    // A reserved name that is no function of this app is refused as such,
    // never handed to the app's routes.
    let res = post("/nubes-queue-nope", queue_invocation("x").to_string())
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["error"]["kind"], "unknown_trigger", "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nubes-queue-jobs"),
        "the reply lists the app's functions: {reply}"
    );
    assert_eq!(received.lock().unwrap().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_http_function_cannot_take_a_reserved_name() {
    let mut config = AzureConfig::default();
    config.http_function = "Nubes-web".into();
    let router = axum::Router::new().route("/", post(|| async { "" }));
    let err = nubes_azure::start(App::new().http(router), config)
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
    assert!(err.to_string().contains("nubes-"), "{err}");
}
