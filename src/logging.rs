//! Default log output, installed unless the application set its own subscriber.

use nubes_core::Provider;
use tracing_subscriber::EnvFilter;

/// Human-readable logs locally, JSON lines on the clouds (each adapter refines
/// the shape to its platform's log format). `RUST_LOG` filters; default `info`.
pub(crate) fn init(provider: Provider) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails only when a subscriber is already set: the user's wins.
    let _ = match provider {
        Provider::Local => builder.compact().try_init(),
        _ => builder.json().with_current_span(true).try_init(),
    };
}
