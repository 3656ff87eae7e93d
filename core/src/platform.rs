//! Which platform an invocation came from, and which kind of trigger.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The platform that delivered an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Platform {
    /// The embedded local runner.
    Local,
    /// AWS Lambda.
    Aws,
    /// Google Cloud Run / Cloud Functions (2nd gen).
    Gcp,
    /// Azure Functions (custom handler).
    Azure,
}

impl Platform {
    /// Lower-case name: `local`, `aws`, `gcp` or `azure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Local => "local",
            Platform::Aws => "aws",
            Platform::Gcp => "gcp",
            Platform::Azure => "azure",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(Platform::Local),
            "aws" | "lambda" => Ok(Platform::Aws),
            "gcp" | "google" | "cloudrun" => Ok(Platform::Gcp),
            "azure" => Ok(Platform::Azure),
            other => Err(Error::config(format!(
                "unknown platform `{other}`: expected one of local, aws, gcp, azure"
            ))),
        }
    }
}

/// The kind of a trigger: what sort of event reaches its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TriggerKind {
    /// HTTP requests served by the app's tower service.
    Http,
    /// Messages from a queue or topic ([`QueueMessage`](crate::QueueMessage)).
    Queue,
    /// Object notifications from a bucket ([`StorageEvent`](crate::StorageEvent)).
    Storage,
    /// Timer firings ([`ScheduledEvent`](crate::ScheduledEvent)).
    Schedule,
}

impl TriggerKind {
    /// Lower-case name: `http`, `queue`, `storage` or `schedule`.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Http => "http",
            TriggerKind::Queue => "queue",
            TriggerKind::Storage => "storage",
            TriggerKind::Schedule => "schedule",
        }
    }
}

impl fmt::Display for TriggerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_platform_names() {
        assert_eq!("AWS".parse::<Platform>().unwrap(), Platform::Aws);
        assert_eq!(" gcp ".parse::<Platform>().unwrap(), Platform::Gcp);
        let err = "heroku".parse::<Platform>().unwrap_err();
        assert!(err.to_string().contains("heroku"));
    }
}
