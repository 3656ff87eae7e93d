//! One invocation in, one reply out: the adapter without the Runtime API, so
//! tests can drive it with any payload.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use nubes_core::metrics::{Aggregator, Metrics};
use nubes_core::raw::{AppDispatch as _, ContextBuilder, Outcome};
use nubes_core::{
    App, CancellationToken, Context, Error, Platform, RawEvent, TraceContext, TriggerKind,
};
use tracing::Instrument as _;

use crate::classify::{Source, classify};
use crate::failure::InvocationError;
use crate::{AwsConfig, Invocation, http, schedule, sns, sqs, storage};

/// An [`App`] ready to serve Lambda invocations. [`run`](crate::run) feeds it
/// from the Runtime API; tests call [`LambdaHandler::handle`] directly.
///
/// ```
/// # async fn demo() -> Result<(), nubes_core::Error> {
/// use nubes_aws::{AwsConfig, Invocation, LambdaHandler};
///
/// let handler = LambdaHandler::new(nubes_core::App::new(), AwsConfig::default())?;
/// let err = handler.handle(r#"{"hello":1}"#.into(), &Invocation::new("r-1")).await.unwrap_err();
/// assert_eq!(err.error_type(), "Nubes.UnsupportedEvent");
/// # Ok(()) }
/// ```
pub struct LambdaHandler {
    app: App,
    config: AwsConfig,
    /// Behind an `Arc`: contexts get a pointer copy, not a token clone (which
    /// takes a lock in the token's tree).
    shutdown: Arc<CancellationToken>,
    /// Every invocation's metrics, drained into EMF lines at its end.
    metrics: Arc<Aggregator>,
    metrics_output: MetricsOutput,
    /// The EMF text of the invocation at hand, kept between invocations so
    /// emitting does not allocate once it has grown to size.
    metrics_buffer: Mutex<Vec<u8>>,
}

/// Where EMF lines go.
enum MetricsOutput {
    /// All lines of an invocation in one write.
    Stdout,
    /// A test's probe, called once per line (without its `\n`).
    Probe(Box<dyn Fn(&str) + Send + Sync>),
}

impl std::fmt::Debug for LambdaHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaHandler")
            .field("app", &self.app)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LambdaHandler {
    /// Checks the app's registration and keeps it with `config`.
    pub fn new(app: App, config: AwsConfig) -> Result<Self, Error> {
        app.validate_on(Platform::Aws)?;
        Ok(LambdaHandler {
            app,
            config,
            shutdown: Arc::new(CancellationToken::new()),
            metrics: Arc::new(Aggregator::new()),
            metrics_output: MetricsOutput::Stdout,
            metrics_buffer: Mutex::new(Vec::new()),
        })
    }

    /// Sends the CloudWatch EMF lines written at the end of each invocation
    /// to `output` instead of stdout (for tests).
    pub fn with_metrics_output(mut self, output: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.metrics_output = MetricsOutput::Probe(Box::new(output));
        self
    }

    /// The token handlers see as [`Context::shutdown`].
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Handles one invocation's JSON `payload`: the `Ok` bytes are the JSON
    /// reply for Lambda (an HTTP response in the caller's shape, SQS
    /// `batchItemFailures`, or `null`), the `Err` is reported as the
    /// invocation's error. Never panics on malformed input.
    pub async fn handle(
        &self,
        payload: Bytes,
        invocation: &Invocation,
    ) -> Result<Vec<u8>, InvocationError> {
        let trace = invocation.trace();
        let span = tracing::info_span!(
            crate::logging::INVOCATION_SPAN,
            requestId = %invocation.request_id,
            traceId = trace.trace_id().unwrap_or_default(),
        );
        let reply = self
            .route(payload, invocation, trace)
            .instrument(span)
            .await;
        self.emit_metrics();
        reply
    }

    /// Writes what this invocation recorded as EMF lines, before the reply is
    /// posted: Lambda may freeze the process right after.
    fn emit_metrics(&self) {
        let series = self.metrics.drain();
        if series.is_empty() {
            return;
        }
        let now = chrono::Utc::now().timestamp_millis();
        // Invocations run one at a time on Lambda; a concurrent caller (a
        // test) gets a buffer of its own rather than waiting.
        let mut own = Vec::new();
        let mut shared = self.metrics_buffer.try_lock().ok();
        let out = match shared.as_deref_mut() {
            Some(buffer) => buffer,
            None => &mut own,
        };
        out.clear();
        crate::emf::write_documents(
            out,
            &self.config.metrics_namespace,
            &self.config.function_name,
            &series,
            now,
        );
        match &self.metrics_output {
            MetricsOutput::Stdout => crate::emf::write_stdout(out),
            MetricsOutput::Probe(probe) => {
                // Built from `&str`s by serde_json: valid UTF-8.
                for line in String::from_utf8_lossy(out).lines() {
                    probe(line);
                }
            }
        }
    }

    async fn route(
        &self,
        payload: Bytes,
        invocation: &Invocation,
        trace: TraceContext,
    ) -> Result<Vec<u8>, InvocationError> {
        let result = self.route_inner(&payload, invocation, trace).await;
        if let Err(err) = &result {
            tracing::error!(errorType = err.error_type(), error = %err.message(), "invocation failed; Lambda will retry or dead-letter it");
        }
        result
    }

    async fn route_inner(
        &self,
        payload: &Bytes,
        invocation: &Invocation,
        trace: TraceContext,
    ) -> Result<Vec<u8>, InvocationError> {
        let (source, probe) = classify(payload)?;
        let scope = Scope {
            handler: self,
            payload,
            invocation,
            trace,
        };
        match source {
            Source::RestV1 | Source::HttpV2 | Source::Alb => {
                http::handle(&scope, source, &probe).await
            }
            Source::Sqs => {
                let records = probe.records.unwrap_or_default();
                sqs::handle(&scope, records, probe.first_sqs).await
            }
            Source::Sns => sns::handle(&scope, probe.records.unwrap_or_default()).await,
            Source::S3 => storage::handle_notification(&scope).await,
            Source::EventBridgeS3 => storage::handle_eventbridge(&scope).await,
            Source::Schedule => schedule::handle(&scope).await,
        }
    }
}

