//! SQS batches → queue messages (or storage events for S3 notifications carried
//! in a message body), answered with `batchItemFailures`.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use nubes_core::raw::{AppDispatch as _, Outcome};
use nubes_core::{QueueMessage, RawEvent, TraceContext, TriggerKind};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::failure::InvocationError;
use crate::handler::Scope;
use crate::s3::{S3Notification, is_test_event, looks_like_notification};

/// One SQS record, borrowing from the payload where it can.
#[derive(Deserialize)]
pub(crate) struct SqsRecord<'a> {
    /// `aws:sqs` (read when classifying the event by its first record).
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<Cow<'a, str>>,
    #[serde(rename = "messageId", borrow)]
    message_id: Cow<'a, str>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    attributes: SystemAttributes<'a>,
    #[serde(rename = "messageAttributes", borrow, default)]
    message_attributes: BTreeMap<String, MessageAttribute<'a>>,
    #[serde(rename = "eventSourceARN", borrow, default)]
    event_source_arn: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct SystemAttributes<'a> {
    #[serde(rename = "ApproximateReceiveCount", borrow, default)]
    receive_count: Option<Cow<'a, str>>,
    #[serde(rename = "SentTimestamp", borrow, default)]
    sent_timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "MessageGroupId", borrow, default)]
    message_group_id: Option<Cow<'a, str>>,
    /// The sender's X-Ray trace header (`Root=…;Parent=…;Sampled=…`).
    #[serde(rename = "AWSTraceHeader", borrow, default)]
    trace_header: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct MessageAttribute<'a> {
    #[serde(rename = "stringValue", borrow, default)]
    string_value: Option<Cow<'a, str>>,
    #[serde(rename = "binaryValue", borrow, default)]
    binary_value: Option<Cow<'a, str>>,
}

/// Just the id, to report a record that does not parse otherwise.
#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(rename = "messageId", borrow)]
    message_id: Cow<'a, str>,
}

/// What one record becomes before anything runs.
enum Work {
    Queue {
        trigger: String,
        message: QueueMessage,
        raw: RawEvent,
        /// The message's own trace (`AWSTraceHeader`), which names the
        /// sender's trace better than the batch invocation's.
        trace: Option<TraceContext>,
    },
    Storage {
        events: Vec<nubes_core::StorageEvent>,
        trigger: String,
        attempt: u32,
        raw: RawEvent,
    },
    /// Nothing to run (S3's `s3:TestEvent`): acknowledged.
    Nothing,
    /// The record was malformed: reported failed so SQS redelivers / dead-letters it.
    Invalid(InvocationError),
}

struct Item {
    id: String,
    work: Work,
}

/// The first record of an event, when it is a well-formed SQS record: the
/// classifier tells SQS batches apart by it, and hands it on so that it is
/// not parsed twice (for a 6 MB message, one scan of 6 MB less).
pub(crate) fn first_record(raw: &RawValue) -> Option<SqsRecord<'_>> {
    serde_json::from_str::<SqsRecord<'_>>(raw.get())
        .ok()
        .filter(|record| record.event_source.as_deref() == Some("aws:sqs"))
}

/// Processes a batch and answers `{"batchItemFailures":[…]}`. `first` is the
/// first record, already parsed by the classifier (or `None`).
pub(crate) async fn handle<'a>(
    scope: &Scope<'a>,
    records: Vec<&'a RawValue>,
    mut first: Option<SqsRecord<'a>>,
) -> Result<Vec<u8>, InvocationError> {
    let mut items = Vec::with_capacity(records.len());
    let mut fifo = false;
    for raw in records {
        let item = parse(scope, raw, first.take())?;
        fifo |= item.1;
        items.push(item.0);
    }
    let failed = if fifo {
        run_in_order(scope, items).await
    } else {
        run_concurrently(scope, items).await
    };
    Ok(batch_response(&failed))
}

/// The neutral events of a batch, without running anything (see
/// [`crate::fuzzing::decode`]).
pub(crate) fn decode<'a>(
    scope: &Scope<'a>,
    records: Vec<&'a RawValue>,
    mut first: Option<SqsRecord<'a>>,
) -> Result<Vec<crate::fuzzing::Event>, InvocationError> {
    use crate::fuzzing::Event;
    let mut events = Vec::with_capacity(records.len());
    for raw in records {
        let (item, _fifo) = parse(scope, raw, first.take())?;
        match item.work {
            Work::Queue {
                trigger, message, ..
            } => events.push(Event::Queue { trigger, message }),
            Work::Storage {
                events: storage,
                trigger,
                ..
            } => events.extend(storage.into_iter().map(|event| Event::Storage {
                trigger: trigger.clone(),
                event,
            })),
            Work::Nothing => events.push(Event::Skipped),
            Work::Invalid(err) => events.push(Event::Invalid(crate::fuzzing::to_error(&err))),
        }
    }
    Ok(events)
}

