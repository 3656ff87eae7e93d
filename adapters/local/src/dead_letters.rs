//! Events that failed every delivery attempt, kept for inspection.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use nubes_core::TriggerKind;
use serde::Serialize;

/// One dead-lettered event.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeadLetter {
    pub(crate) id: String,
    pub(crate) kind: TriggerKind,
    pub(crate) trigger: String,
    pub(crate) attempts: u32,
    pub(crate) error: String,
    pub(crate) dead_at: DateTime<Utc>,
    /// The neutral event as JSON (queue bodies as text or base64).
    pub(crate) event: serde_json::Value,
}

/// Dead letters by trigger.
#[derive(Debug, Default)]
pub(crate) struct DeadLetters {
    by_trigger: Mutex<BTreeMap<(TriggerKind, String), Vec<DeadLetter>>>,
}

impl DeadLetters {
    pub(crate) fn push(&self, letter: DeadLetter) {
        let mut map = self.by_trigger.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((letter.kind, letter.trigger.clone()))
            .or_default()
            .push(letter);
    }

    pub(crate) fn list(&self, kind: TriggerKind, trigger: &str) -> Vec<DeadLetter> {
        let map = self.by_trigger.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(kind, trigger.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn all(&self) -> Vec<DeadLetter> {
        let map = self.by_trigger.lock().unwrap_or_else(|p| p.into_inner());
        map.values().flatten().cloned().collect()
    }
}
