//! No secret is ever written to the logs: requests carrying
//! `Authorization: Bearer …`, `x-api-key`, `Proxy-Authorization`, cookies,
//! OIDC tokens and `?access_token=` go through every adapter (the local, GCP
//! and Azure servers in process, the AWS handler with the headers in its
//! event) — to routes that succeed, fail, panic or do not exist, and to event
//! deliveries whose handlers fail or panic — while every log line of every
//! crate is captured at TRACE level (plain text with span fields, plus Google
//! Cloud Logging JSON). None of the secrets may appear in the captured logs,
//! nor in what the platform gets back (Azure's `Logs`, error bodies).

#![allow(clippy::unwrap_used)] // A test that cannot set up should fail loudly.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use nubes_core::{App, BoxError, Context, QueueMessage};
use serde_json::{Value, json};
use tracing_subscriber::fmt::format::{FmtSpan, JsonFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Everything every subscriber layer wrote, shared by all tests of this binary.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (plain, json) = (logs.clone(), logs.clone());
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_span_events(FmtSpan::FULL)
                    .with_writer(move || Capture(plain.clone())),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(nubes_gcp::CloudLogging::new(Some("proj".into())))
                    .with_writer(move || Capture(json.clone())),
            )
            .with(tracing_subscriber::filter::LevelFilter::TRACE);
        // Also takes in `log` records of crates that use `log`.
        subscriber.try_init().unwrap();
        logs
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> String {
    String::from_utf8_lossy(&captured().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// The secrets of one adapter's run: unique strings, so a hit is a leak.
struct Secrets {
    bearer: String,
    api_key: String,
    cookie: String,
    proxy: String,
    query: String,
    /// A JWT-shaped token, as Pub/Sub push and Eventarc send.
    oidc: String,
}

impl Secrets {
    fn new(adapter: &str) -> Secrets {
        let s = |what: &str| format!("sekret-{what}-{adapter}-7f3a9c41");
        let oidc = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(format!(r#"{{"aud":"x","sub":"{}"}}"#, s("claims"))),
            s("oidcsignature")
        );
        Secrets {
            bearer: s("bearer"),
            api_key: s("apikey"),
            cookie: s("cookie"),
            proxy: s("proxy"),
            query: s("query"),
            oidc,
        }
    }

    /// The request headers that carry them (the OIDC token where `oidc`).
    fn headers(&self, oidc: bool) -> Vec<(&'static str, String)> {
        let token = if oidc { &self.oidc } else { &self.bearer };
        vec![
            ("authorization", format!("Bearer {token}")),
            ("x-api-key", self.api_key.clone()),
            ("cookie", format!("session={}; theme=dark", self.cookie)),
            ("proxy-authorization", format!("Basic {}", self.proxy)),
        ]
    }

    fn all(&self) -> Vec<&str> {
        let signature = self.oidc.rsplit('.').next().unwrap_or_default();
        vec![
            &self.bearer,
            &self.api_key,
            &self.cookie,
            &self.proxy,
            &self.query,
            &self.oidc,
            signature,
        ]
    }

    /// Fails naming the secret and the line it appears on.
    fn assert_absent(&self, what: &str, text: &str) {
        for secret in self.all() {
            if let Some(line) = text.lines().find(|l| l.contains(secret)) {
                panic!("{what} contains the secret `{secret}`:\n{line}");
            }
        }
    }
}

/// `GET /ok`, `/fail` (a 500), `/panic`; queue `orders` (body `fail` fails,
/// `panic` panics).
fn app() -> App {
    let router = axum::Router::new()
        .route("/ok", axum::routing::get(|| async { "ok" }))
        .route(
            "/fail",
            axum::routing::get(|| async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "handler failed",
                )
            }),
        )
        .route(
            "/panic",
            axum::routing::get(|| async {
                if true {
                    panic!("asked to panic");
                }
                "unreachable"
            }),
        );
    App::new()
        .http(router)
        .on_queue("orders", |msg: QueueMessage, _ctx: Context| async move {
            match &msg.body[..] {
                b"fail" => Err::<(), BoxError>("asked to fail".into()),
                b"panic" => panic!("asked to panic"),
                _ => Ok(()),
            }
        })
}

const PATHS: [&str; 4] = ["/ok", "/fail", "/panic", "/missing"];

/// Sends each user route, with the secrets in headers and the query.
async fn user_requests(http: &reqwest::Client, base: &str, secrets: &Secrets) -> Vec<String> {
    let mut replies = Vec::new();
    for path in PATHS {
        let mut req = http.get(format!("{base}{path}?access_token={}", secrets.query));
        for (name, value) in secrets.headers(false) {
            req = req.header(name, value);
        }
        let res = req.send().await.unwrap();
        replies.push(res.text().await.unwrap());
    }
    replies
}

/// Waits until `text` appears in the logs (the handlers ran and logging works).
async fn logged(text: &str) {
    for _ in 0..200 {
        if logs().contains(text) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("`{text}` never logged; the capture is not working");
}

#[tokio::test]
async fn local_runner_logs_no_secret() {
    captured();
    let secrets = Secrets::new("local");
    let dir = tempfile::tempdir().unwrap();
    let mut config = nubes_local::LocalConfig::default();
    config.port = 0;
    config.data_dir = dir.path().join(".nubes");
    config.run_schedules = false;
    config.max_attempts = 2;
    config.retry_delay = std::time::Duration::from_millis(10);
    let server = nubes_local::start(app(), config).await.unwrap();
    let http = reqwest::Client::new();
    let base = server.url();
    let mut replies = user_requests(&http, &base, &secrets).await;
    for body in ["ok", "fail", "panic"] {
        let mut req = http
            .post(format!(
                "{base}/_nubes/queues/orders?wait=true&access_token={}",
                secrets.query
            ))
            .body(body);
        for (name, value) in secrets.headers(true) {
            req = req.header(name, value);
        }
        replies.push(req.send().await.unwrap().text().await.unwrap());
    }
    logged("asked to panic").await;
    logged("asked to fail").await;
    server.shutdown().await.unwrap();
    secrets.assert_absent("the local runner's logs", &logs());
    secrets.assert_absent("the local runner's replies", &replies.join("\n"));
}

#[tokio::test]
async fn gcp_server_logs_no_secret() {
    captured();
    let secrets = Secrets::new("gcp");
    // Push authentication on, against a key set that knows no key: every
    // token is refused (and that refusal is logged).
    let jwks = axum::Router::new().route(
        "/certs",
        axum::routing::get(|| async { axum::Json(json!({"keys": []})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/certs", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, jwks).await });
    let mut http = reqwest::Client::new();
    let mut replies = Vec::new();
    for authenticated in [false, true] {
        let mut config = nubes_gcp::GcpConfig::default();
        config.host = [127, 0, 0, 1].into();
        config.port = 0;
        if authenticated {
            let mut auth = nubes_gcp::PushAuthConfig::new("https://svc.run.app", Vec::new());
            auth.jwks_url = jwks_url.clone();
            config.push_auth = Some(auth);
        }
        let server = nubes_gcp::start(app(), config).await.unwrap();
        let base = server.url();
        replies.extend(user_requests(&http, &base, &secrets).await);
        for body in ["ok", "fail", "panic"] {
            let envelope = json!({
                "message": {"data": STANDARD.encode(body), "messageId": format!("m-{body}"),
                    "attributes": {"kind": "order"}},
                "subscription": "projects/proj/subscriptions/orders",
            });
            for path in ["/_nubes/queues/orders", "/"] {
                let mut req = http
                    .post(format!("{base}{path}?access_token={}", secrets.query))
                    .json(&envelope);
                for (name, value) in secrets.headers(true) {
                    req = req.header(name, value);
                }
                replies.push(req.send().await.unwrap().text().await.unwrap());
            }
        }
        server.shutdown().await.unwrap();
        http = reqwest::Client::new();
    }
    logged("asked to panic").await;
    logged("refused an event delivery").await;
    secrets.assert_absent("the GCP server's logs", &logs());
    secrets.assert_absent("the GCP server's replies", &replies.join("\n"));
}

#[tokio::test]
async fn azure_handler_logs_no_secret() {
    captured();
    let secrets = Secrets::new("azure");
    let server = nubes_azure::start(app(), nubes_azure::AzureConfig::default())
        .await
        .unwrap();
    let base = server.url();
    let http = reqwest::Client::new();
    // Forwarded HTTP requests reach the routes as they are.
    let mut replies = user_requests(&http, &base, &secrets).await;
    // The `httpTrigger` envelope carries the headers in `Data.req.Headers`.
    for path in PATHS {
        let headers: serde_json::Map<String, Value> = secrets
            .headers(false)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), json!([value])))
            .collect();
        let envelope = json!({
            "Data": {"req": {
                "Url": format!("https://app.azurewebsites.net{path}?access_token={}", secrets.query),
                "Method": "GET",
                "Query": {"access_token": secrets.query},
                "Headers": headers,
                "Identities": [{"AuthenticationType": "Bearer", "BootstrapContext": secrets.oidc}],
            }},
            "Metadata": {"sys": {"MethodName": "http", "UtcNow": "2026-11-28T03:00:00Z"}},
        });
        let res = http
            .post(format!("{base}/http"))
            .header("x-azure-functions-invocationid", "inv-secrets")
            .json(&envelope)
            .send()
            .await
            .unwrap();
        replies.push(res.text().await.unwrap());
    }
    for body in ["ok", "fail", "panic"] {
        let envelope = json!({
            "Data": {"messageBase64": STANDARD.encode(body)},
            "Metadata": {"DequeueCount": 1, "Id": format!("q-{body}"),
                "sys": {"MethodName": "orders", "UtcNow": "2026-11-28T03:00:00Z"}},
        });
        let mut req = http
            .post(format!("{base}/orders"))
            .header("x-azure-functions-invocationid", format!("inv-{body}"))
            .json(&envelope);
        for (name, value) in secrets.headers(true) {
            req = req.header(name, value);
        }
        // The reply's `Logs` go to Application Insights: checked below.
        replies.push(req.send().await.unwrap().text().await.unwrap());
    }
    logged("asked to panic").await;
    server.shutdown().await.unwrap();
    secrets.assert_absent("the Azure handler's logs", &logs());
    secrets.assert_absent("the Azure handler's replies", &replies.join("\n"));
}

#[tokio::test]
async fn aws_handler_logs_no_secret() {
    captured();
    let secrets = Secrets::new("aws");
    let handler = nubes_aws::LambdaHandler::new(app(), nubes_aws::AwsConfig::default()).unwrap();
    let template = nubes_test_support::fixtures::json("aws/apigw-http-v2.json");
    let mut replies = Vec::new();
    for (n, route) in PATHS.iter().enumerate() {
        let mut event = template.clone();
        event["rawPath"] = json!(route);
        event["requestContext"]["http"]["path"] = json!(route);
        event["requestContext"]["http"]["method"] = json!("GET");
        event["rawQueryString"] = json!(format!("access_token={}", secrets.query));
        event["queryStringParameters"] = json!({"access_token": secrets.query});
        event["cookies"] = json!([format!("session={}", secrets.cookie)]);
        let headers: serde_json::Map<String, Value> = secrets
            .headers(n % 2 == 1)
            .into_iter()
            .filter(|(name, _)| *name != "cookie")
            .map(|(name, value)| (name.to_owned(), json!(value)))
            .collect();
        event["headers"] = Value::Object(headers);
        event["requestContext"]["authorizer"]["jwt"]["claims"]["token"] = json!(secrets.oidc);
        let reply = handler
            .handle(
                event.to_string().into(),
                &nubes_aws::Invocation::new(format!("req-{n}")),
            )
            .await;
        replies.push(match reply {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) => err.message().to_owned(),
        });
    }
    logged("asked to panic").await;
    secrets.assert_absent("the AWS handler's logs", &logs());
    secrets.assert_absent("the AWS handler's replies", &replies.join("\n"));
}
