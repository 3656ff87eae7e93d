//! Which AWS service sent an invocation, from one scan of its JSON.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::failure::InvocationError;

/// The event sources nubes maps onto the neutral API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// API Gateway REST API (or HTTP API payload format 1.0).
    RestV1,
    /// API Gateway HTTP API payload format 2.0, or a Lambda Function URL.
    HttpV2,
    /// Application Load Balancer target group.
    Alb,
    /// SQS batch (`Records[].eventSource == "aws:sqs"`).
    Sqs,
    /// SNS notification (`Records[].EventSource == "aws:sns"`).
    Sns,
    /// S3 event notification (`Records[].eventSource == "aws:s3"`).
    S3,
    /// EventBridge event from S3 (`source == "aws.s3"`).
    EventBridgeS3,
    /// EventBridge `Scheduled Event`.
    Schedule,
}

/// The top-level fields that tell the sources apart. Everything else is only
/// skipped over, and `Records` is kept as raw slices for the typed parse.
#[derive(Deserialize)]
pub(crate) struct Probe<'a> {
    #[serde(rename = "Records", borrow, default)]
    pub(crate) records: Option<Vec<&'a RawValue>>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(rename = "httpMethod", default)]
    http_method: Option<IgnoredAny>,
    #[serde(rename = "rawPath", default)]
    raw_path: Option<IgnoredAny>,
    #[serde(rename = "requestContext", borrow, default)]
    request_context: Option<&'a RawValue>,
    #[serde(default)]
    awslogs: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RecordSource<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    lower: Option<Cow<'a, str>>,
    #[serde(rename = "EventSource", borrow, default)]
    upper: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ElbProbe {
    #[serde(default)]
    elb: Option<IgnoredAny>,
}

/// Event names EventBridge uses for S3 object events.
const S3_DETAIL_TYPES: [&str; 6] = [
    "Object Created",
    "Object Deleted",
    "Object Restore Initiated",
    "Object Restore Completed",
    "Object Restore Expired",
    "Object Storage Class Changed",
];

/// Scans `payload` once and names its source.
pub(crate) fn classify(payload: &[u8]) -> Result<(Source, Probe<'_>), InvocationError> {
    let probe: Probe<'_> = serde_json::from_slice(payload).map_err(|e| {
        InvocationError::invalid_event(format!("the event is not a JSON object: {e}"))
    })?;
    let source = source_of(&probe)?;
    Ok((source, probe))
}

fn source_of(probe: &Probe<'_>) -> Result<Source, InvocationError> {
    if let Some(records) = &probe.records {
        let first = records
            .first()
            .ok_or_else(|| InvocationError::unsupported("the event has an empty `Records` list"))?;
        let record: RecordSource<'_> = serde_json::from_str(first.get()).map_err(|e| {
            InvocationError::invalid_event(format!("`Records[0]` is not an object: {e}"))
        })?;
        return match record.lower.as_deref().or(record.upper.as_deref()) {
            Some("aws:sqs") => Ok(Source::Sqs),
            Some("aws:sns") => Ok(Source::Sns),
            Some("aws:s3") => Ok(Source::S3),
            Some(other) => Err(InvocationError::unsupported(format!(
                "records from `{other}` are not supported (nubes handles SQS, SNS, S3, EventBridge and HTTP events)"
            ))),
            None => Err(InvocationError::unsupported(
                "the event's records name no `eventSource`",
            )),
        };
    }
    if let Some(detail_type) = probe.detail_type.as_deref() {
        let source = probe.source.as_deref().unwrap_or_default();
        return match (source, detail_type) {
            ("aws.events" | "aws.scheduler", "Scheduled Event") => Ok(Source::Schedule),
            ("aws.s3", t) if S3_DETAIL_TYPES.contains(&t) => Ok(Source::EventBridgeS3),
            _ => Err(InvocationError::unsupported(format!(
                "EventBridge event `{detail_type}` from `{source}` is not supported"
            ))),
        };
    }
    if let Some(context) = probe.request_context {
        // Version first: some producers (cargo-lambda's Function URLs) also
        // fill a stray `httpMethod` in payload 2.0 events.
        if probe.version.as_deref() == Some("2.0") {
            return Ok(Source::HttpV2);
        }
        if probe.http_method.is_some() {
            let elb: ElbProbe = serde_json::from_str(context.get()).map_err(|e| {
                InvocationError::invalid_event(format!("`requestContext` is not an object: {e}"))
            })?;
            return Ok(if elb.elb.is_some() {
                Source::Alb
            } else {
                Source::RestV1
            });
        }
        if probe.raw_path.is_some() {
            return Ok(Source::HttpV2);
        }
    }
    if probe.awslogs.is_some() {
        return Err(InvocationError::unsupported(
            "CloudWatch Logs subscription events are not supported",
        ));
    }
    Err(InvocationError::unsupported(
        "the event matches no supported AWS source (API Gateway, ALB, Function URL, SQS, SNS, S3, EventBridge)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(json: &str) -> Result<Source, InvocationError> {
        classify(json.as_bytes()).map(|(s, _)| s)
    }

    #[test]
    fn names_each_source() {
        assert_eq!(
            source(r#"{"Records":[{"eventSource":"aws:sqs"}]}"#).unwrap(),
            Source::Sqs
        );
        assert_eq!(
            source(r#"{"Records":[{"EventSource":"aws:sns"}]}"#).unwrap(),
            Source::Sns
        );
        assert_eq!(
            source(r#"{"detail-type":"Scheduled Event","source":"aws.events"}"#).unwrap(),
            Source::Schedule
        );
        assert_eq!(
            source(r#"{"httpMethod":"GET","requestContext":{"elb":{}}}"#).unwrap(),
            Source::Alb
        );
        assert_eq!(
            source(r#"{"version":"2.0","rawPath":"/","requestContext":{}}"#).unwrap(),
            Source::HttpV2
        );
        assert_eq!(
            source(r#"{"version":"2.0","httpMethod":"GET","requestContext":{}}"#).unwrap(),
            Source::HttpV2,
            "cargo-lambda's Function URL events"
        );
    }

    #[test]
    fn the_rest_is_a_clear_error() {
        for bad in [
            "",
            "[]",
            "\"x\"",
            "{",
            r#"{"Records":[]}"#,
            r#"{"Records":[1]}"#,
            "{}",
        ] {
            let err = source(bad).unwrap_err();
            assert!(err.error_type().starts_with("Nubes."), "{bad}: {err:?}");
        }
        let err = source(r#"{"Records":[{"eventSource":"aws:kinesis"}]}"#).unwrap_err();
        assert_eq!(err.error_type(), "Nubes.UnsupportedEvent");
        assert!(err.message().contains("aws:kinesis"));
    }
}
