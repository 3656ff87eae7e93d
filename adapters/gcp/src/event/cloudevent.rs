//! CloudEvents 1.0 over HTTP: binary mode (`ce-*` headers, data as body) and
//! structured mode (`application/cloudevents+json`).

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, header};
use nubes_core::Error;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::pubsub_push::MessagePublished;
use super::storage::{self, StorageObject};
use super::{Decoded, NeutralEvent, scheduler, wire};

const PUBSUB_PUBLISHED: &[&str] = &[
    "google.cloud.pubsub.topic.v1.messagePublished",
    // The type Eventarc used before the v1 names (still in Google's samples).
    "com.google.cloud.pubsub.topic.publish",
];
const SCHEDULER_EXECUTED: &str = "google.cloud.scheduler.job.v1.executed";

/// The context attributes nubes uses, and the data.
struct CloudEvent<'a> {
    id: String,
    source: String,
    ty: String,
    time: Option<DateTime<Utc>>,
    data: Cow<'a, [u8]>,
}

pub(super) fn is_structured(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/cloudevents+json"))
}

pub(super) fn is_binary(headers: &HeaderMap) -> bool {
    headers.contains_key("ce-specversion")
}

pub(super) fn decode_binary(headers: &HeaderMap, body: &Bytes) -> Result<Decoded, Error> {
    let attr = |name: &str| -> Result<Option<String>, Error> {
        headers
            .get(name)
            .map(|v| {
                v.to_str().map(str::to_owned).map_err(|_| {
                    Error::invalid_event(format!("CloudEvent header `{name}` is not ASCII text"))
                })
            })
            .transpose()
    };
    let required = |name: &str| -> Result<String, Error> {
        attr(name)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::invalid_event(format!("CloudEvent header `{name}` is missing")))
    };
    check_spec_version(&required("ce-specversion")?)?;
    let time = attr("ce-time")?
        .map(|t| wire::time(&t, "CloudEvent `time`"))
        .transpose()?;
    let event = CloudEvent {
        id: required("ce-id")?,
        source: required("ce-source")?,
        ty: required("ce-type")?,
        time,
        data: Cow::Borrowed(body),
    };
    map(event, "application/json")
}

/// The JSON form of a structured-mode CloudEvent.
#[derive(Deserialize)]
struct Structured<'a> {
    specversion: String,
    id: String,
    source: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    time: Option<String>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    data_base64: Option<String>,
}

pub(super) fn decode_structured(body: &Bytes) -> Result<Decoded, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::invalid_event(format!("CloudEvent is not UTF-8 JSON: {e}")))?;
    let ce: Structured<'_> = wire::parse(text, "structured CloudEvent")?;
    check_spec_version(&ce.specversion)?;
    let data = match (ce.data, ce.data_base64) {
        (Some(raw), _) => Cow::Borrowed(raw.get().as_bytes()),
        (None, Some(b64)) => Cow::Owned(wire::base64(&b64, "CloudEvent `data_base64`")?.to_vec()),
        (None, None) => Cow::Borrowed(&b"null"[..]),
    };
    let time = ce
        .time
        .map(|t| wire::time(&t, "CloudEvent `time`"))
        .transpose()?;
    let event = CloudEvent {
        id: ce.id,
        source: ce.source,
        ty: ce.ty,
        time,
        data,
    };
    map(event, "application/cloudevents+json")
}

fn check_spec_version(version: &str) -> Result<(), Error> {
    if version == "1.0" || version.starts_with("1.") {
        Ok(())
    } else {
        Err(Error::invalid_event(format!(
            "CloudEvents specversion `{version}` is not supported (expected 1.0)"
        )))
    }
}

/// Maps a CloudEvent onto a neutral event by its type.
fn map(ce: CloudEvent<'_>, raw_type: &'static str) -> Result<Decoded, Error> {
    let data = std::str::from_utf8(&ce.data)
        .map_err(|e| Error::invalid_event(format!("CloudEvent data is not UTF-8 JSON: {e}")))?;
    if PUBSUB_PUBLISHED.contains(&ce.ty.as_str()) {
        let published: MessagePublished = wire::parse(data, "Pub/Sub CloudEvent data")?;
        let subscription = published.subscription.unwrap_or_default();
        let sub = wire::short_name(&subscription, "subscriptions").to_owned();
        let topic = wire::short_name(&ce.source, "topics").to_owned();
        let time = ce.time.map(|t| t.to_rfc3339());
        let msg = published
            .message
            .into_queue(Some(&ce.id), time.as_deref(), &topic)?;
        return Ok(Decoded {
            id: Some(msg.id.clone()),
            attempt: 1,
            names: vec![sub, topic],
            event: NeutralEvent::Queue(msg),
            raw_type,
        });
    }
    if let Some(action) = storage::action_of_cloudevent(&ce.ty) {
        let object: StorageObject = wire::parse(data, "Cloud Storage CloudEvent data")?;
        let mut event = object.into_event(action, ce.time)?;
        event.id = Some(ce.id.clone());
        return Ok(Decoded {
            id: Some(ce.id),
            attempt: 1,
            names: vec![event.bucket.clone()],
            event: NeutralEvent::Storage(event),
            raw_type,
        });
    }
    if ce.ty == SCHEDULER_EXECUTED {
        let job = wire::short_name(&ce.source, "jobs").to_owned();
        return Ok(scheduler::fired(
            job,
            ce.time.unwrap_or_else(Utc::now),
            Some(ce.id),
            raw_type,
        ));
    }
    Err(Error::invalid_event(format!(
        "CloudEvent type `{}` is not one nubes handles (Pub/Sub messagePublished, \
         Cloud Storage object.v1.*, Cloud Scheduler job.v1.executed)",
        ce.ty
    )))
}
