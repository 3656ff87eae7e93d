//! EventBridge `Scheduled Event` → schedule trigger (trigger = rule name).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use nubes_core::raw::AppDispatch as _;
use nubes_core::{ScheduledEvent, TriggerKind};
use serde::Deserialize;

use crate::failure::InvocationError;
use crate::handler::{Scope, reply_for};

#[derive(Deserialize)]
struct ScheduledRuleEvent<'a> {
    time: DateTime<Utc>,
    #[serde(borrow, default)]
    resources: Vec<Cow<'a, str>>,
}

/// The rule name from `arn:aws:events:REGION:ACCOUNT:rule[/BUS]/NAME` (or the
/// schedule name from EventBridge Scheduler's `…:schedule/GROUP/NAME`).
fn rule_name(arn: &str) -> Option<&str> {
    let (_, path) = arn
        .split_once(":rule/")
        .or_else(|| arn.split_once(":schedule/"))?;
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

/// Fires the schedule named by the rule; its error fails the invocation so
/// Lambda retries it.
pub(crate) async fn handle(scope: &Scope<'_>) -> Result<Vec<u8>, InvocationError> {
    let (trigger, firing) = decode(scope)?;
    let ctx = scope.context(TriggerKind::Schedule, trigger, 1, scope.raw_all());
    let outcome = scope
        .before_deadline(scope.app().dispatch_schedule(firing, ctx))
        .await
        .ok_or_else(|| {
            InvocationError::deadline_exceeded("the schedule was not handled before the deadline")
        })?;
    reply_for(vec![outcome])
}

/// The schedule trigger the event fires, and the firing.
pub(crate) fn decode(scope: &Scope<'_>) -> Result<(String, ScheduledEvent), InvocationError> {
    let event: ScheduledRuleEvent<'_> = serde_json::from_slice(scope.payload).map_err(|e| {
        InvocationError::invalid_event(format!("EventBridge scheduled event is malformed: {e}"))
    })?;
    let rule = event
        .resources
        .iter()
        .find_map(|arn| rule_name(arn))
        .ok_or_else(|| {
            InvocationError::invalid_event(
                "EventBridge scheduled event names no rule in `resources`",
            )
        })?;
    let trigger = scope.trigger_name(TriggerKind::Schedule, rule);
    let firing = ScheduledEvent::new(trigger.as_str(), event.time);
    Ok((trigger, firing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_come_from_arns() {
        assert_eq!(
            rule_name("arn:aws:events:eu-central-1:123456789012:rule/demoschedule"),
            Some("demoschedule")
        );
        assert_eq!(
            rule_name("arn:aws:events:us-east-1:1:rule/my-bus/nightly"),
            Some("nightly")
        );
        assert_eq!(
            rule_name("arn:aws:scheduler:us-east-1:1:schedule/default/nightly"),
            Some("nightly")
        );
        assert_eq!(rule_name("arn:aws:s3:::bucket"), None);
        assert_eq!(rule_name("arn:aws:events:x:1:rule/"), None);
    }
}
