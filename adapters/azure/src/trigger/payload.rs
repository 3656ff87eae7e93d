//! The bytes of a trigger's value, however the host encoded them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use nubes_core::Error;
use serde_json::Value;

/// The payload of `value`, the `Data` entry named `binding`.
///
/// - Under a binding nubes declares `dataType: binary` (`binary_binding`), the
///   host sends base64: it is decoded, and anything else there is an invalid
///   event (guessing "text, then" would corrupt texts that happen to be
///   valid base64, such as `fail`).
/// - Any other string is the payload's text, as the host's docs show it.
/// - A JSON object or array (the host parsed a JSON payload) is its compact
///   JSON text.
pub(crate) fn bytes(binding: &str, binary_binding: &str, value: &Value) -> Result<Bytes, Error> {
    match value {
        Value::String(s) if binding == binary_binding => {
            STANDARD.decode(s.as_bytes()).map(Bytes::from).map_err(|e| {
                Error::invalid_event(format!(
                    "`Data.{binding}` is not base64 ({e}); this binding is declared \
                     `dataType: binary`, so the host sends base64"
                ))
            })
        }
        Value::String(s) => Ok(Bytes::copy_from_slice(s.as_bytes())),
        Value::Null => Err(Error::invalid_event(format!(
            "`Data.{binding}` is null: the invocation carries no payload"
        ))),
        other => serde_json::to_vec(other)
            .map(Bytes::from)
            .map_err(|e| Error::invalid_event(format!("`Data.{binding}`: {e}"))),
    }
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
}
