//! Text-or-base64 rendering of binary payloads, shared by every event that
//! carries bytes, so JSON views of events are readable when they can be.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::Error;

/// How a payload was rendered into a JSON string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    /// The bytes were valid UTF-8 and are the string itself.
    Text,
    /// The bytes were not UTF-8 and are standard base64.
    Base64,
}

/// Renders bytes as text when they are UTF-8, else as base64, saying which.
///
/// ```
/// use nubes_core::raw::{encode_body, BodyEncoding};
///
/// assert_eq!(encode_body(b"hi"), ("hi".to_string(), BodyEncoding::Text));
/// assert_eq!(encode_body(&[0xff, 0x00]), ("/wA=".to_string(), BodyEncoding::Base64));
/// ```
pub fn encode_body(bytes: &[u8]) -> (String, BodyEncoding) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), BodyEncoding::Text),
        Err(_) => (STANDARD.encode(bytes), BodyEncoding::Base64),
    }
}

pub(crate) fn decode_body(text: String, encoding: BodyEncoding) -> Result<Bytes, Error> {
    match encoding {
        BodyEncoding::Text => Ok(Bytes::from(text)),
        BodyEncoding::Base64 => STANDARD
            .decode(text.as_bytes())
            .map(Bytes::from)
            .map_err(|e| Error::invalid_event(format!("body is not valid base64: {e}"))),
    }
}
