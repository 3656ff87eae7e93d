//! What the conformance app's handlers saw.

use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Every event the conformance app handled, as echo-style JSON lines, in order.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Recorder {
    /// A new, empty recorder.
    pub fn new() -> Self {
        Recorder::default()
    }

    pub(crate) fn push(&self, line: Value) {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line);
    }

    /// All lines so far.
    pub fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Lines whose `kind` is `kind`.
    pub fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["kind"] == kind)
            .collect()
    }
}
