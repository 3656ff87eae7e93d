//! `host.json`: the custom handler's executable, HTTP proxying, the
//! extension bundle.

use nubes_core::AppDescription;
use serde_json::{Value, json};

use super::ManifestOptions;

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
        "customHandler": null,
        "extensionBundle": {
            "id": EXTENSION_BUNDLE,
            "version": EXTENSION_BUNDLE_VERSION,
        },
    });
    if app.http {
        // The original request reaches the app's routes unchanged, at its
        // original path (no `/api` prefix).
        custom_handler["enableProxyingHttpRequest"] = Value::Bool(true);
        host["extensions"] = json!({ "http": { "routePrefix": "" } });
    }
    host["customHandler"] = custom_handler;
    host
}
