//! Adapter settings, read from the environment without panicking.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use nubes_core::Error;
use nubes_core::raw::env::{parse, read, read_flag};

/// Google's public keys for the OIDC tokens it signs (push, Eventarc, Scheduler).
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// Settings of the Cloud Run adapter. [`GcpConfig::from_env`] reads them from
/// the environment; tests build one with [`GcpConfig::default`] and adjust it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GcpConfig {
    /// Address to bind (`NUBES_HOST`, default `0.0.0.0` as Cloud Run requires).
    pub host: IpAddr,
    /// Port to bind (`PORT`, set by Cloud Run; default 8080; 0 picks a free port).
    pub port: u16,
    /// Largest accepted request body, events and the app's own routes alike
    /// (`NUBES_MAX_BODY_BYTES`, default 6 MiB); larger ones are answered `413`.
    pub max_body_bytes: usize,
    /// How long in-flight requests may run after SIGTERM
    /// (`NUBES_SHUTDOWN_GRACE_MS`, default 9000: Cloud Run kills the
    /// instance 10 s after SIGTERM).
    pub shutdown_grace: Duration,
    /// How long Cloud Run lets a request run (`NUBES_GCP_REQUEST_TIMEOUT_MS`,
    /// default 300000, Cloud Run's default; set it to the service's timeout).
    /// It is every invocation's [`Context::deadline`](nubes_core::Context::deadline);
    /// an event handler still running shortly before it is failed (and the
    /// event redelivered) rather than cut off without a reply.
    pub request_timeout: Duration,
    /// How long a client may take to send a request's headers
    /// (`NUBES_HEADER_READ_TIMEOUT_MS`, default 30000; 0 disables it).
    pub header_read_timeout: Duration,
    /// The longest pause in the arrival of a request body before the request
    /// is answered `408` (`NUBES_BODY_READ_TIMEOUT_MS`, default 30000; 0 disables it).
    pub body_read_timeout: Duration,
    /// The Google Cloud project id (`NUBES_GCP_PROJECT`, `GOOGLE_CLOUD_PROJECT`,
    /// `GCLOUD_PROJECT` or `GCP_PROJECT`), used for log trace links and the
    /// pull worker's subscription names.
    pub project_id: Option<String>,
    /// Verification of the OIDC tokens on event deliveries; `None` leaves
    /// event paths open (rely on Cloud Run IAM instead). Needs the
    /// `push-auth` feature: without it, `Some` makes [`start`](crate::start)
    /// fail with a [`Config`](nubes_core::ErrorKind::Config) error.
    pub push_auth: Option<PushAuthConfig>,
    /// Pull worker settings (`NUBES_GCP_MODE=pull`).
    pub pull: PullConfig,
    /// How often the invocation and custom metrics are logged as one Cloud
    /// Logging entry (`NUBES_METRICS_INTERVAL_SECS`, default 60, at least 1);
    /// they are logged once more at shutdown.
    pub metrics_interval: Duration,
}

/// Which OIDC tokens are accepted on event paths.
///
/// Enabled by `NUBES_GCP_PUSH_AUDIENCE` (comma-separated audiences, usually the
/// service URL); `NUBES_GCP_PUSH_SERVICE_ACCOUNTS` (comma-separated emails)
/// restricts the signer; `NUBES_GCP_JWKS_URL` overrides Google's key set URL.
/// Verifying needs the `push-auth` feature (nubes' `gcp-push-auth`); a build
/// without it refuses these variables rather than ignore them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PushAuthConfig {
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// Accepted `email` values (service accounts); empty accepts any
    /// Google-signed token for the audience.
    pub service_accounts: Vec<String>,
    /// Where Google's signing keys (a JWKS document) are fetched from.
    pub jwks_url: String,
    /// Accepted `iss` values.
    pub issuers: Vec<String>,
    /// The shortest time between two key-set fetches caused by tokens naming
    /// an unknown key (Google rotates keys; forged key ids must not make every
    /// request fetch). Default 10 s.
    pub refresh_interval: Duration,
}

