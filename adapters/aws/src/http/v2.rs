//! API Gateway HTTP API payload 2.0 and Function URL events → `http::Request`,
//! from the fields classification already sliced out of the payload
//! ([`Probe`]): the payload is scanned once, then only the fields nubes uses
//! are read from their slices, into borrowed strings (no typed copy of the
//! whole event). Header values and a plain-text body share the payload's
//! buffer instead of being copied.
//!
//! Accepts what `aws_lambda_events::apigw::ApiGatewayV2httpRequest` accepts
//! for those fields (the HTTP method may be empty, meaning `GET`; `rawPath`
//! may be spelt `path`; header values are strings or lists), and ignores the
//! fields nubes does not read (authorizer, identity, stage variables, …).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, header};
use nubes_core::Body;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::header_map::{self, Shared};
use super::request::{build, without_stage};
use crate::classify::Probe;
use crate::failure::InvocationError;

/// `requestContext.http`.
#[derive(Deserialize)]
struct HttpDescription<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow, default)]
    path: Option<Cow<'a, str>>,
}

/// Types one field's raw JSON, naming it in the error.
fn field<'a, T: Deserialize<'a>>(raw: &'a RawValue, name: &str) -> Result<T, InvocationError> {
    serde_json::from_str(raw.get()).map_err(|e| malformed(name, &e))
}

/// Like [`field`] for an optional field (`null` is none).
fn optional<'a, T: Deserialize<'a>>(
    raw: Option<&'a RawValue>,
    name: &str,
) -> Result<Option<T>, InvocationError> {
    match raw {
        Some(raw) => field::<Option<T>>(raw, name),
        None => Ok(None),
    }
}

fn malformed(name: &str, err: &dyn std::fmt::Display) -> InvocationError {
    InvocationError::invalid_event(format!("HTTP API event is malformed: `{name}`: {err}"))
}

/// The request of an HTTP API payload 2.0 (or Function URL) event whose
/// fields `probe` holds, sharing `payload`'s bytes where it can.
pub(crate) fn request(
    payload: &Bytes,
    probe: &Probe<'_>,
) -> Result<Request<Body>, InvocationError> {
    let shared = Shared::new(payload);
    let Some(context) = &probe.request_context else {
        return Err(malformed("requestContext", &"missing field"));
    };
    let http: HttpDescription<'_> = match context.http {
        Some(raw) => field(raw, "requestContext.http")?,
        None => return Err(malformed("requestContext", &"missing field `http`")),
    };
    let stage: Option<Cow<'_, str>> = optional(context.stage, "requestContext.stage")?;
    let method = method(&http.method)?;
    let raw_path: Option<Cow<'_, str>> = match probe.raw_path {
        Some(raw) => optional(Some(raw), "rawPath")?,
        None => optional(probe.path, "path")?,
    };
    let raw_path = raw_path.as_deref().or(http.path.as_deref()).unwrap_or("/");
    let path = without_stage(raw_path, stage.as_deref(), None);
    let query: Option<Cow<'_, str>> = optional(probe.raw_query_string, "rawQueryString")?;
    let mut headers = match probe.headers {
        Some(raw) => header_map::parse(raw, shared).map_err(|e| malformed("headers", &e))?,
        None => HeaderMap::new(),
    };
    let cookies: Option<Vec<Cow<'_, str>>> = optional(probe.cookies, "cookies")?;
    if let Some(cookies) = cookies.filter(|c| !c.is_empty()) {
        let value = HeaderValue::from_str(&cookies.join("; ")).map_err(|e| {
            InvocationError::invalid_event(format!(
                "the request's cookies are not a valid header: {e}"
            ))
        })?;
        headers
            .try_insert(header::COOKIE, value)
            .map_err(|_| malformed("headers", &"more headers than an HTTP request can hold"))?;
    }
    let base64 = match probe.is_base64_encoded {
        Some(raw) => field::<bool>(raw, "isBase64Encoded")?,
        None => false,
    };
    let text: Option<Cow<'_, str>> = optional(probe.body, "body")?;
    let body = body(text, base64, shared)?;
    build(
        method,
        &path,
        query.as_deref().unwrap_or_default(),
        headers,
        body,
    )
}

/// `requestContext.http.method`; empty means `GET` (as aws_lambda_events reads it).
fn method(text: &str) -> Result<Method, InvocationError> {
    if text.is_empty() {
        return Ok(Method::GET);
    }
    Method::from_bytes(text.as_bytes()).map_err(|_| {
        InvocationError::invalid_event(format!(
            "HTTP API event is malformed: `requestContext.http.method` `{text}` is not an HTTP method"
        ))
    })
}

