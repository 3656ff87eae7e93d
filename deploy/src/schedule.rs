//! What every platform's schedule translation starts from: the trigger's
//! cron expression, parsed once by nubes' own rules.

use nubes_core::{CronSchedule, Error, TriggerDescription};

/// The parsed cron expression of schedule trigger `trigger`; a schedule
/// without one (a hand-written description) is a config error, not a
/// schedule that never fires.
pub(crate) fn cron(trigger: &TriggerDescription) -> Result<CronSchedule, Error> {
    let expression = trigger.schedule.as_deref().ok_or_else(|| {
        Error::config(format!(
            "schedule `{}` has no cron expression",
            trigger.name
        ))
    })?;
    CronSchedule::parse(expression)
}

/// Refuses a schedule with a seconds field other than `0`: EventBridge and
/// Cloud Scheduler fire at minute granularity (`platform` names the one).
pub(crate) fn whole_minutes(cron: &CronSchedule, platform: &str) -> Result<(), Error> {
    match cron.seconds() {
        Some(seconds) if seconds != "0" => Err(Error::config(format!(
            "schedule `{}` cannot run on {platform}: it fires at minute granularity (whole \
             minutes); use a seconds field of 0 or a 5-field expression",
            cron.expression()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubes_core::TriggerKind;

    fn schedule(expression: Option<&str>) -> TriggerDescription {
        TriggerDescription {
            kind: TriggerKind::Schedule,
            name: "nightly".into(),
            schedule: expression.map(Into::into),
        }
    }

    #[test]
    fn a_schedule_needs_an_expression() {
        let err = cron(&schedule(None)).unwrap_err();
        assert!(err.to_string().contains("no cron expression"), "{err}");
        assert!(cron(&schedule(Some("0 3 * *"))).is_err());
    }

    #[test]
    fn seconds_other_than_zero_are_refused() {
        let every_ten_seconds = cron(&schedule(Some("*/10 * * * * *"))).unwrap();
        let err = whole_minutes(&every_ten_seconds, "Cloud Scheduler").unwrap_err();
        assert!(err.to_string().contains("minute granularity"), "{err}");
        assert!(err.to_string().contains("Cloud Scheduler"), "{err}");
        for ok in ["0 3 * * *", "0 0 3 * * *"] {
            assert!(whole_minutes(&cron(&schedule(Some(ok))).unwrap(), "EventBridge").is_ok());
        }
    }
}
