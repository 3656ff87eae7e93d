//! The local runner's object-key decoder: whatever the key, an accepted one
//! stays strictly inside the bucket folder.
#![no_main]

use std::path::{Component, Path};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(key) = std::str::from_utf8(data) else {
        return;
    };
    let bucket = Path::new("/srv/nubes/storage/uploads");
    if let Ok(path) = nubes_local::fuzzing::object_path(bucket, key) {
        assert!(path.starts_with(bucket) && path != bucket, "{key:?} -> {path:?}");
        let rest = path.strip_prefix(bucket).expect("inside");
        assert!(
            rest.components().all(|c| matches!(c, Component::Normal(_))),
            "{key:?} -> {path:?}"
        );
    }
});
