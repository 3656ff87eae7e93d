//! The invocation request the Functions host POSTs: `{"Data":{…},"Metadata":{…}}`,
//! and the helpers that read its loosely typed values.
//!
//! The host builds `Metadata` by serialising each binding-data value on its
//! own: objects stay objects, but strings and numbers that are not objects go
//! through `JsonConvert.SerializeObject` a second time, so a message id can
//! arrive as `"\"4e77…\""` and a delivery count as `"1"`. Older hosts and
//! other triggers send plain values. The readers here accept every form.

use chrono::{DateTime, Utc};
use nubes_core::Error;
use serde::Deserialize;
use serde_json::{Map, Value};

/// One invocation request.
#[derive(Debug)]
pub(crate) struct Envelope {
    /// Input bindings by binding name (the trigger's value among them).
    pub(crate) data: Map<String, Value>,
    /// Trigger metadata (binding data) by name, including `sys`.
    pub(crate) metadata: Map<String, Value>,
}

/// The wire form: `Metadata` may be missing or `null`.
#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "Data")]
    data: Map<String, Value>,
    #[serde(rename = "Metadata", default)]
    metadata: Option<Map<String, Value>>,
}

impl Envelope {
    /// Parses the request body; anything but a JSON object with an object
    /// `Data` is an invalid event.
    pub(crate) fn parse(body: &[u8]) -> Result<Envelope, Error> {
        Envelope::from_wire(serde_json::from_slice(body))
    }

    /// For a path that may carry either an invocation or a user's request:
    /// `None` unless `body` is a JSON object with a `Data` member (so only an
    /// envelope-shaped body is taken for an invocation, and then checked).
    pub(crate) fn sniff(body: &[u8]) -> Option<Result<Envelope, Error>> {
        match serde_json::from_slice::<Value>(body) {
            Ok(value @ Value::Object(_)) if value.get("Data").is_some() => {
                Some(Envelope::from_wire(serde_json::from_value(value)))
            }
            _ => None,
        }
    }

    fn from_wire(wire: Result<Wire, serde_json::Error>) -> Result<Envelope, Error> {
        let wire = wire.map_err(|e| {
            Error::invalid_event(format!(
                "the invocation request is not a custom-handler payload \
                 ({{\"Data\":{{…}},\"Metadata\":{{…}}}}): {e}"
            ))
        })?;
        let mut metadata = wire.metadata.unwrap_or_default();
        // Null values carry nothing; dropping them keeps the readers simple.
        metadata.retain(|_, v| !v.is_null());
        Ok(Envelope {
            data: wire.data,
            metadata,
        })
    }

    /// The trigger's input: the `Data` entry named `preferred` when present,
    /// else the only entry. Several entries and none of them preferred is
    /// ambiguous, so it is an error rather than a guess.
    pub(crate) fn trigger_input(&self, preferred: &[&str]) -> Result<(&str, &Value), Error> {
        for name in preferred {
            if let Some((key, value)) = self.data.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
            {
                return Ok((key.as_str(), value));
            }
        }
        let mut entries = self.data.iter();
        match (entries.next(), entries.next()) {
            (Some((key, value)), None) => Ok((key.as_str(), value)),
            (None, _) => Err(Error::invalid_event(
                "`Data` is empty: the invocation carries no trigger input",
            )),
            (Some(_), Some(_)) => Err(Error::invalid_event(format!(
                "`Data` has several inputs ({}) and none is named {}",
                self.data.keys().cloned().collect::<Vec<_>>().join(", "),
                preferred.join(" or ")
            ))),
        }
    }

    /// A metadata entry, looked up case-insensitively (the host's binding
    /// data is case-insensitive).
    pub(crate) fn meta(&self, name: &str) -> Option<&Value> {
        lookup(&self.metadata, name)
    }

    /// `Metadata.sys.<name>` as text.
    pub(crate) fn sys(&self, name: &str) -> Option<String> {
        self.meta("sys").and_then(|sys| match sys {
            Value::Object(map) => lookup(map, name).and_then(text),
            _ => None,
        })
    }
}

