//! Cron expressions for scheduled triggers: parsed and validated at registration.

use std::fmt;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::Error;

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A validated cron expression, evaluated in UTC.
///
/// Standard 5-field syntax (`minute hour day-of-month month day-of-week`), or 6
/// fields with a leading seconds field. Fields accept numbers, `*`, lists (`,`),
/// ranges (`-`), steps (`/`) and month / weekday names. Vendor extensions
/// (`L`, `W`, `#`, `?`, `@daily`) are rejected because not every cloud's
/// scheduler understands them, and nubes must be able to translate the
/// expression for each one.
///
/// ```
/// use nubes_core::CronSchedule;
///
/// let nightly = CronSchedule::parse("0 3 * * *").unwrap();
/// let next = nightly.next_after("2026-11-28T15:00:00Z".parse().unwrap()).unwrap();
/// assert_eq!(next.to_rfc3339(), "2026-11-29T03:00:00+00:00");
///
/// let err = CronSchedule::parse("0 25 * * *").unwrap_err();
/// assert!(err.to_string().contains("0 25 * * *"));
/// ```
#[derive(Clone)]
pub struct CronSchedule {
    expression: String,
    fields: Vec<String>,
    cron: Cron,
}

impl CronSchedule {
    /// Parses and validates `expression`.
    pub fn parse(expression: &str) -> Result<Self, Error> {
        let fields: Vec<String> = expression
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect();
        let invalid =
            |why: String| Error::config(format!("invalid cron expression `{expression}`: {why}"));
        if fields.len() != 5 && fields.len() != 6 {
            return Err(invalid(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found {}",
                fields.len()
            )));
        }
        let offset = fields.len() - 5;
        for (i, field) in fields.iter().enumerate() {
            let names: &[&str] = match i.checked_sub(offset) {
                Some(3) => &MONTH_NAMES,
                Some(4) => &DAY_NAMES,
                _ => &[],
            };
            check_portable_field(field, names).map_err(invalid)?;
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let cron = parser
            .parse(&fields.join(" "))
            .map_err(|e| invalid(e.to_string()))?;
        Ok(CronSchedule {
            expression: expression.trim().to_owned(),
            fields,
            cron,
        })
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The seconds field, when the expression has 6 fields.
    pub fn seconds(&self) -> Option<&str> {
        (self.fields.len() == 6).then(|| self.fields[0].as_str())
    }

    /// The five standard fields: minute, hour, day of month, month, day of week
    /// (upper-cased), for translating into a cloud's own cron dialect.
    pub fn standard_fields(&self) -> [&str; 5] {
        let f = &self.fields[self.fields.len() - 5..];
        [&f[0], &f[1], &f[2], &f[3], &f[4]]
    }

    /// The first firing strictly after `after`, or `None` if there is none.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CronSchedule")
            .field(&self.expression)
            .finish()
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

/// Accepts only the syntax every cloud scheduler shares.
fn check_portable_field(field: &str, names: &[&str]) -> Result<(), String> {
    for token in field.split([',', '-', '/']) {
        let ok = token == "*"
            || (!token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()))
            || names.contains(&token);
        if !ok {
            return Err(if token.is_empty() {
                format!("field `{field}` has an empty list, range or step")
            } else {
                format!(
                    "`{token}` in field `{field}` is not portable cron syntax (use numbers, *, lists, ranges, steps{})",
                    if names.is_empty() { "" } else { " or names" }
                )
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn five_fields_fire_on_the_minute() {
        let c = CronSchedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            c.next_after(at("2026-01-01T00:07:30Z")),
            Some(at("2026-01-01T00:15:00Z"))
        );
        assert_eq!(c.seconds(), None);
        assert_eq!(c.standard_fields(), ["*/15", "*", "*", "*", "*"]);
    }

    #[test]
    fn six_fields_have_seconds() {
        let c = CronSchedule::parse("*/10 * * * * *").unwrap();
        assert_eq!(
            c.next_after(at("2026-01-01T00:00:01Z")),
            Some(at("2026-01-01T00:00:10Z"))
        );
        assert_eq!(c.seconds(), Some("*/10"));
    }

    #[test]
    fn names_are_accepted_where_they_belong() {
        let c = CronSchedule::parse("0 9 * jan-mar mon-fri").unwrap();
        // 2026-01-03 is a Saturday: next is Monday the 5th.
        assert_eq!(
            c.next_after(at("2026-01-03T12:00:00Z")),
            Some(at("2026-01-05T09:00:00Z"))
        );
        assert!(CronSchedule::parse("0 MON * * *").is_err());
    }

    #[test]
    fn invalid_expressions_are_clear_config_errors() {
        for bad in [
            "",
            "* * * *",
            "0 3 * * * * *",
            "61 * * * *",
            "0 3 L * *",
            "0 3 ? * *",
            "@daily",
            "0 3 * * 5#2",
            "0 3 * * mon,",
        ] {
            let err = CronSchedule::parse(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
            assert!(err.to_string().contains("invalid cron expression"), "{err}");
        }
    }
}
