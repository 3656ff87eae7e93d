//! `POST /_nubes/schedules/{name}`: fire a schedule now.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use nubes_core::raw::AppDispatch as _;
use nubes_core::{Error, ScheduledEvent, TriggerKind};

use crate::delivery::{self, Delivery, LocalEvent, WaitParam};
use crate::json_error::ApiError;
use crate::runtime::SharedRuntime;

/// Fires the schedule with the current time as its scheduled time; `202 {"id":…}`
/// (with `?wait=true`, `200` and the outcome once known).
pub(crate) async fn fire(
    State(rt): State<SharedRuntime>,
    Path(name): Path<String>,
    Query(wait): Query<WaitParam>,
) -> Result<Response, ApiError> {
    if rt.app.schedule(&name).is_none() {
        return Err(ApiError::not_found(Error::unknown_trigger(
            TriggerKind::Schedule,
            &name,
        )));
    }
    rt.accepting()?;
    let event = ScheduledEvent::new(name.clone(), chrono::Utc::now());
    let delivery = Delivery::new(name, LocalEvent::Schedule(event));
    delivery::reply(&rt, delivery, wait.wait, serde_json::json!({})).await
}
