//! Presigned URLs: requests anyone can make, for a while, with no credentials.

use std::time::{Duration, SystemTime};

use crate::Error;

/// What a presigned URL lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresignMethod {
    /// Download the object (`GET`).
    Get,
    /// Upload the object (`PUT`).
    Put,
}

impl PresignMethod {
    /// The HTTP method of the request.
    pub fn http_method(self) -> http::Method {
        match self {
            PresignMethod::Get => http::Method::GET,
            PresignMethod::Put => http::Method::PUT,
        }
    }
}

/// A signed request: send `method` to `url` with `headers` before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignedRequest {
    /// `GET` or `PUT`.
    pub method: http::Method,
    /// The signed URL.
    pub url: String,
    /// Headers the request must carry (e.g. Azure's `x-ms-blob-type` on uploads).
    pub headers: Vec<(String, String)>,
    /// When the signature stops working.
    pub expires_at: SystemTime,
}

impl PresignedRequest {
    /// A request to `url` with no required headers.
    pub fn new(method: http::Method, url: impl Into<String>, expires_at: SystemTime) -> Self {
        PresignedRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            expires_at,
        }
    }

    /// Adds a header the request must carry.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The longest expiry every backend signs (S3's and GCS's V4 limit).
pub(crate) const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// Refuses expiries every backend cannot sign: under a second, over 7 days.
pub fn check_expiry(expires: Duration) -> Result<(), Error> {
    if expires < Duration::from_secs(1) || expires > MAX_PRESIGN_EXPIRY {
        return Err(Error::invalid_input(format!(
            "presigned URLs last 1 second to 7 days, not {} s",
            expires.as_secs_f64()
        )));
    }
    Ok(())
}
