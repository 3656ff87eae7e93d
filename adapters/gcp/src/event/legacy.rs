//! Legacy background-function events (Cloud Functions 1st gen format), in
//! both the `context` form and the flat form.

use nubes_core::Error;
use serde::Deserialize;

use super::pubsub_push::PushMessage;
use super::storage::{self, StorageObject};
use super::wire::{self, Probe};
use super::{Decoded, NeutralEvent};

#[derive(Deserialize)]
struct Context {
    #[serde(rename = "eventId", default)]
    event_id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(rename = "eventType", default)]
    event_type: Option<String>,
    #[serde(default)]
    resource: Option<Resource>,
}

/// `"resource"` is a name in the flat form and an object in the context form.
#[derive(Deserialize)]
#[serde(untagged)]
enum Resource {
    Name(String),
    Object { name: String },
}

impl Resource {
    fn name(&self) -> &str {
        match self {
            Resource::Name(n) | Resource::Object { name: n } => n,
        }
    }
}

const PUBSUB_TYPES: &[&str] = &[
    "google.pubsub.topic.publish",
    "providers/cloud.pubsub/eventTypes/topic.publish",
];

pub(super) fn decode(probe: Probe<'_>) -> Result<Decoded, Error> {
    let context = match probe.context {
        Some(raw) => wire::parse::<Context>(raw.get(), "legacy event `context`")?,
        None => Context {
            event_id: probe.event_id,
            timestamp: probe.timestamp,
            event_type: probe.event_type,
            resource: probe
                .resource
                .map(|r| wire::parse::<Resource>(r.get(), "legacy event `resource`"))
                .transpose()?,
        },
    };
    let ty = context
        .event_type
        .as_deref()
        .ok_or_else(|| Error::invalid_event("legacy event has no `eventType`"))?;
    let data = probe.data.map(|d| d.get()).unwrap_or("null");
    let resource = context.resource.as_ref().map(Resource::name).unwrap_or("");
    if PUBSUB_TYPES.contains(&ty) {
        let message: PushMessage<'_> = wire::parse(data, "legacy Pub/Sub event `data`")?;
        let topic = wire::short_name(resource, "topics").to_owned();
        let msg = message.into_queue(
            context.event_id.as_deref(),
            context.timestamp.as_deref(),
            None,
            &topic,
        )?;
        return Ok(Decoded {
            id: Some(msg.id.clone()),
            attempt: 1,
            names: vec![topic],
            event: NeutralEvent::Queue(msg),
            raw_type: "application/json",
        });
    }
    if ty.starts_with("google.storage.object.") || ty.starts_with("providers/cloud.storage/") {
        let object: StorageObject = wire::parse(data, "legacy Cloud Storage event `data`")?;
        let action = storage::action_of_legacy(ty, object.resource_state.as_deref())
            .ok_or_else(|| unsupported(ty))?;
        let time = context
            .timestamp
            .as_deref()
            .map(|t| wire::time(t, "legacy event `timestamp`"))
            .transpose()?;
        let mut event = object.into_event(action, time)?;
        event.id.clone_from(&context.event_id);
        return Ok(Decoded {
            id: context.event_id,
            attempt: 1,
            names: vec![event.bucket.clone()],
            event: NeutralEvent::Storage(event),
            raw_type: "application/json",
        });
    }
    Err(unsupported(ty))
}

fn unsupported(ty: &str) -> Error {
    Error::invalid_event(format!(
        "legacy event type `{ty}` is not one nubes handles (Pub/Sub publish, Cloud Storage object)"
    ))
}
