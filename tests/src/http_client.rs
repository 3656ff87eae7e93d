//! Sending one HTTP request to a server under test and reading the whole reply.

use crate::HttpReply;

/// Sends `method path_and_query` with `headers` and `body` to the server at
/// `base_url`, and reads the whole reply. Panics (failing the test) when the
/// server cannot be reached.
pub async fn send(
    client: &reqwest::Client,
    base_url: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpReply {
    let method: reqwest::Method = method.parse().expect("a valid HTTP method");
    let mut request = client
        .request(method, format!("{base_url}{path_and_query}"))
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .expect("the server under test is reachable");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .bytes()
        .await
        .expect("a readable reply body")
        .to_vec();
    HttpReply {
        status,
        headers,
        body,
    }
}