/// `{"batchItemFailures":[{"itemIdentifier":…},…]}`, written directly.
fn batch_response(failed: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + failed.iter().map(|id| id.len() + 24).sum::<usize>());
    out.extend_from_slice(br#"{"batchItemFailures":["#);
    for (i, id) in failed.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"itemIdentifier":"#);
        // A string into a Vec cannot fail to serialise.
        let _ = serde_json::to_writer(&mut out, id.as_str());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// Parses one record; `true` when it comes from a FIFO queue. A record without
/// even a `messageId` fails the whole invocation (SQS then retries the batch).
fn parse<'a>(
    scope: &Scope<'a>,
    raw: &'a RawValue,
    parsed: Option<SqsRecord<'a>>,
) -> Result<(Item, bool), InvocationError> {
    let parsed = match parsed {
        Some(record) => Ok(record),
        None => serde_json::from_str::<SqsRecord<'_>>(raw.get()),
    };
    let record: SqsRecord<'_> = match parsed {
        Ok(record) => record,
        Err(e) => {
            let IdOnly { message_id } = serde_json::from_str(raw.get()).map_err(|_| {
                InvocationError::invalid_event(format!(
                    "an SQS record has no readable `messageId`: {e}"
                ))
            })?;
            let err = InvocationError::invalid_event(format!(
                "SQS message `{message_id}` is malformed: {e}"
            ));
            let item = Item {
                id: message_id.into_owned(),
                work: Work::Invalid(err),
            };
            return Ok((item, false));
        }
    };
    let queue = record
        .event_source_arn
        .as_deref()
        .and_then(|arn| arn.rsplit(':').next())
        .unwrap_or_default()
        .to_owned();
    let fifo = queue.ends_with(".fifo");
    let id = record.message_id.as_ref().to_owned();
    let attempt = record
        .attributes
        .receive_count
        .as_deref()
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(1);
    let raw_event = scope.raw(raw.get());
    let body = record.body.as_deref().unwrap_or_default();
    let queue_trigger = scope.trigger_name(TriggerKind::Queue, &queue);

    if looks_like_notification(body) {
        let queue_known = scope.app().has_trigger(TriggerKind::Queue, &queue_trigger);
        if let Some(work) = storage_work(scope, body, attempt, &raw_event, queue_known) {
            return Ok((Item { id, work }, fifo));
        }
    }

    let mut message = QueueMessage::new(id.clone(), scope.share(body))
        .with_attempt(attempt)
        .with_source(queue);
    for (name, value) in record.message_attributes {
        if let Some(v) = value.string_value.or(value.binary_value) {
            message.attributes.insert(name, v.into_owned());
        }
    }
    if let Some(at) = record
        .attributes
        .sent_timestamp
        .as_deref()
        .and_then(|ms| ms.trim().parse::<i64>().ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
    {
        message.published_at = Some(at);
    }
    message.ordering_key = record
        .attributes
        .message_group_id
        .as_deref()
        .map(str::to_owned);
    let trace = record
        .attributes
        .trace_header
        .as_deref()
        .and_then(TraceContext::from_xray);
    let work = Work::Queue {
        trigger: queue_trigger,
        message,
        raw: raw_event,
        trace,
    };
    Ok((Item { id, work }, fifo))
}

