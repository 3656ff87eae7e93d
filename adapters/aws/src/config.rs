//! Adapter settings, read from the environment Lambda provides without panicking.

use std::time::Duration;

use http::Uri;
use nubes_core::Error;
use nubes_core::raw::env::read;

/// Settings of the Lambda adapter. [`AwsConfig::from_env`] reads them from the
/// environment; tests build one with [`AwsConfig::default`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AwsConfig {
    /// Base URI of the Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`, either
    /// `host:port` as AWS gives it or `http://host:port/path` as local emulators do).
    pub runtime_api: Uri,
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub function_name: String,
    /// Prefix the generated template puts in front of every resource name
    /// (`NUBES_AWS_NAME_PREFIX`, e.g. `mystack-`): stripped from queue, topic,
    /// bucket and rule names to find the trigger.
    pub name_prefix: String,
    /// How long before the platform deadline nubes gives up on unfinished work
    /// and reports it failed, so the reply still reaches Lambda
    /// (`NUBES_AWS_DEADLINE_MARGIN_MS`, default 500).
    pub deadline_margin: Duration,
    /// How many messages of a standard SQS batch run at once
    /// (`NUBES_AWS_SQS_CONCURRENCY`, default 10).
    pub sqs_concurrency: usize,
    /// Largest HTTP response body returned to Lambda (`NUBES_MAX_BODY_BYTES`,
    /// default 6 MiB, Lambda's payload limit).
    pub max_body_bytes: usize,
    /// CloudWatch namespace of the metrics (`NUBES_METRICS_NAMESPACE`,
    /// default `nubes`).
    pub metrics_namespace: String,
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            runtime_api: Uri::from_static("http://127.0.0.1:9001"),
            function_name: String::new(),
            name_prefix: String::new(),
            deadline_margin: nubes_core::raw::deadline::DEFAULT_MARGIN,
            sqs_concurrency: 10,
            max_body_bytes: 6 * 1024 * 1024,
            metrics_namespace: "nubes".to_owned(),
        }
    }
}

impl AwsConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    /// A missing `AWS_LAMBDA_RUNTIME_API` or a malformed value is a
    /// [`Config`](nubes_core::ErrorKind::Config) error naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let d = AwsConfig::default();
        let api = lookup("AWS_LAMBDA_RUNTIME_API")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                Error::config(
                    "AWS_LAMBDA_RUNTIME_API is not set: this process is not running inside AWS Lambda \
                     (or a Runtime API emulator such as `cargo lambda watch`)",
                )
            })?;
        let sqs_concurrency: usize = read(
            &lookup,
            "NUBES_AWS_SQS_CONCURRENCY",
            d.sqs_concurrency,
            "a positive integer",
        )?;
        if sqs_concurrency == 0 {
            return Err(Error::config(
                "NUBES_AWS_SQS_CONCURRENCY must be at least 1",
            ));
        }
        Ok(AwsConfig {
            runtime_api: parse_runtime_api(&api)?,
            function_name: lookup("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default(),
            name_prefix: lookup("NUBES_AWS_NAME_PREFIX").unwrap_or_default(),
            deadline_margin: Duration::from_millis(read(
                &lookup,
                "NUBES_AWS_DEADLINE_MARGIN_MS",
                500,
                "milliseconds",
            )?),
            sqs_concurrency,
            max_body_bytes: read(
                &lookup,
                "NUBES_MAX_BODY_BYTES",
                d.max_body_bytes,
                "a byte count",
            )?,
            metrics_namespace: nubes_core::raw::env::text(&lookup, "NUBES_METRICS_NAMESPACE")
                .unwrap_or(d.metrics_namespace),
        })
    }
}

/// Accepts `host:port` (AWS) and `http://host:port/some/path` (emulators).
pub(crate) fn parse_runtime_api(value: &str) -> Result<Uri, Error> {
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let uri: Uri = with_scheme.parse().map_err(|e| {
        Error::config(format!(
            "AWS_LAMBDA_RUNTIME_API=`{value}` is not valid: expected host:port or http://host:port/path ({e})"
        ))
    })?;
    if uri.authority().is_none() || uri.scheme_str() != Some("http") {
        return Err(Error::config(format!(
            "AWS_LAMBDA_RUNTIME_API=`{value}` is not valid: expected host:port or http://host:port/path"
        )));
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<AwsConfig, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AwsConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn runtime_api_accepts_both_forms() {
        let aws = from(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]).unwrap();
        assert_eq!(aws.runtime_api.to_string(), "http://127.0.0.1:9001/");
        let emu = from(&[("AWS_LAMBDA_RUNTIME_API", "http://127.0.0.1:9000/.rt/echo")]).unwrap();
        assert_eq!(emu.runtime_api.path(), "/.rt/echo");
        assert_eq!(emu.runtime_api.port_u16(), Some(9000));
    }

    #[test]
    fn missing_or_bad_values_are_config_errors() {
        let err = from(&[]).unwrap_err();
        assert!(err.to_string().contains("AWS_LAMBDA_RUNTIME_API"), "{err}");
        assert!(from(&[("AWS_LAMBDA_RUNTIME_API", "https://x:1")]).is_err());
        assert!(from(&[("AWS_LAMBDA_RUNTIME_API", "not a uri")]).is_err());
        let err = from(&[
            ("AWS_LAMBDA_RUNTIME_API", "x:1"),
            ("NUBES_AWS_SQS_CONCURRENCY", "0"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("NUBES_AWS_SQS_CONCURRENCY"),
            "{err}"
        );
    }
}
