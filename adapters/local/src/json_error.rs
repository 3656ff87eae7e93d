//! JSON error responses: `{"error":{"kind":…,"message":…}}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use nubes_core::{Error, ErrorKind};

/// An [`Error`] with the HTTP status the local runner answers it with.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    error: Error,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, error: Error) -> Self {
        ApiError { status, error }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, Error::invalid_event(message))
    }

    pub(crate) fn not_found(error: Error) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, error)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match error.kind() {
            ErrorKind::InvalidEvent => StatusCode::BAD_REQUEST,
            ErrorKind::UnknownTrigger => StatusCode::NOT_FOUND,
            ErrorKind::Config | ErrorKind::Platform | ErrorKind::Handler => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError { status, error }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.error.to_json())).into_response()
    }
}
