//! The settings every nubes server reads, read once for all of them.

use std::time::Duration;

use nubes_core::Error;
use nubes_core::raw::env::{read, read_millis};

use crate::ServeConfig;

/// What the local runner, gcp and azure servers all read from the
/// environment, with the same names and the same defaults (but the grace
/// period, which each platform bounds differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerSettings {
    /// The largest request body (`NUBES_MAX_BODY_BYTES`, default 6 MiB,
    /// Lambda's limit); larger ones are answered `413`.
    pub max_body_bytes: usize,
    /// See [`ServeConfig::header_read_timeout`] (`NUBES_HEADER_READ_TIMEOUT_MS`,
    /// default 30000; 0 disables it).
    pub header_read_timeout: Duration,
    /// See [`ServeConfig::body_read_timeout`] (`NUBES_BODY_READ_TIMEOUT_MS`,
    /// default 30000; 0 disables it).
    pub body_read_timeout: Duration,
    /// How long in-flight work may finish after shutdown begins
    /// (`NUBES_SHUTDOWN_GRACE_MS`).
    pub shutdown_grace: Duration,
}

impl ServerSettings {
    /// The default of `NUBES_MAX_BODY_BYTES`: 6 MiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

    /// The defaults, with `shutdown_grace` as the grace period.
    pub const fn defaults(shutdown_grace: Duration) -> Self {
        ServerSettings {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            header_read_timeout: ServeConfig::DEFAULT.header_read_timeout,
            body_read_timeout: ServeConfig::DEFAULT.body_read_timeout,
            shutdown_grace,
        }
    }

    /// Reads the settings through `lookup`, each one unset or blank keeping
    /// its value in `defaults`; a malformed value is a
    /// [`Config`](nubes_core::ErrorKind::Config) error naming the variable.
    ///
    /// ```
    /// use std::time::Duration;
    /// use nubes_serve::ServerSettings;
    ///
    /// let env = |name: &str| (name == "NUBES_MAX_BODY_BYTES").then(|| "1000".to_string());
    /// let s = ServerSettings::from_lookup(&env, ServerSettings::defaults(Duration::from_secs(10))).unwrap();
    /// assert_eq!(s.max_body_bytes, 1000);
    /// assert_eq!(s.shutdown_grace, Duration::from_secs(10));
    /// ```
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        defaults: ServerSettings,
    ) -> Result<Self, Error> {
        Ok(ServerSettings {
            max_body_bytes: read(
                lookup,
                "NUBES_MAX_BODY_BYTES",
                defaults.max_body_bytes,
                "a byte count",
            )?,
            header_read_timeout: read_millis(
                lookup,
                "NUBES_HEADER_READ_TIMEOUT_MS",
                defaults.header_read_timeout,
            )?,
            body_read_timeout: read_millis(
                lookup,
                "NUBES_BODY_READ_TIMEOUT_MS",
                defaults.body_read_timeout,
            )?,
            shutdown_grace: read_millis(
                lookup,
                "NUBES_SHUTDOWN_GRACE_MS",
                defaults.shutdown_grace,
            )?,
        })
    }

    /// The server's timeouts.
    pub fn serve_config(&self) -> ServeConfig {
        ServeConfig::new(self.header_read_timeout, self.body_read_timeout)
    }
}