/// Case-insensitive lookup in a JSON object, exact match first.
pub(crate) fn lookup<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A scalar as text: strings lose one level of JSON encoding if they carry
/// one; numbers and booleans are rendered; null, objects and arrays are none.
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(unquote(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `"\"abc\""` → `abc`; anything that is not a JSON string literal is kept.
pub(crate) fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 2
        && t.starts_with('"')
        && t.ends_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(t)
    {
        return inner;
    }
    s.to_owned()
}

/// A non-negative integer sent as a number or as (possibly quoted) text.
pub(crate) fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        other => text(other).and_then(|s| s.trim().parse().ok()),
    }
}

/// A boolean sent as a boolean or as (possibly quoted) text.
pub(crate) fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        other => text(other).and_then(|s| match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
    }
}

/// A time sent as RFC 3339 text (possibly quoted). The host also writes
/// times without an offset (`2023-10-12T20:13:49`, `…Utc` fields): those are UTC.
pub(crate) fn time(value: &Value) -> Option<DateTime<Utc>> {
    let s = text(value)?;
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// An object that may have been serialised to a JSON string on the way.
pub(crate) fn object(value: &Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map.clone()),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn double_encoded_and_plain_values_read_the_same() {
        assert_eq!(text(&json!("\"abc\"")).as_deref(), Some("abc"));
        assert_eq!(text(&json!("abc")).as_deref(), Some("abc"));
        assert_eq!(
            text(&json!("\"unterminated")).as_deref(),
            Some("\"unterminated")
        );
        assert_eq!(count(&json!("1")), Some(1));
        assert_eq!(count(&json!("\"2\"")), Some(2));
        assert_eq!(count(&json!(3)), Some(3));
        assert_eq!(count(&json!(-3)), None);
        assert_eq!(count(&json!("x")), None);
        assert_eq!(flag(&json!("True")), Some(true));
        assert_eq!(flag(&json!(false)), Some(false));
    }

    #[test]
    fn times_with_and_without_offsets() {
        let a = time(&json!("2023-10-12T20:13:49+00:00")).unwrap();
        let b = time(&json!("2023-10-12T20:13:49")).unwrap();
        let c = time(&json!("\"2023-10-12T20:13:49Z\"")).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(time(&json!("yesterday")).is_none());
    }

    #[test]
    fn malformed_envelopes_are_invalid_events() {
        for bad in [
            &b"not json"[..],
            b"[]",
            b"{}",
            b"{\"Data\":5}",
            b"{\"Data\":{},\"Metadata\":7}",
        ] {
            let err = Envelope::parse(bad).unwrap_err();
            assert_eq!(err.kind(), nubes_core::ErrorKind::InvalidEvent);
        }
        let ok = Envelope::parse(br#"{"Data":{"a":1},"Metadata":null}"#).unwrap();
        assert!(ok.metadata.is_empty());
    }

    #[test]
    fn sniffing_takes_only_envelope_shaped_bodies() {
        assert!(Envelope::sniff(b"plain").is_none());
        assert!(Envelope::sniff(br#"{"name":"x"}"#).is_none());
        assert!(Envelope::sniff(br#"{"Data":5}"#).unwrap().is_err());
        assert!(Envelope::sniff(br#"{"Data":{"req":{}}}"#).unwrap().is_ok());
    }

    #[test]
    fn trigger_input_prefers_names_and_refuses_to_guess() {
        let e = Envelope::parse(br#"{"Data":{"a":1,"message":2}}"#).unwrap();
        assert_eq!(e.trigger_input(&["message"]).unwrap().1, &json!(2));
        assert!(e.trigger_input(&["timer"]).is_err());
        let e = Envelope::parse(br#"{"Data":{"only":1}}"#).unwrap();
        assert_eq!(e.trigger_input(&["message"]).unwrap().0, "only");
        let e = Envelope::parse(br#"{"Data":{}}"#).unwrap();
        assert!(e.trigger_input(&[]).is_err());
    }
}
