//! Local runner settings, read from the environment without panicking.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use nubes_core::Error;
use nubes_core::raw::env::{parse, read, read_flag, read_millis};
use nubes_serve::ServerSettings;

/// Settings of the local runner. [`LocalConfig::from_env`] reads them from the
/// environment; tests build one directly.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LocalConfig {
    /// Address to bind (`NUBES_HOST`, default `127.0.0.1`).
    pub host: IpAddr,
    /// Port to bind (`PORT`, default 3000; 0 picks a free port).
    pub port: u16,
    /// Folder for local state; objects live under `<data_dir>/storage/<bucket>/`
    /// (`NUBES_LOCAL_DIR`, default `.nubes`).
    pub data_dir: PathBuf,
    /// Delay before a failed event is redelivered (`NUBES_LOCAL_RETRY_DELAY_MS`, default 1000).
    pub retry_delay: Duration,
    /// Deliveries before an event is dead-lettered (`NUBES_LOCAL_MAX_ATTEMPTS`, default 5).
    pub max_attempts: u32,
    /// Largest accepted request body on every route: queue messages, storage
    /// uploads and the app's own routes (`NUBES_MAX_BODY_BYTES`, default 6 MiB,
    /// Lambda's limit); larger ones are answered `413`.
    pub max_body_bytes: usize,
    /// How long a handler may run (`NUBES_LOCAL_TIMEOUT_MS`, default 300000:
    /// 5 minutes, the default of Cloud Run and of Azure's Consumption plan).
    /// It is every invocation's [`Context::deadline`](nubes_core::Context::deadline);
    /// a handler still running shortly before it is cancelled and reported
    /// failed (events are retried, HTTP requests get a JSON `504`).
    pub timeout: Duration,
    /// How long a client may take to send a request's headers
    /// (`NUBES_HEADER_READ_TIMEOUT_MS`, default 30000; 0 disables it).
    pub header_read_timeout: Duration,
    /// The longest pause in the arrival of a request body before the request
    /// is answered `408` (`NUBES_BODY_READ_TIMEOUT_MS`, default 30000; 0 disables it).
    pub body_read_timeout: Duration,
    /// How long in-flight work may take to finish after Ctrl-C / SIGTERM
    /// (`NUBES_SHUTDOWN_GRACE_MS`, default 10000).
    pub shutdown_grace: Duration,
    /// Whether schedules fire on their cron (`NUBES_LOCAL_SCHEDULES`, default true;
    /// `POST /_nubes/schedules/{name}` works either way).
    pub run_schedules: bool,
    /// Whether changes made to the storage folder by other programs fire events
    /// (`NUBES_LOCAL_WATCH`, default true).
    pub watch_storage: bool,
    /// Host names, besides `localhost` and the bound addresses, under which
    /// `/_nubes/` answers (`NUBES_ALLOWED_HOSTS`, comma-separated, empty by
    /// default; `.example.test` allows that domain and its subdomains, `*`
    /// any host). Other hosts are refused to stop DNS-rebinding pages.
    pub allowed_hosts: Vec<String>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 3000,
            data_dir: PathBuf::from(".nubes"),
            retry_delay: Duration::from_millis(1000),
            max_attempts: 5,
            max_body_bytes: ServerSettings::DEFAULT_MAX_BODY_BYTES,
            timeout: Duration::from_secs(300),
            header_read_timeout: nubes_serve::ServeConfig::DEFAULT.header_read_timeout,
            body_read_timeout: nubes_serve::ServeConfig::DEFAULT.body_read_timeout,
            shutdown_grace: Duration::from_secs(10),
            run_schedules: true,
            watch_storage: true,
            allowed_hosts: Vec::new(),
        }
    }
}

