//! The bytes of a trigger's value, however the host encoded them.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use nubes_core::Error;
use serde_json::Value;

use crate::envelope::Field;

/// The payload of `value`, the `Data` entry named `binding`.
///
/// - Under a binding nubes declares `dataType: binary` (`binary_binding`), the
///   host sends base64 text: it is decoded, and anything else there (text
///   that is not base64, a number, a boolean, an array, an object) is an
///   invalid event (guessing "text, then" would corrupt texts that happen to
///   be valid base64, such as `fail`).
/// - Any other string is the payload's text, as the host's docs show it.
/// - A JSON object or array (the host parsed a JSON payload) is its compact
///   JSON text.
pub(crate) fn bytes(binding: &str, binary_binding: &str, value: &Value) -> Result<Bytes, Error> {
    match value {
        Value::String(s) if binding == binary_binding => base64(binding, s),
        Value::String(s) => Ok(Bytes::copy_from_slice(s.as_bytes())),
        other if binding == binary_binding => Err(not_text(binding, other)),
        Value::Null => Err(Error::invalid_event(format!(
            "`Data.{binding}` is null: the invocation carries no payload"
        ))),
        other => serde_json::to_vec(other)
            .map(Bytes::from)
            .map_err(|e| Error::invalid_event(format!("`Data.{binding}`: {e}"))),
    }
}

/// [`bytes`] of the trigger's input `field`: a string is read straight from
/// the request body (shared with it when it has no JSON escapes), without
/// building a `Value`.
pub(crate) fn field_bytes(field: Field<'_>, binary_binding: &str) -> Result<Bytes, Error> {
    let binding = field.name();
    if let Some(text) = field.string() {
        if binding == binary_binding {
            return base64(binding, &text);
        }
        return Ok(match text {
            Cow::Borrowed(text) => field.share(text),
            Cow::Owned(text) => Bytes::from(text),
        });
    }
    let value = field.value().ok_or_else(|| {
        Error::invalid_event(format!(
            "`Data.{binding}` is JSON nubes cannot read (nested too deeply or a number out of range)"
        ))
    })?;
    bytes(binding, binary_binding, value)
}

/// Whether the `Data` entry `field` of a binary binding is base64 text, for
/// decoders that do not need its bytes: anything else is an invalid event.
pub(crate) fn check_binary(field: Field<'_>) -> Result<(), Error> {
    if field.string().is_some() {
        return Ok(());
    }
    match field.value() {
        Some(value) => Err(not_text(field.name(), value)),
        None => Err(Error::invalid_event(format!(
            "`Data.{}` is JSON nubes cannot read, not base64 text",
            field.name()
        ))),
    }
}

fn not_text(binding: &str, value: &Value) -> Error {
    let what = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::String(_) => "text",
    };
    Error::invalid_event(format!(
        "`Data.{binding}` is {what}, not base64 text; this binding is declared \
         `dataType: binary`, so the host sends base64"
    ))
}

fn base64(binding: &str, text: &str) -> Result<Bytes, Error> {
    STANDARD
        .decode(text.as_bytes())
        .map(Bytes::from)
        .map_err(|e| {
            Error::invalid_event(format!(
                "`Data.{binding}` is not base64 ({e}); this binding is declared \
             `dataType: binary`, so the host sends base64"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn binary_bindings_are_base64_others_text() {
        assert_eq!(bytes("m64", "m64", &json!("/wA=")).unwrap(), &[0xff, 0][..]);
        assert!(bytes("m64", "m64", &json!("not base64!")).is_err());
        assert_eq!(bytes("myQueueItem", "m64", &json!("/wA=")).unwrap(), "/wA=");
        assert_eq!(
            bytes("q", "message", &json!({"a":1})).unwrap(),
            r#"{"a":1}"#
        );
        assert!(bytes("q", "message", &Value::Null).is_err());
    }

    #[test]
    fn binary_bindings_refuse_what_is_not_text() {
        for value in [
            json!(12),
            json!(true),
            json!([1, 2]),
            json!({"a": "b"}),
            Value::Null,
        ] {
            let err = bytes("m64", "m64", &value).unwrap_err();
            assert_eq!(err.kind(), nubes_core::ErrorKind::InvalidEvent, "{value}");
            assert!(err.message().contains("not base64 text"), "{err}");
        }
    }
}
