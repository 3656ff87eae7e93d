//! The invocation request the Functions host POSTs: `{"Data":{…},"Metadata":{…}}`,
//! and the helpers that read its loosely typed values.
//!
//! The host builds `Metadata` by serialising each binding-data value on its
//! own: objects stay objects, but strings and numbers that are not objects go
//! through `JsonConvert.SerializeObject` a second time, so a message id can
//! arrive as `"\"4e77…\""` and a delivery count as `"1"`. Older hosts and
//! other triggers send plain values. The readers here accept every form.
//!
//! The request is scanned once into the names of `Data` and `Metadata` and
//! where each value's JSON text lies in the body; a value is parsed only when
//! a decoder reads it (most of `Metadata`, `sys` included, never is), and a
//! string payload shares the body's buffer.

mod scan;

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use nubes_core::Error;
use serde_json::{Map, Value};

use scan::{Entry, Name, Text, name_in, offset_in};

/// One invocation request.
#[derive(Debug)]
pub(crate) struct Envelope {
    /// The request body the entries point into.
    body: Bytes,
    /// Input bindings by binding name (the trigger's value among them).
    data: Vec<Entry>,
    /// Trigger metadata (binding data) by name, including `sys`; null values
    /// carry nothing and are left out.
    metadata: Vec<Entry>,
}

impl Envelope {
    /// Parses the request body; anything but a JSON object with an object
    /// `Data` is an invalid event. The body is copied: see [`Envelope::parse_shared`].
    pub(crate) fn parse(body: &[u8]) -> Result<Envelope, Error> {
        Envelope::parse_shared(Bytes::copy_from_slice(body))
    }

    /// [`Envelope::parse`] keeping `body` (a reference count, not a copy).
    pub(crate) fn parse_shared(body: Bytes) -> Result<Envelope, Error> {
        // One UTF-8 check for the whole body (fast on ASCII) rather than one
        // per value read.
        let text = std::str::from_utf8(&body).map_err(|e| not_an_envelope(&e))?;
        let (data, metadata) = scan::scan(text).map_err(|e| not_an_envelope(&e))?;
        Ok(Envelope {
            body,
            data,
            metadata,
        })
    }

