//! State shared by every request the handler serves.

use std::sync::Arc;

use nubes_core::{App, CancellationToken, TriggerKind};

use crate::AzureConfig;

/// The app, the settings and the shutdown signal; one per running server.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) app: App,
    pub(crate) config: AzureConfig,
    /// Cancelled when shutdown begins; handed to every `Context`.
    pub(crate) shutdown: CancellationToken,
}

pub(crate) type SharedRuntime = Arc<Runtime>;

impl Runtime {
    /// The kind of the function named `name`: the HTTP function, or the event
    /// trigger of that name (function name = trigger name).
    pub(crate) fn function_kind(&self, name: &str) -> Option<TriggerKind> {
        if self.app.http_service().is_some() && name == self.config.http_function {
            return Some(TriggerKind::Http);
        }
        [
            TriggerKind::Queue,
            TriggerKind::Storage,
            TriggerKind::Schedule,
        ]
        .into_iter()
        .find(|kind| self.app.has_trigger(*kind, name))
    }
}
