//! Shared by the integration tests: an app that records every neutral event
//! it receives, and a server for it on loopback.

#![allow(dead_code, unreachable_pub)]

pub mod emulator;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent, permanent};
use nubes_gcp::{GcpConfig, GcpServer};
use serde_json::{Value, json};

/// What the handlers saw, in order, and signals of where they are, so tests
/// wait on those instead of sleeping.
#[derive(Clone)]
pub struct Seen {
    events: Arc<Mutex<Vec<Value>>>,
    /// `GET /slow` and `GET /held` requests that have reached their handler.
    http_started: Arc<AtomicUsize>,
    /// Queue handlers running now, and the most that ever ran at once.
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    /// Closed by [`Seen::release`]: `held` work waits until then.
    gate: Arc<tokio::sync::Semaphore>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            events: Arc::default(),
            http_started: Arc::default(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        }
    }
}

impl Seen {
    fn push(&self, value: Value) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(value);
    }

    pub fn all(&self) -> Vec<Value> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How many `GET /slow` or `GET /held` requests reached their handler.
    pub fn http_started(&self) -> usize {
        self.http_started.load(Ordering::SeqCst)
    }

    /// The most queue handlers that ever ran at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Lets every `held` request and message finish (now and later).
    pub fn release(&self) {
        self.gate.close();
    }

    /// Waits until [`Seen::release`] (a closed semaphore never blocks).
    async fn held(&self) {
        let _ = self.gate.acquire().await;
    }
}

/// Counts a running queue handler in `seen` while it lives.
struct InFlight(Seen);

impl InFlight {
    fn new(seen: &Seen) -> InFlight {
        let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(seen.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
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
/// takes a second, `held` waits for [`Seen::release`]), storage `uploads`,
/// schedule `nightly`, and `GET /hello`, `GET /slow` (one second),
/// `GET /held` (until [`Seen::release`]).
pub fn recording_app(seen: &Seen) -> App {
    let (q, s, t) = (seen.clone(), seen.clone(), seen.clone());
    let (slow, held) = (seen.clone(), seen.clone());
    let router = axum::Router::new()
        .route("/hello", axum::routing::get(|| async { "hello" }))
        .route(
            "/slow",
            axum::routing::get(move || async move {
                slow.http_started.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                "slow"
            }),
        )
        .route(
            "/held",
            axum::routing::get(move || async move {
                held.http_started.fetch_add(1, Ordering::SeqCst);
                held.held().await;
                "held"
            }),
        );
    App::new()
        .http(router)
        .on_queue("orders", move |msg: QueueMessage, ctx: Context| {
            let seen = q.clone();
            async move {
                let _running = InFlight::new(&seen);
                seen.push(json!({"event": msg, "ctx": context(&ctx)}));
                match &msg.body[..] {
                    b"fail" => Err::<(), BoxError>("asked to fail".into()),
                    b"permanent" => Err(permanent("asked to fail permanently")),
                    b"slow" => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Ok(())
                    }
                    b"held" => {
                        seen.held().await;
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
