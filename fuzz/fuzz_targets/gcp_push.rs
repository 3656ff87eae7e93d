//! The GCP decoders for a JSON body: Pub/Sub push envelopes and legacy
//! background-function events (as sniffed on `/`).
#![no_main]

use http::{HeaderMap, HeaderValue, header};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let _ = nubes_gcp::fuzzing::decode(&headers, &bytes::Bytes::copy_from_slice(data));
});
