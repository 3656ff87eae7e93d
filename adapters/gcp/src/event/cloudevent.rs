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
    id: Cow<'a, str>,
    source: Cow<'a, str>,
    ty: Cow<'a, str>,
    time: Option<DateTime<Utc>>,
    /// `time` as sent (already checked), for a message without its own.
    time_text: Option<Cow<'a, str>>,
    /// The data's JSON text.
    data: Cow<'a, str>,
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
    let attr = |name: &str| -> Result<Option<&str>, Error> {
        headers
            .get(name)
            .map(|v| {
                v.to_str().map_err(|_| {
                    Error::invalid_event(format!("CloudEvent header `{name}` is not ASCII text"))
                })
            })
            .transpose()
    };
    let required = |name: &str| -> Result<&str, Error> {
        attr(name)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::invalid_event(format!("CloudEvent header `{name}` is missing")))
    };
    check_spec_version(required("ce-specversion")?)?;
    let time_text = attr("ce-time")?;
    let time = time_text
        .map(|t| wire::time(t, "CloudEvent `time`"))
        .transpose()?;
    let event = CloudEvent {
        id: Cow::Borrowed(required("ce-id")?),
        source: Cow::Borrowed(required("ce-source")?),
        ty: Cow::Borrowed(required("ce-type")?),
        time,
        time_text: time_text.map(Cow::Borrowed),
        data: Cow::Borrowed(utf8(body)?),
    };
    map(event, "application/json")
}

/// The JSON form of a structured-mode CloudEvent (text borrowed from the
/// body unless it has JSON escapes), with its `data` as `D`: kept raw until
/// the type is known, or read as a Pub/Sub message in the one-pass path.
#[derive(Deserialize)]
struct Structured<'a, D> {
    #[serde(borrow)]
    specversion: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
    // No `default` (it would ask `D: Default`): serde reads an absent
    // `Option` field as `None` anyway.
    data: Option<D>,
    #[serde(borrow, default)]
    data_base64: Option<Cow<'a, str>>,
}

/// Text found in the body of every Pub/Sub CloudEvent (in its type).
const PUBSUB_TYPE_MARK: &str = "pubsub.topic.";

pub(super) fn decode_structured(body: &Bytes) -> Result<Decoded, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::invalid_event(format!("CloudEvent is not UTF-8 JSON: {e}")))?;
    // The data's shape depends on the type, which may come after it: a body
    // that looks like a Pub/Sub event is first read as one, in one pass; any
    // other (or one that turns out not to be) is read in two, the data kept
    // raw until the type is known. Both read the same fields the same way.
    if text.contains(PUBSUB_TYPE_MARK)
        && let Some(decoded) = pubsub_in_one_pass(text)
    {
        return decoded;
    }
    decode_in_two_passes(text)
}

/// A Pub/Sub CloudEvent read with its message in one pass; `None` when
/// `text` is not one (the two-pass reading then decides).
fn pubsub_in_one_pass(text: &str) -> Option<Result<Decoded, Error>> {
    let Structured::<MessagePublished<'_>> {
        specversion,
        id,
        source,
        ty,
        time,
        data: Some(published),
        ..
    } = serde_json::from_str(text).ok()?
    else {
        return None;
    };
    if !PUBSUB_PUBLISHED.contains(&ty.as_ref()) {
        return None;
    }
    Some(check_spec_version(&specversion).and_then(|()| {
        let attributes = Attributes {
            id,
            source,
            time: parse_time(time.as_deref())?,
            time_text: time,
        };
        from_published(&attributes, published, "application/cloudevents+json")
    }))
}

/// A structured CloudEvent: its attributes with the data kept raw, then
/// the data read by type.
pub(super) fn decode_in_two_passes(text: &str) -> Result<Decoded, Error> {
    let ce: Structured<'_, &RawValue> = wire::parse(text, "structured CloudEvent")?;
    check_spec_version(&ce.specversion)?;
    let data = match (ce.data, ce.data_base64) {
        (Some(raw), _) => Cow::Borrowed(raw.get()),
        (None, Some(b64)) => Cow::Owned(
            String::from_utf8(wire::base64_vec(&b64, "CloudEvent `data_base64`")?).map_err(
                |e| Error::invalid_event(format!("CloudEvent data is not UTF-8 JSON: {e}")),
            )?,
        ),
        (None, None) => Cow::Borrowed("null"),
    };
    let time = parse_time(ce.time.as_deref())?;
    let event = CloudEvent {
        id: ce.id,
        source: ce.source,
        ty: ce.ty,
        time,
        time_text: ce.time,
        data,
    };
    map(event, "application/cloudevents+json")
}

fn utf8(data: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(data)
        .map_err(|e| Error::invalid_event(format!("CloudEvent data is not UTF-8 JSON: {e}")))
}

fn parse_time(text: Option<&str>) -> Result<Option<DateTime<Utc>>, Error> {
    text.map(|t| wire::time(t, "CloudEvent `time`")).transpose()
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
    let data = ce.data.as_ref();
    if PUBSUB_PUBLISHED.contains(&ce.ty.as_ref()) {
        let published: MessagePublished<'_> = wire::parse(data, "Pub/Sub CloudEvent data")?;
        let attributes = Attributes {
            id: ce.id,
            source: ce.source,
            time: ce.time,
            time_text: ce.time_text,
        };
        return from_published(&attributes, published, raw_type);
    }
    if let Some(action) = storage::action_of_cloudevent(&ce.ty) {
        let object: StorageObject = wire::parse(data, "Cloud Storage CloudEvent data")?;
        let mut event = object.into_event(action, ce.time)?;
        event.id = Some(ce.id.clone().into_owned());
        return Ok(Decoded {
            id: Some(ce.id.into_owned()),
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
            Some(ce.id.into_owned()),
            raw_type,
        ));
    }
    Err(Error::invalid_event(format!(
        "CloudEvent type `{}` is not one nubes handles (Pub/Sub messagePublished, \
         Cloud Storage object.v1.*, Cloud Scheduler job.v1.executed)",
        ce.ty
    )))
}

/// The context attributes a Pub/Sub message takes from its CloudEvent.
struct Attributes<'a> {
    id: Cow<'a, str>,
    source: Cow<'a, str>,
    time: Option<DateTime<Utc>>,
    time_text: Option<Cow<'a, str>>,
}

/// The queue message of a `messagePublished` CloudEvent.
fn from_published(
    ce: &Attributes<'_>,
    published: MessagePublished<'_>,
    raw_type: &'static str,
) -> Result<Decoded, Error> {
    let subscription = published.subscription.as_deref().unwrap_or_default();
    let sub = wire::short_name(subscription, "subscriptions").to_owned();
    let topic = wire::short_name(&ce.source, "topics").to_owned();
    let known_time = ce.time_text.as_deref().zip(ce.time);
    let msg =
        published
            .message
            .into_queue(Some(&ce.id), ce.time_text.as_deref(), known_time, &topic)?;
    Ok(Decoded {
        id: Some(msg.id.clone()),
        attempt: 1,
        names: vec![sub, topic],
        event: NeutralEvent::Queue(msg),
        raw_type,
    })
}
