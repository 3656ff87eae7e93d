//! Reading a whole request body, with one answer for a body the server will
//! not take on every adapter: too large → `413`, malformed or cut short (a bad
//! chunk size, a connection closed mid-body) → `400`; both `invalid_event`,
//! since either way the client sent it.

use bytes::Bytes;
use http::StatusCode;

use crate::{Body, Error};

/// A request body the server refuses, with the status to answer.
#[derive(Debug)]
pub struct RefusedBody {
    status: StatusCode,
    error: Error,
}

impl RefusedBody {
    pub(crate) fn too_large(limit: usize, source: crate::BoxError) -> Self {
        RefusedBody {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: Error::invalid_event(format!("body exceeds the limit of {limit} bytes"))
                .with_source(source),
        }
    }

    pub(crate) fn malformed(source: crate::BoxError) -> Self {
        RefusedBody {
            status: StatusCode::BAD_REQUEST,
            error: Error::invalid_event(format!(
                "the body could not be read (malformed or cut short): {source}"
            ))
            .with_source(source),
        }
    }

    /// `413 Payload Too Large` or `400 Bad Request`.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Why, as an [`InvalidEvent`](crate::ErrorKind::InvalidEvent) error.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The error, without the status.
    pub fn into_error(self) -> Error {
        self.error
    }
}

/// Reads all of `body`, refusing it once it passes `limit` bytes (without
/// buffering beyond the limit) or when its framing is broken.
///
/// ```
/// use nubes_core::raw::read_request_body;
///
/// # tokio_test_block(async {
/// let refused = read_request_body("0123456789", 4).await.unwrap_err();
/// assert_eq!(refused.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
/// assert_eq!(read_request_body("0123", 4).await.unwrap(), "0123");
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub async fn read_request_body(body: impl Into<Body>, limit: usize) -> Result<Bytes, RefusedBody> {
    crate::body::read(body.into(), limit).await
}
