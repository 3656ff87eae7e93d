//! Fires storage events for files other programs create or remove.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use nubes_core::Error;
use nubes_core::raw::AppDispatch as _;
use tokio::sync::mpsc;

use crate::delivery::{self, Delivery, LocalEvent};
use crate::runtime::SharedRuntime;

/// How long the folder must be quiet before a batch of changes is reconciled,
/// so a file being written fires one event, not one per chunk.
const SETTLE: Duration = Duration::from_millis(150);

/// Starts watching the storage folder. The watcher lives in the spawned task
/// until shutdown.
pub(crate) fn start(rt: &SharedRuntime) -> Result<(), Error> {
    let (tx, rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })
    .map_err(|e| Error::platform(format!("cannot watch the storage folder: {e}")).with_source(e))?;
    watcher
        .watch(rt.storage.root(), RecursiveMode::Recursive)
        .map_err(|e| {
            Error::platform(format!("cannot watch {}: {e}", rt.storage.root().display()))
                .with_source(e)
        })?;
    let rt = rt.clone();
    tokio::spawn(async move {
        let _keep_alive = watcher;
        reconcile_loop(rt, rx).await;
    });
    Ok(())
}

async fn reconcile_loop(rt: SharedRuntime, mut rx: mpsc::UnboundedReceiver<PathBuf>) {
    loop {
        let first = tokio::select! {
            p = rx.recv() => p,
            () = rt.shutdown.cancelled() => return,
        };
        let Some(first) = first else { return };
        let mut touched = BTreeSet::new();
        touched.insert(first);
        // Wait until the folder settles.
        while let Ok(Some(p)) = tokio::time::timeout(SETTLE, rx.recv()).await {
            touched.insert(p);
        }
        let buckets: BTreeSet<String> = touched
            .iter()
            .filter_map(|p| p.strip_prefix(rt.storage.root()).ok())
            .filter_map(|rel| rel.components().next())
            .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
            .filter(|b| rt.app.storage_handler(b).is_some())
            .collect();
        for bucket in buckets {
            let rt2 = rt.clone();
            let events = tokio::task::spawn_blocking(move || rt2.storage.rescan(&bucket))
                .await
                .unwrap_or_default();
            for event in events {
                tracing::debug!(bucket = %event.bucket, key = %event.key, action = event.action.as_str(), "storage folder changed");
                let trigger = event.bucket.clone();
                if let Err(e) =
                    delivery::spawn(&rt, Delivery::new(trigger, LocalEvent::Storage(event)))
                {
                    tracing::error!(error = %e, "storage event could not be stored and was skipped");
                }
            }
        }
    }
}
