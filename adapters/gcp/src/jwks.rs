//! Fetching a JSON Web Key Set over HTTPS (or HTTP, for loopback tests).
//!
//! A small hyper client with rustls on `ring` and Mozilla's roots compiled in,
//! so verifying tokens needs no system certificates, no C toolchain, and does
//! not change the features of any HTTP client the application uses.

use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use nubes_core::Error;

/// Google's key set is a few KiB; anything far larger is not a key set.
const MAX_JWKS_BYTES: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct JwksClient {
    url: Uri,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl JwksClient {
    pub(crate) fn new(url: &str) -> Result<Self, Error> {
        let url: Uri = url
            .parse()
            .map_err(|e| Error::config(format!("NUBES_GCP_JWKS_URL `{url}` is not a URL: {e}")))?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| Error::config(format!("setting up TLS for the JWKS client: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(JwksClient { url, client })
    }

    pub(crate) fn url(&self) -> &Uri {
        &self.url
    }

    /// GETs the key set document; the error says what went wrong.
    pub(crate) async fn fetch(&self) -> Result<Bytes, String> {
        let response = tokio::time::timeout(TIMEOUT, self.client.get(self.url.clone()))
            .await
            .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let body = tokio::time::timeout(
            TIMEOUT,
            Limited::new(response.into_body(), MAX_JWKS_BYTES).collect(),
        )
        .await
        .map_err(|_| "the body did not arrive in time".to_owned())?
        .map_err(|e| e.to_string())?
        .to_bytes();
        Ok(body)
    }
}
