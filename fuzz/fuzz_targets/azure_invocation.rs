//! Every Azure custom-handler decoder: the first byte picks the function kind
//! (queue, storage, timer, HTTP binding), the rest is the invocation body.
#![no_main]

use nubes_core::TriggerKind;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((first, body)) = data.split_first() else {
        return;
    };
    let kind = match first % 4 {
        0 => TriggerKind::Queue,
        1 => TriggerKind::Storage,
        2 => TriggerKind::Schedule,
        _ => TriggerKind::Http,
    };
    let _ = nubes_azure::fuzzing::decode(kind, "uploads", body);
});
