//! `nubes invoke TRIGGER`: send one event to a running app and report its fate.

use nubes_core::{AppDescription, TriggerKind};

use crate::args::{InvokeArgs, InvokePlatform};
use crate::error::CliError;

pub(crate) async fn run(args: &InvokeArgs) -> Result<(), CliError> {
    let body = match (&args.event, &args.body) {
        (Some(path), _) => std::fs::read(path)
            .map_err(|e| CliError::new(format!("reading {}: {e}", path.display())))?,
        (None, Some(text)) => text.clone().into_bytes(),
        (None, None) => Vec::new(),
    };
    match args.platform {
        InvokePlatform::Local => run_local(args, body).await,
        platform => crate::invoke_cloud::run(args, platform, body).await,
    }
}

async fn run_local(args: &InvokeArgs, body: Vec<u8>) -> Result<(), CliError> {
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| InvokePlatform::Local.default_url().to_owned());
    let base = url.trim_end_matches('/');
    let http = reqwest::Client::new();
    let unreachable = |e: reqwest::Error| {
        CliError::new(format!("cannot reach the app at {base}: {e}"))
            .hint("start it with `nubes dev` (or pass --url)")
    };
    let description: AppDescription = http
        .get(format!("{base}/_nubes/triggers"))
        .send()
        .await
        .map_err(unreachable)?
        .json()
        .await
        .map_err(|e| CliError::new(format!("{base} is not a nubes local runner: {e}")))?;
    let Some(trigger) = description.triggers.iter().find(|t| t.name == args.trigger) else {
        let names: Vec<_> = description
            .triggers
            .iter()
            .map(|t| format!("{} ({})", t.name, t.kind))
            .collect();
        return Err(
            CliError::new(format!("the app has no trigger `{}`", args.trigger))
                .hint(format!("its triggers: {}", names.join(", "))),
        );
    };
    let name = &trigger.name;
    let request = match trigger.kind {
        TriggerKind::Queue => {
            let mut req = http
                .post(format!("{base}/_nubes/queues/{name}?wait=true"))
                .body(body);
            for (k, v) in &args.attributes {
                req = req.header(format!("x-nubes-attr-{k}"), v);
            }
            req
        }
        TriggerKind::Storage => {
            let key = args.key.as_deref().ok_or_else(|| {
                CliError::new(format!(
                    "`{name}` is a storage trigger: say which object with --key KEY"
                ))
            })?;
            let key: Vec<String> = key.split('/').map(encode_segment).collect();
            http.put(format!(
                "{base}/_nubes/storage/{name}/{}?wait=true",
                key.join("/")
            ))
            .body(body)
        }
        TriggerKind::Schedule => http.post(format!("{base}/_nubes/schedules/{name}?wait=true")),
        _ => return Err(CliError::new(format!("`{name}` cannot be invoked"))),
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let reply: serde_json::Value = response
        .json()
        .await
        .map_err(|e| CliError::new(format!("unexpected reply from the app: {e}")))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&reply).unwrap_or_default()
    );
    match reply["status"].as_str() {
        Some("handled") => Ok(()),
        Some(other) => Err(CliError::new(format!("the event was not handled: {other}"))),
        None => Err(CliError::new(format!("the app answered {status}"))),
    }
}

/// Percent-encodes one key segment for a URL path.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_segments_are_encoded() {
        assert_eq!(super::encode_segment("a b+c%"), "a%20b%2Bc%25");
    }
}
