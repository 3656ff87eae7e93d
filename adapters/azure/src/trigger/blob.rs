//! `blobTrigger`: a blob was created or overwritten in a container (polling
//! or `source: EventGrid`; the payload is the same).
//!
//! The host drops binding data whose name ends in `Trigger` from `Metadata`
//! (`BlobTrigger` is in `Data` already, as the blob's content), so the
//! container and name come from `Metadata.Uri`, else `Metadata.BlobTrigger`
//! (older hosts), else the `{name}` of the path pattern plus the function's
//! container. The size comes from `Metadata.Properties`.

use std::net::IpAddr;

use nubes_core::{Error, StorageAction, StorageEvent};
use percent_encoding::percent_decode_str;

use crate::bindings;
use crate::envelope::{self, Envelope};
use crate::trigger::payload;

/// The event of a blob-trigger invocation of the function for `container`.
pub(crate) fn decode(envelope: &Envelope, container: &str) -> Result<StorageEvent, Error> {
    if let Ok(content) = envelope.trigger_field(&[bindings::BLOB])
        && content.name().eq_ignore_ascii_case(bindings::BLOB)
    {
        payload::check_binary(content)?;
    }
    let (bucket, key) = location(envelope, container).ok_or_else(|| {
        Error::invalid_event(
            "blob invocation without the blob's location (`Metadata.Uri`, \
             `Metadata.BlobTrigger` or `Metadata.name`)",
        )
    })?;
    if key.is_empty() {
        return Err(Error::invalid_event(
            "blob invocation with an empty blob name",
        ));
    }
    let props = envelope
        .meta("Properties")
        .and_then(envelope::object)
        .unwrap_or_default();
    let prop = |name: &str| envelope::lookup(&props, name);
    let mut event = StorageEvent::new(StorageAction::Created, bucket, key);
    let size = prop("ContentLength")
        .or_else(|| prop("Length"))
        .and_then(envelope::count)
        .or_else(|| content_length(envelope));
    if let Some(size) = size {
        event = event.with_size(size);
    }
    if let Some(etag) = prop("ETag").and_then(envelope::text) {
        event = event.with_etag(etag);
    }
    if let Some(ct) = prop("ContentType").and_then(envelope::text) {
        event = event.with_content_type(ct);
    }
    if let Some(at) = prop("LastModified").and_then(envelope::time) {
        event = event.with_time(at);
    }
    if let Some(version) = prop("VersionId").and_then(envelope::text) {
        event = event.with_version(version);
    }
    Ok(event)
}

fn location(envelope: &Envelope, container: &str) -> Option<(String, String)> {
    if let Some(found) = envelope
        .meta("Uri")
        .and_then(envelope::text)
        .and_then(|uri| from_uri(&uri))
    {
        return Some(found);
    }
    if let Some(path) = envelope.meta("BlobTrigger").and_then(envelope::text)
        && let Some((bucket, key)) = path.split_once('/')
    {
        return Some((bucket.to_owned(), key.to_owned()));
    }
    let name = envelope.meta("name").and_then(envelope::text)?;
    Some((container.to_owned(), name))
}

/// `https://acct.blob.core.windows.net/container/a%20b.txt` → (container, `a b.txt`);
/// emulator URLs put the account first: `http://127.0.0.1:10000/acct/container/key`.
pub(crate) fn from_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let (authority, path) = rest.split_once('/')?;
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let path_style = host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok();
    let path = if path_style {
        path.split_once('/')?.1
    } else {
        path
    };
    let (bucket, key) = path.split_once('/')?;
    let key = percent_decode_str(key).decode_utf8().ok()?;
    (!bucket.is_empty()).then(|| (bucket.to_owned(), key.into_owned()))
}

/// The size of the content the host sent, when the properties lack it.
fn content_length(envelope: &Envelope) -> Option<u64> {
    let (binding, value) = envelope.trigger_input(&[bindings::BLOB]).ok()?;
    let bytes = payload::bytes(binding, bindings::BLOB, value).ok()?;
    u64::try_from(bytes.len()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_content_must_be_base64_text() {
        for bad in ["5", "false", "[]", "{}"] {
            let body = format!(
                r#"{{"Data":{{"blobBase64":{bad}}},"Metadata":{{"BlobTrigger":"pics/cat.png",
                    "Properties":{{"ContentLength":5}}}}}}"#
            );
            let err = decode(&Envelope::parse(body.as_bytes()).unwrap(), "pics").unwrap_err();
            assert_eq!(err.kind(), nubes_core::ErrorKind::InvalidEvent, "{bad}");
        }
    }

    #[test]
    fn uri_properties_and_percent_decoding() {
        let env = Envelope::parse(
            br#"{"Data":{"blobBase64":"MTIzNDU="},"Metadata":{
                "Uri":"\"https://acct.blob.core.windows.net/uploads/docs/report%201.txt\"",
                "Properties":{"ContentLength":5,"ETag":"\"0x8D\"","ContentType":"text/plain",
                              "LastModified":"2024-01-01T00:00:00+00:00"},
                "name":"docs/report 1.txt"}}"#,
        )
        .unwrap();
        let ev = crate::trigger::storage(&env, "uploads").unwrap();
        assert_eq!(ev.action, StorageAction::Created);
        assert_eq!(
            (ev.bucket.as_str(), ev.key.as_str()),
            ("uploads", "docs/report 1.txt")
        );
        assert_eq!(ev.size, Some(5));
        assert_eq!(ev.etag.as_deref(), Some("0x8D"));
        assert_eq!(ev.content_type.as_deref(), Some("text/plain"));
        assert!(ev.time.is_some());
    }

    #[test]
    fn fallbacks_blob_trigger_name_and_content_length() {
        let env = Envelope::parse(
            br#"{"Data":{"blobBase64":"AAEC"},"Metadata":{"BlobTrigger":"pics/cat.png"}}"#,
        )
        .unwrap();
        let ev = decode(&env, "uploads").unwrap();
        assert_eq!((ev.bucket.as_str(), ev.key.as_str()), ("pics", "cat.png"));
        assert_eq!(ev.size, Some(3));
        let env =
            Envelope::parse(br#"{"Data":{"blobBase64":""},"Metadata":{"name":"a.txt"}}"#).unwrap();
        let ev = decode(&env, "uploads").unwrap();
        assert_eq!((ev.bucket.as_str(), ev.key.as_str()), ("uploads", "a.txt"));
        let env = Envelope::parse(br#"{"Data":{"blobBase64":""},"Metadata":{}}"#).unwrap();
        assert!(decode(&env, "uploads").is_err());
    }

    #[test]
    fn emulator_urls_are_path_style() {
        assert_eq!(
            from_uri("http://127.0.0.1:10000/devstoreaccount1/uploads/a/b.txt"),
            Some(("uploads".into(), "a/b.txt".into()))
        );
        assert_eq!(from_uri("https://x.blob.core.windows.net/c"), None);
        assert_eq!(from_uri("garbage"), None);
    }
}
