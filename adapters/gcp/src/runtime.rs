//! State shared by the server's routes (and the pull worker).

use std::sync::Arc;

use nubes_core::{App, CancellationToken, TriggerKind};

use crate::GcpConfig;
use crate::auth::Verifier;

/// Everything the adapter's parts share; one per running server.
pub(crate) struct Runtime {
    pub(crate) app: App,
    pub(crate) config: GcpConfig,
    /// Present when push deliveries must carry a Google-signed OIDC token.
    pub(crate) verifier: Option<Verifier>,
    /// Cancelled when shutdown begins.
    pub(crate) shutdown: CancellationToken,
    /// Cancelled when the grace period is over: requests still running are
    /// answered `503` (so the platform redelivers) and their handlers dropped.
    pub(crate) cut_off: CancellationToken,
    /// For each event kind, its trigger when the app registers exactly one:
    /// where an event arriving on `/` goes when its names match none.
    sole: [Option<String>; 3],
}

pub(crate) type SharedRuntime = Arc<Runtime>;

impl Runtime {
    pub(crate) fn new(app: App, config: GcpConfig, verifier: Option<Verifier>) -> Self {
        let description = app.describe();
        let sole_of = |kind: TriggerKind| {
            let mut names = description.triggers.iter().filter(|t| t.kind == kind);
            match (names.next(), names.next()) {
                (Some(only), None) => Some(only.name.clone()),
                _ => None,
            }
        };
        let sole = [
            sole_of(TriggerKind::Queue),
            sole_of(TriggerKind::Storage),
            sole_of(TriggerKind::Schedule),
        ];
        Runtime {
            app,
            config,
            verifier,
            shutdown: CancellationToken::new(),
            cut_off: CancellationToken::new(),
            sole,
        }
    }

    /// The trigger an event of `kind` that arrived on `/` belongs to: the first
    /// of its `names` that is registered, else the app's only trigger of that
    /// kind, else its most specific name (reported as an unknown trigger).
    pub(crate) fn resolve(&self, kind: TriggerKind, names: &[String]) -> String {
        if let Some(name) = names.iter().find(|n| self.app.has_trigger(kind, n)) {
            return name.clone();
        }
        let sole = match kind {
            TriggerKind::Queue => &self.sole[0],
            TriggerKind::Storage => &self.sole[1],
            TriggerKind::Schedule => &self.sole[2],
            _ => &None,
        };
        sole.clone()
            .or_else(|| names.first().cloned())
            .unwrap_or_default()
    }
}
