//! `http::Response` → the JSON each HTTP source expects back.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use nubes_core::raw::json_error;
use nubes_core::{Body, Error};

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
    let body = render_body(&headers, &bytes);
    // Written directly (no `serde_json::Value` tree): this runs per request.
    let mut out = Vec::with_capacity(160 + bytes.len() + bytes.len() / 3);
    out.extend_from_slice(br#"{"statusCode":"#);
    json(&mut out, &status.as_u16());
    match source {
        Source::RestV1 => {
            out.extend_from_slice(br#","multiValueHeaders":"#);
            multi_value(&mut out, &headers);
        }
        Source::Alb => {
            let reason = status.canonical_reason().unwrap_or_default();
            out.extend_from_slice(br#","statusDescription":"#);
            json(&mut out, &format!("{} {reason}", status.as_u16()));
            match style {
                HeaderStyle::Multi => {
                    out.extend_from_slice(br#","multiValueHeaders":"#);
                    multi_value(&mut out, &headers);
                }
                HeaderStyle::Single => {
                    out.extend_from_slice(br#","headers":"#);
                    joined(&mut out, &headers, false);
                }
            }
        }
        _ => {
            // HTTP API / Function URLs: one string per header, cookies apart.
            out.extend_from_slice(br#","headers":"#);
            joined(&mut out, &headers, true);
            // Always present: some consumers (cargo-lambda) require the field.
            out.extend_from_slice(br#","cookies":["#);
            for (i, cookie) in headers.get_all(header::SET_COOKIE).iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json(&mut out, text(cookie).as_ref());
            }
            out.push(b']');
        }
    }
    out.extend_from_slice(br#","body":"#);
    let base64 = match &body {
        RenderedBody::Text(text) => {
            json(&mut out, *text);
            false
        }
        RenderedBody::Base64(encoded) => {
            json(&mut out, encoded.as_str());
            true
        }
    };
    out.extend_from_slice(br#","isBase64Encoded":"#);
    out.extend_from_slice(if base64 { b"true}" } else { b"false}" });
    out
}

/// Appends `value` as JSON (strings escaped).
fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Strings and integers cannot fail to serialise, nor a Vec to take bytes.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn text(value: &http::HeaderValue) -> Cow<'_, str> {
    String::from_utf8_lossy(value.as_bytes())
}

/// `{"name":["value",…],…}`: every value of every header.
fn multi_value(out: &mut Vec<u8>, headers: &HeaderMap) {
    out.push(b'{');
    for (i, name) in headers.keys().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json(out, name.as_str());
        out.extend_from_slice(b":[");
        for (j, value) in headers.get_all(name).iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            json(out, text(value).as_ref());
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// `{"name":"value,value",…}`: the values of a header joined by commas.
fn joined(out: &mut Vec<u8>, headers: &HeaderMap, skip_cookies: bool) {
    out.push(b'{');
    let mut first = true;
    for name in headers.keys() {
        if skip_cookies && name == header::SET_COOKIE {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        json(out, name.as_str());
        out.push(b':');
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(only), None) => json(out, text(only).as_ref()),
            _ => {
                let all: Vec<Cow<'_, str>> = headers.get_all(name).iter().map(text).collect();
                json(out, all.join(",").as_str());
            }
        }
    }
    out.push(b'}');
}

/// A response body as Lambda gets it.
enum RenderedBody<'a> {
    /// UTF-8 text, sent as is.
    Text(&'a str),
    /// Anything else, base64-encoded.
    Base64(String),
}

/// Text when the headers say text and the bytes are UTF-8; base64 otherwise.
fn render_body<'a>(headers: &HeaderMap, bytes: &'a [u8]) -> RenderedBody<'a> {
    if bytes.is_empty() {
        return RenderedBody::Text("");
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
        Ok(text) if textual => RenderedBody::Text(text),
        _ => RenderedBody::Base64(STANDARD.encode(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn response(headers: &[(&'static str, &'static str)], body: &'static [u8]) -> Response<Body> {
        let mut res = Response::new(Body::from(body));
        for (k, v) in headers {
            res.headers_mut().append(*k, v.parse().unwrap());
        }
        res
    }

    async fn render(res: Response<Body>, source: Source, style: HeaderStyle) -> Value {
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
        let v2 = render(res(), Source::HttpV2, HeaderStyle::Single).await;
        assert_eq!(v2["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(v2["headers"]["x-v"], "1,2");
        assert!(v2["headers"].get("set-cookie").is_none());
        assert_eq!(v2["body"], "hi");
        let v1 = render(res(), Source::RestV1, HeaderStyle::Multi).await;
        assert_eq!(v1["multiValueHeaders"]["set-cookie"], json!(["a=1", "b=2"]));
        let alb = render(res(), Source::Alb, HeaderStyle::Single).await;
        assert_eq!(alb["statusDescription"], "200 OK");
        assert_eq!(alb["headers"]["x-v"], "1,2");
    }

    #[tokio::test]
    async fn binary_and_oversize_bodies() {
        let bin = render(
            response(&[("content-type", "image/png")], b"\x89PNG"),
            Source::HttpV2,
            HeaderStyle::Single,
        )
        .await;
        assert_eq!(bin["isBase64Encoded"], true);
        assert_eq!(bin["body"], STANDARD.encode(b"\x89PNG"));
        let big = Response::new(Body::from(vec![b'x'; 2048]));
        let out = render(big, Source::HttpV2, HeaderStyle::Single).await;
        assert_eq!(out["statusCode"], 500);
        assert!(out["body"].as_str().unwrap().contains("limit"));
    }

    #[tokio::test]
    async fn text_is_escaped_and_odd_header_bytes_survive() {
        for (source, style) in [
            (Source::HttpV2, HeaderStyle::Single),
            (Source::RestV1, HeaderStyle::Multi),
            (Source::Alb, HeaderStyle::Single),
            (Source::Alb, HeaderStyle::Multi),
        ] {
            let mut res = response(&[("content-type", "application/json")], b"{\"a\":\"\\n\"}");
            res.headers_mut().insert(
                "x-odd",
                http::HeaderValue::from_bytes(b"caf\xe9 \"q\"").unwrap(),
            );
            let out = render(res, source, style).await;
            assert_eq!(out["body"], "{\"a\":\"\\n\"}", "{source:?}");
            assert_eq!(out["isBase64Encoded"], false);
            let odd = match style {
                HeaderStyle::Single => out["headers"]["x-odd"].clone(),
                HeaderStyle::Multi => out["multiValueHeaders"]["x-odd"][0].clone(),
            };
            assert_eq!(odd, "caf\u{fffd} \"q\"", "{source:?}");
        }
    }
}
