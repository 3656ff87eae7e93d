//! Presigned URLs on Cloud Storage: V4 query signatures over the XML API
//! (`https://storage.googleapis.com/<bucket>/<object>?X-Goog-…`).
//!
//! Who signs depends on where the app runs:
//!
//! | credentials | signer |
//! |---|---|
//! | a service-account key (`GOOGLE_APPLICATION_CREDENTIALS`) | RSA-SHA256 in-process (OpenDAL / reqsign) |
//! | Cloud Run's metadata server (no key) | IAM Credentials `signBlob` as the service's own account, with the metadata token; the account needs `iam.serviceAccounts.signBlob` on itself (`roles/iam.serviceAccountTokenCreator`, granted by the generated `triggers.sh`) |
//! | gcloud user credentials | cannot sign: an `Unsupported` error says what to set |
//! | `STORAGE_EMULATOR_HOST` | unsigned URLs (emulators check no signature) |

use std::time::{Duration, SystemTime};

use nubes_core::bucket::{PresignMethod, PresignedRequest};
use nubes_core::{Error, ErrorKind};
use opendal::Operator;
use opendal::services::Gcs;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::OnceCell;

/// RFC 3986 unreserved characters stay, everything else is escaped: the set
/// the V4 signer canonicalises path segments with, so the URL sent is the
/// canonical URI signed (a key with spaces, `+`, `%` or unicode would
/// otherwise not even parse as a URL).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What to tell a user whose credentials cannot sign.
const HOW_TO_SIGN: &str = "presigned Cloud Storage URLs need a signer: a service-account key \
    (GOOGLE_APPLICATION_CREDENTIALS), or on Cloud Run the service account's own \
    iam.serviceAccounts.signBlob permission (roles/iam.serviceAccountTokenCreator on itself; \
    the generated triggers.sh grants it)";

/// How one bucket signs URLs.
#[derive(Debug)]
pub(crate) enum Signing {
    /// An emulator: the data operator, which signs nothing.
    Unsigned(Operator),
    /// The data operator, whose credential chain holds a key that signs.
    Operator(Operator),
    /// Cloud Run: an operator that asks the metadata server for the service
    /// account's token and has IAM sign as that account, made on first use.
    Metadata {
        physical: String,
        signer: OnceCell<Operator>,
    },
}

impl Signing {
    /// Signs through IAM as the metadata server's account, once it is known.
    pub(crate) fn metadata(physical: &str) -> Self {
        Signing::Metadata {
            physical: physical.to_owned(),
            signer: OnceCell::new(),
        }
    }

    /// A `method` request of `key` valid for `expires`.
    pub(crate) async fn presign(
        &self,
        method: PresignMethod,
        key: &str,
        expires: Duration,
    ) -> Result<PresignedRequest, Error> {
        let op = match self {
            Signing::Unsigned(op) | Signing::Operator(op) => op,
            Signing::Metadata { physical, signer } => {
                signer.get_or_try_init(|| metadata_signer(physical)).await?
            }
        };
        let path = encode_key(key);
        let signed = match method {
            PresignMethod::Get => op.presign_read(&path, expires).await,
            PresignMethod::Put => op.presign_write(&path, expires).await,
        }
        .map_err(|e| signing_error(key, e))?;
        let mut request = PresignedRequest::new(
            signed.method().clone(),
            signed.uri().to_string(),
            SystemTime::now() + expires,
        );
        for (name, value) in signed.header() {
            if let Ok(value) = value.to_str() {
                request = request.with_header(name.as_str(), value);
            }
        }
        Ok(request)
    }
}

/// `key` with each `/`-separated segment percent-encoded.
pub(crate) fn encode_key(key: &str) -> String {
    key.split('/')
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The signing operator of Cloud Run: the token and the signer are the
/// service account the metadata server names (Cloud Run sets no variable).
async fn metadata_signer(physical: &str) -> Result<Operator, Error> {
    let email = crate::metadata::service_account_email()
        .await
        .ok_or_else(|| {
            Error::unsupported(format!(
                "{HOW_TO_SIGN}; no key is set and the metadata server did not name a service account"
            ))
        })?;
    metadata_operator(physical, &email)
}

/// An operator whose token is the metadata server's for `email` (no key
/// file, no gcloud credentials), and whose signer is IAM's `signBlob` as
/// `email`: the account the token belongs to is the one that signs.
fn metadata_operator(physical: &str, email: &str) -> Result<Operator, Error> {
    let builder = Gcs::default()
        .bucket(physical)
        .service_account(email)
        .disable_config_load();
    super::connector::build(builder, physical)
}

/// A signing failure as a nubes error: credentials that cannot sign are
/// `Unsupported` with what to do; IAM refusing is `PermissionDenied`.
fn signing_error(key: &str, e: opendal::Error) -> Error {
    let text = e.to_string();
    let kind = if text.contains("required for query signing")
        || text.contains("failed to parse private key")
    {
        ErrorKind::Unsupported
    } else if text.contains("PERMISSION_DENIED") || text.contains("403") {
        ErrorKind::PermissionDenied
    } else if e.is_temporary() {
        ErrorKind::Transient
    } else {
        ErrorKind::Platform
    };
    let message = match kind {
        ErrorKind::Unsupported | ErrorKind::PermissionDenied => {
            format!("signing `{key}`: {HOW_TO_SIGN} ({})", e.message())
        }
        _ => format!("signing `{key}`: {}", e.message()),
    };
    Error::new(kind, message).with_source(e)
}

#[cfg(test)]
mod tests;