impl LocalConfig {
    /// Reads the settings from the environment; a malformed value is a
    /// [`Config`](nubes_core::ErrorKind::Config) error naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let d = LocalConfig::default();
        let lookup = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let host = match lookup("NUBES_HOST") {
            Some(h) if h.trim() == "localhost" => d.host,
            Some(h) => parse("NUBES_HOST", &h, "an IP address such as 127.0.0.1")?,
            None => d.host,
        };
        let max_attempts: u32 = read(
            &lookup,
            "NUBES_LOCAL_MAX_ATTEMPTS",
            d.max_attempts,
            "a positive integer",
        )?;
        if max_attempts == 0 {
            return Err(Error::config("NUBES_LOCAL_MAX_ATTEMPTS must be at least 1"));
        }
        let server =
            ServerSettings::from_lookup(&lookup, ServerSettings::defaults(d.shutdown_grace))?;
        Ok(LocalConfig {
            host,
            port: read(&lookup, "PORT", d.port, "a port number (0-65535)")?,
            data_dir: lookup("NUBES_LOCAL_DIR")
                .map(PathBuf::from)
                .unwrap_or(d.data_dir),
            retry_delay: Duration::from_millis(read(
                &lookup,
                "NUBES_LOCAL_RETRY_DELAY_MS",
                1000,
                "milliseconds",
            )?),
            max_attempts,
            timeout: read_millis(&lookup, "NUBES_LOCAL_TIMEOUT_MS", d.timeout)?,
            max_body_bytes: server.max_body_bytes,
            header_read_timeout: server.header_read_timeout,
            body_read_timeout: server.body_read_timeout,
            shutdown_grace: server.shutdown_grace,
            run_schedules: read_flag(&lookup, "NUBES_LOCAL_SCHEDULES", d.run_schedules)?,
            watch_storage: read_flag(&lookup, "NUBES_LOCAL_WATCH", d.watch_storage)?,
            allowed_hosts: match lookup("NUBES_ALLOWED_HOSTS") {
                Some(list) => crate::allowed_hosts::parse(&list)?,
                None => d.allowed_hosts,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<LocalConfig, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LocalConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_unset() {
        let c = from(&[]).unwrap();
        assert_eq!(c.port, 3000);
        assert_eq!(c.max_attempts, 5);
        assert_eq!(c.retry_delay, Duration::from_secs(1));
        assert_eq!(c.host.to_string(), "127.0.0.1");
        assert_eq!(c.timeout, Duration::from_secs(300));
        assert_eq!(c.header_read_timeout, Duration::from_secs(30));
        assert_eq!(c.body_read_timeout, Duration::from_secs(30));
    }

    #[test]
    fn values_are_read() {
        let c = from(&[
            ("PORT", "8080"),
            ("NUBES_HOST", "0.0.0.0"),
            ("NUBES_LOCAL_RETRY_DELAY_MS", "5"),
            ("NUBES_LOCAL_TIMEOUT_MS", "1500"),
            ("NUBES_HEADER_READ_TIMEOUT_MS", "0"),
            ("NUBES_BODY_READ_TIMEOUT_MS", "250"),
            ("NUBES_ALLOWED_HOSTS", "myapp.test, .tunnel.example"),
        ])
        .unwrap();
        assert_eq!(c.allowed_hosts, ["myapp.test", ".tunnel.example"]);
        assert_eq!(c.timeout, Duration::from_millis(1500));
        assert!(c.header_read_timeout.is_zero());
        assert_eq!(c.body_read_timeout, Duration::from_millis(250));
        assert_eq!(c.port, 8080);
        assert_eq!(c.host.to_string(), "0.0.0.0");
        assert_eq!(c.retry_delay, Duration::from_millis(5));
    }

    #[test]
    fn blanks_mean_default_and_flags_are_forgiving() {
        let c = from(&[
            ("NUBES_HOST", " "),
            ("NUBES_LOCAL_DIR", ""),
            ("NUBES_LOCAL_WATCH", "0"),
            ("NUBES_LOCAL_SCHEDULES", "Yes"),
        ])
        .unwrap();
        assert_eq!(c.host.to_string(), "127.0.0.1");
        assert_eq!(c.data_dir, PathBuf::from(".nubes"));
        assert!(!c.watch_storage);
        assert!(c.run_schedules);
        assert!(from(&[("NUBES_LOCAL_WATCH", "maybe")]).is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = from(&[("PORT", "eighty")]).unwrap_err();
        assert!(err.to_string().contains("PORT=`eighty`"), "{err}");
        assert!(from(&[("NUBES_LOCAL_MAX_ATTEMPTS", "0")]).is_err());
        assert!(from(&[("NUBES_HOST", "my host")]).is_err());
        assert!(from(&[("NUBES_ALLOWED_HOSTS", "http://myapp.test")]).is_err());
    }
}