impl PushAuthConfig {
    /// Tokens for `audience`, signed by one of `service_accounts`, verified
    /// with Google's keys.
    pub fn new(audience: impl Into<String>, service_accounts: Vec<String>) -> Self {
        PushAuthConfig {
            audiences: vec![audience.into()],
            service_accounts,
            jwks_url: GOOGLE_JWKS_URL.to_owned(),
            issuers: vec![
                "https://accounts.google.com".to_owned(),
                "accounts.google.com".to_owned(),
            ],
            refresh_interval: Duration::from_secs(10),
        }
    }
}

/// Whether the process serves push deliveries only or also pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Serve HTTP: user routes and pushed events (the default).
    Push,
    /// Also pull every queue trigger's subscription (feature `pubsub-pull`).
    Pull,
}

/// Settings of the Pub/Sub pull worker.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PullConfig {
    /// Push or pull (`NUBES_GCP_MODE`, `push` or `pull`; default push).
    pub mode: Mode,
    /// Most messages handled at once per subscription
    /// (`NUBES_GCP_PULL_MAX_IN_FLIGHT`, default 32).
    pub max_in_flight: usize,
    /// Pub/Sub endpoint (`NUBES_GCP_PUBSUB_ENDPOINT`; else
    /// `http://$PUBSUB_EMULATOR_HOST` with anonymous credentials; else Google's).
    pub endpoint: Option<String>,
    /// Use anonymous credentials (`NUBES_GCP_PUBSUB_ANONYMOUS`; implied by
    /// `PUBSUB_EMULATOR_HOST`).
    pub anonymous: bool,
    /// Subscription of each queue trigger, `name=subscription` pairs
    /// (`NUBES_GCP_SUBSCRIPTIONS`); by default the subscription is the queue
    /// trigger's name.
    pub subscriptions: Vec<(String, String)>,
}

impl Default for PullConfig {
    fn default() -> Self {
        PullConfig {
            mode: Mode::Push,
            max_in_flight: 32,
            endpoint: None,
            anonymous: false,
            subscriptions: Vec::new(),
        }
    }
}

impl Default for GcpConfig {
    fn default() -> Self {
        GcpConfig {
            host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 8080,
            max_body_bytes: 6 * 1024 * 1024,
            shutdown_grace: Duration::from_millis(9000),
            request_timeout: Duration::from_secs(300),
            header_read_timeout: nubes_serve::ServeConfig::DEFAULT.header_read_timeout,
            body_read_timeout: nubes_serve::ServeConfig::DEFAULT.body_read_timeout,
            project_id: None,
            push_auth: None,
            pull: PullConfig::default(),
            metrics_interval: Duration::from_secs(60),
        }
    }
}

