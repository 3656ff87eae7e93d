//! The Pub/Sub pull worker (feature `pubsub-pull`): streams every queue
//! trigger's subscription with `google-cloud-pubsub`, runs the handler, acks
//! on success (or permanent failure) and nacks on failure so Pub/Sub
//! redelivers. At most `max_in_flight` messages per subscription are held at
//! once (the client's flow control and a semaphore around the handlers).
//! On shutdown it stops pulling, lets running handlers finish within the
//! grace period, then flushes the pending acks.

use std::collections::BTreeMap;
use std::sync::Arc;

use google_cloud_pubsub::client::Subscriber;
use google_cloud_pubsub::model::Message;
use google_cloud_pubsub::subscriber::handler::Handler;
use google_cloud_pubsub::subscriber::{MessageStream, ShutdownBehavior};
use nubes_core::raw::{AppDispatch as _, ContextBuilder};
use nubes_core::{Error, Platform, QueueMessage, TraceContext, TriggerKind};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::runtime::SharedRuntime;

/// The running pull loops, one per queue trigger.
pub(crate) struct PullWorkers {
    loops: Vec<JoinHandle<()>>,
}

/// Starts pulling every queue trigger's subscription.
pub(crate) async fn start(rt: SharedRuntime) -> Result<PullWorkers, Error> {
    crate::tls::install_crypto_provider();
    let pull = &rt.config.pull;
    let mut builder = Subscriber::builder();
    if let Some(endpoint) = &pull.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    if pull.anonymous {
        builder = builder
            .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build());
    }
    let client = builder
        .build()
        .await
        .map_err(|e| Error::platform(format!("creating the Pub/Sub subscriber: {e}")))?;
    let mut loops = Vec::new();
    for trigger in rt.app.describe().triggers {
        if trigger.kind != TriggerKind::Queue {
            continue;
        }
        let subscription = subscription_of(&rt, &trigger.name)?;
        let stream = client
            .subscribe(subscription.clone())
            .set_max_outstanding_messages(i64::try_from(pull.max_in_flight).unwrap_or(i64::MAX))
            .set_shutdown_behavior(ShutdownBehavior::WaitForProcessing)
            .build();
        tracing::info!(trigger = %trigger.name, %subscription, "pulling");
        loops.push(tokio::spawn(pull_loop(
            rt.clone(),
            trigger.name,
            subscription,
            stream,
        )));
    }
    Ok(PullWorkers { loops })
}

impl PullWorkers {
    /// Waits (until `deadline`) for the loops to drain after the runtime's
    /// shutdown token was cancelled; loops still running are aborted, and
    /// their unacknowledged messages are redelivered by Pub/Sub.
    pub(crate) async fn stop(self, deadline: tokio::time::Instant) {
        for mut handle in self.loops {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                handle.abort();
                tracing::error!(
                    "pulled messages still running after the grace period were abandoned; \
                     Pub/Sub will redeliver them"
                );
            }
        }
    }
}

/// `projects/{project}/subscriptions/{name}` for the queue trigger `name`.
fn subscription_of(rt: &SharedRuntime, name: &str) -> Result<String, Error> {
    let sub = rt
        .config
        .pull
        .subscriptions
        .iter()
        .find(|(queue, _)| queue == name)
        .map_or(name, |(_, sub)| sub.as_str());
    if sub.starts_with("projects/") {
        return Ok(sub.to_owned());
    }
    let project = rt.config.project_id.as_deref().ok_or_else(|| {
        Error::config(
            "pull mode needs the project id: set GOOGLE_CLOUD_PROJECT (or NUBES_GCP_PROJECT), \
             or give full subscription names in NUBES_GCP_SUBSCRIPTIONS",
        )
    })?;
    Ok(format!("projects/{project}/subscriptions/{sub}"))
}

async fn pull_loop(
    rt: SharedRuntime,
    trigger: String,
    subscription: String,
    mut stream: MessageStream,
) {
    let flush = stream.shutdown_token();
    let limit = Arc::new(Semaphore::new(rt.config.pull.max_in_flight));
    let running = TaskTracker::new();
    let short = subscription
        .rsplit('/')
        .next()
        .unwrap_or(&subscription)
        .to_owned();
    loop {
        let permit = tokio::select! {
            permit = limit.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = rt.shutdown.cancelled() => break,
        };
        let next = tokio::select! {
            next = stream.next() => next,
            () = rt.shutdown.cancelled() => break,
        };
        match next {
            None => {
                tracing::error!(%subscription, "the Pub/Sub stream ended");
                break;
            }
            Some(Err(e)) => {
                tracing::error!(%subscription, error = %e, "pulling failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    () = rt.shutdown.cancelled() => break,
                }
            }
            Some(Ok((message, handler))) => {
                let (rt, trigger, short) = (rt.clone(), trigger.clone(), short.clone());
                running.spawn(async move {
                    handle(&rt, trigger, &short, message, handler).await;
                    drop(permit);
                });
            }
        }
    }
    running.close();
    running.wait().await;
    // Sends the acks and nacks still pending before the stream closes.
    flush.shutdown().await;
}

/// Runs the handler for one pulled message and acks or nacks it.
async fn handle(
    rt: &SharedRuntime,
    trigger: String,
    source: &str,
    message: Message,
    handler: Handler,
) {
    let attempt = handler
        .delivery_attempt()
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1);
    let msg = neutral(message, source, attempt);
    let trace = ["googclient_traceparent", "traceparent"]
        .iter()
        .find_map(|k| {
            msg.attributes
                .get(*k)
                .and_then(|v| TraceContext::from_traceparent(v))
        })
        .unwrap_or_else(TraceContext::new_root);
    let span = tracing::info_span!(
        "pulled",
        trace_id = trace.trace_id().unwrap_or_default(),
        span_id = trace.span_id().unwrap_or_default(),
    );
    let raw = serde_json::to_vec(&msg).unwrap_or_default();
    let ctx = ContextBuilder::new(Platform::Gcp, TriggerKind::Queue, trigger)
        .invocation_id(msg.id.clone())
        .attempt(attempt)
        .trace(trace)
        .raw_event(nubes_core::raw::json_event(raw))
        .shutdown(rt.shutdown.clone())
        .metrics(rt.metrics_handle.clone())
        .resources(rt.resources.clone())
        .build();
    let outcome = rt.app.dispatch_queue(msg, ctx).instrument(span).await;
    if outcome.should_acknowledge() {
        handler.ack();
    } else {
        handler.nack();
    }
}

/// The neutral form of a pulled message.
fn neutral(message: Message, source: &str, attempt: u32) -> QueueMessage {
    let mut msg = QueueMessage::new(message.message_id, message.data)
        .with_source(source)
        .with_attempt(attempt);
    msg.attributes = message.attributes.into_iter().collect::<BTreeMap<_, _>>();
    msg.published_at = message.publish_time.and_then(|t| {
        chrono::DateTime::from_timestamp(t.seconds(), u32::try_from(t.nanos()).unwrap_or(0))
    });
    msg.ordering_key = Some(message.ordering_key).filter(|k| !k.is_empty());
    msg
}
