//! Default log output of the local runner, installed unless the application
//! set its own subscriber. (Cloud adapters install their platform's format.)

use std::cell::RefCell;
use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{Compact, DefaultFields, Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Human-readable lines on stderr (coloured on a terminal); `RUST_LOG`
/// filters (default `info`).
pub(crate) fn init_local() {
    let filter = nubes_core::raw::log_filter::from_env(&|name| std::env::var(name).ok());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // `try_init` fails only when a subscriber is already set: the user's wins.
    let _ = local_subscriber(filter, ansi, std::io::stderr).try_init();
}

/// The local format writing to `writer`: tracing's compact lines, and inside
/// an invocation its `invocation_id` and `trace_id` at the end of each line.
fn local_subscriber<W>(filter: Targets, ansi: bool, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // The builder's own level cap stays open: `filter` (layered on top) decides.
    tracing_subscriber::fmt()
        .with_max_level(tracing::level_filters::LevelFilter::TRACE)
        .with_ansi(ansi)
        .with_writer(writer)
        .event_format(WithInvocation::default())
        .finish()
        .with(filter)
}

/// Compact lines, each logged inside an invocation (a handler run by the
/// local runner) followed by ` trigger=… invocation_id=… trace_id=…`.
struct WithInvocation {
    /// For writers that show colours (a terminal).
    ansi: Format<Compact>,
    /// For the others (a file, a pipe).
    plain: Format<Compact>,
}

impl Default for WithInvocation {
    fn default() -> Self {
        let compact = tracing_subscriber::fmt::format().compact();
        WithInvocation {
            ansi: compact.clone().with_ansi(true),
            plain: compact.with_ansi(false),
        }
    }
}

thread_local! {
    /// One line being formatted, reused so logging allocates nothing once warm.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

impl<S> FormatEvent<S, DefaultFields> for WithInvocation
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, DefaultFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let inner = if writer.has_ansi_escapes() {
            &self.ansi
        } else {
            &self.plain
        };
        let Some(current) = nubes_core::current_context() else {
            return inner.format_event(ctx, writer, event);
        };
        // The compact line ends with its newline: format it aside, then
        // put the ids before that newline.
        LINE.with(|cell| {
            let Ok(mut line) = cell.try_borrow_mut() else {
                // Logging while formatting a line (re-entrant): no buffer to
                // spare, so the line goes out without the ids.
                return inner.format_event(ctx, writer.by_ref(), event);
            };
            line.clear();
            inner.format_event(ctx, Writer::new(&mut *line), event)?;
            let body = line.trim_end_matches('\n');
            write!(
                writer,
                "{body} trigger={} invocation_id={}",
                current.trigger(),
                current.invocation_id()
            )?;
            if let Some(trace_id) = current.trace().trace_id() {
                write!(writer, " trace_id={trace_id}")?;
            }
            writer.write_char('\n')
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    use nubes_core::raw::ContextBuilder;
    use nubes_core::{Platform, TraceContext, TriggerKind};
    use nubes_test_support::log_capture::LogCapture;

    #[tokio::test]
    async fn lines_of_an_invocation_carry_its_ids() {
        let buffer = LogCapture::default();
        let sink = buffer.clone();
        let subscriber = local_subscriber(
            nubes_core::raw::log_filter::default_filter(),
            false,
            move || sink.clone(),
        );
        let _guard = tracing::subscriber::set_default(subscriber);
        let trace = TraceContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders")
            .invocation_id("m-1")
            .trace(trace)
            .build();
        tracing::info!("before");
        nubes_core::with_context(ctx, async {
            tracing::warn!(attempt = 2, "handling {}", "order");
        })
        .await;
        tracing::info!("after");

        let text = buffer.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[1].ends_with(
                ": handling order attempt=2 trigger=orders invocation_id=m-1 \
                 trace_id=4bf92f3577b34da6a3ce929d0e0e4736"
            ),
            "{text}"
        );
        assert!(lines[1].contains(" WARN "), "human-readable level: {text}");
        assert!(lines[0].ends_with(": before"), "{text}");
        assert!(lines[2].ends_with(": after"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colours in a buffer: {text}");
    }
}
