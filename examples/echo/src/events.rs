//! Queue, storage and schedule handlers: one echo line per event.

use nubes::raw::encode_body;
use nubes::{BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent, permanent};
use serde_json::json;

use crate::sink;

/// Queue `orders`: echoes, then fails, panics or fails permanently on request.
pub(crate) async fn on_order(msg: QueueMessage, ctx: Context) -> Result<(), BoxError> {
    let (body, _) = encode_body(&msg.body);
    sink::append(&json!({
        "kind": "queue",
        "trigger": ctx.trigger(),
        "id": msg.id,
        "body": body,
        "attributes": msg.attributes,
        "attempt": msg.attempt,
    }))?;
    match &msg.body[..] {
        b"fail" => Err("echo: asked to fail (the message will be retried)".into()),
        b"panic" => panic!("echo: asked to panic"),
        b"permanent" => Err(permanent("echo: asked to fail permanently")),
        _ => Ok(()),
    }
}

/// Storage `uploads`.
pub(crate) async fn on_upload(ev: StorageEvent, ctx: Context) -> Result<(), BoxError> {
    sink::append(&json!({
        "kind": "storage",
        "trigger": ctx.trigger(),
        "action": ev.action.as_str(),
        "bucket": ev.bucket,
        "key": ev.key,
        "size": ev.size,
    }))?;
    Ok(())
}

/// Schedule `nightly`.
pub(crate) async fn on_nightly(ev: ScheduledEvent, ctx: Context) -> Result<(), BoxError> {
    sink::append(&json!({
        "kind": "schedule",
        "trigger": ctx.trigger(),
        "scheduled_time": ev.scheduled_time,
    }))?;
    Ok(())
}
