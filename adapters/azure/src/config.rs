//! Adapter settings, read from the environment without panicking.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use nubes_core::Error;
use nubes_core::raw::env::{parse, read};

/// The function name nubes gives the HTTP trigger unless
/// `NUBES_AZURE_HTTP_FUNCTION` says otherwise.
pub const DEFAULT_HTTP_FUNCTION: &str = "http";

/// The host's default `functionTimeout` on the Consumption plan, which the
/// generated `host.json` states and the adapter assumes unless
/// `NUBES_AZURE_FUNCTION_TIMEOUT_MS` says otherwise.
pub const DEFAULT_FUNCTION_TIMEOUT: Duration = Duration::from_secs(300);

/// Settings of the custom-handler server. [`AzureConfig::from_env`] reads them
/// from the environment the Functions host prepares; tests build one directly.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AzureConfig {
    /// Address to bind. The host always talks to `127.0.0.1`, so this is not
    /// configurable from the environment.
    pub host: IpAddr,
    /// Port to bind (`FUNCTIONS_CUSTOMHANDLER_PORT`, set by the host; 0 picks a
    /// free port in tests).
    pub port: u16,
    /// Name of the function that serves the app's HTTP routes
    /// (`NUBES_AZURE_HTTP_FUNCTION`, default `http`); must match the generated
    /// function folder.
    pub http_function: String,
    /// Largest accepted body of a request for the app's routes
    /// (`NUBES_MAX_BODY_BYTES`, default 6 MiB, Lambda's limit); larger ones
    /// are answered `413`.
    pub max_body_bytes: usize,
    /// Largest accepted invocation request from the host (`POST /{function}`)
    /// (`NUBES_AZURE_MAX_INVOCATION_BYTES`, default 128 MiB: invocations carry
    /// HTTP bodies and blob contents base64-encoded, a third larger, and the
    /// host's own HTTP limit is 100 MB).
    pub max_invocation_bytes: usize,
    /// The host's `functionTimeout` (`NUBES_AZURE_FUNCTION_TIMEOUT_MS`,
    /// default 300000: the Consumption plan's 5 minutes, which the generated
    /// `host.json` sets). It is every invocation's
    /// [`Context::deadline`](nubes_core::Context::deadline); a handler still
    /// running shortly before it is cancelled and the invocation reported
    /// failed, rather than killed by the host without a word.
    pub function_timeout: Duration,
    /// How long a client may take to send a request's headers
    /// (`NUBES_HEADER_READ_TIMEOUT_MS`, default 30000; 0 disables it).
    pub header_read_timeout: Duration,
    /// The longest pause in the arrival of a request body before the request
    /// is answered `408` (`NUBES_BODY_READ_TIMEOUT_MS`, default 30000; 0 disables it).
    pub body_read_timeout: Duration,
    /// How long in-flight invocations may take to finish after SIGTERM
    /// (`NUBES_SHUTDOWN_GRACE_MS`, default 10000).
    pub shutdown_grace: Duration,
    /// How often the invocation and custom metrics are logged as one JSON
    /// entry (`NUBES_METRICS_INTERVAL_SECS`, default 60, at least 1); they
    /// are logged once more when the runtime stops.
    pub metrics_interval: Duration,
}

impl Default for AzureConfig {
    fn default() -> Self {
        AzureConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            http_function: DEFAULT_HTTP_FUNCTION.to_owned(),
            max_body_bytes: 6 * 1024 * 1024,
            max_invocation_bytes: 128 * 1024 * 1024,
            function_timeout: DEFAULT_FUNCTION_TIMEOUT,
            header_read_timeout: nubes_serve::ServeConfig::DEFAULT.header_read_timeout,
            body_read_timeout: nubes_serve::ServeConfig::DEFAULT.body_read_timeout,
            shutdown_grace: Duration::from_secs(10),
            metrics_interval: Duration::from_secs(60),
        }
    }
}

