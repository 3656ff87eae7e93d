//! Log lines CloudWatch understands: one JSON object per line with `timestamp`,
//! `level`, `message`, `requestId`, `trigger`, `traceId`, `xray_trace_id` and `spanId`
//! (or plain text lines carrying the same ids when `AWS_LAMBDA_LOG_FORMAT=Text`),
//! filtered by `AWS_LAMBDA_LOG_LEVEL`. The ids come from the invocation running on the
//! task that logs (never from process environment variables, which
//! concurrent invocations would share).

use std::fmt;

use chrono::{SecondsFormat, Utc};
use nubes_core::raw::log_fields::JsonFieldMap;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, Registry};

/// The span every invocation runs in; its `requestId` / `traceId` go on each line.
pub(crate) const INVOCATION_SPAN: &str = "lambda_invocation";

/// Installs the Lambda log format unless the application set a subscriber.
pub(crate) fn init(lookup: impl Fn(&str) -> Option<String>) {
    let filter = filter(&lookup);
    let text = lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("text"));
    // `try_init` fails only when a subscriber is already set: the user's wins.
    let _ = if text {
        text_subscriber(filter, std::io::stdout)
            .try_init()
            .map_err(|e| e.to_string())
    } else {
        json_subscriber(filter, std::io::stdout)
            .try_init()
            .map_err(|e| e.to_string())
    };
}

/// `RUST_LOG` when set, else `AWS_LAMBDA_LOG_LEVEL` (Lambda's names), else `info`.
fn filter(lookup: &impl Fn(&str) -> Option<String>) -> Targets {
    if let Some(filter) = nubes_core::raw::log_filter::rust_log(lookup) {
        return filter;
    }
    let level = match lookup("AWS_LAMBDA_LOG_LEVEL")
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase()
        .as_str()
    {
        "TRACE" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "WARN" => LevelFilter::WARN,
        "ERROR" | "FATAL" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    };
    Targets::new().with_default(level)
}

/// The subscriber [`run`](crate::run) installs (CloudWatch JSON lines),
/// writing to `writer` and filtered by `filter`: for tests that capture the
/// log output, or apps that install it themselves.
pub fn json_subscriber<W>(filter: Targets, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    Registry::default()
        .with(filter)
        .with(InvocationIdsLayer)
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(CloudWatchJson)
                .with_writer(writer),
        )
}

/// The subscriber [`run`](crate::run) installs when
/// `AWS_LAMBDA_LOG_FORMAT=Text`: one plain line per event,
/// `<timestamp> <LEVEL> requestId=… xray_trace_id=… spanId=… <target>: <message> <fields>`
/// (the ids present on every line of an invocation), written to `writer` and
/// filtered by `filter`.
pub fn text_subscriber<W>(filter: Targets, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    Registry::default()
        .with(filter)
        .with(InvocationIdsLayer)
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(LambdaText)
                .with_ansi(false)
                .with_writer(writer),
        )
}

/// The ids of the invocation a span belongs to, stored in its extensions.
#[derive(Clone, Default)]
struct InvocationIds {
    request_id: String,
    trace_id: String,
}

impl Visit for InvocationIds {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "requestId" => value.clone_into(&mut self.request_id),
            "traceId" => value.clone_into(&mut self.trace_id),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// Remembers the ids of each invocation span so every line can carry them.
struct InvocationIdsLayer;

impl<S> Layer<S> for InvocationIdsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != INVOCATION_SPAN {
            return;
        }
        let mut ids = InvocationIds::default();
        attrs.record(&mut ids);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(ids);
        }
    }
}

/// The ids a log line carries. Inside a handler, nubes' current context
/// names the event's own trace (an SQS message's `AWSTraceHeader`, say);
/// elsewhere in the invocation, the invocation span's ids.
enum LineIds {
    Current(nubes_core::Context),
    Span(InvocationIds),
}

impl LineIds {
    fn of<S, N>(ctx: &FmtContext<'_, S, N>) -> Option<LineIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        if let Some(current) = nubes_core::current_context() {
            return Some(LineIds::Current(current));
        }
        ctx.event_scope()?.find_map(|span| {
            let ids = span.extensions().get::<InvocationIds>().cloned();
            ids.map(LineIds::Span)
        })
    }

    fn request_id(&self) -> &str {
        match self {
            LineIds::Current(ctx) => ctx.invocation_id(),
            LineIds::Span(ids) => &ids.request_id,
        }
    }

    fn trigger(&self) -> Option<&str> {
        match self {
            LineIds::Current(ctx) => Some(ctx.trigger()),
            LineIds::Span(_) => None,
        }
    }

    fn trace_id(&self) -> Option<&str> {
        match self {
            LineIds::Current(ctx) => ctx.trace().trace_id(),
            LineIds::Span(ids) => Some(&ids.trace_id),
        }
    }

    fn span_id(&self) -> Option<&str> {
        match self {
            LineIds::Current(ctx) => ctx.trace().span_id(),
            LineIds::Span(_) => None,
        }
    }
}