/// An S3 notification in a message body goes to the bucket's storage trigger;
/// `None` lets it through as an ordinary queue message instead (when the app
/// has a trigger for the queue but none for the bucket).
fn storage_work(
    scope: &Scope<'_>,
    body: &str,
    attempt: u32,
    raw: &RawEvent,
    queue_known: bool,
) -> Option<Work> {
    if is_test_event(body) {
        if queue_known {
            return None;
        }
        tracing::info!("S3 test notification acknowledged");
        return Some(Work::Nothing);
    }
    let parsed: Result<S3Notification<'_>, _> = serde_json::from_str(body);
    let notification = match parsed {
        Ok(n) => n,
        Err(_) if queue_known => return None,
        Err(e) => {
            return Some(Work::Invalid(InvocationError::invalid_event(format!(
                "message body looks like an S3 notification but does not parse: {e}"
            ))));
        }
    };
    let bucket = notification
        .records
        .first()
        .map(|r| r.bucket_name().to_owned())
        .unwrap_or_default();
    let trigger = scope.trigger_name(TriggerKind::Storage, &bucket);
    if queue_known && !scope.app().has_trigger(TriggerKind::Storage, &trigger) {
        return None;
    }
    let events: Result<Vec<_>, _> = notification.records.iter().map(|r| r.to_event()).collect();
    Some(match events {
        Ok(events) => Work::Storage {
            events,
            trigger,
            attempt,
            raw: raw.clone(),
        },
        Err(err) => Work::Invalid(err),
    })
}

/// Runs one item; `true` when it is acknowledged.
async fn run(scope: &Scope<'_>, work: Work) -> bool {
    match work {
        Work::Queue {
            trigger,
            message,
            raw,
            trace,
        } => {
            let ctx = match trace {
                Some(trace) => {
                    scope.context_traced(TriggerKind::Queue, trigger, message.attempt, raw, trace)
                }
                None => scope.context(TriggerKind::Queue, trigger, message.attempt, raw),
            };
            scope
                .app()
                .dispatch_queue(message, ctx)
                .await
                .should_acknowledge()
        }
        Work::Storage {
            events,
            trigger,
            attempt,
            raw,
        } => {
            let mut ok = true;
            for event in events {
                let ctx =
                    scope.context(TriggerKind::Storage, trigger.clone(), attempt, raw.clone());
                let outcome: Outcome = scope.app().dispatch_storage(event, ctx).await;
                ok &= outcome.should_acknowledge();
            }
            ok
        }
        Work::Nothing => true,
        Work::Invalid(err) => {
            tracing::error!(errorType = err.error_type(), error = %err.message(), "SQS message cannot be decoded; reporting it failed");
            false
        }
    }
}

/// Standard queues: up to `sqs_concurrency` messages at once. Returns the ids
/// to report failed, in batch order; messages unfinished at the deadline count.
async fn run_concurrently(scope: &Scope<'_>, items: Vec<Item>) -> Vec<String> {
    let (ids, works): (Vec<String>, Vec<Work>) =
        items.into_iter().map(|item| (item.id, item.work)).unzip();
    let mut acknowledged = vec![false; ids.len()];
    let limit = scope.config().sqs_concurrency;
    let collect = async {
        if works.len() == 1 {
            // A batch of one needs no scheduling of its own.
            for (index, work) in works.into_iter().enumerate() {
                acknowledged[index] = run(scope, work).await;
            }
            return;
        }
        // Boxed: the stream then moves pointers, not whole handler futures.
        let results = futures_util::stream::iter(works.into_iter().enumerate())
            .map(|(index, work)| Box::pin(async move { (index, run(scope, work).await) }))
            .buffer_unordered(limit);
        futures_util::pin_mut!(results);
        while let Some((index, ok)) = results.next().await {
            if let Some(slot) = acknowledged.get_mut(index) {
                *slot = ok;
            }
        }
    };
    if scope.before_deadline(collect).await.is_none() {
        tracing::error!(
            "the invocation deadline came first: unfinished messages are reported failed"
        );
    }
    ids.into_iter()
        .zip(acknowledged)
        .filter(|(_, ok)| !ok)
        .map(|(id, _)| id)
        .collect()
}

/// FIFO queues: one at a time, in order; after the first failure the rest of
/// the batch is reported failed without running, so the group's order holds.
async fn run_in_order(scope: &Scope<'_>, items: Vec<Item>) -> Vec<String> {
    let mut failed = Vec::new();
    let mut pending: VecDeque<Item> = items.into();
    let mut in_flight: Option<String> = None;
    let walk = async {
        while let Some(item) = pending.pop_front() {
            in_flight = Some(item.id.clone());
            let ok = run(scope, item.work).await;
            let id = in_flight.take();
            if !ok {
                failed.extend(id);
                break;
            }
        }
    };
    if scope.before_deadline(walk).await.is_none() {
        tracing::error!(
            "the invocation deadline came first: unfinished messages are reported failed"
        );
        failed.extend(in_flight.take());
    }
    // What did not run (after a failure or the deadline) goes back to the queue too.
    failed.extend(pending.into_iter().map(|item| item.id));
    failed
}
