//! The app every platform runs for the conformance checks (the echo contract,
//! recording into memory instead of a file).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{get, post};
use nubes_core::raw::encode_body;
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent, permanent};
use serde_json::{Value, json};

use crate::Recorder;

/// Queue `orders`, storage `uploads`, schedule `nightly` (`0 3 * * *`), and
/// `GET /hello/{name}` + `POST /echo`, exactly as in `examples/echo`.
pub fn conformance_app(recorder: &Recorder) -> App {
    let (q, s, t) = (recorder.clone(), recorder.clone(), recorder.clone());
    let router = axum::Router::new()
        .route(
            "/hello/{name}",
            get(|Path(name): Path<String>| async move { format!("hello {name}") }),
        )
        .route("/echo", post(echo));
    App::new()
        .http(router)
        .on_queue("orders", move |msg: QueueMessage, ctx: Context| {
            let rec = q.clone();
            async move {
                let (body, _) = encode_body(&msg.body);
                rec.push(json!({
                    "kind": "queue", "trigger": ctx.trigger(), "id": msg.id, "body": body,
                    "attributes": msg.attributes, "attempt": msg.attempt,
                }));
                match &msg.body[..] {
                    b"fail" => Err::<(), BoxError>("asked to fail".into()),
                    b"panic" => panic!("asked to panic"),
                    b"permanent" => Err(permanent("asked to fail permanently")),
                    _ => Ok(()),
                }
            }
        })
        .on_storage("uploads", move |ev: StorageEvent, ctx: Context| {
            let rec = s.clone();
            async move {
                rec.push(json!({
                    "kind": "storage", "trigger": ctx.trigger(), "action": ev.action.as_str(),
                    "bucket": ev.bucket, "key": ev.key, "size": ev.size,
                }));
                Ok::<(), BoxError>(())
            }
        })
        .on_schedule("nightly", "0 3 * * *", move |ev: ScheduledEvent, ctx: Context| {
            let rec = t.clone();
            async move {
                rec.push(json!({"kind": "schedule", "trigger": ctx.trigger(), "scheduled_time": ev.scheduled_time}));
                Ok::<(), BoxError>(())
            }
        })
}

async fn echo(
    method: Method,
    uri: Uri,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    let mut query = serde_json::Map::new();
    for (k, v) in pairs {
        join(&mut query, k, v);
    }
    let mut hs = serde_json::Map::new();
    for (k, v) in &headers {
        join(
            &mut hs,
            k.as_str().to_owned(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        );
    }
    Json(json!({
        "method": method.as_str(), "path": uri.path(), "query": query, "headers": hs,
        "body": encode_body(&body).0,
    }))
}

fn join(map: &mut serde_json::Map<String, Value>, key: String, value: String) {
    let joined = match map.get(&key).and_then(Value::as_str) {
        Some(prev) => format!("{prev},{value}"),
        None => value,
    };
    map.insert(key, Value::String(joined));
}