    /// For a path that may carry either an invocation or a user's request:
    /// `None` unless `body` is a JSON object with a `Data` member (so only an
    /// envelope-shaped body is taken for an invocation, and then checked).
    /// The body is parsed whole to decide (it must be JSON a
    /// `serde_json::Value` holds), and the envelope keeps that parse.
    pub(crate) fn sniff(body: &Bytes) -> Option<Result<Envelope, Error>> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) if map.contains_key("Data") => {
                Some(Envelope::from_object(body.clone(), map))
            }
            _ => None,
        }
    }

    fn from_object(body: Bytes, mut map: Map<String, Value>) -> Result<Envelope, Error> {
        let data = match map.remove("Data") {
            Some(Value::Object(data)) => data,
            other => {
                let err = serde_json::from_value::<Map<String, Value>>(other.unwrap_or_default());
                return Err(
                    err.map_or_else(|e| not_an_envelope(&e), |_| not_an_envelope(&"`Data`"))
                );
            }
        };
        let metadata = match map.remove("Metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(metadata)) => metadata,
            Some(other) => {
                let err = serde_json::from_value::<Map<String, Value>>(other);
                return Err(
                    err.map_or_else(|e| not_an_envelope(&e), |_| not_an_envelope(&"`Metadata`"))
                );
            }
        };
        let entries = |map: Map<String, Value>| -> Vec<Entry> {
            map.into_iter()
                .map(|(name, value)| Entry {
                    name: Name::Owned(name),
                    absent: false,
                    raw: None,
                    value: OnceLock::from(Some(value)),
                })
                .collect()
        };
        let mut metadata = metadata;
        metadata.retain(|_, v| !v.is_null());
        Ok(Envelope {
            body,
            data: entries(data),
            metadata: entries(metadata),
        })
    }

    /// The trigger's input: the `Data` entry named `preferred` when present,
    /// else the only entry. Several entries and none of them preferred is
    /// ambiguous, so it is an error rather than a guess.
    pub(crate) fn trigger_field(&self, preferred: &[&str]) -> Result<Field<'_>, Error> {
        for name in preferred {
            if let Some(entry) = self.find_ignoring_case(&self.data, name) {
                return Ok(self.field(entry));
            }
        }
        let Some(last) = self.data.last() else {
            return Err(Error::invalid_event(
                "`Data` is empty: the invocation carries no trigger input",
            ));
        };
        let name = self.name_bytes(last);
        if self.data.iter().all(|e| self.name_bytes(e) == name) {
            return Ok(self.field(last));
        }
        let mut names: Vec<&str> = self.data.iter().map(|e| self.field(e).name()).collect();
        names.sort_unstable();
        names.dedup();
        Err(Error::invalid_event(format!(
            "`Data` has several inputs ({}) and none is named {}",
            names.join(", "),
            preferred.join(" or ")
        )))
    }

    /// [`Envelope::trigger_field`] as its name and parsed value.
    pub(crate) fn trigger_input(&self, preferred: &[&str]) -> Result<(&str, &Value), Error> {
        let field = self.trigger_field(preferred)?;
        let value = field.value().ok_or_else(|| {
            Error::invalid_event(format!(
                "`Data.{}` is JSON nubes cannot read (nested too deeply or a number out of range)",
                field.name()
            ))
        })?;
        Ok((field.name(), value))
    }

    /// A metadata entry, looked up case-insensitively (the host's binding
    /// data is case-insensitive), exact match first.
    pub(crate) fn meta_field(&self, name: &str) -> Option<Field<'_>> {
        self.find(&self.metadata, name)
            .map(|entry| self.field(entry))
    }

    /// Whether the metadata has a (non-null) entry `name`, without reading it.
    pub(crate) fn has_meta(&self, name: &str) -> bool {
        self.find(&self.metadata, name).is_some()
    }

    /// A metadata entry's value (see [`Envelope::meta_field`]); a value
    /// `serde_json::Value` cannot hold reads as absent.
    pub(crate) fn meta(&self, name: &str) -> Option<&Value> {
        self.meta_field(name).and_then(Field::value)
    }

    /// `Metadata.sys.<name>` as text.
    pub(crate) fn sys(&self, name: &str) -> Option<String> {
        self.meta("sys").and_then(|sys| match sys {
            Value::Object(map) => lookup(map, name).and_then(text),
            _ => None,
        })
    }

    /// Entry `name` of `entries` as a JSON object map holds them: of
    /// duplicate names the last counts, then nulls in `Metadata` are absent;
    /// an exact match comes first, then the first name in order that matches
    /// ignoring case (what `lookup` does on a parsed map).
    fn find<'e>(&'e self, entries: &'e [Entry], name: &str) -> Option<&'e Entry> {
        let exact = entries
            .iter()
            .rev()
            .find(|e| self.name_bytes(e) == name.as_bytes());
        match exact {
            Some(entry) if !entry.absent => Some(entry),
            _ => self.find_ignoring_case(entries, name),
        }
    }

    /// The first name in order among `entries` (as read by [`Envelope::find`])
    /// that matches `name` ignoring case.
    fn find_ignoring_case<'e>(&'e self, entries: &'e [Entry], name: &str) -> Option<&'e Entry> {
        let matches = |e: &&Entry| self.name_bytes(e).eq_ignore_ascii_case(name.as_bytes());
        let mut found = entries.iter().filter(matches);
        let first = found.next()?;
        if found.next().is_none() {
            // The usual case: one candidate.
            return (!first.absent).then_some(first);
        }
        // Duplicates, or names that differ in case only: order the
        // candidates by name, the last of each name first, and keep those.
        let mut candidates: Vec<&Entry> = entries.iter().filter(matches).collect();
        candidates.reverse();
        candidates.sort_by(|a, b| self.name_bytes(a).cmp(self.name_bytes(b)));
        candidates.dedup_by(|later, kept| self.name_bytes(later) == self.name_bytes(kept));
        candidates.into_iter().find(|e| !e.absent)
    }

    fn field<'e>(&'e self, entry: &'e Entry) -> Field<'e> {
        Field {
            envelope: self,
            entry,
        }
    }

    fn name_bytes<'e>(&'e self, entry: &'e Entry) -> &'e [u8] {
        name_in(&self.body, entry)
    }

    /// `text` as bytes: shared with the body when it lies inside it, else copied.
    fn share(&self, text: &str) -> Bytes {
        match offset_in(&self.body, text.as_bytes()) {
            Some(at) => self.body.slice(at),
            None => Bytes::copy_from_slice(text.as_bytes()),
        }
    }
}

