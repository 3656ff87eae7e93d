//! Default log output of the local runner, installed unless the application
//! set its own subscriber. (Cloud adapters install their platform's format.)

use tracing_subscriber::EnvFilter;

/// Human-readable lines on stderr; `RUST_LOG` filters (default `info`).
pub(crate) fn init_local() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init` fails only when a subscriber is already set: the user's wins.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .compact()
        .try_init();
}
