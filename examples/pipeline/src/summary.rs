//! The storage trigger: summarise each new upload into `results`.

use futures_util::StreamExt as _;
use nubes::bucket::PutOptions;
use nubes::{BoxError, Context, ErrorKind, StorageAction, StorageEvent};
use sha2::{Digest as _, Sha256};

use crate::buckets::Buckets;

/// `results/<key>.json` = `{"key","bytes","lines","sha256"}` for each
/// created object of `uploads`, computed while streaming the object.
pub(crate) async fn on_upload(
    buckets: Buckets,
    event: StorageEvent,
    _ctx: Context,
) -> Result<(), BoxError> {
    if event.action != StorageAction::Created {
        return Ok(());
    }
    let object = match buckets.uploads.get_object(&event.key).await {
        Ok(object) => object,
        // Deleted before its event was handled: nothing left to summarise,
        // and retrying would not bring it back.
        Err(e) if e.kind() == ErrorKind::NotFound => {
            tracing::warn!(key = %event.key, "uploaded object is gone; no summary");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut stream = object.into_stream();
    let (mut bytes, mut lines, mut hasher) = (0u64, 0u64, Sha256::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        hasher.update(&chunk);
    }
    let summary = serde_json::json!({
        "key": event.key,
        "bytes": bytes,
        "lines": lines,
        "sha256": format!("{:x}", hasher.finalize()),
    });
    buckets
        .results
        .put_with(
            &format!("{}.json", event.key),
            serde_json::to_vec(&summary)?,
            PutOptions::new().content_type("application/json"),
        )
        .await?;
    Ok(())
}
