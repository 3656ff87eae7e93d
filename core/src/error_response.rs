//! `nubes::Error` as an HTTP response, so axum handlers can return it.

use http::StatusCode;

use crate::{Error, ErrorKind};

impl ErrorKind {
    /// The HTTP status an error of this kind answers with: `NotFound` → 404,
    /// `PermissionDenied` → 403, `Conflict` → 409, `InvalidInput` and
    /// `InvalidEvent` → 400, `Throttled` → 429, `Transient` → 503,
    /// `Unsupported` → 501, anything else 500.
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorKind::NotFound | ErrorKind::UnknownTrigger => StatusCode::NOT_FOUND,
            ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::InvalidInput | ErrorKind::InvalidEvent => StatusCode::BAD_REQUEST,
            ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Transient => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
            ErrorKind::Config | ErrorKind::Platform | ErrorKind::Handler => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// An axum handler may return `Result<_, nubes::Error>`: the error answers
/// with [`ErrorKind::http_status`] and the JSON body
/// `{"error":{"kind","message"}}`.
///
/// ```
/// use axum::response::IntoResponse as _;
/// use nubes_core::Error;
///
/// let response = Error::not_found("no object `a.txt`").into_response();
/// assert_eq!(response.status(), 404);
/// ```
impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        let body = axum::Json(self.to_json());
        (self.kind().http_status(), body).into_response()
    }
}
