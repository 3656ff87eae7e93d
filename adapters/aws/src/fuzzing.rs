//! Entry points for fuzz tests and benchmarks only. **Unstable**: not part
//! of the public API, hidden from the docs, may change in any release.

use std::sync::OnceLock;

use bytes::Bytes;
use nubes_core::{
    App, Body, Error, ErrorKind, QueueMessage, ScheduledEvent, StorageEvent, TraceContext,
};

use crate::classify::{Source, classify};
use crate::failure::InvocationError;
use crate::handler::Scope;
use crate::{AwsConfig, Invocation, LambdaHandler, http, schedule, sns, sqs, storage};

/// One neutral event decoded from an invocation payload.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// An API Gateway, ALB or Function URL request.
    Http(Box<::http::Request<Body>>),
    /// An SQS or SNS message for the queue trigger `trigger`.
    Queue {
        /// The trigger (queue or topic name).
        trigger: String,
        /// The message.
        message: QueueMessage,
    },
    /// An S3 event (direct, through EventBridge or inside an SQS body).
    Storage {
        /// The trigger (bucket name).
        trigger: String,
        /// The event.
        event: StorageEvent,
    },
    /// An EventBridge schedule firing.
    Schedule {
        /// The trigger (rule name).
        trigger: String,
        /// The firing.
        event: ScheduledEvent,
    },
    /// A record acknowledged without running anything (S3's test event).
    Skipped,
    /// A record of a batch that does not decode (reported failed on its own;
    /// the rest of the batch still runs).
    Invalid(Error),
}

/// Classifies `payload` (one invocation's JSON) and decodes it into neutral
/// events as [`LambdaHandler::handle`] would, without dispatching anything;
/// triggers are named as for an app with none registered and no name prefix.
/// The payload is copied once (the Runtime API path shares its buffer instead).
pub fn decode(payload: &[u8]) -> Result<Vec<Event>, Error> {
    static HANDLER: OnceLock<LambdaHandler> = OnceLock::new();
    let handler = match HANDLER.get() {
        Some(handler) => handler,
        None => {
            let handler = LambdaHandler::new(App::new(), AwsConfig::default())?;
            HANDLER.get_or_init(|| handler)
        }
    };
    let payload = Bytes::copy_from_slice(payload);
    let invocation = Invocation::default();
    let scope = Scope {
        handler,
        payload: &payload,
        invocation: &invocation,
        trace: TraceContext::none(),
    };
    decode_in(&scope).map_err(|e| to_error(&e))
}

fn decode_in(scope: &Scope<'_>) -> Result<Vec<Event>, InvocationError> {
    let (source, mut probe) = classify(scope.payload)?;
    let first_sqs = probe.first_sqs.take();
    let records = || probe.records.clone().unwrap_or_default();
    Ok(match source {
        Source::RestV1 | Source::HttpV2 | Source::Alb => {
            let (request, _style) = http::decode(scope.payload, source, &probe)?;
            vec![Event::Http(Box::new(request))]
        }
        Source::Sqs => sqs::decode(scope, records(), first_sqs)?,
        Source::Sns => records()
            .into_iter()
            .map(|raw| {
                sns::decode(scope, raw).map(|(trigger, message)| Event::Queue { trigger, message })
            })
            .collect::<Result<_, _>>()?,
        Source::S3 => storage::decode_notification(scope)?
            .into_iter()
            .map(|event| storage_event(scope, event))
            .collect(),
        Source::EventBridgeS3 => vec![storage_event(scope, storage::decode_eventbridge(scope)?)],
        Source::Schedule => {
            let (trigger, event) = schedule::decode(scope)?;
            vec![Event::Schedule { trigger, event }]
        }
    })
}

fn storage_event(scope: &Scope<'_>, event: StorageEvent) -> Event {
    let trigger = scope.trigger_name(nubes_core::TriggerKind::Storage, &event.bucket);
    Event::Storage { trigger, event }
}

/// The neutral error for what the adapter would report to Lambda.
pub(crate) fn to_error(err: &InvocationError) -> Error {
    let kind = match err.error_type() {
        "Nubes.InvalidEvent" | "Nubes.UnsupportedEvent" => ErrorKind::InvalidEvent,
        "Nubes.UnknownTrigger" => ErrorKind::UnknownTrigger,
        "Nubes.ConfigError" => ErrorKind::Config,
        "Nubes.HandlerError" | "Nubes.DeadlineExceeded" => ErrorKind::Handler,
        _ => ErrorKind::Platform,
    };
    Error::new(kind, format!("{}: {}", err.error_type(), err.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_source_without_dispatching() {
        let sqs = br#"{"Records":[{"messageId":"m1","body":"hi","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:1:orders"},{"eventSource":"aws:sqs","messageId":"m2","body":7}]}"#;
        let events = decode(sqs).unwrap();
        assert_eq!(events.len(), 2);
        match &events[0] {
            Event::Queue { trigger, message } => {
                assert_eq!(trigger, "orders");
                assert_eq!(message.id, "m1");
                assert_eq!(message.body.as_ref(), b"hi");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&events[1], Event::Invalid(e) if e.kind() == ErrorKind::InvalidEvent));

        let http = br#"{"version":"2.0","rawPath":"/hello/x","rawQueryString":"","headers":{},"requestContext":{"http":{"method":"GET","path":"/hello/x"}},"isBase64Encoded":false}"#;
        match decode(http).unwrap().as_slice() {
            [Event::Http(request)] => assert_eq!(request.uri().path(), "/hello/x"),
            other => panic!("{other:?}"),
        }

        let schedule = br#"{"detail-type":"Scheduled Event","source":"aws.events","time":"2024-01-01T00:00:00Z","resources":["arn:aws:events:x:1:rule/nightly"]}"#;
        assert!(matches!(
            decode(schedule).unwrap().as_slice(),
            [Event::Schedule { trigger, .. }] if trigger == "nightly"
        ));
    }

    #[test]
    fn undecodable_payloads_are_errors() {
        for bad in [
            &b""[..],
            b"{}",
            b"[1]",
            br#"{"Records":[{"eventSource":"aws:kinesis"}]}"#,
        ] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidEvent, "{err}");
        }
    }
}
