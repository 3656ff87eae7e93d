//! `httpTrigger` without request forwarding: `Data.req` describes the
//! request (`Url`, `Method`, `Query`, `Headers` as arrays, `Params`, `Body`),
//! and the response goes back as `Outputs.res` (`statusCode`, `headers`,
//! `body`).
//!
//! The host sends a body as text, except for `application/octet-stream` and
//! `multipart/*` content, whose bytes it serialises as base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderName, HeaderValue, Method, Request, Response};
use nubes_core::{Body, Error};
use serde_json::{Map, Value, json};

use crate::bindings;
use crate::envelope::{self, Envelope};

/// The `http::Request` that `Data.req` describes.
pub(crate) fn request(envelope: &Envelope) -> Result<Request<Body>, Error> {
    let req = match envelope.trigger_input(&[bindings::HTTP_IN])? {
        (_, Value::Object(req)) => req,
        (name, _) => {
            return Err(Error::invalid_event(format!(
                "`Data.{name}` is not an HTTP request object"
            )));
        }
    };
    let field = |name: &str| envelope::lookup(req, name);
    let method = field("Method")
        .and_then(envelope::text)
        .ok_or_else(|| Error::invalid_event("`Data.req.Method` is missing"))?;
    let method = Method::from_bytes(method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| Error::invalid_event(format!("`Data.req.Method` `{method}` is not valid")))?;
    let url = field("Url").and_then(envelope::text).unwrap_or_default();
    let (authority, mut target) = split_url(&url);
    if !target.contains('?')
        && let Some(query) = field("Query").and_then(query_string)
    {
        target.push('?');
        target.push_str(&query);
    }
    let mut builder = Request::builder().method(method).uri(target.as_str());
    let mut content_type = None;
    if let Some(headers) = field("Headers").and_then(envelope::object) {
        for (name, values) in &headers {
            let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
                tracing::warn!(header = %name, "dropping a request header with an invalid name");
                continue;
            };
            for value in header_values(values) {
                let Ok(value) = HeaderValue::from_str(&value) else {
                    tracing::warn!(header = %name, "dropping a request header with an invalid value");
                    continue;
                };
                if name == CONTENT_TYPE {
                    content_type = value.to_str().ok().map(str::to_ascii_lowercase);
                }
                builder = builder.header(&name, value);
            }
        }
    }
    if !authority.is_empty()
        && builder.headers_ref().is_some_and(|h| !h.contains_key(HOST))
        && let Ok(host) = HeaderValue::from_str(authority)
    {
        builder = builder.header(HOST, host);
    }
    let body = body(field("Body"), content_type.as_deref())?;
    builder
        .body(Body::from(body))
        .map_err(|e| Error::invalid_event(format!("`Data.req` is not a valid request: {e}")))
}

/// `http://host:7071/api/x?a=1` → (`host:7071`, `/api/x?a=1`); a bare path stays.
fn split_url(url: &str) -> (&str, String) {
    let Some((_, rest)) = url.split_once("://") else {
        let path = if url.starts_with('/') {
            url.to_owned()
        } else {
            format!("/{url}")
        };
        return ("", path);
    };
    match rest.find(['/', '?']) {
        Some(i) => {
            let (authority, target) = rest.split_at(i);
            let target = if target.starts_with('?') {
                format!("/{target}")
            } else {
                target.to_owned()
            };
            (authority, target)
        }
        None => (rest, "/".to_owned()),
    }
}

/// `Query` as an object (or a JSON string of one, as some hosts send `"{}"`)
/// → `a=1&b=two+words`; `None` when empty.
fn query_string(value: &Value) -> Option<String> {
    let map = envelope::object(value)?;
    if map.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (key, values) in &map {
        for value in header_values(values) {
            if !out.is_empty() {
                out.push('&');
            }
            out.extend(form_encode(key));
            out.push('=');
            out.extend(form_encode(&value));
        }
    }
    Some(out)
}

fn form_encode(s: &str) -> impl Iterator<Item = &str> {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
}

/// Header values arrive as arrays of strings, or as one string.
fn header_values(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(envelope::text).collect(),
        other => envelope::text(other).into_iter().collect(),
    }
}

