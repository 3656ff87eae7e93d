//! Azure Functions manifests generated from the app's description (served by
//! the `nubes-azure` custom handler): `host.json`, one
//! `<function>/function.json` per function, and `local.settings.json`.
//!
//! The code is the single source of truth: the CLI (and tests) call
//! [`generate`] with [`App::describe`](nubes_core::App::describe) and
//! [`write()`] the files next to the executable.
//!
//! ```
//! use nubes_deploy::azure::{self as manifest, ManifestOptions};
//! use nubes_core::{App, BoxError, Context, QueueMessage};
//!
//! async fn h(_: QueueMessage, _: Context) -> Result<(), BoxError> { Ok(()) }
//!
//! let app = App::new().on_queue("orders", h);
//! let files = manifest::generate(&app.describe(), &ManifestOptions::default()).unwrap();
//! let paths: Vec<_> = files.iter().map(|f| f.path.to_string_lossy().into_owned()).collect();
//! assert_eq!(paths, ["host.json", "local.settings.json", "nubes-queue-orders/function.json"]);
//! assert_eq!(files[2].contents["bindings"][0]["type"], "queueTrigger");
//! ```

mod contract;
mod function_json;
mod host_json;
mod ncrontab;

use std::path::{Path, PathBuf};

use nubes_core::{AppDescription, Error, TriggerKind};
use serde_json::{Value, json};

use crate::schedule;

pub use contract::{DEFAULT_HTTP_FUNCTION, FUNCTION_TIMEOUT, RESERVED_PREFIX, function_name};
pub use ncrontab::to_ncrontab;

/// Who may call the HTTP function (`authLevel` of its `httpTrigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthLevel {
    /// No key needed.
    Anonymous,
    /// A function or host key is needed (`?code=` or `x-functions-key`);
    /// Azure's own default.
    #[default]
    Function,
    /// The master key is needed.
    Admin,
}

impl AuthLevel {
    /// The `function.json` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthLevel::Anonymous => "anonymous",
            AuthLevel::Function => "function",
            AuthLevel::Admin => "admin",
        }
    }
}

/// Which service feeds queue triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueueService {
    /// Azure Storage queues (`queueTrigger`).
    #[default]
    StorageQueue,
    /// Service Bus queues (`serviceBusTrigger`).
    ServiceBus,
}

/// How storage triggers learn about new blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StorageSource {
    /// `blobTrigger` polling the container (the host sends the blob's
    /// content along, base64-encoded).
    #[default]
    BlobPolling,
    /// `blobTrigger` with `source: EventGrid`: faster and cheaper, needs an
    /// Event Grid subscription on the storage account.
    BlobEventGrid,
    /// `eventGridTrigger`: Blob Storage events only, creations and deletions,
    /// without the content; needs an Event Grid subscription.
    EventGrid,
}

/// Choices the description alone does not settle.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ManifestOptions {
    /// `customHandler.description.defaultExecutablePath`: the executable, relative
    /// to the function app root (default `handler`).
    pub executable: String,
    /// The HTTP function's name (default `http`, as the adapter expects unless
    /// `NUBES_AZURE_HTTP_FUNCTION` says otherwise).
    pub http_function: String,
    /// `authLevel` of the HTTP function (default [`AuthLevel::Function`]).
    pub auth_level: AuthLevel,
    /// What feeds queue triggers (default Storage queues).
    pub queue_service: QueueService,
    /// App setting holding the queue connection (default `AzureWebJobsStorage`,
    /// or `ServiceBusConnection` for Service Bus).
    pub queue_connection: Option<String>,
    /// How storage triggers are fed (default blob polling).
    pub storage_source: StorageSource,
    /// App setting holding the blob storage connection (default `AzureWebJobsStorage`).
    pub storage_connection: String,
    /// Deliveries of a Storage queue message before the host moves it to the
    /// `<queue>-poison` queue (`host.json` `extensions.queues.maxDequeueCount`;
    /// default 5, as SQS's `maxReceiveCount` and Pub/Sub's maximum delivery
    /// attempts in the other platforms' files). Service Bus queues count with
    /// their own `MaxDeliveryCount`, set where the queue is created.
    pub max_dequeue_count: u32,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions {
            executable: "handler".to_owned(),
            http_function: DEFAULT_HTTP_FUNCTION.to_owned(),
            auth_level: AuthLevel::default(),
            queue_service: QueueService::default(),
            queue_connection: None,
            storage_source: StorageSource::default(),
            storage_connection: "AzureWebJobsStorage".to_owned(),
            max_dequeue_count: 5,
        }
    }
}