/// The body: base64 decoded into its final buffer, text shared with the
/// payload when it has no JSON escapes (else the unescaped string, moved).
fn body(
    text: Option<Cow<'_, str>>,
    base64: bool,
    shared: Shared<'_>,
) -> Result<Body, InvocationError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Body::empty());
    };
    if base64 {
        return STANDARD
            .decode(text.as_bytes())
            .map(Body::from)
            .map_err(|e| {
                InvocationError::invalid_event(format!("the request body is not valid base64: {e}"))
            });
    }
    Ok(match text {
        Cow::Borrowed(text) => Body::from(shared.bytes(text.as_bytes())),
        Cow::Owned(text) => Body::from(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Source, classify};

    fn decode(json: &str) -> Result<Request<Body>, InvocationError> {
        let payload = Bytes::copy_from_slice(json.as_bytes());
        let (source, probe) = classify(&payload)?;
        assert_eq!(source, Source::HttpV2);
        request(&payload, &probe)
    }

    #[test]
    fn method_path_query_headers_cookies() {
        let req = decode(
            r#"{"version":"2.0","rawPath":"/prod/a b","rawQueryString":"x=1",
                "headers":{"X-One":"1","multi":["a","b"],"bytes":[[104,105]]},
                "cookies":["a=1","b=2"],
                "requestContext":{"stage":"prod","http":{"method":"PATCH","path":"/ignored"}}}"#,
        )
        .unwrap();
        assert_eq!(req.method(), Method::PATCH);
        assert_eq!(req.uri(), "/a%20b?x=1");
        assert_eq!(req.headers()["x-one"], "1");
        let multi: Vec<_> = req.headers().get_all("multi").iter().collect();
        assert_eq!(multi, ["a", "b"]);
        assert_eq!(req.headers()["bytes"], "hi");
        assert_eq!(req.headers()["cookie"], "a=1; b=2");
    }

    #[test]
    fn fallbacks_and_defaults() {
        let req = decode(
            r#"{"version":"2.0","path":"/p","requestContext":{"http":{"method":""}},"headers":null}"#,
        )
        .unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "/p");
        let req =
            decode(r#"{"version":"2.0","requestContext":{"http":{"method":"GET","path":"/c"}}}"#)
                .unwrap();
        assert_eq!(req.uri(), "/c");
        let req =
            decode(r#"{"version":"2.0","requestContext":{"http":{"method":"GET"}}}"#).unwrap();
        assert_eq!(req.uri(), "/");
    }

    #[test]
    fn bodies_text_escaped_and_base64() {
        let base = r#""version":"2.0","rawPath":"/","requestContext":{"http":{"method":"POST"}}"#;
        let body = |req: Request<Body>| {
            let (_, body) = req.into_parts();
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(body.collect_bytes(1 << 20))
                .unwrap()
        };
        let req = decode(&format!(r#"{{{base},"body":"plain"}}"#)).unwrap();
        assert_eq!(body(req), "plain");
        let req = decode(&format!(r#"{{{base},"body":"{{\"a\":\"\u00e9\"}}"}}"#)).unwrap();
        assert_eq!(body(req), "{\"a\":\"é\"}");
        let req = decode(&format!(
            r#"{{{base},"body":"aGk=","isBase64Encoded":true}}"#
        ))
        .unwrap();
        assert_eq!(body(req), "hi");
        assert!(decode(&format!(r#"{{{base},"body":"!!","isBase64Encoded":true}}"#)).is_err());
    }

    /// The real HTTP API 2.0 and Function URL payloads read as
    /// aws_lambda_events reads them (method, path, query, headers, cookies,
    /// body), the stage aside.
    #[test]
    fn real_fixtures_read_like_aws_lambda_events() {
        use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
        for name in [
            "apigw-http-v2.json",
            "apigw-http-v2-get-no-authorizer.json",
            "function-url-post-base64-body.json",
            "function-url-post-text-body-cookies.json",
        ] {
            let json = nubes_test_support::fixtures::text(&format!("aws/{name}"));
            let typed: ApiGatewayV2httpRequest = serde_json::from_str(&json).unwrap();
            let (parts, body) = decode(&json).unwrap().into_parts();
            assert_eq!(parts.method, typed.request_context.http.method, "{name}");
            let raw_path = typed.raw_path.as_deref().unwrap_or("/");
            assert_eq!(parts.uri.path(), raw_path, "{name}");
            let query = typed.raw_query_string.as_deref().filter(|q| !q.is_empty());
            assert_eq!(parts.uri.query(), query, "{name}");
            let mut expected = typed.headers.clone();
            if let Some(cookies) = typed.cookies.filter(|c| !c.is_empty()) {
                expected.insert(header::COOKIE, cookies.join("; ").parse().unwrap());
            }
            assert_eq!(parts.headers, expected, "{name}");
            let expected_body = match typed.body {
                Some(b) if typed.is_base64_encoded => STANDARD.decode(b).unwrap(),
                Some(b) => b.into_bytes(),
                None => Vec::new(),
            };
            let body = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(body.collect_bytes(1 << 20))
                .unwrap();
            assert_eq!(body, expected_body, "{name}");
        }
    }

    #[test]
    fn malformed_fields_are_clear_errors() {
        for bad in [
            r#"{"version":"2.0","rawPath":"/","requestContext":{}}"#,
            r#"{"version":"2.0","rawPath":"/","requestContext":5}"#,
            r#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"G T"}}}"#,
            r#"{"version":"2.0","rawPath":7,"requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"version":"2.0","rawPath":"/","headers":{"a":null},"requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"version":"2.0","rawPath":"/","headers":{"a b":"1"},"requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"version":"2.0","rawPath":"/","headers":{"a":"\u0001"},"requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"version":"2.0","rawPath":"/","headers":{"a":["x",[1]]},"requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"version":"2.0","rawPath":"/","cookies":"a=1","requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"version":"2.0","rawPath":"/","isBase64Encoded":"yes","requestContext":{"http":{"method":"GET"}}}"#,
        ] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.error_type(), "Nubes.InvalidEvent", "{bad}");
            assert!(
                err.message().contains("HTTP API event is malformed"),
                "{bad}: {}",
                err.message()
            );
        }
    }
}
