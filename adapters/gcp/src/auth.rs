//! Verification of the Google-signed OIDC tokens that Pub/Sub push,
//! Eventarc and Cloud Scheduler attach to their deliveries.
//!
//! The token's signature is checked against Google's JWKS (fetched on first
//! use, cached, fetched again when a token names an unknown key id, at most
//! once per `refresh_interval` so forged key ids cannot hammer Google), then
//! its issuer, audience, expiry and signer (service-account email).

use std::collections::HashMap;
use std::time::Instant;

use http::{HeaderMap, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nubes_core::Error;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::PushAuthConfig;
use crate::jwks::JwksClient;

/// Why a delivery was refused: `401` (no or bad token), `403` (a valid token
/// from a signer that is not allowed) or `503` (the keys could not be fetched).
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) error: Error,
}

impl Refusal {
    fn unauthorized(message: impl Into<String>) -> Self {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            error: Error::invalid_event(message),
        }
    }
}

/// The claims of a Google-signed ID token that nubes checks.
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    #[serde(default)]
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) email_verified: Option<bool>,
}

/// Checks bearer tokens against a cached key set.
pub(crate) struct Verifier {
    config: PushAuthConfig,
    validation: Validation,
    jwks: JwksClient,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// Serialises fetches and remembers when the last one happened.
    last_fetch: Mutex<Option<Instant>>,
}

impl Verifier {
    pub(crate) fn new(config: PushAuthConfig) -> Result<Self, Error> {
        let jwks = JwksClient::new(&config.jwks_url)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&config.audiences);
        validation.set_issuer(&config.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 30;
        Ok(Verifier {
            config,
            validation,
            jwks,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        })
    }

    /// Verifies the `Authorization: Bearer …` token of a delivery.
    pub(crate) async fn verify(&self, headers: &HeaderMap) -> Result<Claims, Refusal> {
        let token = bearer(headers)?;
        let head = jsonwebtoken::decode_header(token)
            .map_err(|e| Refusal::unauthorized(format!("the bearer token is not a JWT: {e}")))?;
        if head.alg != Algorithm::RS256 {
            return Err(Refusal::unauthorized(format!(
                "the token is signed with {:?}; Google signs with RS256",
                head.alg
            )));
        }
        let kid = head
            .kid
            .ok_or_else(|| Refusal::unauthorized("the token names no signing key (`kid`)"))?;
        let key = self.key(&kid).await?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| Refusal::unauthorized(format!("the token was rejected: {e}")))?;
        let claims = data.claims;
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
    async fn key(&self, kid: &str) -> Result<DecodingKey, Refusal> {
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

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, Refusal> {
        let unavailable = |message: String| Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: Error::platform(message),
        };
        let url = self.jwks.url();
        let set =
            self.jwks.fetch().await.map_err(|e| {
                unavailable(format!("fetching Google's signing keys from {url}: {e}"))
            })?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                continue;
            };
            keys.insert(kid, key);
        }
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
