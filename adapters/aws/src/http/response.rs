//! `http::Response` → the JSON each HTTP source expects back.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use nubes_core::{Body, Error, json_error};
use serde_json::{Map, Value, json};

use super::request::HeaderStyle;
use crate::classify::Source;

/// Media types sent as text (the rest, and anything with a
/// `content-encoding`, goes base64), as lambda_http decides.
const TEXT_PREFIXES: [&str; 5] = [
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/yaml",
];
const TEXT_SUFFIXES: [&str; 3] = ["+xml", "+yaml", "+json"];

/// Reads the response (up to `limit` bytes) and renders it for `source`.
/// A body that cannot be read, or is too large for Lambda, becomes a JSON 500.
pub(crate) async fn encode(
    response: Response<Body>,
    source: Source,
    style: HeaderStyle,
    limit: usize,
) -> Vec<u8> {
    let (parts, body) = response.into_parts();
    let (status, headers, bytes) = match body.collect_bytes(limit).await {
        Ok(bytes) => (parts.status, parts.headers, bytes),
        Err(err) => {
            let err = Error::new(
                err.kind(),
                format!(
                    "the response could not be returned to Lambda: {}",
                    err.message()
                ),
            );
            tracing::error!(error = %err, "HTTP response dropped");
            let fallback = json_error(StatusCode::INTERNAL_SERVER_ERROR, &err);
            let (parts, _) = fallback.into_parts();
            (
                parts.status,
                parts.headers,
                Bytes::from(err.to_json().to_string()),
            )
        }
    };
    let (body, base64) = render_body(&headers, &bytes);
    let mut out = Map::new();
    out.insert("statusCode".into(), json!(status.as_u16()));
    match source {
        Source::RestV1 => {
            out.insert(
                "multiValueHeaders".into(),
                Value::Object(multi_value(&headers, false)),
            );
        }
        Source::Alb => {
            let reason = status.canonical_reason().unwrap_or_default();
            out.insert(
                "statusDescription".into(),
                json!(format!("{} {reason}", status.as_u16())),
            );
            match style {
                HeaderStyle::Multi => {
                    out.insert(
                        "multiValueHeaders".into(),
                        Value::Object(multi_value(&headers, false)),
                    );
                }
                HeaderStyle::Single => {
                    out.insert("headers".into(), Value::Object(joined(&headers, false)));
                }
            }
        }
        _ => {
            // HTTP API / Function URLs: one string per header, cookies apart.
            out.insert("headers".into(), Value::Object(joined(&headers, true)));
            let cookies: Vec<Value> = headers
                .get_all(header::SET_COOKIE)
                .iter()
                .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            // Always present: some consumers (cargo-lambda) require the field.
            out.insert("cookies".into(), Value::Array(cookies));
        }
    }
    out.insert("body".into(), Value::String(body));
    out.insert("isBase64Encoded".into(), Value::Bool(base64));
    // A map of strings always serialises.
    serde_json::to_vec(&out).unwrap_or_default()
}

fn text(value: &http::HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

fn multi_value(headers: &HeaderMap, skip_cookies: bool) -> Map<String, Value> {
    let mut map = Map::new();
    for name in headers.keys() {
        if skip_cookies && name == header::SET_COOKIE {
            continue;
        }
        let values = headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(text(v)))
            .collect();
        map.insert(name.as_str().to_owned(), Value::Array(values));
    }
    map
}

fn joined(headers: &HeaderMap, skip_cookies: bool) -> Map<String, Value> {
    let mut map = Map::new();
    for name in headers.keys() {
        if skip_cookies && name == header::SET_COOKIE {
            continue;
        }
        let values: Vec<String> = headers.get_all(name).iter().map(text).collect();
        map.insert(name.as_str().to_owned(), Value::String(values.join(",")));
    }
    map
}

/// Text when the headers say text and the bytes are UTF-8; base64 otherwise.
fn render_body(headers: &HeaderMap, bytes: &[u8]) -> (String, bool) {
    if bytes.is_empty() {
        return (String::new(), false);
    }
    let textual = !headers.contains_key(header::CONTENT_ENCODING)
        && match headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            None => true,
            Some(ct) => {
                let mime = ct
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                TEXT_PREFIXES.iter().any(|p| mime.starts_with(p))
                    || TEXT_SUFFIXES.iter().any(|s| mime.ends_with(s))
            }
        };
    match std::str::from_utf8(bytes) {
        Ok(text) if textual => (text.to_owned(), false),
        _ => (STANDARD.encode(bytes), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&'static str, &'static str)], body: &'static [u8]) -> Response<Body> {
        let mut res = Response::new(Body::from(body));
        for (k, v) in headers {
            res.headers_mut().append(*k, v.parse().unwrap());
        }
        res
    }

    async fn json(res: Response<Body>, source: Source, style: HeaderStyle) -> Value {
        serde_json::from_slice(&encode(res, source, style, 1024).await).unwrap()
    }

    #[tokio::test]
    async fn each_source_gets_its_shape() {
        let res = || {
            response(
                &[
                    ("content-type", "text/plain"),
                    ("set-cookie", "a=1"),
                    ("set-cookie", "b=2"),
                    ("x-v", "1"),
                    ("x-v", "2"),
                ],
                b"hi",
            )
        };
        let v2 = json(res(), Source::HttpV2, HeaderStyle::Single).await;
        assert_eq!(v2["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(v2["headers"]["x-v"], "1,2");
        assert!(v2["headers"].get("set-cookie").is_none());
        assert_eq!(v2["body"], "hi");
        let v1 = json(res(), Source::RestV1, HeaderStyle::Multi).await;
        assert_eq!(v1["multiValueHeaders"]["set-cookie"], json!(["a=1", "b=2"]));
        let alb = json(res(), Source::Alb, HeaderStyle::Single).await;
        assert_eq!(alb["statusDescription"], "200 OK");
        assert_eq!(alb["headers"]["x-v"], "1,2");
    }

    #[tokio::test]
    async fn binary_and_oversize_bodies() {
        let bin = json(
            response(&[("content-type", "image/png")], b"\x89PNG"),
            Source::HttpV2,
            HeaderStyle::Single,
        )
        .await;
        assert_eq!(bin["isBase64Encoded"], true);
        assert_eq!(bin["body"], STANDARD.encode(b"\x89PNG"));
        let big = Response::new(Body::from(vec![b'x'; 2048]));
        let out = json(big, Source::HttpV2, HeaderStyle::Single).await;
        assert_eq!(out["statusCode"], 500);
        assert!(out["body"].as_str().unwrap().contains("limit"));
    }
}