impl ManifestOptions {
    fn queue_connection(&self) -> &str {
        match (&self.queue_connection, self.queue_service) {
            (Some(name), _) => name,
            (None, QueueService::ServiceBus) => "ServiceBusConnection",
            (None, _) => "AzureWebJobsStorage",
        }
    }
}

/// One generated file: a path relative to the function app root, and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestFile {
    /// Where it goes, relative to the function app root.
    pub path: PathBuf,
    /// What it contains.
    pub contents: Value,
}

/// The manifests of an app: `host.json`, `local.settings.json`, then one
/// `<function>/function.json` per function (the HTTP function first, then
/// one per event trigger, named by [`function_name`]).
///
/// Fails with a [`Config`](nubes_core::ErrorKind::Config) error when a
/// function name cannot be an Azure function name (a trigger name with
/// characters other than letters, digits, `-` and `_`, or too long), two
/// names differ only in case (Azure function names are case-insensitive), or
/// the HTTP function's name starts with [`RESERVED_PREFIX`].
pub fn generate(
    app: &AppDescription,
    options: &ManifestOptions,
) -> Result<Vec<ManifestFile>, Error> {
    let mut names: Vec<String> = Vec::new();
    if app.http {
        if options
            .http_function
            .to_ascii_lowercase()
            .starts_with(RESERVED_PREFIX)
        {
            return Err(Error::config(format!(
                "the HTTP function name `{}` starts with `{RESERVED_PREFIX}`, which event \
                 functions use: choose another",
                options.http_function
            )));
        }
        names.push(options.http_function.clone());
    }
    names.extend(app.triggers.iter().map(|t| function_name(t.kind, &t.name)));
    for (i, name) in names.iter().enumerate() {
        check_function_name(name)?;
        if names[..i]
            .iter()
            .any(|other| other.eq_ignore_ascii_case(name))
        {
            return Err(Error::config(format!(
                "two functions would be named `{name}` (Azure function names ignore case): \
                 rename a trigger"
            )));
        }
    }
    let mut files = vec![
        ManifestFile {
            path: PathBuf::from("host.json"),
            contents: host_json::host_json(app, options),
        },
        ManifestFile {
            path: PathBuf::from("local.settings.json"),
            contents: local_settings(options),
        },
    ];
    if app.http {
        files.push(function_file(
            &options.http_function,
            function_json::http(options),
        ));
    }
    for trigger in &app.triggers {
        let contents = match trigger.kind {
            TriggerKind::Queue => function_json::queue(&trigger.name, options),
            TriggerKind::Storage => function_json::storage(&trigger.name, options),
            TriggerKind::Schedule => {
                function_json::timer(&ncrontab::from_schedule(&schedule::cron(trigger)?))
            }
            other => {
                return Err(Error::config(format!(
                    "trigger `{}` of kind {other} has no Azure binding",
                    trigger.name
                )));
            }
        };
        files.push(function_file(
            &function_name(trigger.kind, &trigger.name),
            contents,
        ));
    }
    Ok(files)
}

/// Writes `files` under `dir` (creating function folders), pretty-printed.
pub fn write(files: &[ManifestFile], dir: &Path) -> Result<(), Error> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::platform(format!("creating {}: {e}", parent.display())).with_source(e)
            })?;
        }
        let mut text = serde_json::to_string_pretty(&file.contents)
            .map_err(|e| Error::platform(format!("rendering {}: {e}", file.path.display())))?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| {
            Error::platform(format!("writing {}: {e}", path.display())).with_source(e)
        })?;
    }
    Ok(())
}

fn function_file(name: &str, contents: Value) -> ManifestFile {
    ManifestFile {
        path: Path::new(name).join("function.json"),
        contents,
    }
}

fn local_settings(options: &ManifestOptions) -> Value {
    let mut values = json!({
        "FUNCTIONS_WORKER_RUNTIME": "Custom",
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    });
    let queue = options.queue_connection();
    if values.get(queue).is_none() {
        values[queue] = Value::String(String::new());
    }
    if values.get(options.storage_connection.as_str()).is_none() {
        values[options.storage_connection.as_str()] = Value::String(String::new());
    }
    json!({ "IsEncrypted": false, "Values": values })
}

/// Azure function names: a letter, then letters, digits, `-` or `_`, at most 127.
fn check_function_name(name: &str) -> Result<(), Error> {
    let ok = name.len() <= 127
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "`{name}` cannot be an Azure function name (a letter, then letters, digits, `-` \
             or `_`, at most 127): rename the trigger"
        )))
    }
}
