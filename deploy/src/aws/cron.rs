//! Standard 5-field cron → EventBridge's 6-field `cron(…)` expression.

use nubes_core::{CronSchedule, Error};

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Translates a schedule into EventBridge's dialect, e.g. `0 3 * * *` →
/// `cron(0 3 * * ? *)`. EventBridge counts weekdays 1-7 from Sunday and needs
/// `?` in one of the two day fields, so weekdays are written as names and a
/// schedule that restricts both day fields (which standard cron ORs) or fires
/// on seconds other than 0 is a [`Config`](nubes_core::ErrorKind::Config) error.
///
/// ```
/// use nubes_core::CronSchedule;
///
/// let cron = |e: &str| nubes_deploy::aws::aws_cron(&CronSchedule::parse(e).unwrap()).unwrap();
/// assert_eq!(cron("0 3 * * *"), "cron(0 3 * * ? *)");
/// assert_eq!(cron("*/15 9-17 * * 1-5"), "cron(0/15 9-17 ? * MON,TUE,WED,THU,FRI *)");
/// ```
pub fn aws_cron(schedule: &CronSchedule) -> Result<String, Error> {
    let unsupported = |why: &str| {
        Error::config(format!(
            "schedule `{}` cannot run on EventBridge: {why}",
            schedule.expression()
        ))
    };
    crate::schedule::whole_minutes(schedule, "EventBridge")?;
    let [minute, hour, dom, month, dow] = schedule.standard_fields();
    let days = weekdays(dow).map_err(|why| unsupported(&why))?;
    let (dom, dow) = match (dom, days) {
        (dom, None) => (from_start(dom, "1"), "?".to_owned()),
        ("*", Some(days)) => ("?".to_owned(), days),
        _ => {
            return Err(unsupported(
                "it restricts both the day of month and the day of week, which EventBridge cannot express",
            ));
        }
    };
    Ok(format!(
        "cron({} {} {dom} {} {dow} *)",
        from_start(minute, "0"),
        from_start(hour, "0"),
        from_start(month, "1")
    ))
}

/// `*/n` → `first/n` (the form EventBridge documents).
fn from_start(field: &str, first: &str) -> String {
    field
        .split(',')
        .map(|part| match part.strip_prefix("*/") {
            Some(step) => format!("{first}/{step}"),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The weekdays a day-of-week field selects, as EventBridge names; `None` when
/// it selects every day.
fn weekdays(field: &str) -> Result<Option<String>, String> {
    let mut selected = [false; 7];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (
                range,
                step.parse::<usize>()
                    .map_err(|_| format!("bad step in `{part}`"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("zero step in `{part}`"));
        }
        let (first, last) = match range {
            "*" => (0, 6),
            r => match r.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None if step > 1 => (day(r)?, 6),
                None => (day(r)?, day(r)?),
            },
        };
        // 7 is Sunday too: `5-7` is Friday to Sunday.
        let last = if last < first { last + 7 } else { last };
        for d in (first..=last).step_by(step) {
            if let Some(slot) = selected.get_mut(d % 7) {
                *slot = true;
            }
        }
    }
    if selected.iter().all(|s| *s) {
        return Ok(None);
    }
    let names: Vec<&str> = DAYS
        .iter()
        .zip(selected)
        .filter_map(|(name, on)| on.then_some(*name))
        .collect();
    Ok(Some(names.join(",")))
}

/// A weekday number (0-7, Sunday = 0 or 7) or name; 7 stays 7 for ranges.
fn day(text: &str) -> Result<usize, String> {
    if let Some(i) = DAYS.iter().position(|d| *d == text) {
        return Ok(i);
    }
    match text.parse::<usize>() {
        Ok(n) if n <= 7 => Ok(n),
        _ => Err(format!("`{text}` is not a day of the week")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(e: &str) -> Result<String, Error> {
        aws_cron(&CronSchedule::parse(e).unwrap())
    }

    #[test]
    fn translations() {
        assert_eq!(cron("0 3 * * *").unwrap(), "cron(0 3 * * ? *)");
        assert_eq!(cron("30 1 15 * *").unwrap(), "cron(30 1 15 * ? *)");
        assert_eq!(cron("0 0 * * 0").unwrap(), "cron(0 0 ? * SUN *)");
        assert_eq!(cron("0 0 * * 5-7").unwrap(), "cron(0 0 ? * SUN,FRI,SAT *)");
        assert_eq!(
            cron("0 0 * * mon-fri").unwrap(),
            "cron(0 0 ? * MON,TUE,WED,THU,FRI *)"
        );
        assert_eq!(
            cron("0 0 * * */2").unwrap(),
            "cron(0 0 ? * SUN,TUE,THU,SAT *)"
        );
        assert_eq!(cron("0 0 * * 0-6").unwrap(), "cron(0 0 * * ? *)");
        assert_eq!(
            cron("0 */6 */2 jan,jul *").unwrap(),
            "cron(0 0/6 1/2 JAN,JUL ? *)"
        );
        assert_eq!(cron("0 0 3 * * *").unwrap(), "cron(0 3 * * ? *)");
    }

    #[test]
    fn what_eventbridge_cannot_express_is_refused() {
        assert!(cron("0 0 1 * 1").unwrap_err().to_string().contains("both"));
        assert!(
            cron("*/10 * * * * *")
                .unwrap_err()
                .to_string()
                .contains("whole minutes")
        );
    }
}
