//! Delivering an event to its handler with retries, then dead-lettering it.
//!
//! The local runner behaves like a cloud queue: a failed delivery (error, panic)
//! is redelivered after `retry_delay` with the next attempt number, up to
//! `max_attempts`, then moved to the dead letters. Permanent errors are
//! acknowledged at once.

use chrono::Utc;
use nubes_core::raw::{AppDispatch as _, ContextBuilder, Outcome, deadline};
use nubes_core::{Platform, QueueMessage, ScheduledEvent, StorageEvent, TraceContext, TriggerKind};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::dead_letters::DeadLetter;
use crate::runtime::SharedRuntime;
use crate::spool::{SpoolRecord, Spooled, Staged};

/// A neutral event waiting for delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "event", rename_all = "snake_case")]
pub(crate) enum LocalEvent {
    Queue(QueueMessage),
    Storage(StorageEvent),
    Schedule(ScheduledEvent),
}

impl LocalEvent {
    fn kind(&self) -> TriggerKind {
        match self {
            LocalEvent::Queue(_) => TriggerKind::Queue,
            LocalEvent::Storage(_) => TriggerKind::Storage,
            LocalEvent::Schedule(_) => TriggerKind::Schedule,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let value = match self {
            LocalEvent::Queue(e) => serde_json::to_value(e),
            LocalEvent::Storage(e) => serde_json::to_value(e),
            LocalEvent::Schedule(e) => serde_json::to_value(e),
        };
        value.unwrap_or(serde_json::Value::Null)
    }
}

/// How a delivery ended, reported to callers that asked to wait (`?wait=true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Fate {
    /// The handler succeeded.
    Handled { attempts: u32 },
    /// The handler failed with a permanent error: acknowledged, not retried.
    FailedPermanently { attempts: u32, error: String },
    /// Every attempt failed; the event is in the dead letters.
    DeadLettered { attempts: u32, error: String },
    /// The runner shut down while the event waited for a retry; it stays in
    /// the spool and is redelivered when the runner starts again.
    Abandoned { attempts: u32, error: String },
}

/// `?wait=true` on an event endpoint: answer with the event's [`Fate`] once
/// known instead of `202` at once.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WaitParam {
    #[serde(default)]
    pub(crate) wait: bool,
}

/// One event for one trigger, with its id and trace.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) trigger: String,
    pub(crate) id: String,
    pub(crate) trace: TraceContext,
    pub(crate) event: LocalEvent,
    /// Attempts already made (non-zero when resumed from the spool).
    attempts_done: u32,
    /// The name of its spool file: its id, unless resumed from a file named
    /// otherwise.
    spool_key: String,
    /// The object change of a storage event made through the runner.
    staged: Option<Staged>,
    fate: Option<oneshot::Sender<Fate>>,
}

impl Delivery {
    pub(crate) fn new(trigger: impl Into<String>, event: LocalEvent) -> Self {
        let id = uuid::Uuid::new_v4().to_string();
        Delivery {
            trigger: trigger.into(),
            spool_key: id.clone(),
            id,
            trace: TraceContext::new_root(),
            event,
            attempts_done: 0,
            staged: None,
            fate: None,
        }
    }

    /// The event of the object change `staged`.
    pub(crate) fn with_staged(mut self, staged: Staged) -> Self {
        self.staged = Some(staged);
        self
    }

    /// The key of its spool record.
    pub(crate) fn spool_key(&self) -> &str {
        &self.spool_key
    }

    /// A delivery resumed from the spool after a restart.
    pub(crate) fn resumed(Spooled { key, record }: Spooled) -> Self {
        Delivery {
            spool_key: key,
            staged: record.staged,
            trace: record
                .traceparent
                .as_deref()
                .and_then(TraceContext::from_traceparent)
                .unwrap_or_else(TraceContext::new_root),
            trigger: record.trigger,
            id: record.id,
            event: record.event,
            attempts_done: record.attempts_done,
            fate: None,
        }
    }