/// Everything the per-source modules need about the invocation at hand.
pub(crate) struct Scope<'a> {
    pub(crate) handler: &'a LambdaHandler,
    pub(crate) payload: &'a Bytes,
    pub(crate) invocation: &'a Invocation,
    pub(crate) trace: TraceContext,
}

impl Scope<'_> {
    pub(crate) fn app(&self) -> &App {
        &self.handler.app
    }

    pub(crate) fn config(&self) -> &AwsConfig {
        &self.handler.config
    }

    /// The trigger a resource (queue, topic, bucket, rule) belongs to: its own
    /// name when registered, else the name without the template's prefix.
    pub(crate) fn trigger_name(&self, kind: TriggerKind, resource: &str) -> String {
        let prefix = self.config().name_prefix.as_str();
        if self.app().has_trigger(kind, resource) || prefix.is_empty() {
            return resource.to_owned();
        }
        resource.strip_prefix(prefix).unwrap_or(resource).to_owned()
    }

    /// The part of the payload `part` (a slice borrowed from it) as shared bytes.
    pub(crate) fn raw(&self, part: &str) -> RawEvent {
        nubes_core::raw::json_event(self.share(part))
    }

    /// `text` as bytes: shared with the payload when it was borrowed from it
    /// (no JSON escapes), copied otherwise.
    pub(crate) fn share(&self, text: &str) -> Bytes {
        sub_bytes(self.payload, text.as_bytes())
    }

    /// The whole payload as the raw event (shared, not copied).
    pub(crate) fn raw_all(&self) -> RawEvent {
        nubes_core::raw::json_event(self.payload.clone())
    }

    /// A context for one event of this invocation.
    pub(crate) fn context(
        &self,
        kind: TriggerKind,
        trigger: String,
        attempt: u32,
        raw: RawEvent,
    ) -> Context {
        self.context_traced(kind, trigger, attempt, raw, self.trace.clone())
    }

    /// A context with an explicit trace (HTTP requests may carry their own).
    pub(crate) fn context_traced(
        &self,
        kind: TriggerKind,
        trigger: impl Into<std::borrow::Cow<'static, str>>,
        attempt: u32,
        raw: RawEvent,
        trace: TraceContext,
    ) -> Context {
        let mut builder = ContextBuilder::new(Platform::Aws, kind, trigger)
            .invocation_id(self.invocation.request_id.as_str())
            .attempt(attempt)
            .trace(trace)
            .raw_event(raw)
            .shutdown(self.handler.shutdown.clone())
            .metrics(Metrics::new(self.handler.metrics.clone()))
            // The invoked ARN and the rest of the Runtime API's metadata.
            .extension(self.invocation.clone());
        if let Some(deadline) = self.invocation.deadline {
            builder = builder.deadline(deadline);
        }
        builder.build()
    }

    /// Runs `work` until `deadline_margin` before Lambda's deadline (if any),
    /// so the reply still reaches Lambda; `None` when it ran out.
    pub(crate) async fn before_deadline<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        nubes_core::raw::deadline::within(
            self.invocation.deadline,
            self.config().deadline_margin,
            work,
        )
        .await
    }
}

/// Shares `part` of `whole` without copying when it lies inside it.
fn sub_bytes(whole: &Bytes, part: &[u8]) -> Bytes {
    let start = part.as_ptr() as usize;
    let base = whole.as_ptr() as usize;
    match start.checked_sub(base) {
        Some(offset) if offset + part.len() <= whole.len() => {
            whole.slice(offset..offset + part.len())
        }
        _ => Bytes::copy_from_slice(part),
    }
}

/// The reply of an invocation whose events all went through `outcomes`: `null`
/// when every one was acknowledged, else the first retryable error.
pub(crate) fn reply_for(outcomes: Vec<Outcome>) -> Result<Vec<u8>, InvocationError> {
    let total = outcomes.len();
    let mut failed = outcomes.into_iter().filter_map(|o| match o {
        Outcome::Retry(err) => Some(err),
        _ => None,
    });
    match failed.next() {
        None => Ok(b"null".to_vec()),
        Some(first) => {
            let more = failed.count();
            let mut err = InvocationError::from(first);
            if more > 0 {
                err = err.with_suffix(format!(" (and {more} more of {total} events failed)"));
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_bytes_shares_inner_slices_and_copies_foreign_ones() {
        let whole = Bytes::from_static(b"{\"a\":[1,2]}");
        let inner = &whole[5..10];
        assert_eq!(sub_bytes(&whole, inner), "[1,2]");
        assert_eq!(sub_bytes(&whole, b"other"), "other");
    }
}
