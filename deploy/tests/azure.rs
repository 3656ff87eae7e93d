//! The generated `host.json`, `function.json` and `local.settings.json`,
//! validated against SchemaStore's JSON Schemas for them (vendored in
//! `tests/schemas/`, see its README), checked field by field against the
//! Azure Functions documentation, and compared with the documentation's own
//! examples (`fixtures/azure/config/`).

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use nubes_core::{AppDescription, TriggerDescription, TriggerKind};
use nubes_deploy::azure::{
    self as manifest, AuthLevel, ManifestOptions, QueueService, StorageSource,
};
use serde_json::{Value, json};

fn echo_description() -> AppDescription {
    let t = |kind, name: &str, schedule: Option<&str>| TriggerDescription {
        kind,
        name: name.to_owned(),
        schedule: schedule.map(str::to_owned),
    };
    AppDescription {
        resources: Vec::new(),
        http: true,
        triggers: vec![
            t(TriggerKind::Queue, "orders", None),
            t(TriggerKind::Storage, "uploads", None),
            t(TriggerKind::Schedule, "nightly", Some("0 3 * * *")),
        ],
    }
}

fn config_fixture(name: &str) -> Value {
    nubes_test_support::fixtures::json(&format!("azure/config/{name}"))
}

fn file<'a>(files: &'a [manifest::ManifestFile], path: &str) -> &'a Value {
    &files
        .iter()
        .find(|f| f.path.to_string_lossy() == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

/// Every key of `documented` exists in `ours` with a value of the same JSON
/// type (recursively for objects): our file has the documented shape.
fn has_documented_shape(ours: &Value, documented: &Value, at: &str) {
    match (ours, documented) {
        (Value::Object(o), Value::Object(d)) => {
            for (key, value) in d {
                let next = format!("{at}.{key}");
                let ours = o.get(key).unwrap_or_else(|| panic!("missing {next}"));
                has_documented_shape(ours, value, &next);
            }
        }
        (o, d) => assert_eq!(
            std::mem::discriminant(o),
            std::mem::discriminant(d),
            "{at}: {o} vs documented {d}"
        ),
    }
}

/// The rules of a `function.json` binding (name, type, direction).
fn check_bindings(function: &Value) {
    let bindings = function["bindings"].as_array().unwrap();
    assert!(!bindings.is_empty());
    let triggers = bindings
        .iter()
        .filter(|b| b["type"].as_str().unwrap().ends_with("Trigger"))
        .count();
    assert_eq!(triggers, 1, "exactly one trigger: {function}");
    for b in bindings {
        let name = b["name"].as_str().unwrap();
        assert!(
            name == "$return"
                || (name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
            "binding names are identifiers: {name}"
        );
        assert!(["in", "out", "inout"].contains(&b["direction"].as_str().unwrap()));
    }
}

#[test]
fn echo_app_manifests() {
    let files = manifest::generate(&echo_description(), &ManifestOptions::default()).unwrap();
    let paths: Vec<_> = files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "host.json",
            "local.settings.json",
            "http/function.json",
            "nubes-queue-orders/function.json",
            "nubes-storage-uploads/function.json",
            "nubes-schedule-nightly/function.json"
        ]
    );

    let host = file(&files, "host.json");
    assert_eq!(host["version"], "2.0");
    assert_eq!(
        host["customHandler"]["description"]["defaultExecutablePath"],
        "handler"
    );
    assert_eq!(host["customHandler"]["enableProxyingHttpRequest"], true);
    assert_eq!(host["extensions"]["http"]["routePrefix"], "");
    // 5 attempts, then `orders-poison`: as SQS and Pub/Sub in the other files.
    assert_eq!(host["extensions"]["queues"]["maxDequeueCount"], 5);
    assert_eq!(
        host["extensionBundle"],
        json!({"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"})
    );
    for documented in [
        "host.custom-handler.basic.json",
        "host.custom-handler.extension-bundle.json",
        "host.custom-handler.proxying-http.json",
    ] {
        has_documented_shape(host, &config_fixture(documented), documented);
    }

    let settings = file(&files, "local.settings.json");
    has_documented_shape(
        settings,
        &config_fixture("local.settings.custom.json"),
        "settings",
    );
    assert_eq!(settings["Values"]["FUNCTIONS_WORKER_RUNTIME"], "Custom");
    assert_eq!(settings["IsEncrypted"], false);

    let http = file(&files, "http/function.json");
    check_bindings(http);
    assert_eq!(http["bindings"][0]["type"], "httpTrigger");
    assert_eq!(http["bindings"][0]["route"], "{*path}");
    assert_eq!(http["bindings"][0]["authLevel"], "function");
    assert_eq!(
        http["bindings"][1],
        json!({"type": "http", "direction": "out", "name": "res"})
    );
    let docs_http = config_fixture("function.httpTrigger-queue-output.json");
    has_documented_shape(
        &http["bindings"][0],
        &docs_http["bindings"][0],
        "httpTrigger",
    );
    has_documented_shape(&http["bindings"][1], &docs_http["bindings"][1], "http out");

    let queue = file(&files, "nubes-queue-orders/function.json");
    check_bindings(queue);
    assert_eq!(
        queue["bindings"][0],
        json!({"type": "queueTrigger", "direction": "in", "name": "messageBase64",
            "queueName": "orders", "connection": "AzureWebJobsStorage", "dataType": "binary"})
    );
    for documented in [
        "function.queueTrigger.json",
        "function.queueTrigger-multi-output.json",
    ] {
        has_documented_shape(
            &queue["bindings"][0],
            &config_fixture(documented)["bindings"][0],
            documented,
        );
    }

    let blob = file(&files, "nubes-storage-uploads/function.json");
    check_bindings(blob);
    assert_eq!(blob["bindings"][0]["type"], "blobTrigger");
    assert_eq!(blob["bindings"][0]["path"], "uploads/{name}");
    has_documented_shape(
        &blob["bindings"][0],
        &config_fixture("function.blobTrigger.json")["bindings"][0],
        "blobTrigger",
    );

    let timer = file(&files, "nubes-schedule-nightly/function.json");
    check_bindings(timer);
    assert_eq!(
        timer["bindings"][0],
        json!({"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "0 0 3 * * *"})
    );
}

#[test]
fn options_change_the_bindings() {
    let mut options = ManifestOptions::default();
    options.executable = "app".into();
    options.auth_level = AuthLevel::Anonymous;
    options.queue_service = QueueService::ServiceBus;
    options.storage_source = StorageSource::BlobEventGrid;
    options.http_function = "web".into();
    let files = manifest::generate(&echo_description(), &options).unwrap();
    assert_eq!(
        file(&files, "host.json")["customHandler"]["description"]["defaultExecutablePath"],
        "app"
    );
    assert_eq!(
        file(&files, "web/function.json")["bindings"][0]["authLevel"],
        "anonymous"
    );
    let queue = &file(&files, "nubes-queue-orders/function.json")["bindings"][0];
    assert_eq!(queue["type"], "serviceBusTrigger");
    // Service Bus counts deliveries on the queue itself, not in host.json.
    assert!(
        file(&files, "host.json")["extensions"]
            .get("queues")
            .is_none()
    );
    assert_eq!(queue["connection"], "ServiceBusConnection");
    assert_eq!(
        file(&files, "local.settings.json")["Values"]["ServiceBusConnection"],
        ""
    );
    assert_eq!(
        file(&files, "nubes-storage-uploads/function.json")["bindings"][0]["source"],
        "EventGrid"
    );

    options.storage_source = StorageSource::EventGrid;
    let files = manifest::generate(&echo_description(), &options).unwrap();
    assert_eq!(
        file(&files, "nubes-storage-uploads/function.json"),
        &json!({"bindings": [{"type": "eventGridTrigger", "direction": "in", "name": "event"}]})
    );
}

#[test]
fn event_only_apps_have_no_http_settings() {
    let mut d = echo_description();
    d.http = false;
    let files = manifest::generate(&d, &ManifestOptions::default()).unwrap();
    let host = file(&files, "host.json");
    assert!(
        host["customHandler"]
            .get("enableProxyingHttpRequest")
            .is_none()
    );
    assert_eq!(
        host["extensions"],
        json!({"queues": {"maxDequeueCount": 5}}),
        "no HTTP settings; the queues' poison count stays"
    );
    assert!(files.iter().all(|f| !f.path.starts_with("http")));
    d.triggers.retain(|t| t.kind != TriggerKind::Queue);
    let files = manifest::generate(&d, &ManifestOptions::default()).unwrap();
    assert!(file(&files, "host.json").get("extensions").is_none());
}

#[test]
fn unusable_names_are_config_errors() {
    let queue = |name: &str| TriggerDescription {
        kind: TriggerKind::Queue,
        name: name.into(),
        schedule: None,
    };
    let long = "q".repeat(120);
    for (names, http, mentioned) in [
        (vec!["a.b"], false, "a.b"),
        (vec![long.as_str()], false, long.as_str()),
        (vec!["Jobs", "jobs"], false, "nubes-queue-jobs"),
    ] {
        let d = AppDescription {
            resources: Vec::new(),
            http,
            triggers: names.iter().map(|n| queue(n)).collect(),
        };
        let err = manifest::generate(&d, &ManifestOptions::default()).unwrap_err();
        assert_eq!(err.kind(), nubes_core::ErrorKind::Config, "{names:?}");
        assert!(err.to_string().contains(mentioned), "{err}");
    }
    // An HTTP function in the event functions' reserved namespace.
    let mut options = ManifestOptions::default();
    options.http_function = "Nubes-web".into();
    let err = manifest::generate(&echo_description(), &options).unwrap_err();
    assert!(err.to_string().contains("nubes-"), "{err}");
}

/// A trigger may share its name with the HTTP function or an app route, or
/// start with a digit: event function names are `nubes-{kind}-{trigger}`,
/// in a namespace of their own (issue #23).
#[test]
fn event_functions_live_in_their_own_namespace() {
    let t = |kind, name: &str, schedule: Option<&str>| TriggerDescription {
        kind,
        name: name.to_owned(),
        schedule: schedule.map(str::to_owned),
    };
    let d = AppDescription {
        resources: Vec::new(),
        http: true,
        triggers: vec![
            t(TriggerKind::Queue, "http", None),
            t(TriggerKind::Queue, "jobs", None),
            t(TriggerKind::Schedule, "nightly", Some("0 3 * * *")),
            t(TriggerKind::Storage, "9lives", None),
        ],
    };
    let files = manifest::generate(&d, &ManifestOptions::default()).unwrap();
    let paths: Vec<_> = files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        paths[2..],
        [
            "http/function.json",
            "nubes-queue-http/function.json",
            "nubes-queue-jobs/function.json",
            "nubes-schedule-nightly/function.json",
            "nubes-storage-9lives/function.json",
        ]
    );
    // The queue, container and schedule keep the trigger's own name.
    assert_eq!(
        file(&files, "nubes-queue-jobs/function.json")["bindings"][0]["queueName"],
        "jobs"
    );
    assert_eq!(
        file(&files, "nubes-storage-9lives/function.json")["bindings"][0]["path"],
        "9lives/{name}"
    );
}

#[test]
fn files_are_written_as_a_function_app_folder() {
    let dir = tempfile::tempdir().unwrap();
    let files = manifest::generate(&echo_description(), &ManifestOptions::default()).unwrap();
    manifest::write(&files, dir.path()).unwrap();
    for f in &files {
        let text = std::fs::read_to_string(dir.path().join(&f.path)).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), f.contents);
    }
    assert!(dir.path().join("nubes-queue-orders").is_dir());
}

