//! API Gateway REST and ALB events → `http::Request`, and the request
//! building HTTP API payload 2.0 events share (see `v2`).
//!
//! Follows lambda_http's conventions (multi-value headers and query strings win,
//! HTTP API cookies become one `cookie` header) with two differences: nothing
//! here can panic on malformed input, and the API Gateway stage is never added
//! to the path, so routes are the same as on every other platform.

use std::borrow::Cow;

use aws_lambda_events::alb::AlbTargetGroupRequest;
use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::query_map::QueryMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method, Request, Uri};
use nubes_core::Body;
use percent_encoding::{
    AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode,
};

use crate::failure::InvocationError;

/// Characters escaped in a path: what a URI cannot carry as is (`%` is kept,
/// so already-encoded paths pass through unchanged).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']');

/// Query components: everything but unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Whether the caller sent (and expects back) multi-value headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderStyle {
    Single,
    Multi,
}

/// API Gateway REST API (and HTTP API payload 1.0).
pub(crate) fn from_rest_v1(ev: ApiGatewayProxyRequest) -> Result<Request<Body>, InvocationError> {
    let raw_path = ev.path.as_deref().unwrap_or("/");
    let path = without_stage(
        raw_path,
        ev.request_context.stage.as_deref(),
        ev.resource.as_deref(),
    );
    let query = if ev.multi_value_query_string_parameters.is_empty() {
        encode_query(query_pairs(&ev.query_string_parameters))
    } else {
        encode_query(query_pairs(&ev.multi_value_query_string_parameters))
    };
    let headers = pick_headers(ev.headers, ev.multi_value_headers).0;
    let body = decode_body(ev.body, ev.is_base64_encoded)?;
    build(ev.http_method, &path, &query, headers, body)
}

/// ALB target group; also says which header style to answer in.
pub(crate) fn from_alb(
    ev: AlbTargetGroupRequest,
) -> Result<(Request<Body>, HeaderStyle), InvocationError> {
    let path = ev.path.as_deref().unwrap_or("/").to_owned();
    // ALB passes query strings exactly as the client sent them (still encoded).
    let query = if ev.multi_value_query_string_parameters.is_empty() {
        encode_query(decoded(&ev.query_string_parameters))
    } else {
        encode_query(decoded(&ev.multi_value_query_string_parameters))
    };
    let (headers, style) = pick_headers(ev.headers, ev.multi_value_headers);
    let body = decode_body(ev.body, ev.is_base64_encoded)?;
    Ok((build(ev.http_method, &path, &query, headers, body)?, style))
}

/// Multi-value headers when the caller sent them (they carry every value).
fn pick_headers(single: HeaderMap, multi: HeaderMap) -> (HeaderMap, HeaderStyle) {
    if multi.is_empty() {
        (single, HeaderStyle::Single)
    } else {
        (multi, HeaderStyle::Multi)
    }
}

/// Removes a leading `/{stage}` that API Gateway put in the path (default
/// execute-api endpoints), unless the route itself starts with it.
pub(super) fn without_stage<'a>(
    path: &'a str,
    stage: Option<&str>,
    resource: Option<&str>,
) -> Cow<'a, str> {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return Cow::Borrowed(path);
    };
    let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) else {
        return Cow::Borrowed(path);
    };
    let route_has_stage = resource.is_some_and(|r| {
        r.strip_prefix('/')
            .and_then(|r| r.strip_prefix(stage))
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
    });
    if route_has_stage {
        return Cow::Borrowed(path);
    }
    match rest {
        "" => Cow::Borrowed("/"),
        r if r.starts_with('/') => Cow::Borrowed(r),
        _ => Cow::Borrowed(path),
    }
}

fn decoded(map: &QueryMap) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
    };
    query_pairs(map)
        .iter()
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Every `(name, value)` pair of `map`, read through its `Serialize` impl.
/// Not `QueryMap::iter`: query_map 0.7's iterator indexes past the end (a
/// panic) for a name with an empty list of values, which an event such as
/// `"multiValueQueryStringParameters":{"a":[]}` produces (found by fuzzing).
fn query_pairs(map: &QueryMap) -> Vec<(String, String)> {
    if map.is_empty() {
        return Vec::new();
    }
    let Ok(serde_json::Value::Object(names)) = serde_json::to_value(map) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for (name, values) in names {
        let serde_json::Value::Array(values) = values else {
            continue;
        };
        for value in values {
            if let serde_json::Value::String(value) = value {
                pairs.push((name.clone(), value));
            }
        }
    }
    pairs
}

fn encode_query<I, K, V>(pairs: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.extend(utf8_percent_encode(k.as_ref(), COMPONENT));
        out.push('=');
        out.extend(utf8_percent_encode(v.as_ref(), COMPONENT));
    }
    out
}

/// The request body; text is moved, not copied.
fn decode_body(body: Option<String>, base64: bool) -> Result<Body, InvocationError> {
    match body {
        None => Ok(Body::empty()),
        Some(text) if text.is_empty() => Ok(Body::empty()),
        Some(text) if base64 => STANDARD.decode(&text).map(Body::from).map_err(|e| {
            InvocationError::invalid_event(format!("the request body is not valid base64: {e}"))
        }),
        Some(text) => Ok(Body::from(text)),
    }
}

pub(super) fn build(
    method: Method,
    path: &str,
    query: &str,
    headers: HeaderMap,
    body: Body,
) -> Result<Request<Body>, InvocationError> {
    let mut target: String = if path.starts_with('/') {
        utf8_percent_encode(path, PATH).collect()
    } else {
        format!("/{}", utf8_percent_encode(path, PATH))
    };
    if !query.is_empty() {
        target.push('?');
        target.push_str(query);
    }
    let uri = Uri::try_from(target.as_str()).map_err(|e| {
        InvocationError::invalid_event(format!(
            "the request target `{target}` is not a valid URI: {e}"
        ))
    })?;
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_prefix_is_removed_unless_the_route_has_it() {
        assert_eq!(
            without_stage("/prod/users", Some("prod"), Some("/{proxy+}")),
            "/users"
        );
        assert_eq!(without_stage("/prod", Some("prod"), None), "/");
        assert_eq!(without_stage("/users", Some("prod"), None), "/users");
        assert_eq!(
            without_stage("/production", Some("prod"), None),
            "/production"
        );
        assert_eq!(without_stage("/prod/x", Some("$default"), None), "/prod/x");
        assert_eq!(
            without_stage("/prod/x", Some("prod"), Some("/prod/{id}")),
            "/prod/x"
        );
    }

    #[test]
    fn paths_and_queries_are_encoded_once() {
        let req = build(
            Method::GET,
            "/a b/%41",
            "x=1",
            HeaderMap::new(),
            Body::empty(),
        )
        .unwrap();
        assert_eq!(req.uri(), "/a%20b/%41?x=1");
        assert_eq!(
            encode_query([("a b", "c&d"), ("é", "=")]),
            "a%20b=c%26d&%C3%A9=%3D"
        );
        assert!(decode_body(Some("!!".to_owned()), true).is_err());
    }
}