impl AzureConfig {
    /// Reads the settings from the environment; a missing
    /// `FUNCTIONS_CUSTOMHANDLER_PORT` or a malformed value is a
    /// [`Config`](nubes_core::ErrorKind::Config) error naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let d = AzureConfig::default();
        let port = match lookup("FUNCTIONS_CUSTOMHANDLER_PORT") {
            Some(p) if !p.trim().is_empty() => parse(
                "FUNCTIONS_CUSTOMHANDLER_PORT",
                &p,
                "a port number (0-65535)",
            )?,
            _ => {
                return Err(Error::config(
                    "FUNCTIONS_CUSTOMHANDLER_PORT is not set: the Azure Functions host sets it \
                     when it starts a custom handler (set it yourself to try the handler locally)",
                ));
            }
        };
        let http_function = match lookup("NUBES_AZURE_HTTP_FUNCTION") {
            Some(name) if !name.trim().is_empty() => valid_function_name(name.trim())?,
            _ => d.http_function,
        };
        Ok(AzureConfig {
            host: d.host,
            port,
            http_function,
            max_body_bytes: read(
                &lookup,
                "NUBES_MAX_BODY_BYTES",
                d.max_body_bytes,
                "a byte count",
            )?,
            max_invocation_bytes: read(
                &lookup,
                "NUBES_AZURE_MAX_INVOCATION_BYTES",
                d.max_invocation_bytes,
                "a byte count",
            )?,
            function_timeout: millis(
                &lookup,
                "NUBES_AZURE_FUNCTION_TIMEOUT_MS",
                d.function_timeout,
            )?,
            header_read_timeout: millis(
                &lookup,
                "NUBES_HEADER_READ_TIMEOUT_MS",
                d.header_read_timeout,
            )?,
            body_read_timeout: millis(&lookup, "NUBES_BODY_READ_TIMEOUT_MS", d.body_read_timeout)?,
            shutdown_grace: Duration::from_millis(read(
                &lookup,
                "NUBES_SHUTDOWN_GRACE_MS",
                10_000,
                "milliseconds",
            )?),
            metrics_interval: nubes_core::metrics::flush_interval(&lookup)?,
        })
    }
}

/// A duration given in milliseconds.
fn millis(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: Duration,
) -> Result<Duration, Error> {
    read(lookup, name, default.as_millis() as u64, "milliseconds").map(Duration::from_millis)
}

/// Function names become folder names and the path the host POSTs to.
fn valid_function_name(name: &str) -> Result<String, Error> {
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    if ok {
        Ok(name.to_owned())
    } else {
        Err(Error::config(format!(
            "NUBES_AZURE_HTTP_FUNCTION=`{name}` is not valid: expected a function name \
             (a letter, then letters, digits, `-` or `_`)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<AzureConfig, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AzureConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_port_is_required_and_validated() {
        let err = from(&[]).unwrap_err();
        assert!(
            err.to_string().contains("FUNCTIONS_CUSTOMHANDLER_PORT"),
            "{err}"
        );
        let err = from(&[("FUNCTIONS_CUSTOMHANDLER_PORT", "x")]).unwrap_err();
        assert!(
            err.to_string().contains("FUNCTIONS_CUSTOMHANDLER_PORT=`x`"),
            "{err}"
        );
        let c = from(&[("FUNCTIONS_CUSTOMHANDLER_PORT", "7071")]).unwrap();
        assert_eq!(c.port, 7071);
        assert_eq!(c.host.to_string(), "127.0.0.1");
        assert_eq!(c.http_function, "http");
        assert_eq!(c.max_body_bytes, 6 * 1024 * 1024);
        assert_eq!(c.max_invocation_bytes, 128 * 1024 * 1024);
        assert_eq!(c.function_timeout, Duration::from_secs(300));
        assert_eq!(c.header_read_timeout, Duration::from_secs(30));
        assert_eq!(c.metrics_interval, Duration::from_secs(60));
        assert_eq!(c.metrics_interval, AzureConfig::default().metrics_interval);
    }

    #[test]
    fn the_metrics_interval_is_read() {
        let port = ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071");
        let c = from(&[port, ("NUBES_METRICS_INTERVAL_SECS", "5")]).unwrap();
        assert_eq!(c.metrics_interval, Duration::from_secs(5));
        let c = from(&[port, ("NUBES_METRICS_INTERVAL_SECS", "0")]).unwrap();
        assert_eq!(c.metrics_interval, Duration::from_secs(1), "at least 1 s");
        let err = from(&[port, ("NUBES_METRICS_INTERVAL_SECS", "-3")]).unwrap_err();
        assert!(
            err.to_string().contains("NUBES_METRICS_INTERVAL_SECS=`-3`"),
            "{err}"
        );
    }

    #[test]
    fn options_are_read_and_checked() {
        let c = from(&[
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "1"),
            ("NUBES_AZURE_HTTP_FUNCTION", "web"),
            ("NUBES_MAX_BODY_BYTES", "10"),
            ("NUBES_AZURE_FUNCTION_TIMEOUT_MS", "5"),
        ])
        .unwrap();
        assert_eq!(c.http_function, "web");
        assert_eq!(c.max_body_bytes, 10);
        assert_eq!(c.function_timeout, Duration::from_millis(5));
        assert!(
            from(&[
                ("FUNCTIONS_CUSTOMHANDLER_PORT", "1"),
                ("NUBES_AZURE_HTTP_FUNCTION", "../x")
            ])
            .is_err()
        );
        assert!(
            from(&[
                ("FUNCTIONS_CUSTOMHANDLER_PORT", "1"),
                ("NUBES_MAX_BODY_BYTES", "lots")
            ])
            .is_err()
        );
    }
}
