//! An `App` described as data, for manifests and tooling.

use serde::{Deserialize, Serialize};

use crate::TriggerKind;
use crate::resource::ResourceDescription;

/// Everything a manifest generator needs to know about an app, without running
/// it: whether it serves HTTP, and each event trigger's kind, name and schedule.
///
/// ```
/// use nubes_core::{App, TriggerKind, QueueMessage, Context, BoxError};
///
/// async fn h(_: QueueMessage, _: Context) -> Result<(), BoxError> { Ok(()) }
///
/// let d = App::new().on_queue("orders", h).describe();
/// assert!(!d.http);
/// assert_eq!(d.triggers[0].kind, TriggerKind::Queue);
/// assert_eq!(d.triggers[0].name, "orders");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppDescription {
    /// True when the app registered an HTTP service.
    pub http: bool,
    /// The event triggers, ordered by kind then name.
    pub triggers: Vec<TriggerDescription>,
    /// The declared resources, ordered by kind then name, each with the
    /// access the app needs (see [`App::uses`](crate::App::uses)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceDescription>,
}

/// One event trigger of an [`AppDescription`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerDescription {
    /// Queue, storage or schedule.
    pub kind: TriggerKind,
    /// The logical name (queue, bucket, schedule).
    pub name: String,
    /// The cron expression, for schedules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}
