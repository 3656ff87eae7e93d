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
    /// Storage triggers whose bucket has another cloud name
    /// (`NUBES_BUCKET_<NAME>`): (physical, logical). Storage events carry
    /// the physical name; read once at start, empty for most apps.
    renamed_buckets: Vec<(String, String)>,
}

pub(crate) type SharedRuntime = Arc<Runtime>;

/// The request timeout, as error messages name it.
fn timeout_setting(config: &GcpConfig) -> String {
    format!(
        "the {} ms request timeout (NUBES_GCP_REQUEST_TIMEOUT_MS)",
        config.request_timeout.as_millis()
    )
}

/// The storage triggers of `app` whose bucket's cloud name (read through
/// `lookup`, as `NUBES_BUCKET_<NAME>`) differs from the trigger's name.
fn renamed_buckets(
    app: &nubes_core::AppDescription,
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    use nubes_core::resource::{ResourceKind, physical_name_from};
    app.triggers
        .iter()
        .filter(|t| t.kind == TriggerKind::Storage)
        .filter_map(|t| {
            let physical = physical_name_from(ResourceKind::Bucket, &t.name, &lookup);
            (physical != t.name).then(|| (physical, t.name.clone()))
        })
        .collect()
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
        let renamed_buckets = renamed_buckets(&description, |var| std::env::var(var).ok());
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
            renamed_buckets,
        }
    }

    /// The storage trigger a delivery naming bucket `name` belongs to: the
    /// trigger of that name, or the one whose bucket's cloud name it is.
    pub(crate) fn storage_trigger<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        if self.app.has_trigger(TriggerKind::Storage, name) {
            return Some(name);
        }
        self.renamed_buckets
            .iter()
            .find(|(physical, _)| physical == name)
            .map(|(_, logical)| logical.as_str())
    }

    /// The trigger an event of `kind` that arrived on `/` belongs to: the first
    /// of its `names` that is registered, else the app's only trigger of that
    /// kind, else its most specific name (reported as an unknown trigger).
    pub(crate) fn resolve(&self, kind: TriggerKind, names: &[String]) -> String {
        if let Some(name) = names.iter().find(|n| self.app.has_trigger(kind, n)) {
            return name.clone();
        }
        if kind == TriggerKind::Storage
            && let Some(logical) = names.iter().find_map(|n| self.storage_trigger(n))
        {
            return logical.to_owned();
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

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderName, HeaderValue};
    use nubes_core::{BoxError, Context, StorageEvent};

    use super::*;

    async fn h(_: StorageEvent, _: Context) -> Result<(), BoxError> {
        Ok(())
    }

    /// Two storage triggers, so an unknown bucket is not the sole trigger's.
    fn runtime() -> Runtime {
        let app = App::new().on_storage("uploads", h).on_storage("archive", h);
        let mut rt = Runtime::new(app, GcpConfig::default(), None);
        let env = |var: &str| (var == "NUBES_BUCKET_UPLOADS").then(|| "prod-uploads-7f3a".into());
        rt.renamed_buckets = renamed_buckets(&rt.app.describe(), env);
        rt
    }

    /// A real delivery's bucket replaced by `bucket`, decoded as on `/`.
    fn names_of(fixture: &str, headers: Option<&str>, bucket: &str) -> Vec<String> {
        let body = nubes_test_support::fixtures::text(fixture)
            .replace("sample-bucket", bucket)
            .replace("some-bucket", bucket);
        let mut map = HeaderMap::new();
        if let Some(headers) = headers {
            let headers = nubes_test_support::fixtures::json(headers);
            for (name, value) in headers.as_object().expect("headers object") {
                let value = value
                    .as_str()
                    .expect("header text")
                    .replace("some-bucket", bucket);
                map.insert(
                    HeaderName::from_bytes(name.as_bytes()).expect("name"),
                    HeaderValue::from_str(&value).expect("value"),
                );
            }
        } else {
            let media = if fixture.contains("structured") {
                "application/cloudevents+json"
            } else {
                "application/json"
            };
            map.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(media));
        }
        let decoded = crate::event::decode(&map, &body.into_bytes().into())
            .unwrap_or_else(|e| panic!("{fixture}: {e}"))
            .unwrap_or_else(|| panic!("{fixture}: not an event"));
        assert_eq!(decoded.event.kind(), TriggerKind::Storage);
        decoded.names
    }

    #[test]
    fn only_buckets_with_another_cloud_name_are_listed() {
        let app = App::new().on_storage("uploads", h).on_storage("archive", h);
        let env = |var: &str| match var {
            "NUBES_BUCKET_UPLOADS" => Some("prod-uploads-7f3a".to_owned()),
            "NUBES_BUCKET_ARCHIVE" => Some("archive".to_owned()),
            _ => None,
        };
        assert_eq!(
            renamed_buckets(&app.describe(), env),
            [("prod-uploads-7f3a".to_owned(), "uploads".to_owned())]
        );
    }

    #[tokio::test]
    async fn storage_events_naming_the_cloud_bucket_reach_the_logical_trigger() {
        let rt = runtime();
        let deliveries = [
            ("gcp/cloudevent-storage-finalized.structured.json", None),
            (
                "gcp/cloudevent-storage-finalized.binary.body.json",
                Some("gcp/cloudevent-storage-finalized.binary.headers.json"),
            ),
            ("gcp/legacy-storage-object-finalize.json", None),
            ("gcp/legacy-storage-object-change-deleted.json", None),
        ];
        for (body, headers) in deliveries {
            let names = names_of(body, headers, "prod-uploads-7f3a");
            assert_eq!(
                rt.resolve(TriggerKind::Storage, &names),
                "uploads",
                "{body}"
            );
            // The logical name itself still works, and other buckets stay unknown.
            let names = names_of(body, headers, "uploads");
            assert_eq!(rt.resolve(TriggerKind::Storage, &names), "uploads");
            let names = names_of(body, headers, "somebody-elses");
            assert_eq!(rt.resolve(TriggerKind::Storage, &names), "somebody-elses");
        }
    }

    #[tokio::test]
    async fn a_reserved_path_naming_the_cloud_bucket_is_the_logical_trigger() {
        let rt = runtime();
        assert_eq!(rt.storage_trigger("prod-uploads-7f3a"), Some("uploads"));
        assert_eq!(rt.storage_trigger("uploads"), Some("uploads"));
        assert_eq!(rt.storage_trigger("archive"), Some("archive"));
        assert_eq!(rt.storage_trigger("nope"), None);
    }
}
