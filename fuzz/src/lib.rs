//! Shared set-up of the fuzz targets: each adapter's decoders behind an app
//! whose handlers all succeed, so every input that decodes is dispatched too.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};

async fn queue(_m: QueueMessage, _c: Context) -> Result<(), BoxError> {
    Ok(())
}

async fn storage(_e: StorageEvent, _c: Context) -> Result<(), BoxError> {
    Ok(())
}

async fn schedule(_e: ScheduledEvent, _c: Context) -> Result<(), BoxError> {
    Ok(())
}

/// The trigger names the fixtures in `fixtures/aws` use.
fn aws_app() -> App {
    App::new()
        .http(axum::Router::new().fallback(|| async { "ok" }))
        .on_queue("my-queue", queue)
        .on_queue("SQSQueue", queue)
        .on_queue("TopicSendToMe", queue)
        .on_queue("orders.fifo", queue)
        .on_storage("sourcebucket", storage)
        .on_storage("xxx", storage)
        .on_storage("example-bucket", storage)
        .on_storage("lambda-artifacts-deafc19498e3f2df", storage)
        .on_schedule("demoschedule", "0 3 * * *", schedule)
}

struct Aws {
    rt: tokio::runtime::Runtime,
    handler: nubes_aws::LambdaHandler,
}

/// One Lambda invocation with `data` as its payload; panics (a crash for
/// libFuzzer) when the reply breaks the adapter's contract.
pub fn aws_invoke(data: &[u8]) {
    static AWS: OnceLock<Aws> = OnceLock::new();
    let aws = AWS.get_or_init(|| Aws {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
        handler: nubes_aws::LambdaHandler::new(aws_app(), nubes_aws::AwsConfig::default())
            .expect("app"),
    });
    let invocation = nubes_aws::Invocation::new("fuzz");
    let result = aws
        .rt
        .block_on(aws.handler.handle(Bytes::copy_from_slice(data), &invocation));
    match result {
        Ok(reply) => assert!(
            serde_json::from_slice::<serde_json::Value>(&reply).is_ok(),
            "the reply is not JSON"
        ),
        Err(err) => assert!(err.error_type().starts_with("Nubes."), "{err}"),
    }
}

/// Splits `data` into a header block and a body at the first blank line:
/// `name: value` lines (lines HTTP could not carry are skipped), then the body.
pub fn headers_and_body(data: &[u8]) -> (HeaderMap, Bytes) {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (&data[..0], data),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(line[..colon].trim_ascii());
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    (headers, Bytes::copy_from_slice(body))
}
