//! The lease a delivery holds while its handler runs: completed or released
//! explicitly, and released in the background if the run is cancelled (the
//! adapter dropped it at a timeout or shutdown).

use std::sync::Arc;
use std::time::Duration;

use super::store::DynStore;

pub(crate) struct LeaseGuard {
    store: Arc<dyn DynStore>,
    key: String,
    token: String,
    /// False once completed or released.
    armed: bool,
}

impl LeaseGuard {
    pub(crate) fn new(store: Arc<dyn DynStore>, key: String, token: String) -> Self {
        LeaseGuard {
            store,
            key,
            token,
            armed: true,
        }
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// Records the success. A store error is logged, not returned: the handler
    /// has done its work, and failing the delivery now would make the platform
    /// run it again; without the record a later duplicate may run once more.
    pub(crate) async fn complete(mut self, ttl: Duration) {
        let result = self.store.complete(&self.key, &self.token, ttl).await;
        self.armed = false;
        if let Err(err) = result {
            tracing::error!(
                idempotency_key = %self.key,
                error = %err,
                "the handler succeeded but the idempotency store could not record it; a duplicate delivery may run again"
            );
        }
    }

    /// Lets a retry run at once. A store error is logged; the lease then
    /// lapses on its own.
    pub(crate) async fn release(mut self) {
        let result = self.store.release(&self.key, &self.token).await;
        self.armed = false;
        if let Err(err) = result {
            tracing::warn!(
                idempotency_key = %self.key,
                error = %err,
                "could not release the idempotency lease; retries wait until it expires"
            );
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Cancelled mid-run: release in the background if a runtime is there;
        // otherwise the lease expires by itself.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = Arc::clone(&self.store);
        let key = std::mem::take(&mut self.key);
        let token = std::mem::take(&mut self.token);
        tracing::warn!(idempotency_key = %key, "delivery cancelled while running; releasing its idempotency lease");
        runtime.spawn(async move {
            if let Err(err) = store.release(&key, &token).await {
                tracing::warn!(idempotency_key = %key, error = %err, "could not release the idempotency lease of a cancelled delivery");
            }
        });
    }
}
