//! `timerTrigger`: `Data.timer` is `{"Schedule":…,"ScheduleStatus":{"Last",
//! "Next","LastUpdated"},"IsPastDue":…}`.
//!
//! While an invocation runs, the host's stored status still describes it as
//! the upcoming occurrence, so `ScheduleStatus.Next` is this firing's
//! scheduled time. Without a status (monitoring off, first run) the host's
//! `sys.UtcNow` is used, then the current time.

use chrono::Utc;
use nubes_core::{Error, ScheduledEvent};

use crate::bindings;
use crate::envelope::{self, Envelope};

/// The firing of schedule `name`.
pub(crate) fn decode(envelope: &Envelope, name: &str) -> Result<ScheduledEvent, Error> {
    let (binding, value) = envelope.trigger_input(&[bindings::TIMER])?;
    let timer = envelope::object(value).ok_or_else(|| {
        Error::invalid_event(format!(
            "`Data.{binding}` is not a timer object (with `ScheduleStatus`, `IsPastDue`)"
        ))
    })?;
    let next = envelope::lookup(&timer, "ScheduleStatus")
        .and_then(envelope::object)
        .and_then(|status| envelope::lookup(&status, "Next").and_then(envelope::time));
    let scheduled = next
        .or_else(|| {
            envelope
                .sys("UtcNow")
                .and_then(|t| envelope::time(&t.into()))
        })
        .unwrap_or_else(Utc::now);
    let mut event = ScheduledEvent::new(name, scheduled);
    if let Some(past_due) = envelope::lookup(&timer, "IsPastDue").and_then(envelope::flag) {
        event = event.with_past_due(past_due);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_decodes() {
        let raw = nubes_test_support::fixtures::bytes("azure/timer-trigger.request.json");
        let ev = decode(&Envelope::parse(&raw).unwrap(), "nightly").unwrap();
        assert_eq!(ev.name, "nightly");
        assert_eq!(
            ev.scheduled_time.to_rfc3339(),
            "2023-10-12T20:13:49.640002+00:00"
        );
        assert_eq!(ev.past_due, Some(false));
    }

    #[test]
    fn without_status_uses_utc_now_and_rejects_non_objects() {
        let env = Envelope::parse(
            br#"{"Data":{"timer":{"IsPastDue":true}},"Metadata":{"sys":{"UtcNow":"2024-05-01T03:00:00Z"}}}"#,
        )
        .unwrap();
        let ev = decode(&env, "nightly").unwrap();
        assert_eq!(ev.scheduled_time.to_rfc3339(), "2024-05-01T03:00:00+00:00");
        assert_eq!(ev.past_due, Some(true));
        let env = Envelope::parse(br#"{"Data":{"timer":5}}"#).unwrap();
        assert!(decode(&env, "nightly").is_err());
    }
}