    fn record(&self, attempts_done: u32) -> SpoolRecord {
        SpoolRecord {
            id: self.id.clone(),
            trigger: self.trigger.clone(),
            traceparent: self.trace.traceparent(),
            event: self.event.clone(),
            attempts_done,
            staged: self.staged.clone(),
        }
    }
}

/// Stores `delivery` in the spool, then starts delivering it in the
/// background. Fails (and delivers nothing) when it cannot be stored: an event
/// is accepted only once it cannot be lost.
pub(crate) fn spawn(rt: &SharedRuntime, delivery: Delivery) -> Result<(), nubes_core::Error> {
    spawn_after(rt, delivery, || Ok(()))
}

/// [`spawn`] for an event that reports `change` (a storage write or delete):
/// the event is spooled first, then the change is made, then the event
/// delivered, so that a change is never made without its event being safe.
/// When `change` fails, the event is withdrawn from the spool and the error
/// returned (a staged change that a crash interrupts is settled at the next
/// start, see `storage_routes::settle`).
pub(crate) fn spawn_after(
    rt: &SharedRuntime,
    delivery: Delivery,
    change: impl FnOnce() -> Result<(), nubes_core::Error>,
) -> Result<(), nubes_core::Error> {
    rt.spool.save(
        &delivery.spool_key,
        &delivery.record(delivery.attempts_done),
    )?;
    if let Err(e) = change() {
        rt.spool.remove(&delivery.spool_key);
        return Err(e);
    }
    start(rt, delivery);
    Ok(())
}

/// Delivers an event already in the spool, in the background.
pub(crate) fn start(rt: &SharedRuntime, mut delivery: Delivery) {
    let rt2 = rt.clone();
    let notify = delivery.fate.take();
    rt.deliveries.spawn(async move {
        let fate = deliver(rt2, delivery).await;
        if let Some(tx) = notify {
            let _ = tx.send(fate);
        }
    });
}

/// Starts delivering `delivery`; with `wait`, resolves to its fate once known.
async fn submit(
    rt: &SharedRuntime,
    mut delivery: Delivery,
    wait: bool,
    change: impl FnOnce() -> Result<(), nubes_core::Error>,
) -> Result<Option<Fate>, nubes_core::Error> {
    if !wait {
        spawn_after(rt, delivery, change)?;
        return Ok(None);
    }
    let (tx, rx) = oneshot::channel();
    delivery.fate = Some(tx);
    spawn_after(rt, delivery, change)?;
    Ok(rx.await.ok())
}

/// The reply of an event endpoint: `202 {"id",…extra}` at once, or with
/// `?wait=true`, `200 {"id","status","attempts",…}` once the event's fate is known.
pub(crate) async fn reply(
    rt: &SharedRuntime,
    delivery: Delivery,
    wait: bool,
    extra: serde_json::Value,
) -> Result<axum::response::Response, crate::json_error::ApiError> {
    reply_after(rt, delivery, wait, extra, || Ok(())).await
}

/// [`reply`] for an event that reports `change` (see [`spawn_after`]).
pub(crate) async fn reply_after(
    rt: &SharedRuntime,
    delivery: Delivery,
    wait: bool,
    extra: serde_json::Value,
    change: impl FnOnce() -> Result<(), nubes_core::Error>,
) -> Result<axum::response::Response, crate::json_error::ApiError> {
    use axum::response::IntoResponse as _;
    let mut body = serde_json::json!({ "id": delivery.id });
    if let (Some(obj), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        obj.extend(extra);
    }
    let status = match submit(rt, delivery, wait, change).await? {
        None => http::StatusCode::ACCEPTED,
        Some(fate) => {
            if let (Some(obj), Ok(serde_json::Value::Object(fate))) =
                (body.as_object_mut(), serde_json::to_value(fate))
            {
                obj.extend(fate);
            }
            http::StatusCode::OK
        }
    };
    Ok((status, axum::Json(body)).into_response())
}

