//! nubes cron (5 fields, or 6 with seconds) → Azure's 6-field NCRONTAB
//! (`{second} {minute} {hour} {day} {month} {day-of-week}`).

use nubes_core::{CronSchedule, Error};

/// Converts a nubes cron expression into the `schedule` of a `timerTrigger`.
///
/// ```
/// use nubes_deploy::azure::to_ncrontab;
///
/// assert_eq!(to_ncrontab("0 3 * * *").unwrap(), "0 0 3 * * *");
/// assert_eq!(to_ncrontab("*/10 * * * * *").unwrap(), "*/10 * * * * *");
/// assert_eq!(to_ncrontab("0 9 * * 5-7").unwrap(), "0 0 9 * * 5-6,0");
/// ```
pub fn to_ncrontab(cron: &str) -> Result<String, Error> {
    Ok(from_schedule(&CronSchedule::parse(cron)?))
}

/// [`to_ncrontab`] of a parsed schedule (which NCRONTAB can always express).
pub(super) fn from_schedule(schedule: &CronSchedule) -> String {
    let [minute, hour, day, month, weekday] = schedule.standard_fields();
    let second = schedule.seconds().unwrap_or("0");
    format!(
        "{second} {minute} {hour} {day} {month} {}",
        weekday_field(weekday)
    )
}

/// NCRONTAB numbers weekdays 0–6; standard cron also allows 7 for Sunday.
fn weekday_field(field: &str) -> String {
    field
        .split(',')
        .map(|part| {
            if part.contains('/') {
                return part.to_owned();
            }
            match part.split_once('-') {
                Some(("0", "7")) => "*".to_owned(),
                Some((from, "7")) => format!("{from}-6,0"),
                None if part == "7" => "0".to_owned(),
                _ => part.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(to_ncrontab("*/15 * * * *").unwrap(), "0 */15 * * * *");
        assert_eq!(
            to_ncrontab("0 9 * jan-mar mon-fri").unwrap(),
            "0 0 9 * JAN-MAR MON-FRI"
        );
        assert_eq!(to_ncrontab("0 0 * * 7").unwrap(), "0 0 0 * * 0");
        assert_eq!(to_ncrontab("0 0 * * 1,7").unwrap(), "0 0 0 * * 1,0");
        assert_eq!(to_ncrontab("0 0 * * 0-7").unwrap(), "0 0 0 * * *");
        assert!(to_ncrontab("0 3 * *").is_err());
    }
}