/// One `Data` or `Metadata` entry of an [`Envelope`].
#[derive(Clone, Copy)]
pub(crate) struct Field<'e> {
    envelope: &'e Envelope,
    entry: &'e Entry,
}

impl<'e> Field<'e> {
    /// The entry's name.
    pub(crate) fn name(self) -> &'e str {
        // Names were read as JSON strings: UTF-8.
        std::str::from_utf8(self.envelope.name_bytes(self.entry)).unwrap_or_default()
    }

    /// The value, parsed on first read; `None` when `serde_json::Value`
    /// cannot hold it.
    pub(crate) fn value(self) -> Option<&'e Value> {
        self.entry
            .value
            .get_or_init(|| serde_json::from_slice(self.raw()?).ok())
            .as_ref()
    }

    /// The value's JSON text, when the envelope was scanned rather than parsed.
    fn raw(self) -> Option<&'e [u8]> {
        self.envelope.body.get(self.entry.raw.clone()?)
    }

    /// The value when it is a JSON string: borrowed from the body unless it
    /// has escapes.
    pub(crate) fn string(self) -> Option<Cow<'e, str>> {
        match self.raw() {
            Some(raw) if raw.first() == Some(&b'"') => {
                // Without escapes the text is what lies between the quotes
                // (the scan checked the string), else serde unescapes it.
                let inner = raw.get(1..raw.len() - 1).filter(|t| !t.contains(&b'\\'));
                match inner.map(std::str::from_utf8) {
                    Some(Ok(text)) => Some(Cow::Borrowed(text)),
                    _ => serde_json::from_slice::<Text<'e>>(raw).ok().map(|t| t.0),
                }
            }
            Some(_) => None,
            None => match self.value()? {
                Value::String(s) => Some(Cow::Borrowed(s)),
                _ => None,
            },
        }
    }

    /// The value as text, like [`text`] (strings lose one level of JSON
    /// encoding), strings read without building a `Value`.
    pub(crate) fn text(self) -> Option<String> {
        match self.string() {
            Some(s) => Some(unquote(&s)),
            None => self.value().and_then(text),
        }
    }

    /// The value as a time, like [`time`] (a string is read in place).
    pub(crate) fn time(self) -> Option<DateTime<Utc>> {
        match self.string() {
            Some(s) => time_of(&unquoted(&s)),
            None => self.value().and_then(time),
        }
    }

    /// `text` (a slice of this value) as bytes, shared with the body when
    /// it lies inside it.
    pub(crate) fn share(self, text: &str) -> Bytes {
        self.envelope.share(text)
    }
}

fn not_an_envelope(err: &dyn fmt::Display) -> Error {
    Error::invalid_event(format!(
        "the invocation request is not a custom-handler payload \
         ({{\"Data\":{{…}},\"Metadata\":{{…}}}}): {err}"
    ))
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
    unquoted(s).into_owned()
}

