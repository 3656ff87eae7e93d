//! SNS notifications → queue messages (trigger = topic name).

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use nubes_core::raw::AppDispatch as _;
use nubes_core::{QueueMessage, TriggerKind};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::failure::InvocationError;
use crate::handler::{Scope, reply_for};

#[derive(Deserialize)]
struct SnsRecord<'a> {
    #[serde(rename = "Sns", borrow)]
    sns: SnsMessage<'a>,
}

#[derive(Deserialize)]
struct SnsMessage<'a> {
    #[serde(rename = "MessageId", borrow)]
    message_id: Cow<'a, str>,
    #[serde(rename = "TopicArn", borrow)]
    topic_arn: Cow<'a, str>,
    #[serde(rename = "Message", borrow, default)]
    message: Cow<'a, str>,
    #[serde(rename = "Timestamp", default)]
    timestamp: Option<DateTime<Utc>>,
    #[serde(rename = "MessageAttributes", borrow, default)]
    attributes: BTreeMap<String, SnsAttribute<'a>>,
}

#[derive(Deserialize)]
struct SnsAttribute<'a> {
    #[serde(rename = "Value", borrow, default)]
    value: Cow<'a, str>,
}

/// Delivers each notification to the topic's queue trigger; any retryable
/// failure fails the invocation (Lambda retries asynchronous SNS deliveries).
pub(crate) async fn handle(
    scope: &Scope<'_>,
    records: Vec<&RawValue>,
) -> Result<Vec<u8>, InvocationError> {
    let mut outcomes = Vec::with_capacity(records.len());
    for raw in records {
        let (trigger, message) = decode(scope, raw)?;
        let ctx = scope.context(TriggerKind::Queue, trigger, 1, scope.raw(raw.get()));
        let outcome = scope
            .before_deadline(scope.app().dispatch_queue(message, ctx))
            .await
            .ok_or_else(|| {
                InvocationError::deadline_exceeded(
                    "the SNS message was not handled before the deadline",
                )
            })?;
        outcomes.push(outcome);
    }
    reply_for(outcomes)
}

/// One SNS record as the trigger it goes to and its queue message.
pub(crate) fn decode(
    scope: &Scope<'_>,
    raw: &RawValue,
) -> Result<(String, QueueMessage), InvocationError> {
    let record: SnsRecord<'_> = serde_json::from_str(raw.get())
        .map_err(|e| InvocationError::invalid_event(format!("SNS record is malformed: {e}")))?;
    let sns = record.sns;
    let topic = sns.topic_arn.rsplit(':').next().unwrap_or_default();
    let trigger = scope.trigger_name(TriggerKind::Queue, topic);
    let mut message =
        QueueMessage::new(sns.message_id.as_ref(), scope.share(&sns.message)).with_source(topic);
    message.published_at = sns.timestamp;
    for (name, attribute) in sns.attributes {
        message
            .attributes
            .insert(name, attribute.value.into_owned());
    }
    Ok((trigger, message))
}
