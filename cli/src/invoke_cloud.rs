//! `nubes invoke --platform aws|gcp|azure`: one event in the platform's own wire
//! format, sent to the app running in that mode (or to a Runtime API emulator).

use nubes_core::TriggerKind;

use crate::args::{EventKind, InvokeArgs, InvokePlatform};
use crate::cargo;
use crate::error::CliError;
use crate::wire;

pub(crate) async fn run(
    args: &InvokeArgs,
    platform: InvokePlatform,
    body: Vec<u8>,
) -> Result<(), CliError> {
    let kind = match args.kind {
        Some(EventKind::Queue) => TriggerKind::Queue,
        Some(EventKind::Storage) => TriggerKind::Storage,
        Some(EventKind::Schedule) => TriggerKind::Schedule,
        None => kind_from_app(&args.trigger, args.package.clone(), platform.feature()).await?,
    };
    if kind == TriggerKind::Storage && args.key.is_none() {
        return Err(CliError::new(format!(
            "`{}` is a storage trigger: say which object with --key KEY",
            args.trigger
        )));
    }
    let event = wire::Event {
        kind,
        trigger: &args.trigger,
        body: &body,
        key: args.key.as_deref(),
        attributes: &args.attributes,
        id: uuid::Uuid::new_v4().to_string(),
        now: nubes_core::chrono::Utc::now()
            .to_rfc3339_opts(nubes_core::chrono::SecondsFormat::Millis, true),
    };
    let request = match platform {
        InvokePlatform::Aws => {
            let function = args.function.as_deref().ok_or_else(|| {
                CliError::new("say which Lambda function to invoke with --function NAME")
                    .hint("cargo-lambda names functions after their binary, e.g. --function echo")
            })?;
            wire::aws(&event, function)
        }
        InvokePlatform::Gcp => wire::gcp(&event),
        _ => wire::azure(&event),
    };
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| platform.default_url().to_owned());
    let full = format!("{}{}", url.trim_end_matches('/'), request.path);
    // A Lambda emulator holds the call until a function takes it: bound the wait.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(args.timeout))
        .build()
        .map_err(|e| CliError::new(format!("HTTP client: {e}")))?;
    let mut http = client.post(&full).body(request.body);
    for (name, value) in &request.headers {
        http = http.header(name, value);
    }
    let response = http.send().await.map_err(|e| {
        CliError::new(format!("cannot reach {url}: {e}")).hint(match platform {
            InvokePlatform::Aws => "start the emulator: cargo lambda watch -A 127.0.0.1 (or pass --url)",
            _ => "start the app in that mode (NUBES_PLATFORM, PORT / FUNCTIONS_CUSTOMHANDLER_PORT), or pass --url",
        })
    })?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| CliError::new(format!("reading the reply: {e}")))?;
    let reply: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    match &reply {
        Some(json) => println!("{}", serde_json::to_string_pretty(json).unwrap_or_default()),
        None if !bytes.is_empty() => println!("{}", String::from_utf8_lossy(&bytes)),
        None => println!("{status}"),
    }
    let failed_ids = reply
        .as_ref()
        .and_then(|r| r["batchItemFailures"].as_array())
        .is_some_and(|f| !f.is_empty());
    let error_type = reply
        .as_ref()
        .and_then(|r| r["errorType"].as_str())
        .map(str::to_owned);
    if !status.is_success() || failed_ids || error_type.is_some() {
        let why = error_type.unwrap_or_else(|| {
            if failed_ids {
                "reported in batchItemFailures".into()
            } else {
                status.to_string()
            }
        });
        return Err(CliError::new(format!("the event was not handled: {why}")));
    }
    Ok(())
}

/// The kind of `trigger`, from the app's own description (builds the package).
async fn kind_from_app(
    trigger: &str,
    package: Option<String>,
    feature: &'static str,
) -> Result<TriggerKind, CliError> {
    let trigger = trigger.to_owned();
    tokio::task::spawn_blocking(move || {
        let (_, description) = cargo::describe_package(package.as_deref(), feature)?;
        description
            .triggers
            .iter()
            .find(|t| t.name == trigger)
            .map(|t| t.kind)
            .ok_or_else(|| {
                let names: Vec<_> = description
                    .triggers
                    .iter()
                    .map(|t| format!("{} ({})", t.name, t.kind))
                    .collect();
                CliError::new(format!("the app has no trigger `{trigger}`"))
                    .hint(format!("its triggers: {}", names.join(", ")))
            })
    })
    .await
    .map_err(|e| CliError::new(format!("describe task failed: {e}")))?
}
