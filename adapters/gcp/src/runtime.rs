//! State shared by the server's routes (and the pull worker).

use std::sync::Arc;

use nubes_core::raw::AppDispatch as _;
use nubes_core::{App, CancellationToken, TriggerKind};

use crate::GcpConfig;
use crate::auth::Verifier;

/// Everything the adapter's parts share; one per running server.
pub(crate) struct Runtime {
    pub(crate) app: App,
    pub(crate) config: GcpConfig,
    /// Present when push deliveries must carry a Google-signed OIDC token.
    pub(crate) verifier: Option<Verifier>,
    /// Cancelled when shutdown begins.
    pub(crate) shutdown: CancellationToken,
    /// Cancelled when the grace period is over: requests still running are
    /// answered `503` (so the platform redelivers) and their handlers dropped.
    pub(crate) cut_off: CancellationToken,
    /// Invocation and custom metrics, logged as one Cloud Logging entry per
    /// interval ([`GcpConfig::metrics_interval`]) and at shutdown.
    pub(crate) metrics: nubes_core::metrics::PeriodicFlush,
    /// The handle every `Context` gets.
    pub(crate) metrics_handle: nubes_core::metrics::Metrics,
    /// The app's declared resources (buckets), attached to every `Context`;
    /// `None` when it declares none or the build has no backend.
    pub(crate) resources: Option<Arc<nubes_core::raw::Resources>>,
    /// The request timeout as the cut-off of the app's own routes, made once.
    pub(crate) http_timeout: nubes_core::raw::HttpTimeout,
    /// For each event kind, its trigger when the app registers exactly one:
    /// where an event arriving on `/` goes when its names match none.
    sole: [Option<String>; 3],
}

pub(crate) type SharedRuntime = Arc<Runtime>;

/// The request timeout, as error messages name it.
fn timeout_setting(config: &GcpConfig) -> String {
    format!(
        "the {} ms request timeout (NUBES_GCP_REQUEST_TIMEOUT_MS)",
        config.request_timeout.as_millis()
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

    pub(crate) fn new(app: App, config: GcpConfig, verifier: Option<Verifier>) -> Self {
        let description = app.describe();
        let sole_of = |kind: TriggerKind| {
            let mut names = description.triggers.iter().filter(|t| t.kind == kind);
            match (names.next(), names.next()) {
                (Some(only), None) => Some(only.name.clone()),
                _ => None,
            }
        };
        let sole = [
            sole_of(TriggerKind::Queue),
            sole_of(TriggerKind::Storage),
            sole_of(TriggerKind::Schedule),
        ];
        let metrics =
            nubes_core::metrics::PeriodicFlush::start(config.metrics_interval, |series| {
                nubes_core::metrics::log_series(&series)
            });
        let http_timeout = nubes_core::raw::HttpTimeout::new(
            nubes_core::raw::deadline::margin_for(
                config.request_timeout,
                nubes_core::raw::deadline::DEFAULT_MARGIN,
            ),
            timeout_setting(&config),
        );
        #[cfg(feature = "bucket")]
        let resources = crate::bucket::resources(&description);
        #[cfg(not(feature = "bucket"))]
        let resources = None;
        Runtime {
            resources,
            http_timeout,
            metrics_handle: metrics.metrics(),
            metrics,
            app,
            config,
            verifier,
            shutdown: CancellationToken::new(),
            cut_off: CancellationToken::new(),
            sole,
        }
    }

    /// The trigger an event of `kind` that arrived on `/` belongs to: the first
    /// of its `names` that is registered, else the app's only trigger of that
    /// kind, else its most specific name (reported as an unknown trigger).
    pub(crate) fn resolve(&self, kind: TriggerKind, names: &[String]) -> String {
        if let Some(name) = names.iter().find(|n| self.app.has_trigger(kind, n)) {
            return name.clone();
        }
        let sole = match kind {
            TriggerKind::Queue => &self.sole[0],
            TriggerKind::Storage => &self.sole[1],
            TriggerKind::Schedule => &self.sole[2],
            _ => &None,
        };
        sole.clone()
            .or_else(|| names.first().cloned())
            .unwrap_or_default()
    }
}
