//! A timer firing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One firing of a scheduled trigger (EventBridge rule, Cloud Scheduler job,
/// Azure timer, local cron).
///
/// ```
/// use nubes_core::ScheduledEvent;
///
/// let ev = ScheduledEvent::new("nightly", "2026-11-28T03:00:00Z".parse().unwrap());
/// assert_eq!(serde_json::to_value(&ev).unwrap()["scheduled_time"], "2026-11-28T03:00:00Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScheduledEvent {
    /// The schedule's name.
    pub name: String,
    /// The time the firing was scheduled for (not when it ran).
    pub scheduled_time: DateTime<Utc>,
    /// True when the platform says the firing is late (Azure `IsPastDue`).
    pub past_due: Option<bool>,
}

impl ScheduledEvent {
    /// A firing of `name` scheduled for `scheduled_time`.
    pub fn new(name: impl Into<String>, scheduled_time: DateTime<Utc>) -> Self {
        ScheduledEvent {
            name: name.into(),
            scheduled_time,
            past_due: None,
        }
    }

    /// Sets the past-due flag.
    pub fn with_past_due(mut self, past_due: bool) -> Self {
        self.past_due = Some(past_due);
        self
    }
}
