//! RS256 JSON Web Tokens (RFC 7519) checked with `ring`, which the JWKS
//! client's rustls links anyway: Google signs its ID tokens with RS256 only,
//! so nubes needs neither a general JWT library nor other algorithms (and
//! accepting only RS256 rules out `none` and HMAC-with-the-public-key tricks).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde::Deserialize;

/// An RSA public key of a key set, for RS256 signatures.
pub(crate) struct PublicKey(RsaPublicKeyComponents<Vec<u8>>);

/// One entry of a JWKS document; entries of other kinds or uses are skipped.
#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

/// The RS256 signing keys of a JWKS document by key id; entries that are not
/// RSA signing keys, or are malformed, are left out.
pub(crate) fn rs256_keys(document: &[u8]) -> Result<Vec<(String, PublicKey)>, String> {
    let set: JwkSet =
        serde_json::from_slice(document).map_err(|e| format!("not a JWKS document: {e}"))?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| {
            let usable = jwk.kty.as_deref() == Some("RSA")
                && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
                && jwk.usage.as_deref().is_none_or(|usage| usage == "sig");
            if !usable {
                return None;
            }
            let n = URL_SAFE_NO_PAD.decode(jwk.n?).ok()?;
            let e = URL_SAFE_NO_PAD.decode(jwk.e?).ok()?;
            Some((jwk.kid?, PublicKey(RsaPublicKeyComponents { n, e })))
        })
        .collect())
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Extensions the token says must be understood; nubes understands none.
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A token split into its parts, its signature not yet checked.
pub(crate) struct Unverified<'a> {
    /// The `kid` of its header: which key signed it.
    pub(crate) kid: String,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

/// Splits a compact JWS and reads its header; anything but RS256 with a key
/// id is refused here, before any key is looked up.
pub(crate) fn parse(token: &str) -> Result<Unverified<'_>, String> {
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or("the bearer token is not a JWT (three dot-separated parts)")?;
    let (header, payload) = signing_input
        .split_once('.')
        .filter(|(_, payload)| !payload.contains('.'))
        .ok_or("the bearer token is not a JWT (three dot-separated parts)")?;
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or("the bearer token's header is not base64url JSON")?;
    if header.alg != "RS256" {
        return Err(format!(
            "the token is signed with `{}`; Google signs with RS256",
            header.alg
        ));
    }
    if header.crit.is_some() {
        return Err("the token has critical header extensions (`crit`)".to_owned());
    }
    let kid = header.kid.ok_or("the token names no signing key (`kid`)")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the token's signature is not base64url")?;
    Ok(Unverified {
        kid,
        signing_input,
        payload,
        signature,
    })
}

/// What a token must say to be accepted.
pub(crate) struct Expectations<'a> {
    /// One of these must be (one of) its `aud`.
    pub(crate) audiences: &'a [String],
    /// Its `iss` must be one of these.
    pub(crate) issuers: &'a [String],
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub(crate) leeway: u64,
}

/// The claims of a Google-signed ID token that nubes checks.
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(default)]
    iat: Option<f64>,
    /// The signer (service-account email).
    #[serde(default)]
    pub(crate) email: Option<String>,
    /// Google's word that `email` is the account's.
    #[serde(default)]
    pub(crate) email_verified: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains_any(&self, accepted: &[String]) -> bool {
        match self {
            Audience::One(aud) => accepted.contains(aud),
            Audience::Many(auds) => auds.iter().any(|aud| accepted.contains(aud)),
        }
    }
}

