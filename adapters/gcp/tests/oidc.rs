//! Authenticated push: deliveries must carry a Google-signed OIDC token.
//! The keys are generated here (with the `openssl` CLI) and the JWKS is
//! served on loopback, exactly as Google's certs endpoint serves it. Forged
//! deliveries (no token, wrong audience, expired, wrong signer, bad
//! signature, wrong issuer, wrong email, …) get 401/403 on every event path
//! and no handler ever runs.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{fixture, loopback, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nubes_gcp::PushAuthConfig;
use nubes_test_support::tool::require_tool;
use serde_json::{Value, json};

const AUDIENCE: &str = "https://orders-abc123-ew.a.run.app";
const PUSHER: &str = "pusher@my-project.iam.gserviceaccount.com";

/// An RSA key: its PEM (for signing) and its public JWK.
struct Key {
    pem: Vec<u8>,
    n: String,
}

impl Key {
    fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": self.n, "e": "AQAB"})
    }

    fn sign(&self, kid: &str, claims: &Value) -> String {
        self.sign_with(Algorithm::RS256, kid, claims)
    }

    /// Signed with this (RSA) key, but with another algorithm.
    fn sign_with(&self, alg: Algorithm, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(&self.pem).unwrap(),
        )
        .unwrap()
    }

    /// A genuine RS256 signature over any header (JSON text) and claims.
    fn sign_raw(&self, header: &str, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key = EncodingKey::from_rsa_pem(&self.pem).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).unwrap();
        format!("{input}.{signature}")
    }
}

/// Two keys per test binary (generation is the slow part), made with the
/// `openssl` CLI: the tests that use them are
/// `#[ignore = "needs openssl: .ci/install-gcp.sh"]`.
///
/// Panics (saying how to install it) when `openssl` is missing.
fn keys() -> &'static (Key, Key) {
    static KEYS: OnceLock<(Key, Key)> = OnceLock::new();
    KEYS.get_or_init(|| {
        require_tool(
            "openssl",
            &["version"],
            "run .ci/install-gcp.sh (apt-get install openssl)",
        );
        (generate(), generate())
    })
}

