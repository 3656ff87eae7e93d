//! Log lines in Cloud Logging's structured JSON shape.
//!
//! Cloud Run forwards each stdout line that is a JSON object to Cloud
//! Logging, reading `severity`, `message`, `logging.googleapis.com/trace`
//! (`projects/<PROJECT>/traces/<TRACE_ID>`, which links the line to its
//! request in Cloud Trace), `logging.googleapis.com/spanId` and
//! `logging.googleapis.com/trace_sampled`, and keeping every other key as a
//! field of the entry. The trace is the one of the invocation running on the
//! task that logs ([`nubes_core::current_context`]), so every line of a
//! handler carries it, concurrent requests each their own.

use std::fmt;
use std::sync::{Arc, OnceLock};

use nubes_core::raw::log_fields::JsonFieldMap;
use serde_json::{Map, Value};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// A `tracing_subscriber` event format writing one Cloud Logging JSON object
/// per line: `severity`, `message`, `time`, `target`, the event's and its
/// spans' fields, the current invocation's `trigger`, `invocation_id`, `trace_id`,
/// `span_id` and `trace_sampled`, and `logging.googleapis.com/trace` /
/// `…/spanId` / `…/trace_sampled` when the trace id and the project id are
/// known. Metric entries ([`nubes_core::metrics::log_series`]) carry their
/// `metrics` array as JSON. Use it with
/// `.fmt_fields(JsonFields::new())`, as [`init`](CloudLogging::init) does.
#[derive(Debug, Clone, Default)]
pub struct CloudLogging {
    /// Shared so that the project id can arrive after the server started
    /// (it is looked up in the background, off the cold-start path).
    project_id: Arc<OnceLock<String>>,
}

impl CloudLogging {
    /// The format for project `project_id` (needed for trace links).
    pub fn new(project_id: Option<String>) -> Self {
        let slot = OnceLock::new();
        if let Some(project) = project_id {
            let _ = slot.set(project);
        }
        CloudLogging {
            project_id: Arc::new(slot),
        }
    }

    /// Where a project id found later goes: lines logged from then on get
    /// their trace links.
    pub(crate) fn project_slot(&self) -> Arc<OnceLock<String>> {
        self.project_id.clone()
    }

    /// Installs a stdout subscriber with this format unless the application
    /// installed its own; `RUST_LOG` filters (default `info`).
    pub fn init(self) {
        let filter = nubes_core::raw::log_filter::from_env(&|name| std::env::var(name).ok());
        // `try_init` fails only when a subscriber is already set: the user's wins.
        // The builder's own level cap stays open: `filter` (layered on top) decides.
        let _ = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE)
            .fmt_fields(JsonFields::new())
            .event_format(self)
            .with_writer(std::io::stdout)
            .finish()
            .with(filter)
            .try_init();
    }

    /// The JSON object of one event, given its spans' fields (outermost first).
    fn entry(&self, level: Level, target: &str, mut fields: Map<String, Value>) -> Value {
        let severity = match level {
            Level::ERROR => "ERROR",
            Level::WARN => "WARNING",
            Level::INFO => "INFO",
            _ => "DEBUG",
        };
        fields.insert("severity".into(), severity.into());
        fields.insert(
            "time".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        fields.insert("target".into(), target.into());
        fields.entry("message").or_insert_with(|| "".into());
        let text = |fields: &Map<String, Value>, key: &str| {
            fields
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        if let (Some(project), Some(trace_id)) = (self.project_id.get(), text(&fields, "trace_id"))
        {
            fields.insert(
                "logging.googleapis.com/trace".into(),
                format!("projects/{project}/traces/{trace_id}").into(),
            );
            if let Some(span_id) = text(&fields, "span_id") {
                fields.insert("logging.googleapis.com/spanId".into(), span_id.into());
            }
            if let Some(sampled) = fields.get("trace_sampled").and_then(Value::as_bool) {
                fields.insert(
                    "logging.googleapis.com/trace_sampled".into(),
                    sampled.into(),
                );
            }
        }
        // Metric entries carry their series as a JSON object, not a string.
        if let Some(Value::String(json)) = fields.remove(nubes_core::metrics::LOG_FIELD)
            && let Ok(Value::Object(summary)) = serde_json::from_str::<Value>(&json)
        {
            fields.extend(summary);
        }
        Value::Object(fields)
    }
}

impl<S> FormatEvent<S, JsonFields> for CloudLogging
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(formatted) = extensions.get::<FormattedFields<JsonFields>>()
                    && let Ok(Value::Object(span_fields)) =
                        serde_json::from_str::<Value>(formatted.as_str())
                {
                    fields.extend(span_fields);
                }
            }
        }
        // The invocation running on this task names the trace, whether or
        // not a span says so (the HTTP path opens none).
        if let Some(current) = nubes_core::current_context() {
            let trace = current.trace();
            fields.insert("trigger".into(), current.trigger().into());
            fields.insert("invocation_id".into(), current.invocation_id().into());
            if let Some(id) = trace.trace_id() {
                fields.insert("trace_id".into(), id.into());
            }
            if let Some(id) = trace.span_id() {
                fields.insert("span_id".into(), id.into());
            }
            if let Some(sampled) = trace.sampled() {
                fields.insert("trace_sampled".into(), sampled.into());
            }
        }
        event.record(&mut JsonFieldMap(&mut fields));
        let meta = event.metadata();
        let entry = self.entry(*meta.level(), meta.target(), fields);
        writeln!(writer, "{entry}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubes_test_support::log_capture::LogCapture;

    #[test]
    fn lines_have_severity_message_and_trace_link() {
        let buffer = LogCapture::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(CloudLogging::new(Some("proj".into())))
            .with_writer(buffer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "delivery",
                trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                span_id = "00f067aa0ba902b7"
            );
            let _g = span.enter();
            tracing::warn!(attempt = 2, "handler failed");
        });
        let lines = buffer.json_lines();
        assert_eq!(lines.len(), 1, "one JSON line: {lines:?}");
        let line = &lines[0];
        assert_eq!(line["severity"], "WARNING");
        assert_eq!(line["message"], "handler failed");
        assert_eq!(line["attempt"], 2);
        assert_eq!(
            line["logging.googleapis.com/trace"],
            "projects/proj/traces/4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(line["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
    }
}
