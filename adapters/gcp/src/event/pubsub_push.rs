//! Pub/Sub push deliveries: the JSON envelope and unwrapped payloads.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use nubes_core::{Error, QueueMessage};
use serde::Deserialize;

use super::wire::{self, Probe};
use super::{Decoded, NeutralEvent};

/// A Pub/Sub message as pushed (REST JSON). Real pushes and the emulator
/// carry both camelCase and snake_case copies of some fields, so each spelling
/// has its own slot (a serde alias would reject the duplicate). Text is
/// borrowed from the request body unless it has JSON escapes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PushMessage<'a> {
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
    #[serde(default)]
    attributes: Option<BTreeMap<String, String>>,
    #[serde(rename = "messageId", borrow, default)]
    message_id: Option<Cow<'a, str>>,
    #[serde(rename = "message_id", borrow, default)]
    message_id_snake: Option<Cow<'a, str>>,
    #[serde(rename = "publishTime", borrow, default)]
    publish_time: Option<Cow<'a, str>>,
    #[serde(rename = "publish_time", borrow, default)]
    publish_time_snake: Option<Cow<'a, str>>,
    #[serde(rename = "orderingKey", borrow, default)]
    ordering_key: Option<Cow<'a, str>>,
    #[serde(rename = "ordering_key", borrow, default)]
    ordering_key_snake: Option<Cow<'a, str>>,
}

impl PushMessage<'_> {
    /// The message id, if the message carries one.
    pub(crate) fn id(&self) -> Option<&str> {
        self.message_id
            .as_deref()
            .or(self.message_id_snake.as_deref())
            .filter(|id| !id.is_empty())
    }

    /// The neutral message; `fallback_id` is used when the message has no id
    /// (legacy events carry it in their context), `source` names its origin.
    /// `known_time` is a time already parsed from its text (the CloudEvent's),
    /// reused when the message's publish time is the same text.
    pub(crate) fn into_queue(
        self,
        fallback_id: Option<&str>,
        fallback_time: Option<&str>,
        known_time: Option<(&str, DateTime<Utc>)>,
        source: &str,
    ) -> Result<QueueMessage, Error> {
        let Some(id) = self.id().or(fallback_id).map(str::to_owned) else {
            return Err(Error::invalid_event("Pub/Sub message has no messageId"));
        };
        let body = match self.data.as_deref() {
            Some(data) => wire::base64(data, "Pub/Sub message data")?,
            None => Bytes::new(),
        };
        let mut msg = QueueMessage::new(id, body).with_source(source);
        msg.attributes = self.attributes.unwrap_or_default();
        if let Some(at) = self
            .publish_time
            .as_deref()
            .or(self.publish_time_snake.as_deref())
            .or(fallback_time)
        {
            msg.published_at = Some(match known_time {
                Some((text, time)) if text == at => time,
                _ => wire::time(at, "Pub/Sub publishTime")?,
            });
        }
        msg.ordering_key = self
            .ordering_key
            .or(self.ordering_key_snake)
            .filter(|k| !k.is_empty())
            .map(Cow::into_owned);
        Ok(msg)
    }
}

/// The payload of a `messagePublished` CloudEvent and of a push envelope.
#[derive(Debug, Deserialize)]
pub(super) struct MessagePublished<'a> {
    #[serde(borrow)]
    pub(super) message: PushMessage<'a>,
    #[serde(borrow, default)]
    pub(super) subscription: Option<Cow<'a, str>>,
}

/// `{"message":{…},"subscription":"projects/p/subscriptions/s","deliveryAttempt":n}`.
pub(super) fn decode_envelope(probe: Probe<'_>) -> Result<Decoded, Error> {
    let raw = probe.message.map(|m| m.get()).unwrap_or("null");
    let message: PushMessage<'_> = wire::parse(raw, "Pub/Sub push envelope `message`")?;
    let subscription = probe.subscription.unwrap_or_default();
    let short = wire::short_name(&subscription, "subscriptions").to_owned();
    let attempt = probe
        .delivery_attempt
        .map(|n| u32::try_from(n.max(1)).unwrap_or(u32::MAX))
        .unwrap_or(1);
    let msg = message.into_queue(None, None, None, &short)?;
    Ok(Decoded {
        id: Some(msg.id.clone()),
        attempt,
        names: vec![short],
        event: NeutralEvent::Queue(msg.with_attempt(attempt)),
        raw_type: "application/json",
    })
}

/// Headers Pub/Sub writes for an unwrapped push with `write_metadata`.
const MESSAGE_ID: &str = "x-goog-pubsub-message-id";
const SUBSCRIPTION: &str = "x-goog-pubsub-subscription-name";
const PUBLISH_TIME: &str = "x-goog-pubsub-publish-time";
const ORDERING_KEY: &str = "x-goog-pubsub-ordering-key";

/// Request headers that are transport, not message attributes.
const NOT_ATTRIBUTES: &[&str] = &[
    "host",
    "content-length",
    "user-agent",
    "accept",
    "accept-encoding",
    "authorization",
    "connection",
    "from",
    "forwarded",
    "traceparent",
    "tracestate",
    "via",
    "x-cloud-trace-context",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-request-id",
];

pub(super) fn is_unwrapped(headers: &HeaderMap) -> bool {
    headers.contains_key(MESSAGE_ID)
}

/// An unwrapped push: the body is the message data; metadata comes in
/// `x-goog-pubsub-*` headers and attributes as plain headers.
pub(super) fn decode_unwrapped(headers: &HeaderMap, body: &Bytes) -> Result<Decoded, Error> {
    let text = |name: &str| -> Result<Option<String>, Error> {
        headers
            .get(name)
            .map(|v| {
                v.to_str().map(str::to_owned).map_err(|_| {
                    Error::invalid_event(format!("header `{name}` is not visible ASCII text"))
                })
            })
            .transpose()
    };
    let Some(id) = text(MESSAGE_ID)?.filter(|id| !id.is_empty()) else {
        return Err(Error::invalid_event(format!(
            "header `{MESSAGE_ID}` is empty"
        )));
    };
    let subscription = text(SUBSCRIPTION)?.unwrap_or_default();
    let short = wire::short_name(&subscription, "subscriptions").to_owned();
    let mut msg = QueueMessage::new(id.clone(), body.clone()).with_source(short.clone());
    if let Some(at) = text(PUBLISH_TIME)? {
        msg.published_at = Some(wire::time(&at, PUBLISH_TIME)?);
    }
    msg.ordering_key = text(ORDERING_KEY)?.filter(|k| !k.is_empty());
    for (name, value) in headers {
        let name = name.as_str();
        if name.starts_with("x-goog-") || name.starts_with("ce-") || NOT_ATTRIBUTES.contains(&name)
        {
            continue;
        }
        if let Ok(value) = value.to_str() {
            msg.attributes.insert(name.to_owned(), value.to_owned());
        }
    }
    Ok(Decoded {
        id: Some(id),
        attempt: 1,
        names: vec![short],
        event: NeutralEvent::Queue(msg),
        raw_type: "application/octet-stream",
    })
}
