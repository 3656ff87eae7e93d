//! The one pass over an invocation request: the names of `Data` and
//! `Metadata` and where each value's JSON text lies in the body, nothing
//! parsed into values yet.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// Scans `body` (valid UTF-8) into its `Data` and `Metadata` entries.
pub(super) fn scan(body: &str) -> Result<(Vec<Entry>, Vec<Entry>), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(body);
    let wire = WireSeed {
        body: body.as_bytes(),
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((wire.data, wire.metadata))
}

/// A member of `Data` or `Metadata`, in the order of the body. Lookups read
/// them as a parsed JSON object map would hold them (see `Envelope::find`).
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) name: Name,
    /// A `null` in `Metadata`: carries nothing, so reads as absent.
    pub(super) absent: bool,
    /// Where the value's JSON text lies in the body; none when the envelope
    /// was built from an already parsed request.
    pub(super) raw: Option<Range<usize>>,
    /// The value, parsed on first read; `None` when `serde_json::Value`
    /// cannot hold it (nesting past its limit, a number out of range).
    pub(super) value: OnceLock<Option<Value>>,
}

#[derive(Debug)]
pub(super) enum Name {
    /// A name without JSON escapes, where it lies in the body.
    At(Range<usize>),
    /// A name with escapes, unescaped (or from a parsed request).
    Owned(String),
}

/// A JSON string, borrowed when it has no escapes.
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct Text<'a>(#[serde(borrow)] pub(super) Cow<'a, str>);

/// The name of `entry`, read in `body` when it lies there.
pub(super) fn name_in<'a>(body: &'a [u8], entry: &'a Entry) -> &'a [u8] {
    match &entry.name {
        Name::At(at) => body.get(at.clone()).unwrap_or_default(),
        Name::Owned(name) => name.as_bytes(),
    }
}

/// Where `part` starts and ends in `whole`, when it lies inside it.
pub(super) fn offset_in(whole: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= whole.len()).then_some(start..end)
}

/// `Data` and `Metadata`, scanned.
struct Wire {
    data: Vec<Entry>,
    metadata: Vec<Entry>,
}

/// Reads the top-level object: `Data` (required, an object), `Metadata`
/// (an object, `null` or missing); anything else is skipped.
struct WireSeed<'b> {
    body: &'b [u8],
}

impl<'de> DeserializeSeed<'de> for WireSeed<'_> {
    type Value = Wire;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Wire, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for WireSeed<'_> {
    type Value = Wire;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with `Data` and `Metadata`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Wire, A::Error> {
        let mut data = None;
        let mut metadata = None;
        while let Some(Text(key)) = access.next_key::<Text<'de>>()? {
            match key.as_ref() {
                "Data" if data.is_some() => return Err(de::Error::duplicate_field("Data")),
                "Data" => {
                    data = Some(access.next_value_seed(EntriesSeed {
                        body: self.body,
                        metadata: false,
                    })?);
                }
                "Metadata" if metadata.is_some() => {
                    return Err(de::Error::duplicate_field("Metadata"));
                }
                "Metadata" => {
                    metadata = Some(access.next_value_seed(EntriesSeed {
                        body: self.body,
                        metadata: true,
                    })?);
                }
                _ => {
                    access.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Wire {
            data: data.ok_or_else(|| de::Error::missing_field("Data"))?,
            metadata: metadata.unwrap_or_default(),
        })
    }
}

/// The members of `Data` (an object) or `Metadata` (an object or `null`),
/// as names and slices of the body, in order (duplicates and nulls too: the
/// envelope's lookups read them as a map would).
struct EntriesSeed<'b> {
    body: &'b [u8],
    metadata: bool,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Vec<Entry>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Entry>, D::Error> {
        if self.metadata {
            d.deserialize_option(self)
        } else {
            d.deserialize_map(self)
        }
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Vec<Entry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<Entry>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<Entry>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Entry>, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Vec<Entry>, A::Error> {
        let outside = || de::Error::custom("a value was not read from the request body");
        // Room for the usual entries without growing: the trigger's input
        // (and maybe a binding or two) in `Data`; up to a dozen in `Metadata`.
        let mut entries = Vec::with_capacity(if self.metadata { 12 } else { 2 });
        while let Some(Text(name)) = access.next_key::<Text<'de>>()? {
            let raw: &'de RawValue = access.next_value()?;
            let name = match name {
                Cow::Borrowed(name) => {
                    Name::At(offset_in(self.body, name.as_bytes()).ok_or_else(outside)?)
                }
                Cow::Owned(name) => Name::Owned(name),
            };
            entries.push(Entry {
                name,
                absent: self.metadata && raw.get() == "null",
                raw: Some(offset_in(self.body, raw.get().as_bytes()).ok_or_else(outside)?),
                value: OnceLock::new(),
            });
        }
        Ok(entries)
    }
}
