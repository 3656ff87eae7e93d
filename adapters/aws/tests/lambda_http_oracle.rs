//! Our HTTP mapping agrees with the official `lambda_http` conversion on every
//! well-formed HTTP fixture (method, path, query, headers, body). The only
//! intended difference: lambda_http prefixes REST API paths with the stage
//! (unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set); nubes never does, so
//! routes match every other platform.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::collections::BTreeMap;

use axum::routing::any;
use nubes_aws::{AwsConfig, Invocation, LambdaHandler};
use nubes_core::App;
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    nubes_test_support::fixtures::text(&format!("aws/{name}"))
}

/// Query pairs as a sorted multiset (lambda_http's come from a hash map).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect();
    pairs.sort();
    pairs
}

fn headers(map: &http::HeaderMap) -> BTreeMap<String, Vec<String>> {
    map.keys()
        .map(|k| {
            let values = map
                .get_all(k)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            (k.as_str().to_owned(), values)
        })
        .collect()
}

async fn seen(req: http::Request<axum::body::Body>) -> axum::Json<Value> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    axum::Json(json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": query_pairs(parts.uri.query()),
        "headers": headers(&parts.headers),
        "body": body.to_vec(),
    }))
}

#[tokio::test]
async fn http_fixtures_map_like_lambda_http() {
    let app = App::new().http(axum::Router::new().fallback(any(seen)));
    let handler = LambdaHandler::new(app, AwsConfig::default()).unwrap();
    for (name, stage) in [
        ("apigw-rest-v1-proxy.json", Some("testStage")),
        ("apigw-rest-v1-multivalue-query.json", Some("testStage")),
        (
            "apigw-rest-v1-console-test-invoke.json",
            Some("test-invoke-stage"),
        ),
        ("apigw-http-v2.json", None),
        ("apigw-http-v2-get-no-authorizer.json", None),
        ("function-url-post-base64-body.json", None),
        ("function-url-post-text-body-cookies.json", None),
        ("alb-multi-value-headers.json", None),
        ("alb-single-value-headers.json", None),
        ("alb-multi-value-query.json", None),
    ] {
        let text = fixture(name);
        let official = lambda_http::request::from_str(&text).expect(name);
        let path = official.uri().path();
        let path = match stage {
            Some(stage) => path.strip_prefix(&format!("/{stage}")).expect(name),
            None => path,
        };
        let expected = json!({
            "method": official.method().as_str(),
            "path": path,
            "query": query_pairs(official.uri().query()),
            "headers": headers(official.headers()),
            "body": official.body().as_ref(),
        });
        let reply = handler
            .handle(text.into(), &Invocation::new("r"))
            .await
            .unwrap();
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        let ours: Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
        assert_eq!(ours, expected, "{name}");
    }
}
