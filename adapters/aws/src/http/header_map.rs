//! A JSON `headers` object straight into an `http::HeaderMap`, values sharing
//! the payload's buffer: no intermediate map, no per-value buffering (the
//! untagged enum aws_lambda_events reads values through buffers each one).
//!
//! Same shapes as aws_lambda_events' header reader: `null` is no headers; a
//! value is a string (replacing an earlier one of the same name), a list of
//! strings or a list of byte lists (each appended).

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The invocation payload, for slices of it to be shared rather than copied.
#[derive(Clone, Copy)]
pub(crate) struct Shared<'p> {
    payload: &'p Bytes,
}

impl<'p> Shared<'p> {
    pub(crate) fn new(payload: &'p Bytes) -> Self {
        Shared { payload }
    }

    /// `part` as bytes: a shared slice when it lies inside the payload (a
    /// string without JSON escapes), a copy otherwise.
    pub(crate) fn bytes(self, part: &[u8]) -> Bytes {
        let start = part.as_ptr() as usize;
        let base = self.payload.as_ptr() as usize;
        match start.checked_sub(base) {
            Some(offset) if offset + part.len() <= self.payload.len() => {
                self.payload.slice(offset..offset + part.len())
            }
            _ => Bytes::copy_from_slice(part),
        }
    }
}

/// Reads the headers object `raw` (a slice of the payload `shared` wraps).
pub(crate) fn parse(raw: &RawValue, shared: Shared<'_>) -> Result<HeaderMap, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    let map = de.deserialize_option(MapVisitor { shared })?;
    de.end()?;
    Ok(map)
}

/// A JSON string, borrowed when it has no escapes.
#[derive(Deserialize)]
#[serde(transparent)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

struct MapVisitor<'p> {
    shared: Shared<'p>,
}

impl<'de> Visitor<'de> for MapVisitor<'_> {
    type Value = HeaderMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of header names to strings or lists of strings")
    }

    fn visit_unit<E: de::Error>(self) -> Result<HeaderMap, E> {
        Ok(HeaderMap::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<HeaderMap, E> {
        Ok(HeaderMap::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<HeaderMap, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<HeaderMap, A::Error> {
        // Room for the usual 10 to 20 headers without growing.
        let mut map = HeaderMap::try_with_capacity(16).map_err(|_| too_many())?;
        while let Some(Text(name)) = access.next_key::<Text<'de>>()? {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                de::Error::custom(format_args!("`{name}` is not a valid header name"))
            })?;
            access.next_value_seed(Values {
                name: &name,
                map: &mut map,
                shared: self.shared,
            })?;
        }
        Ok(map)
    }
}

/// The value(s) of header `name`, added to `map` as they are read.
struct Values<'m, 'p> {
    name: &'m HeaderName,
    map: &'m mut HeaderMap,
    shared: Shared<'p>,
}

impl Values<'_, '_> {
    fn invalid<E: de::Error>(&self) -> E {
        de::Error::custom(format_args!(
            "a value of header `{}` is not a valid header value",
            self.name
        ))
    }

    fn value<E: de::Error>(&self, bytes: Bytes) -> Result<HeaderValue, E> {
        HeaderValue::from_maybe_shared(bytes).map_err(|_| self.invalid())
    }

    /// Sets the header to `value` (a later string replaces an earlier one).
    fn insert<E: de::Error>(self, value: HeaderValue) -> Result<(), E> {
        self.map
            .try_insert(self.name, value)
            .map(drop)
            .map_err(|_| too_many())
    }
}

/// `HeaderMap` holds at most 32 768 headers (and panics past that).
fn too_many<E: de::Error>() -> E {
    de::Error::custom("the request has more headers than an HTTP request can hold")
}

impl<'de> DeserializeSeed<'de> for Values<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Values<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a list of strings or a list of byte lists")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        let value = self.value(self.shared.bytes(v.as_bytes()))?;
        self.insert(value)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let value = HeaderValue::from_str(v).map_err(|_| self.invalid())?;
        self.insert(value)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        let value = self.value(Bytes::from(v))?;
        self.insert(value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut first_kind = None;
        while let Some(element) = seq.next_element_seed(ElementSeed {
            shared: self.shared,
        })? {
            let kind = std::mem::discriminant(&element);
            if *first_kind.get_or_insert(kind) != kind {
                return Err(de::Error::custom(format_args!(
                    "the values of header `{}` mix strings and byte lists",
                    self.name
                )));
            }
            let bytes = match element {
                Element::Text(bytes) | Element::Bytes(bytes) => bytes,
            };
            let value = self.value(bytes)?;
            self.map
                .try_append(self.name, value)
                .map_err(|_| too_many())?;
        }
        Ok(())
    }
}

/// One value of a list: a string or a list of bytes.
enum Element {
    Text(Bytes),
    Bytes(Bytes),
}

struct ElementSeed<'p> {
    shared: Shared<'p>,
}

impl<'de> DeserializeSeed<'de> for ElementSeed<'_> {
    type Value = Element;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_> {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of bytes")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Element, E> {
        Ok(Element::Text(self.shared.bytes(v.as_bytes())))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Element, E> {
        Ok(Element::Text(Bytes::copy_from_slice(v.as_bytes())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Element, E> {
        Ok(Element::Text(Bytes::from(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        let mut bytes = Vec::new();
        while let Some(byte) = seq.next_element::<u8>()? {
            bytes.push(byte);
        }
        Ok(Element::Bytes(Bytes::from(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(json: &str) -> Result<HeaderMap, serde_json::Error> {
        let payload = Bytes::copy_from_slice(json.as_bytes());
        let raw: &RawValue = serde_json::from_slice(&payload).unwrap();
        parse(raw, Shared::new(&payload))
    }

    #[test]
    fn strings_lists_and_byte_lists() {
        let map =
            headers(r#"{"A":"1","a":"2","b":["x","y"],"c":[[104,105]],"d":"caf\u00e9","e":[]}"#)
                .unwrap();
        assert_eq!(map.get_all("a").iter().collect::<Vec<_>>(), ["2"]);
        assert_eq!(map.get_all("b").iter().collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(map["c"], "hi");
        assert_eq!(map["d"].as_bytes(), "café".as_bytes());
        assert!(!map.contains_key("e"));
        assert!(headers("null").unwrap().is_empty());
    }

    #[test]
    fn values_share_the_payload() {
        let payload = Bytes::from_static(br#"{"x":"shared"}"#);
        let raw: &RawValue = serde_json::from_slice(&payload).unwrap();
        let map = parse(raw, Shared::new(&payload)).unwrap();
        let value = map["x"].as_bytes();
        assert_eq!(value.as_ptr(), payload[6..].as_ptr());
    }

    #[test]
    fn too_many_headers_are_an_error_not_a_panic() {
        let many: Vec<String> = (0..33_000).map(|i| format!("\"h{i}\":\"v\"")).collect();
        let err = headers(&format!("{{{}}}", many.join(","))).unwrap_err();
        assert!(err.to_string().contains("more headers"), "{err}");
    }

    #[test]
    fn bad_shapes_are_errors() {
        for bad in [
            "5",
            r#"{"a":null}"#,
            r#"{"a":1}"#,
            r#"{"a":{}}"#,
            r#"{"a b":"1"}"#,
            r#"{"a":"\n"}"#,
            r#"{"a":["x",[1]]}"#,
            r#"{"a":[[256]]}"#,
            r#"{"a":[[10]]}"#,
        ] {
            assert!(headers(bad).is_err(), "{bad}");
        }
    }
}
