//! `/_nubes/` is closed to other sites' web pages: a real HTTP client
//! (reqwest) against a runner bound to 127.0.0.1 sends the `Host`, `Origin`
//! and `Sec-Fetch-*` headers a browser would send for a DNS-rebinding page, a
//! cross-site form or fetch, the console itself and curl.

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::sync::{Arc, Mutex};

use axum::routing::post;
use nubes_core::{App, BoxError, Context, QueueMessage, StorageEvent};
use nubes_local::{LocalConfig, LocalServer, start};
use reqwest::header::{CONTENT_TYPE, HOST, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const SECRET: &str = "the developer's secret object";

struct Runner {
    server: LocalServer,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
    /// Bodies of the queue messages handled.
    handled: Arc<Mutex<Vec<String>>>,
}

impl Runner {
    async fn start() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        let handled: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = handled.clone();
        let app = App::new()
            .http(axum::Router::new().route("/echo", post(|body: String| async move { body })))
            .on_queue("orders", move |msg: QueueMessage, _ctx: Context| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(msg.text()?.to_owned());
                    Ok::<(), BoxError>(())
                }
            })
            .on_storage("uploads", |_: StorageEvent, _: Context| async {
                Ok::<(), BoxError>(())
            });
        let mut config = LocalConfig::default();
        config.host = [127, 0, 0, 1].into();
        config.port = 0;
        config.data_dir = dir.path().join(".nubes");
        config.run_schedules = false;
        config.watch_storage = false;
        config.allowed_hosts = vec!["myapp.test".to_owned()];
        let server = start(app, config).await.unwrap();
        let runner = Runner {
            server,
            _dir: dir,
            http: reqwest::Client::new(),
            handled,
        };
        let put = runner
            .http
            .put(runner.url("/_nubes/storage/uploads/secret.txt?wait=true"))
            .body(SECRET)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::OK);
        runner
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    /// `method path` with `headers` (`host` replaces the one reqwest sets).
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
    ) -> (StatusCode, String) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header(CONTENT_TYPE, "text/plain")
            .body("from a web page");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Enqueues one message the way curl does and waits for its fate; the
    /// handled messages then.
    async fn handled_after_a_curl_message(&self) -> Vec<String> {
        let (status, body) = self
            .send(Method::POST, "/_nubes/queues/orders?wait=true", &[])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.handled.lock().unwrap().clone()
    }
}

/// A JSON 403 in the runner's error shape.
fn assert_refused(what: &str, (status, body): (StatusCode, String)) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["kind"], "invalid_event", "{what}: {json}");
    assert!(json["error"]["message"].is_string(), "{what}: {json}");
    assert!(!body.contains(SECRET), "{what}: leaked the object");
}

#[tokio::test]
async fn a_rebound_host_reads_nothing() {
    let r = Runner::start().await;
    let evil = vec![("host", format!("evil.example:{}", r.port()))];
    for path in [
        "/_nubes/storage/uploads/secret.txt",
        "/_nubes/",
        "/_nubes",
        "/_nubes/dead",
        "/_nubes/triggers",
        "/_nubes/no-such-endpoint",
    ] {
        assert_refused(path, r.send(Method::GET, path, &evil).await);
    }
    let (status, body) = r
        .send(Method::GET, "/_nubes/storage/uploads/secret.txt", &[])
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, SECRET),
        "curl-like reads"
    );
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn cross_site_requests_change_nothing() {
    let r = Runner::start().await;
    let host = ("host", format!("127.0.0.1:{}", r.port()));
    let attempts = [
        vec![host.clone(), ("origin", "https://evil.example".to_owned())],
        vec![host.clone(), ("origin", "null".to_owned())],
        vec![host.clone(), ("origin", "http://localhost:5173".to_owned())],
        vec![host.clone(), ("sec-fetch-site", "cross-site".to_owned())],
        vec![host.clone(), ("sec-fetch-site", "same-site".to_owned())],
    ];
    for headers in &attempts {
        let what = format!("{headers:?}");
        assert_refused(
            &what,
            r.send(Method::POST, "/_nubes/queues/orders", headers).await,
        );
        assert_refused(
            &what,
            r.send(
                Method::DELETE,
                "/_nubes/storage/uploads/secret.txt",
                headers,
            )
            .await,
        );
        assert_refused(
            &what,
            r.send(Method::PUT, "/_nubes/storage/uploads/planted.txt", headers)
                .await,
        );
    }
    // Another site's <img>/<script> may not load an object; a link to the
    // console (a top-level navigation) still opens it.
    let subresource = vec![
        host.clone(),
        ("sec-fetch-site", "cross-site".to_owned()),
        ("sec-fetch-mode", "no-cors".to_owned()),
    ];
    assert_refused(
        "cross-site subresource",
        r.send(
            Method::GET,
            "/_nubes/storage/uploads/secret.txt",
            &subresource,
        )
        .await,
    );
    let navigation = vec![
        host.clone(),
        ("sec-fetch-site", "cross-site".to_owned()),
        ("sec-fetch-mode", "navigate".to_owned()),
    ];
    let (status, _) = r.send(Method::GET, "/_nubes/", &navigation).await;
    assert_eq!(status, StatusCode::OK, "a link to the console");
    assert_eq!(
        r.handled_after_a_curl_message().await,
        ["from a web page"],
        "only the curl-like message was handled"
    );
    let (status, body) = r
        .send(Method::GET, "/_nubes/storage/uploads/secret.txt", &[])
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, SECRET),
        "not deleted"
    );
    let (status, _) = r
        .send(Method::GET, "/_nubes/storage/uploads/planted.txt", &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not planted");
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_console_curl_and_allowed_hosts_still_work() {
    let r = Runner::start().await;
    let port = r.port();
    let same_origin = vec![
        ("host", format!("127.0.0.1:{port}")),
        ("origin", format!("http://127.0.0.1:{port}")),
        ("sec-fetch-site", "same-origin".to_owned()),
        ("sec-fetch-mode", "cors".to_owned()),
    ];
    let localhost = vec![
        ("host", format!("localhost:{port}")),
        ("origin", format!("http://localhost:{port}")),
    ];
    let ipv6 = vec![("host", format!("[::1]:{port}"))];
    let allowed = vec![
        ("host", format!("myapp.test:{port}")),
        ("origin", format!("http://myapp.test:{port}")),
    ];
    let typed_in = vec![
        ("host", format!("localhost:{port}")),
        ("sec-fetch-site", "none".to_owned()),
    ];
    for headers in [
        &same_origin,
        &localhost,
        &ipv6,
        &allowed,
        &typed_in,
        &vec![],
    ] {
        let what = format!("{headers:?}");
        let (status, body) = r
            .send(Method::POST, "/_nubes/queues/orders?wait=true", headers)
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert!(body.contains(r#""status":"handled""#), "{what}: {body}");
        let (status, body) = r.send(Method::GET, "/_nubes/", headers).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert!(body.contains("<html"), "{what}: the console");
    }
    assert_eq!(r.handled.lock().unwrap().len(), 6);
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_apps_own_routes_are_the_apps_business() {
    let r = Runner::start().await;
    let headers = vec![
        (HOST.as_str(), format!("evil.example:{}", r.port())),
        (ORIGIN.as_str(), "https://evil.example".to_owned()),
        ("sec-fetch-site", "cross-site".to_owned()),
    ];
    let (status, body) = r.send(Method::POST, "/echo", &headers).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "from a web page"));
    r.server.shutdown().await.unwrap();
}
