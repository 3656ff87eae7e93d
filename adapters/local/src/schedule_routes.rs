//! `POST /_nubes/schedules/{name}`: fire a schedule now.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use nubes_core::{Error, ScheduledEvent, TriggerKind};

use crate::delivery::{self, Delivery, LocalEvent};
use crate::json_error::ApiError;
use crate::runtime::SharedRuntime;

/// Fires the schedule with the current time as its scheduled time; `202 {"id":…}`.
pub(crate) async fn fire(
    State(rt): State<SharedRuntime>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if rt.app.schedule(&name).is_none() {
        return Err(ApiError::not_found(Error::unknown_trigger(TriggerKind::Schedule, &name)));
    }
    let event = ScheduledEvent::new(name.clone(), chrono::Utc::now());
    let delivery = Delivery::new(name, LocalEvent::Schedule(event));
    let id = delivery.id.clone();
    delivery::spawn(&rt, delivery);
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "id": id }))).into_response())
}