impl GcpConfig {
    /// Reads the settings from the environment; a malformed value is a
    /// [`Config`](nubes_core::ErrorKind::Config) error naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let d = GcpConfig::default();
        let host = match get("NUBES_HOST") {
            Some(h) if h.trim() == "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(h) => parse("NUBES_HOST", &h, "an IP address such as 0.0.0.0")?,
            None => d.host,
        };
        let project_id = [
            "NUBES_GCP_PROJECT",
            "GOOGLE_CLOUD_PROJECT",
            "GCLOUD_PROJECT",
            "GCP_PROJECT",
        ]
        .iter()
        .find_map(|name| get(name))
        .map(|p| p.trim().to_owned());
        refuse_unbuilt_push_auth(get, cfg!(feature = "push-auth"))?;
        let audiences = list(get("NUBES_GCP_PUSH_AUDIENCE"));
        let service_accounts = list(get("NUBES_GCP_PUSH_SERVICE_ACCOUNTS"));
        let jwks_url = get("NUBES_GCP_JWKS_URL");
        let push_auth = if audiences.is_empty() {
            // Fail closed: a signer or key set without an audience would
            // otherwise leave the event paths open while looking configured.
            let orphan = if !service_accounts.is_empty() {
                Some("NUBES_GCP_PUSH_SERVICE_ACCOUNTS")
            } else {
                jwks_url.as_ref().map(|_| "NUBES_GCP_JWKS_URL")
            };
            if let Some(variable) = orphan {
                return Err(Error::config(format!(
                    "{variable} is set but NUBES_GCP_PUSH_AUDIENCE is not: set the audience \
                     the push tokens are minted for (usually the service URL)"
                )));
            }
            None
        } else {
            let mut auth = PushAuthConfig::new(String::new(), service_accounts);
            auth.audiences = audiences;
            if let Some(url) = jwks_url {
                auth.jwks_url = url.trim().to_owned();
            }
            Some(auth)
        };
        let mode = match get("NUBES_GCP_MODE").map(|m| m.trim().to_ascii_lowercase()) {
            None => Mode::Push,
            Some(m) if m == "push" => Mode::Push,
            Some(m) if m == "pull" => Mode::Pull,
            Some(other) => {
                return Err(Error::config(format!(
                    "NUBES_GCP_MODE=`{other}` is not valid: expected push or pull"
                )));
            }
        };
        let emulator = get("PUBSUB_EMULATOR_HOST").map(|h| format!("http://{}", h.trim()));
        let endpoint = get("NUBES_GCP_PUBSUB_ENDPOINT")
            .map(|e| e.trim().to_owned())
            .or_else(|| emulator.clone());
        let max_in_flight: usize = read(
            &get,
            "NUBES_GCP_PULL_MAX_IN_FLIGHT",
            d.pull.max_in_flight,
            "a positive integer",
        )?;
        if max_in_flight == 0 {
            return Err(Error::config(
                "NUBES_GCP_PULL_MAX_IN_FLIGHT must be at least 1",
            ));
        }
        let mut subscriptions = Vec::new();
        for pair in list(get("NUBES_GCP_SUBSCRIPTIONS")) {
            match pair.split_once('=') {
                Some((name, sub)) if !name.trim().is_empty() && !sub.trim().is_empty() => {
                    subscriptions.push((name.trim().to_owned(), sub.trim().to_owned()));
                }
                _ => {
                    return Err(Error::config(format!(
                        "NUBES_GCP_SUBSCRIPTIONS: `{pair}` is not `queue=subscription`"
                    )));
                }
            }
        }
        Ok(GcpConfig {
            host,
            port: read(&get, "PORT", d.port, "a port number (0-65535)")?,
            max_body_bytes: read(
                &get,
                "NUBES_MAX_BODY_BYTES",
                d.max_body_bytes,
                "a byte count",
            )?,
            shutdown_grace: Duration::from_millis(read(
                &get,
                "NUBES_SHUTDOWN_GRACE_MS",
                9000,
                "milliseconds",
            )?),
            request_timeout: Duration::from_millis(read(
                &get,
                "NUBES_GCP_REQUEST_TIMEOUT_MS",
                300_000,
                "milliseconds",
            )?),
            header_read_timeout: Duration::from_millis(read(
                &get,
                "NUBES_HEADER_READ_TIMEOUT_MS",
                d.header_read_timeout.as_millis() as u64,
                "milliseconds",
            )?),
            body_read_timeout: Duration::from_millis(read(
                &get,
                "NUBES_BODY_READ_TIMEOUT_MS",
                d.body_read_timeout.as_millis() as u64,
                "milliseconds",
            )?),
            project_id,
            push_auth,
            pull: PullConfig {
                mode,
                max_in_flight,
                anonymous: emulator.is_some()
                    || read_flag(&get, "NUBES_GCP_PUBSUB_ANONYMOUS", false)?,
                endpoint,
                subscriptions,
            },
            metrics_interval: nubes_core::metrics::flush_interval(&get)?,
        })
    }
}