async fn deliver(rt: SharedRuntime, delivery: Delivery) -> Fate {
    let fate = attempt_all(&rt, &delivery).await;
    // Abandoned events stay in the spool for the next start.
    if !matches!(fate, Fate::Abandoned { .. })
        && rt.spool.remove(&delivery.spool_key)
        && let Some(Staged::Removed(name)) = &delivery.staged
    {
        // The deleted object's bytes were kept as proof of the delete until
        // its event was finished.
        rt.storage.purge(name);
    }
    fate
}

async fn attempt_all(rt: &SharedRuntime, delivery: &Delivery) -> Fate {
    let kind = delivery.event.kind();
    let max = rt.config.max_attempts;
    let mut last_error = String::from("no attempts left");
    // A record may claim any number of attempts done (`u32::MAX`, or more
    // than a lowered `NUBES_LOCAL_MAX_ATTEMPTS`): then none is left.
    for attempt in delivery.attempts_done.saturating_add(1)..=max {
        let ctx = ContextBuilder::new(Platform::Local, kind, delivery.trigger.clone())
            .invocation_id(delivery.id.clone())
            .attempt(attempt)
            .trace(delivery.trace.clone())
            .raw_event(nubes_core::raw::json_event(
                delivery.event.to_json().to_string(),
            ))
            .shutdown(rt.shutdown.clone())
            .metrics(rt.metrics.handle.clone())
            .deadline(std::time::SystemTime::now() + rt.config.timeout)
            .build();
        let deadline = ctx.deadline();
        let dispatch = async {
            match &delivery.event {
                LocalEvent::Queue(m) => {
                    let mut m = m.clone();
                    m.attempt = attempt;
                    rt.app.dispatch_queue(m, ctx).await
                }
                LocalEvent::Storage(e) => {
                    let mut e = e.clone();
                    // The delivery id is the notification id: the same on every retry.
                    e.id.get_or_insert_with(|| delivery.id.clone());
                    rt.app.dispatch_storage(e, ctx).await
                }
                LocalEvent::Schedule(e) => rt.app.dispatch_schedule(e.clone(), ctx).await,
            }
        };
        let outcome =
            deadline::outcome_within(deadline, rt.deadline_margin(), dispatch, || rt.timed_out())
                .await;
        match outcome {
            Outcome::Success => return Fate::Handled { attempts: attempt },
            Outcome::Permanent(err) => {
                return Fate::FailedPermanently {
                    attempts: attempt,
                    error: err.to_string(),
                };
            }
            // As displayed, kind included: `handler error: …` (docs/echo-contract.md).
            Outcome::Retry(err) => last_error = err.to_string(),
        }
        if attempt == max {
            break;
        }
        if let Err(e) = rt
            .spool
            .save(&delivery.spool_key, &delivery.record(attempt))
        {
            tracing::error!(id = %delivery.id, error = %e, "could not record the failed attempt; a restart would repeat it");
        }
        tokio::select! {
            () = tokio::time::sleep(rt.config.retry_delay) => {}
            () = rt.shutdown.cancelled() => {
                tracing::error!(
                    id = %delivery.id, trigger = %delivery.trigger, %kind, attempt,
                    event = %delivery.event.to_json(),
                    "shutting down with this event awaiting redelivery; it stays in the spool and is redelivered at the next start"
                );
                return Fate::Abandoned { attempts: attempt, error: last_error };
            }
        }
    }
    let attempts = max.max(delivery.attempts_done);
    tracing::error!(id = %delivery.id, trigger = %delivery.trigger, %kind, attempts, error = %last_error, "event dead-lettered after its last attempt");
    let mut event = delivery.event.to_json();
    if kind == TriggerKind::Queue {
        event["attempt"] = attempts.into();
    }
    rt.dead_letters.push(DeadLetter {
        id: delivery.id.clone(),
        kind,
        trigger: delivery.trigger.clone(),
        attempts,
        error: last_error.clone(),
        dead_at: Utc::now(),
        event,
    });
    Fate::DeadLettered {
        attempts,
        error: last_error,
    }
}
