//! State shared by every request the handler serves.

use std::sync::Arc;

use nubes_core::raw::AppDispatch as _;
use nubes_core::{App, CancellationToken, TriggerKind};

use crate::AzureConfig;

/// The app, the settings and the shutdown signal; one per running server.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) app: App,
    pub(crate) config: AzureConfig,
    /// Cancelled when shutdown begins; handed to every `Context`. Behind an
    /// `Arc` so that each context holds a reference count rather than a clone
    /// of the token (which takes a lock).
    pub(crate) shutdown: Arc<CancellationToken>,
    /// Invocation and custom metrics, logged to stdout as one JSON entry per
    /// interval ([`AzureConfig::metrics_interval`]) and when the runtime is
    /// dropped at shutdown.
    pub(crate) metrics: nubes_core::metrics::PeriodicFlush,
    /// The function timeout, as the cut-off of forwarded HTTP requests.
    pub(crate) http_timeout: nubes_core::raw::HttpTimeout,
}

impl Runtime {
    /// A runtime for `app`, its metrics flushed every
    /// `config.metrics_interval` (needs a Tokio runtime for the periodic part).
    pub(crate) fn new(app: App, config: AzureConfig) -> Self {
        let metrics =
            nubes_core::metrics::PeriodicFlush::start(config.metrics_interval, |series| {
                nubes_core::metrics::log_series(&series);
            });
        let http_timeout = nubes_core::raw::HttpTimeout::new(
            nubes_core::raw::deadline::margin_for(
                config.function_timeout,
                nubes_core::raw::deadline::DEFAULT_MARGIN,
            ),
            timeout_setting(&config),
        );
        Runtime {
            app,
            config,
            shutdown: Arc::new(CancellationToken::new()),
            metrics,
            http_timeout,
        }
    }
}

pub(crate) type SharedRuntime = Arc<Runtime>;

/// The function timeout, as error messages name it.
fn timeout_setting(config: &AzureConfig) -> String {
    format!(
        "{} ms (NUBES_AZURE_FUNCTION_TIMEOUT_MS, the host's functionTimeout)",
        config.function_timeout.as_millis()
    )
}

impl Runtime {
    /// How long before a handler's deadline it is cancelled.
    pub(crate) fn deadline_margin(&self) -> std::time::Duration {
        self.http_timeout.margin()
    }

    /// The error of a handler cancelled at its deadline.
    pub(crate) fn timed_out(&self) -> nubes_core::Error {
        self.http_timeout.error()
    }

    /// The function named `name`: its kind and the trigger it serves (the
    /// HTTP function, or an event trigger named by
    /// [`event_function_name`](crate::event_function_name)).
    pub(crate) fn function<'a>(&'a self, name: &'a str) -> Option<(TriggerKind, &'a str)> {
        if self.app.http_service().is_some() && name == self.config.http_function {
            return Some((TriggerKind::Http, name));
        }
        crate::function_name::parse(name)
            .filter(|(kind, trigger)| self.app.has_trigger(*kind, trigger))
    }
}