/// The variables that ask for in-process verification of push tokens.
const PUSH_AUTH_VARIABLES: [&str; 3] = [
    "NUBES_GCP_PUSH_AUDIENCE",
    "NUBES_GCP_PUSH_SERVICE_ACCOUNTS",
    "NUBES_GCP_JWKS_URL",
];

/// Fails closed when the environment asks for push verification that this
/// binary cannot do (`built` is whether the `push-auth` feature is compiled
/// in): pushes must never be accepted unverified because a feature was off.
fn refuse_unbuilt_push_auth(
    get: impl Fn(&str) -> Option<String>,
    built: bool,
) -> Result<(), Error> {
    if built {
        return Ok(());
    }
    match PUSH_AUTH_VARIABLES.iter().find(|name| get(name).is_some()) {
        Some(name) => Err(push_auth_not_built(&format!("{name} is set"))),
        None => Ok(()),
    }
}

/// The error of a binary asked to verify push tokens without the code to.
pub(crate) fn push_auth_not_built(what: &str) -> Error {
    Error::config(format!(
        "{what}, but this binary was built without in-process verification of push \
         tokens: enable the `gcp-push-auth` feature of nubes (features = [\"gcp-push-auth\"]), \
         or unset {} and rely on Cloud Run's IAM invoker check (--no-allow-unauthenticated)",
        PUSH_AUTH_VARIABLES.join(", ")
    ))
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<GcpConfig, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GcpConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_cloud_run() {
        let c = from(&[]).unwrap();
        assert_eq!(c.host.to_string(), "0.0.0.0");
        assert_eq!(c.port, 8080);
        assert!(c.push_auth.is_none());
        assert_eq!(c.pull.mode, Mode::Push);
        assert_eq!(c.request_timeout, Duration::from_secs(300));
        assert_eq!(c.header_read_timeout, Duration::from_secs(30));
        assert_eq!(c.metrics_interval, Duration::from_secs(60));
        assert_eq!(c.metrics_interval, GcpConfig::default().metrics_interval);
        let c = from(&[
            ("NUBES_HEADER_READ_TIMEOUT_MS", "1500"),
            ("NUBES_BODY_READ_TIMEOUT_MS", "0"),
            ("NUBES_METRICS_INTERVAL_SECS", "15"),
        ])
        .unwrap();
        assert_eq!(c.header_read_timeout, Duration::from_millis(1500));
        assert!(c.body_read_timeout.is_zero());
        assert_eq!(c.metrics_interval, Duration::from_secs(15));
        let c = from(&[("NUBES_METRICS_INTERVAL_SECS", "0")]).unwrap();
        assert_eq!(c.metrics_interval, Duration::from_secs(1), "at least 1 s");
    }

    #[test]
    fn pull_settings_are_read() {
        let c = from(&[
            ("PORT", "9000"),
            ("NUBES_HOST", "127.0.0.1"),
            ("GOOGLE_CLOUD_PROJECT", "p1"),
            ("NUBES_GCP_MODE", "pull"),
            ("PUBSUB_EMULATOR_HOST", "127.0.0.1:8085"),
            ("NUBES_GCP_SUBSCRIPTIONS", "orders=orders-sub"),
        ])
        .unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.project_id.as_deref(), Some("p1"));
        assert!(c.push_auth.is_none());
        assert_eq!(c.pull.mode, Mode::Pull);
        assert_eq!(c.pull.endpoint.as_deref(), Some("http://127.0.0.1:8085"));
        assert!(c.pull.anonymous);
        assert_eq!(
            c.pull.subscriptions,
            [("orders".into(), "orders-sub".into())]
        );
    }

    #[cfg(feature = "push-auth")]
    #[test]
    fn push_auth_settings_are_read() {
        let c = from(&[
            ("NUBES_GCP_PUSH_AUDIENCE", "https://svc.run.app"),
            (
                "NUBES_GCP_PUSH_SERVICE_ACCOUNTS",
                "a@p1.iam.gserviceaccount.com, b@x",
            ),
        ])
        .unwrap();
        let auth = c.push_auth.unwrap();
        assert_eq!(auth.audiences, ["https://svc.run.app"]);
        assert_eq!(auth.service_accounts.len(), 2);
        assert_eq!(auth.jwks_url, GOOGLE_JWKS_URL);
        let c = from(&[
            ("NUBES_GCP_PUSH_AUDIENCE", "a, b"),
            ("NUBES_GCP_JWKS_URL", " http://127.0.0.1:1/certs "),
        ])
        .unwrap();
        let auth = c.push_auth.unwrap();
        assert_eq!(auth.audiences, ["a", "b"]);
        assert!(auth.service_accounts.is_empty());
        assert_eq!(auth.jwks_url, "http://127.0.0.1:1/certs");
    }

    /// A signer or key set without an audience is refused, not ignored.
    #[test]
    fn push_auth_without_an_audience_is_refused() {
        for name in ["NUBES_GCP_PUSH_SERVICE_ACCOUNTS", "NUBES_GCP_JWKS_URL"] {
            let err = from(&[(name, "x")]).unwrap_err();
            assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
            let message = err.to_string();
            assert!(message.contains(name), "{message}");
            if cfg!(feature = "push-auth") {
                assert!(
                    message.contains("NUBES_GCP_PUSH_AUDIENCE is not"),
                    "{message}"
                );
            } else {
                assert!(message.contains("`gcp-push-auth` feature"), "{message}");
            }
        }
    }

    /// Fail closed: a build without the verifier refuses every push-auth
    /// variable (checked here with `built = false` in every build, so the
    /// all-features CI covers it too).
    #[test]
    fn push_auth_variables_need_the_feature() {
        for name in PUSH_AUTH_VARIABLES {
            let lookup = |n: &str| (n == name).then(|| "https://svc.run.app".to_owned());
            let err = refuse_unbuilt_push_auth(lookup, false).unwrap_err();
            assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
            let message = err.to_string();
            assert!(message.contains(&format!("{name} is set")), "{message}");
            assert!(
                message.contains("`gcp-push-auth` feature of nubes"),
                "{message}"
            );
            assert!(refuse_unbuilt_push_auth(lookup, true).is_ok());
        }
        assert!(refuse_unbuilt_push_auth(|_| None, false).is_ok());
    }

    /// The same, through `from_lookup`, in a build without the feature.
    #[cfg(not(feature = "push-auth"))]
    #[test]
    fn a_build_without_push_auth_refuses_the_audience() {
        let err = from(&[("NUBES_GCP_PUSH_AUDIENCE", "https://svc.run.app")]).unwrap_err();
        assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
        assert!(
            err.to_string()
                .contains("NUBES_GCP_PUSH_AUDIENCE is set, but this binary was built without"),
            "{err}"
        );
        // Blank values are unset, as everywhere else.
        assert!(from(&[("NUBES_GCP_PUSH_AUDIENCE", " ")]).is_ok());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = from(&[("PORT", "eighty")]).unwrap_err();
        assert!(err.to_string().contains("PORT=`eighty`"), "{err}");
        assert!(from(&[("NUBES_GCP_MODE", "poll")]).is_err());
        assert!(from(&[("NUBES_GCP_PUSH_SERVICE_ACCOUNTS", "a@b")]).is_err());
        assert!(from(&[("NUBES_GCP_SUBSCRIPTIONS", "orders")]).is_err());
        assert!(from(&[("NUBES_GCP_PULL_MAX_IN_FLIGHT", "0")]).is_err());
        let err = from(&[("NUBES_METRICS_INTERVAL_SECS", "soon")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("NUBES_METRICS_INTERVAL_SECS=`soon`"),
            "{err}"
        );
    }
}
