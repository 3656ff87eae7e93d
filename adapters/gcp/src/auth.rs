//! Verification of the Google-signed OIDC tokens that Pub/Sub push,
//! Eventarc and Cloud Scheduler attach to their deliveries.
//!
//! The token's signature is checked against Google's JWKS (fetched on first
//! use, cached, fetched again when a token names an unknown key id, at most
//! once per `refresh_interval` so forged key ids cannot hammer Google), then
//! its issuer, audience, expiry (and `nbf` / `iat`, 30 s leeway) and signer
//! (service-account email). Only RS256 is accepted ([`crate::jwt`]).
//!
//! Built with the `push-auth` feature; without it, `auth_unavailable.rs`
//! takes this module's place and refuses to start when verification is asked for.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::response::Response;
use http::{HeaderMap, StatusCode, header};
use nubes_core::Error;
use tokio::sync::{Mutex, RwLock};

use crate::PushAuthConfig;
use crate::jwks::JwksClient;
use crate::jwt::{self, Claims, Expectations, PublicKey};
use crate::reply;

/// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 30;

/// `Ok` when no verifier is configured or the delivery's token passes;
/// otherwise the refusal (logged) as the reply to send.
pub(crate) async fn authorize(
    verifier: Option<&Verifier>,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let Some(verifier) = verifier else {
        return Ok(());
    };
    verifier.verify(headers).await.map(|_| ()).map_err(|refusal| {
        tracing::warn!(status = refusal.status.as_u16(), error = %refusal.error, "refused an event delivery");
        reply::error(refusal.status, &refusal.error)
    })
}

/// Why a delivery was refused: `401` (no or bad token), `403` (a valid token
/// from a signer that is not allowed) or `503` (the keys could not be fetched).
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    error: Error,
}

impl Refusal {
    fn unauthorized(message: impl Into<String>) -> Self {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            error: Error::invalid_event(message),
        }
    }
}

/// Checks bearer tokens against a cached key set.
pub(crate) struct Verifier {
    config: PushAuthConfig,
    jwks: JwksClient,
    keys: RwLock<HashMap<String, Arc<PublicKey>>>,
    /// Serialises fetches and remembers when the last one happened.
    last_fetch: Mutex<Option<Instant>>,
}

impl Verifier {
    pub(crate) fn new(config: PushAuthConfig) -> Result<Self, Error> {
        let jwks = JwksClient::new(&config.jwks_url)?;
        Ok(Verifier {
            config,
            jwks,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        })
    }

    /// Verifies the `Authorization: Bearer …` token of a delivery.
    async fn verify(&self, headers: &HeaderMap) -> Result<Claims, Refusal> {
        let token = jwt::parse(bearer(headers)?).map_err(Refusal::unauthorized)?;
        let key = self.key(&token.kid).await?;
        let expect = Expectations {
            audiences: &self.config.audiences,
            issuers: &self.config.issuers,
            leeway: LEEWAY_SECS,
        };
        let claims = token
            .verify(&key, &expect, SystemTime::now())
            .map_err(Refusal::unauthorized)?;
        if !self.config.service_accounts.is_empty() {
            let allowed = claims.email_verified != Some(false)
                && claims
                    .email
                    .as_deref()
                    .is_some_and(|e| self.config.service_accounts.iter().any(|a| a == e));
            if !allowed {
                return Err(Refusal {
                    status: StatusCode::FORBIDDEN,
                    error: Error::invalid_event(format!(
                        "the token was issued to `{}`, which is not an allowed push service account",
                        claims.email.as_deref().unwrap_or("(no email)")
                    )),
                });
            }
        }
        Ok(claims)
    }

    /// The key `kid`, fetching the key set when it is unknown.
    async fn key(&self, kid: &str) -> Result<Arc<PublicKey>, Refusal> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        if last_fetch.is_some_and(|at| at.elapsed() < self.config.refresh_interval) {
            return Err(Refusal::unauthorized(format!(
                "unknown signing key `{kid}`"
            )));
        }
        let fetched = self.fetch().await;
        *last_fetch = Some(Instant::now());
        let fresh = fetched?;
        let key = fresh.get(kid).cloned();
        *self.keys.write().await = fresh;
        key.ok_or_else(|| Refusal::unauthorized(format!("unknown signing key `{kid}`")))
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<PublicKey>>, Refusal> {
        let unavailable = |message: String| Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: Error::platform(message),
        };
        let url = self.jwks.url();
        let keys = self
            .jwks
            .fetch()
            .await
            .and_then(|document| jwt::rs256_keys(&document))
            .map_err(|e| unavailable(format!("fetching Google's signing keys from {url}: {e}")))?;
        let keys: HashMap<_, _> = keys
            .into_iter()
            .map(|(kid, key)| (kid, Arc::new(key)))
            .collect();
        tracing::debug!(keys = keys.len(), %url, "fetched OIDC signing keys");
        Ok(keys)
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, Refusal> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Refusal::unauthorized("the delivery carries no Authorization header"))?;
    let value = value
        .to_str()
        .map_err(|_| Refusal::unauthorized("the Authorization header is not ASCII"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Refusal::unauthorized(
            "the Authorization header is not `Bearer <token>`",
        )),
    }
}
