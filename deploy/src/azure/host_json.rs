//! `host.json`: the custom handler's executable, HTTP proxying, the
//! extension bundle, the function timeout, the Storage queues' poison count.

use nubes_core::{AppDescription, TriggerKind};
use serde_json::{Map, Value, json};

use super::contract::FUNCTION_TIMEOUT;
use super::{ManifestOptions, QueueService};

/// The extension bundle every generated app uses: the 4.x bundle has the
/// queue, blob, Service Bus, Event Grid and timer extensions.
pub(super) const EXTENSION_BUNDLE: &str = "Microsoft.Azure.Functions.ExtensionBundle";
pub(super) const EXTENSION_BUNDLE_VERSION: &str = "[4.*, 5.0.0)";

pub(super) fn host_json(app: &AppDescription, options: &ManifestOptions) -> Value {
    let mut custom_handler = json!({
        "description": {
            "defaultExecutablePath": options.executable,
            "workingDirectory": "",
            "arguments": [],
        },
    });
    let mut host = json!({
        "version": "2.0",
        // Stated rather than left to the plan's default, so it is the value the
        // adapter assumes (`NUBES_AZURE_FUNCTION_TIMEOUT_MS` must match a change).
        "functionTimeout": function_timeout(FUNCTION_TIMEOUT),
        "customHandler": null,
        "extensionBundle": {
            "id": EXTENSION_BUNDLE,
            "version": EXTENSION_BUNDLE_VERSION,
        },
    });
    let mut extensions = Map::new();
    if app.http {
        // The original request reaches the app's routes unchanged, at its
        // original path (no `/api` prefix).
        custom_handler["enableProxyingHttpRequest"] = Value::Bool(true);
        extensions.insert("http".into(), json!({ "routePrefix": "" }));
    }
    let storage_queues = options.queue_service == QueueService::StorageQueue
        && app.triggers.iter().any(|t| t.kind == TriggerKind::Queue);
    if storage_queues {
        // Stated rather than left to the default (also 5), so every platform's
        // "attempts, then dead-lettered" is visibly the same: the host then
        // moves the message to `<queue>-poison`.
        extensions.insert(
            "queues".into(),
            json!({ "maxDequeueCount": options.max_dequeue_count }),
        );
    }
    if !extensions.is_empty() {
        host["extensions"] = Value::Object(extensions);
    }
    host["customHandler"] = custom_handler;
    host
}

/// `hh:mm:ss`, the `functionTimeout` format.
fn function_timeout(timeout: std::time::Duration) -> String {
    let s = timeout.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_is_the_one_the_adapter_assumes() {
        assert_eq!(function_timeout(FUNCTION_TIMEOUT), "00:05:00");
        assert_eq!(
            function_timeout(std::time::Duration::from_secs(2 * 3600 + 61)),
            "02:01:01"
        );
    }
}