/// [`unquote`], borrowing `s` when it is no string literal.
fn unquoted(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    if t.len() >= 2
        && t.starts_with('"')
        && t.ends_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(t)
    {
        return Cow::Owned(inner);
    }
    Cow::Borrowed(s)
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
    time_of(&text(value)?)
}

/// [`time`] of a text already unquoted.
fn time_of(s: &str) -> Option<DateTime<Utc>> {
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

    fn sniff(body: &'static [u8]) -> Option<Result<Envelope, Error>> {
        Envelope::sniff(&Bytes::from_static(body))
    }

    #[test]
    fn sniffing_takes_only_envelope_shaped_bodies() {
        assert!(sniff(b"plain").is_none());
        assert!(sniff(br#"{"name":"x"}"#).is_none());
        assert!(sniff(br#"{"Data":5}"#).unwrap().is_err());
        assert!(sniff(br#"{"Data":{},"Metadata":[]}"#).unwrap().is_err());
        assert!(sniff(br#"{"Data":{"req":{}}}"#).unwrap().is_ok());
        // Deeper than a `Value` reads: not taken for an invocation.
        let deep = format!(
            r#"{{"Data":{{}},"x":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(Envelope::sniff(&Bytes::from(deep)).is_none());
    }

    /// Scanned and parsed envelopes read the same.
    fn both(body: &'static [u8]) -> [Envelope; 2] {
        [
            Envelope::parse(body).unwrap(),
            sniff(body).unwrap().unwrap(),
        ]
    }

    #[test]
    fn entries_read_like_a_json_object() {
        let body =
            br#"{"Metadata":{"b":1,"A":"x","a":"first","a":"last","n":null,"esc\u0061ped":"\"q\"","dup":1,"dup":null,"DUP":2,"z":null,"Z":null},
                        "Data":{"z":1,"Message":"m"},"other":[1,{"Data":0}]}"#;
        for env in both(body) {
            assert_eq!(
                env.meta("a"),
                Some(&json!("last")),
                "the last duplicate wins"
            );
            assert_eq!(env.meta("A"), Some(&json!("x")), "exact match first");
            assert_eq!(env.meta("B"), Some(&json!(1)), "then any case");
            assert!(
                env.meta("n").is_none() && !env.has_meta("n"),
                "nulls are dropped"
            );
            assert_eq!(
                env.meta("dup"),
                Some(&json!(2)),
                "a null last duplicate is dropped"
            );
            assert!(!env.has_meta("z"));
            assert_eq!(
                env.meta_field("escaped").unwrap().text().as_deref(),
                Some("q")
            );
            assert_eq!(env.meta_field("escaped").unwrap().name(), "escaped");
            let input = env.trigger_field(&["message"]).unwrap();
            assert_eq!(input.name(), "Message");
            assert_eq!(input.string().as_deref(), Some("m"));
            let err = env.trigger_input(&["timer"]).unwrap_err().to_string();
            assert!(err.contains("(Message, z)"), "{err}");
        }
    }

    #[test]
    fn strings_share_the_body_and_values_parse_on_demand() {
        let body =
            Bytes::from_static(br#"{"Data":{"q":"text"},"Metadata":{"sys":{"RandGuid":"g"}}}"#);
        let env = Envelope::parse_shared(body.clone()).unwrap();
        let input = env.trigger_field(&[]).unwrap();
        let Some(Cow::Borrowed(text)) = input.string() else {
            panic!("not borrowed")
        };
        assert_eq!(input.share(text).as_ptr(), body[14..].as_ptr());
        assert!(env.metadata.iter().all(|e| e.value.get().is_none()));
        assert_eq!(env.sys("randguid").as_deref(), Some("g"));
        // Unreadable as a `Value`: an error for the input, absent as metadata.
        let deep = format!(
            r#"{{"Data":{{"q":{0}1{1}}},"Metadata":{{"Id":{0}1{1}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let env = Envelope::parse(deep.as_bytes()).unwrap();
        assert!(env.trigger_input(&[]).is_err());
        assert!(env.meta("Id").is_none());
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
