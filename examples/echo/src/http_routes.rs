//! `GET /hello/{name}` and `POST /echo`.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub(crate) fn router() -> axum::Router {
    axum::Router::new()
        .route("/hello/{name}", get(hello))
        .route("/echo", post(echo))
}

async fn hello(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

async fn echo(
    method: Method,
    uri: Uri,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    let mut header_map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        join_into(&mut header_map, name.as_str().to_owned(), value);
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in pairs {
        join_into(&mut query, key, value);
    }
    let (body, _) = nubes::raw::encode_body(&body);
    Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": query,
        "headers": header_map,
        "body": body,
    }))
}

/// Repeated keys are joined with `,`, as HTTP does for repeated headers.
fn join_into(map: &mut BTreeMap<String, String>, key: String, value: String) {
    map.entry(key)
        .and_modify(|v| {
            v.push(',');
            v.push_str(&value);
        })
        .or_insert(value);
}
