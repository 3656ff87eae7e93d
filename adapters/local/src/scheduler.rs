//! Runs each schedule on its cron, in UTC.

use nubes_core::ScheduledEvent;
use nubes_core::chrono::{self, Utc};
use nubes_core::raw::AppDispatch as _;

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
                // After a sleep of the machine or a clock jump, fire once for
                // the first missed time, flagged past due, and skip the rest
                // (as Azure timers do) instead of replaying a burst.
                let now = Utc::now();
                let late = now - next > chrono::TimeDelta::seconds(1);
                tracing::debug!(schedule = %name, scheduled_time = %next, late, "schedule fired");
                let event = ScheduledEvent::new(name.clone(), next).with_past_due(late);
                if let Err(e) = delivery::spawn(
                    &rt,
                    Delivery::new(name.clone(), LocalEvent::Schedule(event)),
                ) {
                    tracing::error!(schedule = %name, scheduled_time = %next, error = %e, "schedule firing could not be stored and was skipped");
                }
                after = next.max(now);
            }
        });
    }
}