fn schema(name: &str) -> Value {
    let path = format!("{}/tests/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// SchemaStore's schemas lag the documentation in two places (see
/// `tests/schemas/README.md`); the patch adds exactly those.
fn patched(name: &str) -> Value {
    let mut schema = schema(name);
    match name {
        "host.json" => {
            schema["definitions"]["version-2"]["properties"]["customHandler"]["properties"]["enableProxyingHttpRequest"] =
                json!({"type": "boolean"});
        }
        "local.settings.json" => {
            let runtime = &mut schema["properties"]["Values"]["properties"]["FUNCTIONS_WORKER_RUNTIME"]
                ["enum"];
            runtime.as_array_mut().unwrap().push(json!("Custom"));
        }
        _ => {}
    }
    schema
}

fn errors(schema: &Value, document: &Value) -> Vec<String> {
    let validator = jsonschema::draft4::new(schema).unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn schema_for(path: &str) -> &'static str {
    if path.ends_with("host.json") {
        "host.json"
    } else if path.ends_with("local.settings.json") {
        "local.settings.json"
    } else {
        "function.json"
    }
}

#[test]
fn generated_files_are_valid_against_the_schemas() {
    let mut variants = vec![ManifestOptions::default()];
    for (queue, storage, auth) in [
        (
            QueueService::ServiceBus,
            StorageSource::BlobEventGrid,
            AuthLevel::Anonymous,
        ),
        (
            QueueService::StorageQueue,
            StorageSource::EventGrid,
            AuthLevel::Admin,
        ),
    ] {
        let mut o = ManifestOptions::default();
        o.queue_service = queue;
        o.storage_source = storage;
        o.auth_level = auth;
        variants.push(o);
    }
    let mut event_only = echo_description();
    event_only.http = false;
    for options in &variants {
        for description in [echo_description(), event_only.clone()] {
            for f in manifest::generate(&description, options).unwrap() {
                let path = f.path.to_string_lossy().into_owned();
                let errs = errors(&patched(schema_for(&path)), &f.contents);
                assert!(errs.is_empty(), "{path}: {errs:#?}\n{:#}", f.contents);
            }
        }
    }
}

#[test]
fn the_schema_patches_cover_only_documented_gaps() {
    // Microsoft's documented examples fail the unpatched schemas exactly where
    // ours would, and pass the patched ones.
    for (fixture, schema_name) in [
        ("host.custom-handler.proxying-http.json", "host.json"),
        ("local.settings.custom.json", "local.settings.json"),
    ] {
        let documented = config_fixture(fixture);
        assert_eq!(
            errors(&schema(schema_name), &documented).len(),
            1,
            "{fixture}"
        );
        assert!(
            errors(&patched(schema_name), &documented).is_empty(),
            "{fixture}"
        );
    }
    // Every other documented example passes the schemas as published.
    for fixture in [
        "host.custom-handler.basic.json",
        "host.custom-handler.extension-bundle.json",
        "host.custom-handler.forwarding-http.json",
        "host.custom-handler.retry.json",
        "function.blobTrigger.json",
        "function.httpTrigger-queue-output.json",
        "function.queueTrigger.json",
        "function.queueTrigger-multi-output.json",
    ] {
        let errs = errors(&schema(schema_for(fixture)), &config_fixture(fixture));
        assert!(errs.is_empty(), "{fixture}: {errs:?}");
    }
    // And the schemas do reject what they should.
    let bad = json!({"bindings": [{"type": "queueTrigger", "direction": "sideways", "name": "m"}]});
    assert!(!errors(&schema("function.json"), &bad).is_empty());
}
