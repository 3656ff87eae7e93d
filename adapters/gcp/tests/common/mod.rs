//! Shared by the integration tests: an app that records every neutral event
//! it receives, and a server for it on loopback.

#![allow(dead_code, unreachable_pub)]

pub mod emulator;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent, permanent};
use nubes_gcp::{GcpConfig, GcpServer};
use serde_json::{Value, json};

/// What the handlers saw, in order.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Value>>>);

impl Seen {
    fn push(&self, value: Value) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(value);
    }

    pub fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn context(ctx: &Context) -> Value {
    json!({
        "trigger": ctx.trigger(),
        "kind": ctx.trigger_kind().as_str(),
        "provider": ctx.platform().as_str(),
        "invocation_id": ctx.invocation_id(),
        "attempt": ctx.attempt(),
        "trace_id": ctx.trace().trace_id(),
        "raw_type": ctx.raw_event().map(|r| r.content_type()),
        "remaining_ms": ctx.remaining().map(|d| d.as_millis() as u64),
    })
}

/// Queue `orders` (body `fail` fails, `permanent` fails permanently, `slow`
/// takes a second), storage `uploads`, schedule `nightly`, and
/// `GET /hello`, `GET /slow` (one second).
pub fn recording_app(seen: &Seen) -> App {
    let (q, s, t) = (seen.clone(), seen.clone(), seen.clone());
    let router = axum::Router::new()
        .route("/hello", axum::routing::get(|| async { "hello" }))
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                "slow"
            }),
        );
    App::new()
        .http(router)
        .on_queue("orders", move |msg: QueueMessage, ctx: Context| {
            let seen = q.clone();
            async move {
                seen.push(json!({"event": msg, "ctx": context(&ctx)}));
                match &msg.body[..] {
                    b"fail" => Err::<(), BoxError>("asked to fail".into()),
                    b"permanent" => Err(permanent("asked to fail permanently")),
                    b"slow" => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        })
        .on_storage("uploads", move |ev: StorageEvent, ctx: Context| {
            let seen = s.clone();
            async move {
                seen.push(json!({"event": ev, "ctx": context(&ctx)}));
                Ok::<(), BoxError>(())
            }
        })
        .on_schedule(
            "nightly",
            "0 3 * * *",
            move |ev: ScheduledEvent, ctx: Context| {
                let seen = t.clone();
                async move {
                    seen.push(json!({"event": ev, "ctx": context(&ctx)}));
                    Ok::<(), BoxError>(())
                }
            },
        )
}

/// A loopback config on a free port.
pub fn loopback() -> GcpConfig {
    let mut config = GcpConfig::default();
    config.host = [127, 0, 0, 1].into();
    config.port = 0;
    config
}

/// The recording app served with `config`.
pub async fn serve(config: GcpConfig) -> (GcpServer, Seen) {
    let seen = Seen::default();
    let server = nubes_gcp::start(recording_app(&seen), config)
        .await
        .expect("server starts");
    (server, seen)
}

/// `fixtures/gcp/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    nubes_test_support::fixtures::bytes(&format!("gcp/{name}"))
}

/// A `*.headers.json` fixture as header pairs.
pub fn fixture_headers(name: &str) -> Vec<(String, String)> {
    let map: serde_json::Map<String, Value> =
        serde_json::from_slice(&fixture(name)).expect("headers fixture is a JSON object");
    map.into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
        .collect()
}
