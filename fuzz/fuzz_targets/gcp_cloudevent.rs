//! The GCP decoders that read headers: CloudEvents binary and structured mode,
//! unwrapped Pub/Sub pushes, Cloud Scheduler calls. Input: `name: value`
//! lines, a blank line, the body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (headers, body) = nubes_fuzz::headers_and_body(data);
    let _ = nubes_gcp::fuzzing::decode(&headers, &body);
});