/// `traceId` (W3C form), `xray_trace_id` (X-Ray form, as Powertools logs
/// it, so CloudWatch and X-Ray link the line) and `spanId`.
fn insert_trace(line: &mut Map<String, Value>, trace_id: Option<&str>, span_id: Option<&str>) {
    let Some(trace_id) = trace_id.filter(|t| !t.is_empty()) else {
        return;
    };
    line.insert("traceId".into(), trace_id.into());
    if let (Some(epoch), Some(random)) = (trace_id.get(..8), trace_id.get(8..)) {
        line.insert("xray_trace_id".into(), format!("1-{epoch}-{random}").into());
    }
    if let Some(span_id) = span_id {
        line.insert("spanId".into(), span_id.into());
    }
}

/// CloudWatch's JSON log shape.
struct CloudWatchJson;

impl<S, N> FormatEvent<S, N> for CloudWatchJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        event.record(&mut JsonFieldMap(&mut fields));
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
        let level = event.metadata().level().as_str();
        line.insert("level".into(), Value::String(level.to_owned()));
        line.insert(
            "message".into(),
            fields
                .remove("message")
                .unwrap_or(Value::String(String::new())),
        );
        if let Some(ids) = LineIds::of(ctx) {
            line.insert("requestId".into(), ids.request_id().into());
            if let Some(trigger) = ids.trigger() {
                line.insert("trigger".into(), trigger.into());
            }
            insert_trace(&mut line, ids.trace_id(), ids.span_id());
        }
        line.insert(
            "target".into(),
            Value::String(event.metadata().target().to_owned()),
        );
        for (k, v) in fields {
            line.entry(k).or_insert(v);
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Plain text lines with the invocation's ids, for `AWS_LAMBDA_LOG_FORMAT=Text`.
struct LambdaText;

impl<S, N> FormatEvent<S, N> for LambdaText
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(
            writer,
            "{} {:>5} ",
            Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            event.metadata().level()
        )?;
        // The same ids, from the same places, as the JSON lines.
        if let Some(ids) = LineIds::of(ctx) {
            write_ids(&mut writer, ids.request_id(), ids.trace_id(), ids.span_id())?;
        }
        write!(writer, "{}: ", event.metadata().target())?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `requestId=… xray_trace_id=… spanId=… ` (the trace parts when known).
fn write_ids(
    writer: &mut Writer<'_>,
    request_id: &str,
    trace_id: Option<&str>,
    span_id: Option<&str>,
) -> fmt::Result {
    write!(writer, "requestId={request_id} ")?;
    let Some(trace_id) = trace_id.filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    match (trace_id.get(..8), trace_id.get(8..)) {
        (Some(epoch), Some(random)) => write!(writer, "xray_trace_id=1-{epoch}-{random} ")?,
        _ => write!(writer, "traceId={trace_id} ")?,
    }
    if let Some(span_id) = span_id {
        write!(writer, "spanId={span_id} ")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubes_test_support::log_capture::LogCapture;

    #[test]
    fn lines_are_json_with_request_and_trace_ids() {
        let buffer = LogCapture::default();
        let sink = buffer.clone();
        let subscriber =
            json_subscriber(nubes_core::raw::log_filter::default_filter(), move || {
                sink.clone()
            });
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(INVOCATION_SPAN, requestId = %"r-9", traceId = "abc");
            span.in_scope(|| tracing::warn!(attempt = 2, "hello {}", "world"));
            tracing::debug!("filtered out");
        });
        let text = buffer.text();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0]["level"], "WARN");
        assert_eq!(lines[0]["message"], "hello world");
        assert_eq!(lines[0]["requestId"], "r-9");
        assert_eq!(lines[0]["traceId"], "abc");
        assert!(lines[0].get("xray_trace_id").is_none(), "not a trace id");
        assert_eq!(lines[0]["attempt"], 2);
    }

    #[test]
    fn text_lines_carry_the_invocation_ids() {
        let buffer = LogCapture::default();
        let sink = buffer.clone();
        let subscriber =
            text_subscriber(nubes_core::raw::log_filter::default_filter(), move || {
                sink.clone()
            });
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                INVOCATION_SPAN,
                requestId = %"r-9",
                traceId = "5759e988bd862e3fe1be46a994272793"
            );
            span.in_scope(|| tracing::warn!(attempt = 2, "hello {}", "world"));
            tracing::info!("outside");
        });
        let text = buffer.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0]
                .contains(" WARN requestId=r-9 xray_trace_id=1-5759e988-bd862e3fe1be46a994272793 "),
            "{text}"
        );
        assert!(lines[0].ends_with(": hello world attempt=2"), "{text}");
        assert!(!lines[1].contains("requestId="), "{text}");
        assert!(
            lines[1].ends_with(" INFO nubes_aws::logging::tests: outside"),
            "{text}"
        );
    }

    #[test]
    fn lambda_levels_map_to_filters() {
        let f = filter(&|n: &str| (n == "AWS_LAMBDA_LOG_LEVEL").then(|| "FATAL".to_owned()));
        assert_eq!(f.to_string(), "error");
    }
}
