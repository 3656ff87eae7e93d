//! Reading settings from environment variables without ever panicking: a
//! malformed value is a [`Config`](crate::ErrorKind::Config) error that names
//! the variable, its value and what was expected. Every adapter's config
//! reader uses these, so all settings behave alike: values are trimmed, and a
//! blank value means "not set".

use std::str::FromStr;

use crate::Error;

/// The value of `name` through `lookup`, trimmed; `None` when unset or blank.
pub fn text(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Parses `value` of variable `name`, or says what was `expected`.
///
/// ```
/// use nubes_core::raw::env;
///
/// let port: u16 = env::parse("PORT", "8080", "a port number").unwrap();
/// assert_eq!(port, 8080);
/// let err = env::parse::<u16>("PORT", "eighty", "a port number").unwrap_err();
/// assert_eq!(err.to_string(), "configuration error: PORT=`eighty` is not valid: expected a port number");
/// ```
pub fn parse<T: FromStr>(name: &str, value: &str, expected: &str) -> Result<T, Error> {
    value.trim().parse().map_err(|_| {
        Error::config(format!(
            "{name}=`{value}` is not valid: expected {expected}"
        ))
    })
}

/// Variable `name` parsed, or `default` when it is unset or blank.
pub fn read<T: FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    expected: &str,
) -> Result<T, Error> {
    match text(lookup, name) {
        Some(value) => parse(name, &value, expected),
        None => Ok(default),
    }
}

/// A boolean variable: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any
/// case; `default` when unset or blank.
pub fn read_flag(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
) -> Result<bool, Error> {
    let Some(value) = text(lookup, name) else {
        return Ok(default);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!(
            "{name}=`{value}` is not valid: expected true or false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn blanks_mean_unset() {
        let lookup = env(&[("A", "  "), ("B", " 7 ")]);
        assert_eq!(read(&lookup, "A", 3u32, "a number").unwrap(), 3);
        assert_eq!(read(&lookup, "B", 3u32, "a number").unwrap(), 7);
        assert_eq!(read(&lookup, "C", 3u32, "a number").unwrap(), 3);
        assert_eq!(text(&lookup, "A"), None);
    }

    #[test]
    fn flags_accept_common_spellings() {
        let lookup = env(&[("A", "Yes"), ("B", "off"), ("C", "maybe")]);
        assert!(read_flag(&lookup, "A", false).unwrap());
        assert!(!read_flag(&lookup, "B", true).unwrap());
        let err = read_flag(&lookup, "C", true).unwrap_err();
        assert!(err.to_string().contains("C=`maybe`"), "{err}");
    }
}
