//! `GET /_nubes/triggers`, `GET /_nubes/dead` and the dev console page.

use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use crate::runtime::SharedRuntime;

/// The app's description: `{"http":bool,"triggers":[{"kind","name","schedule"?}]}`.
pub(crate) async fn triggers(State(rt): State<SharedRuntime>) -> Response {
    Json(rt.app.describe()).into_response()
}

/// Every dead letter, of every trigger.
pub(crate) async fn all_dead_letters(State(rt): State<SharedRuntime>) -> Response {
    Json(rt.dead_letters.all()).into_response()
}

/// A small page to look at triggers and send events by hand.
pub(crate) async fn console() -> Html<&'static str> {
    Html(include_str!("console.html"))
}