impl Unverified<'_> {
    /// Checks the RS256 signature with `key`, then the claims against
    /// `expect` at `now`: `exp`, `iss` and `aud` are required; `nbf` and
    /// `iat`, when present, must not be in the future (beyond the leeway).
    pub(crate) fn verify(
        &self,
        key: &PublicKey,
        expect: &Expectations<'_>,
        now: SystemTime,
    ) -> Result<Claims, String> {
        key.0
            .verify(
                &RSA_PKCS1_2048_8192_SHA256,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .map_err(|_| "the token's signature does not verify")?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(self.payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or("the token's claims are not base64url JSON with the registered claim types")?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let leeway = expect.leeway as f64;
        let exp = claims.exp.ok_or("the token has no expiry (`exp`)")?;
        if exp + leeway < now {
            return Err("the token has expired".to_owned());
        }
        if claims.nbf.is_some_and(|nbf| nbf - leeway > now) {
            return Err("the token is not valid yet (`nbf`)".to_owned());
        }
        if claims.iat.is_some_and(|iat| iat - leeway > now) {
            return Err("the token was issued in the future (`iat`)".to_owned());
        }
        match &claims.iss {
            Some(iss) if expect.issuers.contains(iss) => {}
            Some(iss) => return Err(format!("the token's issuer `{iss}` is not Google")),
            None => return Err("the token has no issuer (`iss`)".to_owned()),
        }
        match &claims.aud {
            Some(aud) if aud.contains_any(expect.audiences) => {}
            Some(_) => return Err("the token is for another audience".to_owned()),
            None => return Err("the token has no audience (`aud`)".to_owned()),
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn token(header: serde_json::Value) -> String {
        format!("{}.{}.c2ln", b64(&header), b64(&json!({"aud": "x"})))
    }

    #[test]
    fn only_rsa_signing_keys_for_rs256_are_kept() {
        let rsa = |kid: &str| json!({"kty": "RSA", "kid": kid, "n": "AQAB", "e": "AQAB"});
        let with = |kid: &str, field: &str, value: serde_json::Value| {
            let mut key = rsa(kid);
            key[field] = value;
            key
        };
        let document = json!({"keys": [
            with("a", "alg", json!("RS256")),
            rsa("b"),
            with("c", "kty", json!("EC")),
            with("d", "alg", json!("RS384")),
            with("e", "use", json!("enc")),
            with("f", "n", json!("not base64!")),
            with("g", "n", json!(42)),
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            "not a key",
            with("h", "use", json!("sig")),
        ]});
        let keys = rs256_keys(document.to_string().as_bytes()).unwrap();
        let kids: Vec<&str> = keys.iter().map(|(kid, _)| kid.as_str()).collect();
        assert_eq!(kids, ["a", "b", "h"]);
        assert!(rs256_keys(b"<html>").is_err());
        assert!(rs256_keys(br#"{"keys": {}}"#).is_err());
    }

    #[test]
    fn only_rs256_tokens_with_a_key_id_are_parsed() {
        let raw = token(json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}));
        let parsed = parse(&raw).unwrap();
        assert_eq!(parsed.kid, "k1");
        assert_eq!(parsed.signature, b"sig");
        for (what, header) in [
            ("none", json!({"alg": "none", "kid": "k1"})),
            ("HMAC", json!({"alg": "HS256", "kid": "k1"})),
            ("another RSA", json!({"alg": "RS512", "kid": "k1"})),
            ("RSA-PSS", json!({"alg": "PS256", "kid": "k1"})),
            ("lower case", json!({"alg": "rs256", "kid": "k1"})),
            ("no alg", json!({"kid": "k1"})),
            ("no kid", json!({"alg": "RS256"})),
            ("kid not a string", json!({"alg": "RS256", "kid": 1})),
            (
                "crit",
                json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]}),
            ),
        ] {
            assert!(parse(&token(header)).is_err(), "{what}");
        }
        let good = b64(&json!({"alg": "RS256", "kid": "k1"}));
        for (what, raw) in [
            ("two parts", format!("{good}.e30")),
            ("four parts", format!("{good}.e30.c2ln.c2ln")),
            ("header not base64", "!!.e30.c2ln".to_owned()),
            (
                "header not JSON",
                format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode("{")),
            ),
            ("signature not base64", format!("{good}.e30.!!")),
            ("empty", String::new()),
        ] {
            assert!(parse(&raw).is_err(), "{what}");
        }
    }

    #[test]
    fn a_bad_signature_is_refused_before_the_claims_are_read() {
        let keys = rs256_keys(
            json!({"keys": [{"kty": "RSA", "kid": "k1", "n": URL_SAFE_NO_PAD.encode([0xC5; 256]), "e": "AQAB"}]})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        let raw = token(json!({"alg": "RS256", "kid": "k1"}));
        let parsed = parse(&raw).unwrap();
        let expect = Expectations {
            audiences: &["x".to_owned()],
            issuers: &[],
            leeway: 30,
        };
        let err = parsed
            .verify(&keys[0].1, &expect, SystemTime::now())
            .unwrap_err();
        assert!(err.contains("signature"), "{err}");
    }
}
