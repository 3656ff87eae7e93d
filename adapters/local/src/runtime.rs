//! State shared by the local runner's routes and background tasks.

use std::sync::Arc;

use nubes_core::{App, CancellationToken};
use tokio_util::task::TaskTracker;

use crate::LocalConfig;
use crate::dead_letters::DeadLetters;
use crate::json_error::ApiError;
use crate::spool::Spool;
use crate::storage_folder::StorageFolder;

/// Everything the runner's parts share; one per running server.
pub(crate) struct Runtime {
    pub(crate) app: App,
    pub(crate) config: LocalConfig,
    pub(crate) dead_letters: DeadLetters,
    pub(crate) storage: StorageFolder,
    /// Unfinished events, on disk.
    pub(crate) spool: Spool,
    /// Every event delivery runs on this tracker so shutdown can wait for them.
    pub(crate) deliveries: TaskTracker,
    /// Cancelled when shutdown begins.
    pub(crate) shutdown: CancellationToken,
    /// What handlers recorded, served at `GET /_nubes/metrics`.
    pub(crate) metrics: crate::metrics_routes::LocalMetrics,
}

pub(crate) type SharedRuntime = Arc<Runtime>;

impl Runtime {
    /// How long before a handler's deadline it is cancelled.
    pub(crate) fn deadline_margin(&self) -> std::time::Duration {
        nubes_core::raw::deadline::margin_for(
            self.config.timeout,
            nubes_core::raw::deadline::DEFAULT_MARGIN,
        )
    }

    /// The error of a handler cancelled at its deadline.
    pub(crate) fn timed_out(&self) -> nubes_core::Error {
        nubes_core::raw::deadline::timed_out(self.timeout_setting())
    }

    /// The timeout setting, as error messages name it.
    pub(crate) fn timeout_setting(&self) -> String {
        format!(
            "the {} ms timeout (NUBES_LOCAL_TIMEOUT_MS)",
            self.config.timeout.as_millis()
        )
    }

    /// Refuses new events once shutdown has begun (`503`), so nothing is
    /// accepted that the runner cannot finish.
    pub(crate) fn accepting(&self) -> Result<(), ApiError> {
        if self.shutdown.is_cancelled() {
            return Err(ApiError::new(
                http::StatusCode::SERVICE_UNAVAILABLE,
                nubes_core::Error::platform(
                    "the runner is shutting down; send the event again later",
                ),
            ));
        }
        Ok(())
    }
}
