//! Log lines of an invocation: returned to the host in the reply's `Logs`
//! and written to stdout as JSON (the host collects the handler's stdout).
//!
//! Capture uses a task-local buffer: each invocation runs inside
//! [`capture`], and [`CaptureLayer`] appends every event emitted on that task
//! to its buffer. No span bookkeeping, no global map, and concurrent
//! invocations never see each other's lines.

use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, Mutex};

use nubes_core::raw::log_fields::JsonFieldMap;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// At most this many lines are kept per invocation, so a chatty handler
/// cannot grow a reply without bound.
const MAX_LINES: usize = 1000;

tokio::task_local! {
    static LINES: LogBuffer;
}

/// The lines of one invocation.
#[derive(Clone, Debug, Default)]
pub(crate) struct LogBuffer {
    lines: Arc<Mutex<Vec<String>>>,
}

impl LogBuffer {
    pub(crate) fn push(&self, line: String) {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() < MAX_LINES {
            lines.push(line);
        } else if lines.len() == MAX_LINES {
            lines.push(format!("… further log lines dropped (limit {MAX_LINES})"));
        }
    }

    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Runs `fut` with `buffer` collecting the log events it emits.
pub(crate) async fn capture<F: Future>(buffer: LogBuffer, fut: F) -> F::Output {
    LINES.scope(buffer, fut).await
}

/// A `tracing` layer that copies each event emitted inside an invocation into
/// that invocation's buffer as `LEVEL message key=value …`. [`init`] installs
/// it; an application with its own subscriber adds it there to keep `Logs`
/// complete.
#[derive(Debug, Default, Clone, Copy)]
pub struct CaptureLayer;

impl<S: Subscriber> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        // Outside an invocation there is nothing to do; don't format.
        let _ = LINES.try_with(|buffer| buffer.push(format_event(event)));
    }
}

fn format_event(event: &Event<'_>) -> String {
    let mut visitor = LineVisitor::default();
    event.record(&mut visitor);
    let mut line = format!("{} {}", event.metadata().level(), visitor.message);
    line.push_str(&visitor.fields);
    // The host files `Logs` under its invocation already; the trace id links
    // the line to the distributed trace (Application Insights' operation id).
    if let Some(current) = nubes_core::current_context()
        && let Some(trace_id) = current.trace().trace_id()
    {
        let _ = write!(line, " trace_id={trace_id}");
    }
    line
}

/// The JSON object of one stdout line: `timestamp`, `level`, `message`,
/// `target`, the event's fields, and — inside an invocation — `invocationId`,
/// `traceId` (= `operationId`, as Application Insights names a W3C trace),
/// `spanId`, `trigger`. A metrics entry's series are embedded as JSON.
fn json_line(event: &Event<'_>, span_fields: Map<String, Value>) -> Value {
    let mut fields = span_fields;
    event.record(&mut JsonFieldMap(&mut fields));
    let mut line = Map::new();
    line.insert(
        "timestamp".into(),
        chrono::Utc::now()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .into(),
    );
    line.insert("level".into(), event.metadata().level().as_str().into());
    line.insert(
        "message".into(),
        fields.remove("message").unwrap_or_else(|| "".into()),
    );
    line.insert("target".into(), event.metadata().target().into());
    if let Some(current) = nubes_core::current_context() {
        let trace = current.trace();
        line.insert("invocationId".into(), current.invocation_id().into());
        line.insert("trigger".into(), current.trigger().into());
        if let Some(id) = trace.trace_id() {
            line.insert("traceId".into(), id.into());
            line.insert("operationId".into(), id.into());
        }
        if let Some(id) = trace.span_id() {
            line.insert("spanId".into(), id.into());
        }
    }
    if let Some(Value::String(json)) = fields.remove(nubes_core::metrics::LOG_FIELD)
        && let Ok(Value::Object(summary)) = serde_json::from_str::<Value>(&json)
    {
        line.extend(summary);
    }
    for (k, v) in fields {
        line.entry(k).or_insert(v);
    }
    Value::Object(line)
}

/// The stdout format [`init`] installs: one JSON object per line with the
/// event's fields, its spans' fields (so lines logged outside a handler,
/// such as refusals, still carry the host's `invocation_id`) and, inside an
/// invocation, its ids and trace. Public so tests and apps with their own
/// subscriber can use it, with `.fmt_fields(JsonFields::new())`:
///
/// ```no_run
/// use tracing_subscriber::fmt::format::JsonFields;
///
/// tracing_subscriber::fmt()
///     .fmt_fields(JsonFields::new())
///     .event_format(nubes_azure::JsonLines)
///     .init();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLines;

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut span_fields = Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(formatted) = extensions.get::<FormattedFields<JsonFields>>()
                    && let Ok(Value::Object(fields)) =
                        serde_json::from_str::<Value>(formatted.as_str())
                {
                    span_fields.extend(fields);
                }
            }
        }
        writeln!(writer, "{}", json_line(event, span_fields))
    }
}

#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
}

impl Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

/// Installs JSON logs on stdout plus [`CaptureLayer`], filtered by
/// `RUST_LOG` (default `info`). Does nothing when the application already
/// installed a subscriber: theirs wins (and `Logs` then only carries the
/// adapter's own error lines).
pub fn init() {
    let filter = nubes_core::raw::log_filter::from_env(&|name| std::env::var(name).ok());
    let json = tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(JsonLines)
        .with_writer(std::io::stdout);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(CaptureLayer)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_inside_capture_are_collected_per_invocation() {
        let subscriber = tracing_subscriber::registry().with(CaptureLayer);
        let _guard = tracing::subscriber::set_default(subscriber);
        let a = LogBuffer::default();
        let b = LogBuffer::default();
        capture(a.clone(), async {
            tracing::info!(order = 7, "processing");
        })
        .await;
        capture(b.clone(), async {
            tracing::error!(error = %"boom", "failed");
        })
        .await;
        tracing::info!("outside");
        assert_eq!(a.take(), ["INFO processing order=7"]);
        assert_eq!(b.take(), ["ERROR failed error=boom"]);
    }

    #[test]
    fn buffers_are_bounded() {
        let buffer = LogBuffer::default();
        for i in 0..MAX_LINES + 10 {
            buffer.push(i.to_string());
        }
        let lines = buffer.take();
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert!(lines[MAX_LINES].contains("dropped"));
    }
}
