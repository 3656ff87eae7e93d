//! Events that failed every delivery attempt, kept on disk for inspection.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use nubes_core::{Error, TriggerKind};
use serde::{Deserialize, Serialize};

/// One dead-lettered event.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Dead letters by trigger, mirrored to `<data_dir>/dead-letters.jsonl` so
/// they survive restarts.
#[derive(Debug)]
pub(crate) struct DeadLetters {
    file: PathBuf,
    by_trigger: Mutex<BTreeMap<(TriggerKind, String), Vec<DeadLetter>>>,
}

impl DeadLetters {
    /// Loads the dead letters of earlier runs.
    pub(crate) fn open(data_dir: &Path) -> Result<Self, Error> {
        let file = data_dir.join("dead-letters.jsonl");
        let mut by_trigger: BTreeMap<_, Vec<DeadLetter>> = BTreeMap::new();
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    match serde_json::from_str::<DeadLetter>(line) {
                        Ok(l) => by_trigger
                            .entry((l.kind, l.trigger.clone()))
                            .or_default()
                            .push(l),
                        Err(e) => {
                            tracing::error!(file = %file.display(), error = %e, "unreadable dead letter skipped (the file is kept)")
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(
                    Error::platform(format!("reading {}: {e}", file.display())).with_source(e)
                );
            }
        }
        Ok(DeadLetters {
            file,
            by_trigger: Mutex::new(by_trigger),
        })
    }

    pub(crate) fn push(&self, letter: DeadLetter) {
        let mut map = self.by_trigger.lock().unwrap_or_else(|p| p.into_inner());
        let appended = serde_json::to_string(&letter)
            .map_err(std::io::Error::other)
            .and_then(|mut line| {
                line.push('\n');
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.file)?
                    .write_all(line.as_bytes())
            });
        if let Err(e) = appended {
            tracing::error!(file = %self.file.display(), id = %letter.id, error = %e, "could not persist a dead letter; it is kept in memory only");
        }
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