fn generate() -> Key {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(status.status.success(), "openssl genpkey failed");
    let out = Command::new("openssl")
        .args(["rsa", "-noout", "-modulus", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().strip_prefix("Modulus=").unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Key {
        pem: std::fs::read(&path).unwrap(),
        n: URL_SAFE_NO_PAD.encode(bytes),
    }
}

/// A JWKS endpoint on loopback whose key set can change, counting fetches.
struct Jwks {
    url: String,
    set: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

async fn jwks(initial: Value) -> Jwks {
    let set = Arc::new(Mutex::new(initial));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (s, f) = (set.clone(), fetches.clone());
    let router = axum::Router::new().route(
        "/oauth2/v3/certs",
        axum::routing::get(move || {
            let (s, f) = (s.clone(), f.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                axum::Json(s.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth2/v3/certs", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Jwks { url, set, fetches }
}

fn claims(aud: &str, email: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": "https://accounts.google.com",
        "aud": aud,
        "azp": "1234567890",
        "sub": "1234567890",
        "email": email,
        "email_verified": true,
        "iat": now - 10,
        "exp": now + exp_offset,
    })
}

fn auth_config(jwks_url: &str) -> nubes_gcp::GcpConfig {
    let mut auth = PushAuthConfig::new(AUDIENCE, vec![PUSHER.to_owned()]);
    auth.jwks_url = jwks_url.to_owned();
    auth.refresh_interval = Duration::ZERO;
    let mut config = loopback();
    config.push_auth = Some(auth);
    config
}

fn envelope() -> Value {
    json!({
        "message": {"data": "aGVsbG8=", "messageId": "m-1", "message_id": "m-1"},
        "subscription": "projects/my-project/subscriptions/orders",
    })
}

async fn push(base: &str, authorization: Option<String>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/_nubes/queues/orders"))
        .json(&envelope());
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    req.send().await.unwrap()
}

#[tokio::test]
#[ignore = "needs openssl: .ci/install-gcp.sh"]
async fn valid_tokens_are_accepted_and_keys_are_fetched_once() {
    let (a, _) = keys();
    let jwks = jwks(json!({"keys": [a.jwk("k1")]})).await;
    let (server, seen) = serve(auth_config(&jwks.url)).await;
    let token = a.sign("k1", &claims(AUDIENCE, PUSHER, 3600));
    for _ in 0..3 {
        let res = push(&server.url(), Some(format!("Bearer {token}"))).await;
        assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    }
    assert_eq!(seen.take().len(), 3);
    assert_eq!(
        jwks.fetches.load(Ordering::SeqCst),
        1,
        "the key set is cached"
    );
    // The app's own routes need no token.
    let res = reqwest::get(format!("{}/hello", server.url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.shutdown().await.unwrap();
}

#[tokio::test]
#[ignore = "needs openssl: .ci/install-gcp.sh"]
async fn bad_tokens_are_refused_before_the_handler() {
    let (a, b) = keys();
    let jwks = jwks(json!({"keys": [a.jwk("k1")]})).await;
    let (server, seen) = serve(auth_config(&jwks.url)).await;
    let good = claims(AUDIENCE, PUSHER, 3600);
    let mut wrong_issuer = good.clone();
    wrong_issuer["iss"] = json!("https://evil.example.com");
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let cases: Vec<(&str, Option<String>, u16)> = vec![
        ("no header", None, 401),
        (
            "not bearer",
            Some(format!("Basic {}", a.sign("k1", &good))),
            401,
        ),
        ("not a JWT", Some("Bearer not.a.jwt".into()), 401),
        (
            "signed by another key",
            Some(format!("Bearer {}", b.sign("k1", &good))),
            401,
        ),
        (
            "wrong audience",
            Some(format!(
                "Bearer {}",
                a.sign("k1", &claims("https://other.run.app", PUSHER, 3600))
            )),
            401,
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                a.sign("k1", &claims(AUDIENCE, PUSHER, -3600))
            )),
            401,
        ),
        (
            "wrong issuer",
            Some(format!("Bearer {}", a.sign("k1", &wrong_issuer))),
            401,
        ),
        ("HS256", Some(format!("Bearer {hs256}")), 401),
        (
            "unknown key id",
            Some(format!("Bearer {}", a.sign("nope", &good))),
            401,
        ),
        (
            "other service account",
            Some(format!(
                "Bearer {}",
                a.sign(
                    "k1",
                    &claims(AUDIENCE, "intruder@x.iam.gserviceaccount.com", 3600)
                )
            )),
            403,
        ),
    ];
    for (what, authorization, status) in cases {
        let res = push(&server.url(), authorization).await;
        assert_eq!(res.status().as_u16(), status, "{what}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"]["message"].is_string(), "{what}: {body}");
    }
    assert!(seen.all().is_empty(), "no handler ran");
    // Scheduler and storage paths are guarded the same way.
    for path in ["/_nubes/schedules/nightly", "/_nubes/storage/uploads"] {
        let res = reqwest::Client::new()
            .post(format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
#[ignore = "needs openssl: .ci/install-gcp.sh"]
async fn a_rotated_key_is_fetched_when_first_seen() {
    let (a, b) = keys();
    let jwks = jwks(json!({"keys": [a.jwk("k1")]})).await;
    let (server, seen) = serve(auth_config(&jwks.url)).await;
    let res = push(
        &server.url(),
        Some(format!(
            "Bearer {}",
            a.sign("k1", &claims(AUDIENCE, PUSHER, 3600))
        )),
    )
    .await;
    assert_eq!(res.status(), 204);
    // Google rotates: the new key appears in the set.
    *jwks.set.lock().unwrap() = json!({"keys": [a.jwk("k1"), b.jwk("k2")]});
    let res = push(
        &server.url(),
        Some(format!(
            "Bearer {}",
            b.sign("k2", &claims(AUDIENCE, PUSHER, 3600))
        )),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(seen.take().len(), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
#[ignore = "needs openssl: .ci/install-gcp.sh"]
async fn an_unreachable_key_set_is_a_503() {
    let (a, _) = keys();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (server, seen) = serve(auth_config(&format!("http://127.0.0.1:{port}/certs"))).await;
    let res = push(
        &server.url(),
        Some(format!(
            "Bearer {}",
            a.sign("k1", &claims(AUDIENCE, PUSHER, 3600))
        )),
    )
    .await;
    assert_eq!(res.status(), 503);
    assert!(seen.all().is_empty());
    server.shutdown().await.unwrap();
}

/// A token whose payload was changed after signing (the signature is the
/// original one).
fn tampered(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let (head, _, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{head}.{payload}.{signature}")
}

/// Every forged or unacceptable `Authorization` value, with the status it gets.
fn forgeries(a: &Key, b: &Key) -> Vec<(&'static str, Option<String>, u16)> {
    let good = claims(AUDIENCE, PUSHER, 3600);
    let bearer = |token: String| Some(format!("Bearer {token}"));
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let without = |field: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(field);
        c
    };
    let valid = a.sign("k1", &good);
    let mut flipped_signature = valid.clone().into_bytes();
    let last = flipped_signature.len() - 2;
    flipped_signature[last] = if flipped_signature[last] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let no_kid = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &good,
        &EncodingKey::from_rsa_pem(&a.pem).unwrap(),
    )
    .unwrap();
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let hs256_with_kid = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        // The classic confusion attack: the public key's bytes as HMAC secret.
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(a.n.as_bytes())).unwrap()
    };
    vec![
        ("no Authorization header", None, 401),
        ("empty bearer", Some("Bearer ".into()), 401),
        ("not bearer", Some(format!("Basic {valid}")), 401),
        ("not a JWT", bearer("not.a.jwt".into()), 401),
        ("alg none", bearer(alg_none), 401),
        (
            "HS256 with the public key as secret",
            bearer(hs256_with_kid),
            401,
        ),
        ("no key id", bearer(no_kid), 401),
        ("key not in the JWKS", bearer(b.sign("k9", &good)), 401),
        ("known key id, other key", bearer(b.sign("k1", &good)), 401),
        (
            "payload changed after signing",
            bearer(tampered(
                &valid,
                &with("email", json!("intruder@x.iam.gserviceaccount.com")),
            )),
            401,
        ),
        (
            "signature altered",
            bearer(String::from_utf8(flipped_signature).unwrap()),
            401,
        ),
        (
            "wrong audience",
            bearer(a.sign("k1", &claims("https://other.run.app", PUSHER, 3600))),
            401,
        ),
        ("no audience", bearer(a.sign("k1", &without("aud"))), 401),
        (
            "expired an hour ago",
            bearer(a.sign("k1", &claims(AUDIENCE, PUSHER, -3600))),
            401,
        ),
        (
            "expired beyond the leeway",
            bearer(a.sign("k1", &claims(AUDIENCE, PUSHER, -120))),
            401,
        ),
        ("no expiry", bearer(a.sign("k1", &without("exp"))), 401),
        (
            "wrong issuer",
            bearer(a.sign("k1", &with("iss", json!("https://evil.example.com")))),
            401,
        ),
        ("no issuer", bearer(a.sign("k1", &without("iss"))), 401),
        (
            "other service account",
            bearer(a.sign(
                "k1",
                &claims(AUDIENCE, "intruder@x.iam.gserviceaccount.com", 3600),
            )),
            403,
        ),
        (
            "email not verified",
            bearer(a.sign("k1", &with("email_verified", json!(false)))),
            403,
        ),
        ("no email", bearer(a.sign("k1", &without("email"))), 403),
        // Only RS256: the right key with another RSA algorithm is refused too.
        (
            "RS384",
            bearer(a.sign_with(Algorithm::RS384, "k1", &good)),
            401,
        ),
        (
            "RS512",
            bearer(a.sign_with(Algorithm::RS512, "k1", &good)),
            401,
        ),
        (
            "PS256",
            bearer(a.sign_with(Algorithm::PS256, "k1", &good)),
            401,
        ),
        (
            "critical header extension",
            bearer(a.sign_raw(
                r#"{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}"#,
                &good,
            )),
            401,
        ),
        (
            "four parts",
            bearer(format!("{valid}.{}", valid.rsplit('.').next().unwrap())),
            401,
        ),
        (
            "not valid for two minutes (nbf)",
            bearer(a.sign("k1", &with("nbf", json!(now() + 120)))),
            401,
        ),
        (
            "issued two minutes from now (iat)",
            bearer(a.sign("k1", &with("iat", json!(now() + 120)))),
            401,
        ),
        (
            "expiry not a number",
            bearer(a.sign("k1", &with("exp", json!((now() + 3600).to_string())))),
            401,
        ),
        (
            "audience list without ours",
            bearer(a.sign("k1", &with("aud", json!(["https://other.run.app", "x"])))),
            401,
        ),
        (
            "issuer with another scheme",
            bearer(a.sign("k1", &with("iss", json!("http://accounts.google.com")))),
            401,
        ),
    ]
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Tokens that differ from the usual in ways Google's tokens may (clock skew
/// within the 30 s leeway, an audience list, the issuer without scheme) are
/// accepted.
#[tokio::test]
#[ignore = "needs openssl: .ci/install-gcp.sh"]
async fn tokens_within_the_rules_are_accepted() {
    let (a, _) = keys();
    let jwks = jwks(json!({"keys": [a.jwk("k1")]})).await;
    let (server, seen) = serve(auth_config(&jwks.url)).await;
    let good = claims(AUDIENCE, PUSHER, 3600);
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let cases = [
        (
            "expired 10 s ago, within the leeway",
            with("exp", json!(now() - 10)),
        ),
        ("valid 10 s from now (nbf)", with("nbf", json!(now() + 10))),
        ("issued 10 s from now (iat)", with("iat", json!(now() + 10))),
        (
            "audience list with ours",
            with("aud", json!(["https://other.run.app", AUDIENCE])),
        ),
        (
            "issuer without scheme",
            with("iss", json!("accounts.google.com")),
        ),
        ("no email_verified claim", {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove("email_verified");
            c
        }),
        (
            "fractional expiry",
            with("exp", json!(now() as f64 + 3600.5)),
        ),
    ];
    for (what, claims) in &cases {
        let res = push(
            &server.url(),
            Some(format!("Bearer {}", a.sign("k1", claims))),
        )
        .await;
        assert_eq!(res.status(), 204, "{what}: {}", res.text().await.unwrap());
    }
    assert_eq!(seen.take().len(), cases.len());
    server.shutdown().await.unwrap();
}

/// Counts handler runs of every kind.
fn counting_app(calls: &Arc<AtomicUsize>) -> nubes_core::App {
    use nubes_core::{BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
    let (q, s, t) = (calls.clone(), calls.clone(), calls.clone());
    nubes_core::App::new()
        .http(axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" })))
        .on_queue("orders", move |_: QueueMessage, _: Context| {
            let calls = q.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<(), BoxError>(())
            }
        })
        .on_storage("uploads", move |_: StorageEvent, _: Context| {
            let calls = s.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<(), BoxError>(())
            }
        })
        .on_schedule(
            "nightly",
            "0 3 * * *",
            move |_: ScheduledEvent, _: Context| {
                let calls = t.clone();
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok::<(), BoxError>(())
                }
            },
        )
}

#[tokio::test]
#[ignore = "needs openssl: .ci/install-gcp.sh"]
async fn forged_deliveries_never_reach_a_handler_on_any_event_path() {
    let (a, b) = keys();
    let jwks = jwks(json!({"keys": [a.jwk("k1")]})).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let server = nubes_gcp::start(counting_app(&calls), auth_config(&jwks.url))
        .await
        .unwrap();
    let base = server.url();
    let http = reqwest::Client::new();
    // Each event path with a delivery its handler would accept.
    let deliveries: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "/_nubes/queues/orders",
            "application/json",
            envelope().to_string().into_bytes(),
        ),
        (
            "/_nubes/storage/uploads",
            "application/cloudevents+json",
            fixture("cloudevent-storage-finalized.structured.json"),
        ),
        (
            "/_nubes/schedules/nightly",
            "application/json",
            b"{}".to_vec(),
        ),
        // Auto-detected on `/`, as the Functions Framework does.
        ("/", "application/json", envelope().to_string().into_bytes()),
    ];
    let send = |path: &str, content_type: &str, body: &[u8], authorization: Option<&str>| {
        let mut req = http
            .post(format!("{base}{path}"))
            .header("content-type", content_type)
            .body(body.to_vec());
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        req.send()
    };
    let forgeries = forgeries(a, b);
    let mut refused = 0;
    for (path, content_type, body) in &deliveries {
        for (what, authorization, status) in &forgeries {
            let res = send(path, content_type, body, authorization.as_deref())
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), *status, "{path}: {what}");
            let reply: Value = res.json().await.unwrap();
            assert!(
                reply["error"]["message"].is_string(),
                "{path}: {what}: {reply}"
            );
            assert_eq!(
                calls.load(Ordering::SeqCst),
                0,
                "{path}: {what} ran a handler"
            );
            refused += 1;
        }
    }
    // The same deliveries with a genuine token do run (so the counter works).
    let genuine = format!("Bearer {}", a.sign("k1", &claims(AUDIENCE, PUSHER, 3600)));
    for (n, (path, content_type, body)) in deliveries.iter().enumerate() {
        let res = send(path, content_type, body, Some(&genuine))
            .await
            .unwrap();
        let status = res.status();
        assert!(
            status.is_success(),
            "{path}: {status} {}",
            res.text().await.unwrap()
        );
        assert_eq!(calls.load(Ordering::SeqCst), n + 1, "{path}");
    }
    println!("{refused} forged deliveries refused, 0 handler runs");
    server.shutdown().await.unwrap();
}
