//! What the platform is told: Pub/Sub, Eventarc and Cloud Scheduler
//! acknowledge a delivery on 2xx and redeliver on anything else.

use axum::Json;
use axum::body::Body as AxumBody;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use nubes_core::Error;
use nubes_core::raw::Outcome;
use serde_json::json;

/// Success → `204`; permanent failure → `200` with the error (acknowledged,
/// already logged); failure → `500` with the error (redelivered).
pub(crate) fn outcome(outcome: Outcome) -> Response {
    match outcome {
        Outcome::Success => StatusCode::NO_CONTENT.into_response(),
        Outcome::Permanent(err) => (
            StatusCode::OK,
            Json(json!({ "status": "failed_permanently", "error": err.to_json()["error"] })),
        )
            .into_response(),
        Outcome::Retry(err) => error(StatusCode::INTERNAL_SERVER_ERROR, &err),
        #[allow(unreachable_patterns)]
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `status` with the JSON body `{"error":{"kind":…,"message":…}}`.
pub(crate) fn error(status: StatusCode, err: &Error) -> Response {
    nubes_core::raw::json_error(status, err).map(AxumBody::from)
}

/// A malformed event: `400`, logged at warning level (the sender will retry it,
/// so it is worth a look, but it never reached a handler).
pub(crate) fn bad_event(err: &Error) -> Response {
    tracing::warn!(error = %err, "rejected a malformed event delivery");
    error(StatusCode::BAD_REQUEST, err)
}
