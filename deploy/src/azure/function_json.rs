//! One `function.json` per function. Binding names are the ones the
//! adapter's decoders look for (see `contract`).

use serde_json::{Value, json};

use super::contract as bindings;
use super::{ManifestOptions, QueueService, StorageSource};

/// The HTTP function: every method, every path (`{*path}`), to the app's routes.
pub(super) fn http(options: &ManifestOptions) -> Value {
    json!({
        "bindings": [
            {
                "type": "httpTrigger",
                "direction": "in",
                "name": bindings::HTTP_IN,
                "authLevel": options.auth_level.as_str(),
                "methods": ["get", "post", "put", "patch", "delete", "head", "options"],
                "route": "{*path}",
            },
            { "type": "http", "direction": "out", "name": bindings::HTTP_OUT },
        ]
    })
}

/// A queue function: the queue is named after the trigger. `dataType: binary`
/// makes the host send the message bytes as base64, so binary messages
/// arrive intact.
pub(super) fn queue(name: &str, options: &ManifestOptions) -> Value {
    let kind = match options.queue_service {
        QueueService::ServiceBus => "serviceBusTrigger",
        _ => "queueTrigger",
    };
    json!({
        "bindings": [{
            "type": kind,
            "direction": "in",
            "name": bindings::MESSAGE,
            "queueName": name,
            "connection": options.queue_connection(),
            "dataType": "binary",
        }]
    })
}

/// A storage function: the container is named after the trigger.
pub(super) fn storage(container: &str, options: &ManifestOptions) -> Value {
    let mut binding = match options.storage_source {
        StorageSource::EventGrid => json!({
            "type": "eventGridTrigger",
            "direction": "in",
            "name": bindings::EVENT,
        }),
        _ => json!({
            "type": "blobTrigger",
            "direction": "in",
            "name": bindings::BLOB,
            "path": format!("{container}/{{name}}"),
            "connection": options.storage_connection,
            "dataType": "binary",
        }),
    };
    if options.storage_source == StorageSource::BlobEventGrid {
        binding["source"] = Value::String("EventGrid".to_owned());
    }
    json!({ "bindings": [binding] })
}

/// A timer function on a 6-field NCRONTAB schedule.
pub(super) fn timer(ncrontab: &str) -> Value {
    json!({
        "bindings": [{
            "type": "timerTrigger",
            "direction": "in",
            "name": bindings::TIMER,
            "schedule": ncrontab,
        }]
    })
}
