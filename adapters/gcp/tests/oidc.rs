//! Authenticated push: deliveries must carry a Google-signed OIDC token.
//! The keys are generated here (with the `openssl` CLI) and the JWKS is
//! served on loopback, exactly as Google's certs endpoint serves it.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{loopback, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nubes_gcp::PushAuthConfig;
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
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(&self.pem).unwrap(),
        )
        .unwrap()
    }
}

/// Two keys per test binary (generation is the slow part).
fn keys() -> Option<&'static (Key, Key)> {
    static KEYS: OnceLock<Option<(Key, Key)>> = OnceLock::new();
    KEYS.get_or_init(|| Some((generate()?, generate()?)))
        .as_ref()
}

fn generate() -> Option<Key> {
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
        .ok()?;
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
    Some(Key {
        pem: std::fs::read(&path).unwrap(),
        n: URL_SAFE_NO_PAD.encode(bytes),
    })
}

/// `None` (after a visible SKIP line) when `openssl` is missing outside CI.
fn keys_or_skip() -> Option<&'static (Key, Key)> {
    let keys = keys();
    if keys.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the OIDC tests need the `openssl` CLI to generate keys"
        );
        println!("SKIP: `openssl` not found; OIDC tests not run");
    }
    keys
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
async fn valid_tokens_are_accepted_and_keys_are_fetched_once() {
    let Some((a, _)) = keys_or_skip() else { return };
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
async fn bad_tokens_are_refused_before_the_handler() {
    let Some((a, b)) = keys_or_skip() else { return };
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
async fn a_rotated_key_is_fetched_when_first_seen() {
    let Some((a, b)) = keys_or_skip() else { return };
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
async fn an_unreachable_key_set_is_a_503() {
    let Some((a, _)) = keys_or_skip() else { return };
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
