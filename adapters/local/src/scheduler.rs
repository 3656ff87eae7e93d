//! Runs each schedule on its cron, in UTC.

use chrono::Utc;
use nubes_core::ScheduledEvent;

use crate::delivery::{self, Delivery, LocalEvent};
use crate::runtime::SharedRuntime;

/// Starts one timer task per schedule; they stop at shutdown.
pub(crate) fn start(rt: &SharedRuntime) {
    for (name, trigger) in rt.app.schedules() {
        let rt = rt.clone();
        let name = name.to_owned();
        let schedule = trigger.schedule.clone();
        tokio::spawn(async move {
            let mut after = Utc::now();
            while let Some(next) = schedule.next_after(after) {
                // Sleep in steps so a clock that jumps does not oversleep a firing.
                loop {
                    let left = (next - Utc::now()).to_std().unwrap_or_default();
                    if left.is_zero() {
                        break;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(left.min(std::time::Duration::from_secs(60))) => {}
                        () = rt.shutdown.cancelled() => return,
                    }
                }
                tracing::debug!(schedule = %name, scheduled_time = %next, "schedule fired");
                let event = ScheduledEvent::new(name.clone(), next);
                delivery::spawn(
                    &rt,
                    Delivery::new(name.clone(), LocalEvent::Schedule(event)),
                );
                after = next;
            }
        });
    }
}
