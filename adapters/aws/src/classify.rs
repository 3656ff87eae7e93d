//! Which AWS service sent an invocation, from one scan of its JSON.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// The top-level fields that tell the sources apart, and the ones an HTTP API
/// payload 2.0 event is decoded from (so that event is scanned once: see
/// `http::v2`). Everything else is only skipped over; `Records` and the HTTP
/// fields are kept as raw slices of the payload, typed only by their decoder,
/// so classification accepts any JSON in them.
#[derive(Deserialize)]
pub(crate) struct Probe<'a> {
    #[serde(rename = "Records", borrow, default)]
    pub(crate) records: Option<Vec<&'a RawValue>>,
    /// `Records[0]` of an SQS batch, parsed while classifying (see
    /// [`crate::sqs::first_record`]).
    #[serde(skip)]
    pub(crate) first_sqs: Option<crate::sqs::SqsRecord<'a>>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(rename = "httpMethod", default)]
    http_method: Option<IgnoredAny>,
    #[serde(rename = "rawPath", borrow, default)]
    pub(crate) raw_path: Option<&'a RawValue>,
    /// `rawPath`'s other spelling (aws_lambda_events' alias).
    #[serde(borrow, default)]
    pub(crate) path: Option<&'a RawValue>,
    #[serde(rename = "rawQueryString", borrow, default)]
    pub(crate) raw_query_string: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) headers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) cookies: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) body: Option<&'a RawValue>,
    #[serde(rename = "isBase64Encoded", borrow, default)]
    pub(crate) is_base64_encoded: Option<&'a RawValue>,
    #[serde(rename = "requestContext", borrow, default)]
    pub(crate) request_context: Option<ProbeContext<'a>>,
    #[serde(default)]
    awslogs: Option<IgnoredAny>,
}

/// `requestContext`, skimmed in the same scan: whether it is an object and
/// has `elb` (an ALB event), and the members an HTTP API 2.0 request is
/// built from, as raw slices. Any JSON is accepted here (a context that is no
/// object is an error only for the sources that read it).
#[derive(Default)]
pub(crate) struct ProbeContext<'a> {
    object: bool,
    elb: bool,
    pub(crate) stage: Option<&'a RawValue>,
    pub(crate) http: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ProbeContext<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ContextVisitor(PhantomData))
    }
}

struct ContextVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ContextVisitor<'a> {
    type Value = ProbeContext<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut context = ProbeContext {
            object: true,
            ..ProbeContext::default()
        };
        while let Some(key) = access.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "elb" => context.elb = access.next_value::<Option<IgnoredAny>>()?.is_some(),
                "stage" => context.stage = access.next_value()?,
                "http" => context.http = access.next_value()?,
                _ => {
                    access.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(context)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ProbeContext::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ProbeContext::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(ProbeContext::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(ProbeContext::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ProbeContext::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(ProbeContext::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ProbeContext::default())
    }
}

/// An object key, borrowed when it has no escapes.
#[derive(Deserialize)]
#[serde(transparent)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct RecordSource<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    lower: Option<Cow<'a, str>>,
    #[serde(rename = "EventSource", borrow, default)]
    upper: Option<Cow<'a, str>>,
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
    // serde reads a struct from a JSON array too (its fields in order), so a
    // deeply nested array would be taken for an event whose `Records[0]` is
    // not an object: say what it is instead.
    if let Some(what) = not_an_object(payload) {
        return Err(InvocationError::invalid_event(format!(
            "the event is {what}, not a JSON object"
        )));
    }
    let mut probe: Probe<'_> = serde_json::from_slice(payload).map_err(|e| {
        InvocationError::invalid_event(format!("the event is not a JSON object: {e}"))
    })?;
    // SQS first, the most common batch: its first record, parsed to read its
    // `eventSource`, is kept for the SQS decoder. Any other record (or a
    // malformed SQS one) is told apart by its `eventSource` alone below.
    if let Some(first) = probe.records.as_ref().and_then(|records| records.first())
        && let Some(record) = crate::sqs::first_record(first)
    {
        probe.first_sqs = Some(record);
        return Ok((Source::Sqs, probe));
    }
    let source = source_of(&probe)?;
    Ok((source, probe))
}

/// What `json` is, when it is plainly no JSON object.
fn not_an_object(json: &[u8]) -> Option<&'static str> {
    match json.trim_ascii_start().first() {
        Some(b'[') => Some("a JSON array"),
        Some(b'"') => Some("a JSON string"),
        None => Some("empty"),
        _ => None,
    }
}

fn source_of(probe: &Probe<'_>) -> Result<Source, InvocationError> {
    if let Some(records) = &probe.records {
        let first = records
            .first()
            .ok_or_else(|| InvocationError::unsupported("the event has an empty `Records` list"))?;
        if let Some(what) = not_an_object(first.get().as_bytes()) {
            return Err(InvocationError::invalid_event(format!(
                "`Records[0]` is {what}, not an object"
            )));
        }
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
    if let Some(context) = &probe.request_context {
        // Version first: some producers (cargo-lambda's Function URLs) also
        // fill a stray `httpMethod` in payload 2.0 events.
        if probe.version.as_deref() == Some("2.0") {
            return Ok(Source::HttpV2);
        }
        if probe.http_method.is_some() {
            if !context.object {
                return Err(InvocationError::invalid_event(
                    "`requestContext` is not an object",
                ));
            }
            return Ok(if context.elb {
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
            source(r#"{"httpMethod":"GET","requestContext":{"elb":null,"stage":"x"}}"#).unwrap(),
            Source::RestV1
        );
        assert_eq!(
            source(r#"{"version":"2.0","rawPath":"/","requestContext":{}}"#).unwrap(),
            Source::HttpV2
        );
        assert_eq!(
            source(r#"{"rawPath":"/","requestContext":[1,{"http":2}]}"#).unwrap(),
            Source::HttpV2,
            "a context that is no object is the decoder's to refuse"
        );
        assert_eq!(
            source(r#"{"version":"2.0","httpMethod":"GET","requestContext":{}}"#).unwrap(),
            Source::HttpV2,
            "cargo-lambda's Function URL events"
        );
    }

    #[test]
    fn a_deeply_nested_array_is_not_mistaken_for_records() {
        let deep = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        let err = source(&deep(200_000)).unwrap_err();
        assert_eq!(
            err.message(),
            "the event is a JSON array, not a JSON object",
            "{}",
            err.message()
        );
        let err = source(&format!(r#"{{"Records":[{}]}}"#, deep(300))).unwrap_err();
        assert_eq!(err.message(), "`Records[0]` is a JSON array, not an object");
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
            r#"{"httpMethod":"GET","requestContext":5}"#,
            r#"{"httpMethod":"GET","requestContext":["elb"]}"#,
            r#"{"httpMethod":"GET","requestContext":{"elb":}}"#,
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
