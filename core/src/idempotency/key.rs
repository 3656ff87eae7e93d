//! Which key identifies "the same event": the platform's own id by default, or
//! one the user derives from the payload.

use crate::{BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};

/// Derives the idempotency key of an event. The wrapper prefixes it with the
/// trigger kind and name (`queue:orders:<key>`), so keys only need to be unique
/// within one trigger.
///
/// Implemented by [`PlatformId`] (the default) and by every closure
/// `Fn(&E, &Context) -> Result<String, BoxError>`. A key error fails the
/// delivery like a handler error: retried, or acknowledged when it is
/// [`permanent`](crate::permanent).
pub trait IdempotencyKey<E>: Send + Sync + 'static {
    /// The key of `event`.
    fn key(&self, event: &E, ctx: &Context) -> Result<String, BoxError>;
}

impl<E, F> IdempotencyKey<E> for F
where
    F: Fn(&E, &Context) -> Result<String, BoxError> + Send + Sync + 'static,
{
    fn key(&self, event: &E, ctx: &Context) -> Result<String, BoxError> {
        self(event, ctx)
    }
}

/// The default key: the id the platform gives the event, stable across its
/// redeliveries.
///
/// | Event | Key |
/// |---|---|
/// | [`QueueMessage`] | `id`: SQS / SNS `messageId`, Pub/Sub `messageId`, Azure queue `Id`, Service Bus `MessageId`, the local runner's message id |
/// | [`StorageEvent`] | `id` when the platform sends one (CloudEvent / Event Grid / EventBridge `id`, S3 key + `sequencer`, the local runner's event id); else `action`, key, version, etag and time together |
/// | [`ScheduledEvent`] | the scheduled time (RFC 3339); with the trigger-name prefix, schedule name + time |
#[derive(Debug, Clone, Copy, Default)]
pub struct PlatformId;

impl IdempotencyKey<QueueMessage> for PlatformId {
    fn key(&self, msg: &QueueMessage, _ctx: &Context) -> Result<String, BoxError> {
        if msg.id.is_empty() {
            return Err(missing_id("queue message"));
        }
        Ok(msg.id.clone())
    }
}

impl IdempotencyKey<StorageEvent> for PlatformId {
    fn key(&self, ev: &StorageEvent, _ctx: &Context) -> Result<String, BoxError> {
        if let Some(id) = ev.id.as_deref().filter(|id| !id.is_empty()) {
            return Ok(id.to_owned());
        }
        // No notification id (Azure blob trigger): what the object was at the
        // event identifies it; a redelivery carries the same values.
        if ev.version.is_none() && ev.etag.is_none() && ev.time.is_none() {
            return Err(missing_id("storage event"));
        }
        Ok(format!(
            "{}:{}:{}:{}:{}",
            ev.action.as_str(),
            ev.key,
            ev.version.as_deref().unwrap_or_default(),
            ev.etag.as_deref().unwrap_or_default(),
            ev.time.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ))
    }
}

impl IdempotencyKey<ScheduledEvent> for PlatformId {
    fn key(&self, ev: &ScheduledEvent, _ctx: &Context) -> Result<String, BoxError> {
        Ok(ev
            .scheduled_time
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

fn missing_id(what: &str) -> BoxError {
    format!(
        "idempotency: the {what} has no platform id to use as its key; \
         derive one from the payload with `.key(|event, ctx| ...)`"
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::ContextBuilder;
    use crate::{Platform, StorageAction, TriggerKind};

    fn ctx() -> Context {
        ContextBuilder::new(Platform::Local, TriggerKind::Storage, "uploads").build()
    }

    #[test]
    fn storage_keys_prefer_the_platform_id() {
        let ev = StorageEvent::new(StorageAction::Created, "uploads", "a.txt")
            .with_etag("e1")
            .with_id("evt-1");
        assert_eq!(PlatformId.key(&ev, &ctx()).unwrap(), "evt-1");
    }

    #[test]
    fn storage_keys_fall_back_to_the_object_state() {
        let ev = StorageEvent::new(StorageAction::Created, "uploads", "a.txt").with_etag("e1");
        assert_eq!(PlatformId.key(&ev, &ctx()).unwrap(), "created:a.txt::e1:");
        let bare = StorageEvent::new(StorageAction::Deleted, "uploads", "a.txt");
        let err = PlatformId.key(&bare, &ctx()).unwrap_err();
        assert!(err.to_string().contains(".key("), "{err}");
    }

    #[test]
    fn empty_message_ids_are_refused() {
        let err = PlatformId
            .key(&QueueMessage::new("", "x"), &ctx())
            .unwrap_err();
        assert!(err.to_string().contains("no platform id"), "{err}");
    }

    #[test]
    fn schedule_keys_are_the_scheduled_time() {
        let ev = ScheduledEvent::new("nightly", "2026-11-28T03:00:00Z".parse().unwrap());
        assert_eq!(PlatformId.key(&ev, &ctx()).unwrap(), "2026-11-28T03:00:00Z");
    }
}