fn body(value: Option<&Value>, content_type: Option<&str>) -> Result<Bytes, Error> {
    let binary = content_type.is_some_and(|ct| {
        ct.starts_with("application/octet-stream") || ct.starts_with("multipart/")
    });
    match value {
        None | Some(Value::Null) => Ok(Bytes::new()),
        Some(Value::String(s)) if binary => {
            STANDARD.decode(s.as_bytes()).map(Bytes::from).map_err(|e| {
                Error::invalid_event(format!(
                    "`Data.req.Body` of a binary request is not base64: {e}"
                ))
            })
        }
        Some(Value::String(s)) => Ok(Bytes::copy_from_slice(s.as_bytes())),
        Some(other) => serde_json::to_vec(other)
            .map(Bytes::from)
            .map_err(|e| Error::invalid_event(format!("`Data.req.Body`: {e}"))),
    }
}

/// `Outputs.res` for a response whose body was read into `body`. A body
/// that is not UTF-8 cannot travel in this protocol's string; it is sent as
/// base64 with a warning (enable request proxying to serve binary content).
pub(crate) fn output(response: &Response<Body>, body: &[u8]) -> Value {
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes());
        match headers.get_mut(name.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value.into_owned()));
            }
        }
    }
    let (body, encoding) = nubes_core::raw::encode_body(body);
    if encoding == nubes_core::raw::BodyEncoding::Base64 {
        tracing::warn!(
            "the HTTP response body is not UTF-8 and was sent as base64: \
             enable `enableProxyingHttpRequest` in host.json to serve binary responses"
        );
    }
    json!({
        "statusCode": response.status().as_u16(),
        "headers": headers,
        "body": body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Envelope {
        Envelope::parse(&nubes_test_support::fixtures::bytes(&format!(
            "azure/{name}"
        )))
        .unwrap()
    }

    #[tokio::test]
    async fn docs_order_request() {
        let env = fixture("http-trigger-order.request.json");
        let req = request(&env).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/api/order");
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(req.headers()[HOST], "localhost:7071");
        let body = req.into_body().collect_bytes(1024).await.unwrap();
        assert_eq!(body, r#"{"id":1005,"quantity":2,"color":"black"}"#);
    }

    #[test]
    fn identities_fixture_with_object_query() {
        let req = request(&fixture("http-trigger-with-identities.request.json")).unwrap();
        assert_eq!(req.uri(), "/api/endpoint");
    }

    #[tokio::test]
    async fn query_object_binary_body_and_bad_input() {
        let env = Envelope::parse(
            br#"{"Data":{"req":{"Url":"https://h/x","Method":"put","Query":{"a":"1","b":"two words"},
                "Headers":{"Content-Type":["application/octet-stream"],"X-Multi":["1","2"]},
                "Body":"AP8="}}}"#,
        )
        .unwrap();
        let req = request(&env).unwrap();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(req.uri(), "/x?a=1&b=two%20words");
        assert_eq!(req.headers().get_all("x-multi").iter().count(), 2);
        assert_eq!(
            &req.into_body().collect_bytes(10).await.unwrap()[..],
            &[0u8, 0xff]
        );

        for bad in [
            &br#"{"Data":{"req":5}}"#[..],
            br#"{"Data":{"req":{"Url":"/"}}}"#,
            br#"{"Data":{"req":{"Method":"GE T"}}}"#,
            br#"{"Data":{"req":{"Method":"POST","Headers":{"Content-Type":"multipart/form-data"},"Body":"%%%"}}}"#,
        ] {
            let env = Envelope::parse(bad).unwrap();
            assert!(request(&env).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn responses_become_outputs_res() {
        let response = Response::builder()
            .status(201)
            .header("x-a", "1")
            .header("x-a", "2")
            .body(Body::empty())
            .unwrap();
        let res = output(&response, b"Order enqueued");
        assert_eq!(
            res,
            json!({"statusCode": 201, "headers": {"x-a": "1, 2"}, "body": "Order enqueued"})
        );
        // The docs' response fixture has the same `res` shape.
        let docs = nubes_test_support::fixtures::json("azure/http-trigger-order.response.json");
        assert_eq!(docs["Outputs"]["res"]["body"], res["body"]);
    }
}
