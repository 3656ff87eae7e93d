//! Cloud Run's metadata server: the project id, for trace links in logs when
//! no environment variable names the project (Cloud Run sets none), and the
//! service account's email, which signs presigned bucket URLs.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The metadata server's address. Google documents it as `169.254.169.254`
/// (`metadata.google.internal` resolves to it): the address itself spares a
/// DNS lookup, which runs on a thread of its own, at cold start.
/// `GCE_METADATA_HOST` overrides it, as in Google's client libraries.
const METADATA_HOST: &str = "169.254.169.254";
const PROJECT_ID_PATH: &str = "/computeMetadata/v1/project/project-id";
#[cfg(feature = "bucket")]
const EMAIL_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/email";

/// The project id, or `None` when the metadata server does not answer
/// within a second (not on Google Cloud, or a local run).
pub(crate) async fn project_id() -> Option<String> {
    get(PROJECT_ID_PATH).await
}

/// The email of the instance's service account, or `None` when the metadata
/// server does not answer within a second.
#[cfg(feature = "bucket")]
pub(crate) async fn service_account_email() -> Option<String> {
    get(EMAIL_PATH).await
}

/// The trimmed text the metadata server answers at `path`.
async fn get(path: &str) -> Option<String> {
    let host = std::env::var("GCE_METADATA_HOST")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| METADATA_HOST.to_owned());
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = Request::get(format!("http://{host}{path}"))
        .header("metadata-flavor", "Google")
        .body(Empty::new())
        .ok()?;
    let ask = async {
        let response = client.request(request).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body = Limited::new(response.into_body(), 1024)
            .collect()
            .await
            .ok()?;
        let text = String::from_utf8(body.to_bytes().to_vec()).ok()?;
        Some(text.trim().to_owned()).filter(|p| !p.is_empty())
    };
    tokio::time::timeout(Duration::from_secs(1), ask)
        .await
        .ok()
        .flatten()
}
