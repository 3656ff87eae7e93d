//! Shapes and helpers shared by the wire formats.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use nubes_core::Error;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// One pass over a JSON body: the top-level keys of a Pub/Sub push envelope
/// and of a legacy background-function event, inner objects left unparsed.
#[derive(Debug, Deserialize)]
pub(super) struct Probe<'a> {
    #[serde(borrow, default)]
    pub(super) message: Option<&'a RawValue>,
    #[serde(default)]
    pub(super) subscription: Option<String>,
    #[serde(rename = "deliveryAttempt", default)]
    pub(super) delivery_attempt: Option<i64>,
    #[serde(borrow, default)]
    pub(super) context: Option<&'a RawValue>,
    #[serde(rename = "eventId", default)]
    pub(super) event_id: Option<String>,
    #[serde(default)]
    pub(super) timestamp: Option<String>,
    #[serde(rename = "eventType", default)]
    pub(super) event_type: Option<String>,
    #[serde(borrow, default)]
    pub(super) resource: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) data: Option<&'a RawValue>,
}

/// Parses a JSON document of type `T`, naming `what` in the error.
pub(super) fn parse<'a, T: Deserialize<'a>>(json: &'a str, what: &str) -> Result<T, Error> {
    serde_json::from_str(json)
        .map_err(|e| Error::invalid_event(format!("{what} is malformed: {e}")).with_source(e))
}

/// Parses an RFC 3339 time, naming `what` in the error.
pub(super) fn time(text: &str, what: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::invalid_event(format!("{what} `{text}` is not an RFC 3339 time: {e}")))
}

/// Decodes standard base64, naming `what` in the error.
pub(super) fn base64(text: &str, what: &str) -> Result<Bytes, Error> {
    base64_vec(text, what).map(Bytes::from)
}

/// [`base64`] into a vector.
pub(super) fn base64_vec(text: &str, what: &str) -> Result<Vec<u8>, Error> {
    STANDARD
        .decode(text.trim())
        .map_err(|e| Error::invalid_event(format!("{what} is not valid base64: {e}")))
}

/// The last segment of a resource name after `/{collection}/`
/// (`projects/p/topics/t` → `t`), or the name itself when it has none.
pub(super) fn short_name<'a>(name: &'a str, collection: &str) -> &'a str {
    // What follows the last `/{collection}/`: tried at each `/` from the end
    // (a byte search), without building that string or a substring searcher.
    let after = |rest: &'a str| rest.strip_prefix(collection)?.strip_prefix('/');
    name.rmatch_indices('/')
        .find_map(|(at, _)| after(name.get(at + 1..)?))
        .or_else(|| after(name))
        .unwrap_or(name)
}

/// A value Google sends as a JSON string or a number (`"size": "352"`).
pub(super) fn string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(serde_json::Number),
    }
    Ok(Option::<Either>::deserialize(d)?.map(|v| match v {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_name("projects/p/topics/t1", "topics"), "t1");
        assert_eq!(
            short_name("//pubsub.googleapis.com/projects/p/topics/t1", "topics"),
            "t1"
        );
        assert_eq!(short_name("plain", "topics"), "plain");
        assert_eq!(short_name("jobs/j", "jobs"), "j");
        assert_eq!(short_name("projects/topics/topics/t", "topics"), "t");
        assert_eq!(short_name("a/topics/b/topics/", "topics"), "");
        assert_eq!(short_name("/topics", "topics"), "/topics");
        assert_eq!(short_name("xtopics/t", "topics"), "xtopics/t");
    }

    #[test]
    fn bad_inputs_are_invalid_events() {
        assert!(time("yesterday", "publishTime").is_err());
        assert!(base64("!!", "data").is_err());
        assert!(parse::<Probe<'_>>("{\"message\":", "body").is_err());
    }
}
