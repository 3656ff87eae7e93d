//! Google Cloud's event wire formats, decoded into neutral events.
//!
//! One request body is parsed once: headers first pick the format
//! (CloudEvents binary or structured mode, Cloud Scheduler, unwrapped Pub/Sub
//! push), else a single JSON pass tells a Pub/Sub push envelope from a legacy
//! background-function event.

mod cloudevent;
mod legacy;
mod pubsub_push;
mod scheduler;
mod storage;
mod wire;

use bytes::Bytes;
use http::HeaderMap;
use nubes_core::{Error, QueueMessage, ScheduledEvent, StorageEvent, TriggerKind};

/// A neutral event, ready for dispatch.
#[derive(Debug)]
pub(crate) enum NeutralEvent {
    Queue(QueueMessage),
    Storage(StorageEvent),
    Schedule(ScheduledEvent),
}

impl NeutralEvent {
    pub(crate) fn kind(&self) -> TriggerKind {
        match self {
            NeutralEvent::Queue(_) => TriggerKind::Queue,
            NeutralEvent::Storage(_) => TriggerKind::Storage,
            NeutralEvent::Schedule(_) => TriggerKind::Schedule,
        }
    }
}

/// One decoded delivery.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) event: NeutralEvent,
    /// The platform's id of the delivery (message id, CloudEvent id, event id).
    pub(crate) id: Option<String>,
    /// Which delivery this is, when the platform says (Pub/Sub `deliveryAttempt`).
    pub(crate) attempt: u32,
    /// Names the event carries (subscription, topic, bucket, job), most
    /// specific first: how an event that arrived on `/` finds its trigger.
    pub(crate) names: Vec<String>,
    /// The media type of the raw event kept in the context.
    pub(crate) raw_type: &'static str,
}

/// Decodes the event a request carries.
///
/// `Ok(None)` means the request does not look like any Google event at all
/// (only meaningful on `/`, where it then belongs to the user's routes);
/// `Err` means it looks like one but is malformed.
pub(crate) fn decode(headers: &HeaderMap, body: &Bytes) -> Result<Option<Decoded>, Error> {
    if cloudevent::is_structured(headers) {
        return cloudevent::decode_structured(body).map(Some);
    }
    if cloudevent::is_binary(headers) {
        return cloudevent::decode_binary(headers, body).map(Some);
    }
    if scheduler::is_scheduler_call(headers) {
        return scheduler::decode(headers).map(Some);
    }
    if pubsub_push::is_unwrapped(headers) {
        return pubsub_push::decode_unwrapped(headers, body).map(Some);
    }
    // Only a JSON object can be an envelope (serde would read an array as a
    // struct's fields in order).
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Ok(None);
    }
    let Ok(probe) = serde_json::from_slice::<wire::Probe<'_>>(body) else {
        return Ok(None);
    };
    if probe.message.is_some() {
        return pubsub_push::decode_envelope(probe).map(Some);
    }
    if probe.context.is_some() || probe.event_type.is_some() {
        return legacy::decode(probe).map(Some);
    }
    Ok(None)
}

/// True when the headers alone say the request is an event delivery.
pub(crate) fn headers_say_event(headers: &HeaderMap) -> bool {
    cloudevent::is_structured(headers)
        || cloudevent::is_binary(headers)
        || scheduler::is_scheduler_call(headers)
        || pubsub_push::is_unwrapped(headers)
}

/// A schedule firing for a bare `POST /_nubes/schedules/{name}` (a Cloud
/// Scheduler job without its usual headers, or a manual trigger).
pub(crate) fn bare_schedule_call(name: &str) -> Decoded {
    scheduler::fired_now(name)
}

#[cfg(test)]
mod tests;
