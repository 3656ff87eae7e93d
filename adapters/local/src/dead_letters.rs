//! Events that failed every delivery attempt, kept on disk for inspection.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
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
    /// Loads the dead letters of earlier runs. Each line stands alone: one
    /// that is torn (a crash mid-append), not JSON or not UTF-8 is logged and
    /// skipped, never fatal, and the file is kept as it is.
    pub(crate) fn open(data_dir: &Path) -> Result<Self, Error> {
        let file = data_dir.join("dead-letters.jsonl");
        let mut by_trigger: BTreeMap<_, Vec<DeadLetter>> = BTreeMap::new();
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(
                    Error::platform(format!("reading {}: {e}", file.display())).with_source(e)
                );
            }
        };
        let lines = bytes.split(|b| *b == b'\n').enumerate();
        for (n, line) in lines.filter(|(_, l)| !l.trim_ascii().is_empty()) {
            match serde_json::from_slice::<DeadLetter>(line) {
                Ok(l) => by_trigger
                    .entry((l.kind, l.trigger.clone()))
                    .or_default()
                    .push(l),
                Err(e) => {
                    tracing::error!(file = %file.display(), line = n + 1, error = %e, "unreadable dead letter skipped (the file is kept)")
                }
            }
        }
        Ok(DeadLetters {
            file,
            by_trigger: Mutex::new(by_trigger),
        })
    }

    /// Keeps `letter`, in memory and appended to the file.
    pub(crate) fn push(&self, letter: DeadLetter) {
        let mut map = self.by_trigger.lock().unwrap_or_else(|p| p.into_inner());
        let appended = serde_json::to_string(&letter)
            .map_err(std::io::Error::other)
            .and_then(|line| append_line(&self.file, line));
        if let Err(e) = appended {
            tracing::error!(file = %self.file.display(), id = %letter.id, error = %e, "could not persist a dead letter; it is kept in memory only");
        }
        map.entry((letter.kind, letter.trigger.clone()))
            .or_default()
            .push(letter);
    }

    /// The dead letters of one trigger.
    pub(crate) fn list(&self, kind: TriggerKind, trigger: &str) -> Vec<DeadLetter> {
        let map = self.by_trigger.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(kind, trigger.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Every dead letter.
    pub(crate) fn all(&self) -> Vec<DeadLetter> {
        let map = self.by_trigger.lock().unwrap_or_else(|p| p.into_inner());
        map.values().flatten().cloned().collect()
    }
}

/// Appends `line` and a newline in one write. When the file does not end with
/// a newline (an earlier append was torn by a crash), the line starts with
/// one, so the new record is not glued to the torn one.
fn append_line(path: &Path, mut line: String) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    line.push('\n');
    if file.metadata()?.len() > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::End(-1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.insert(0, '\n');
        }
    }
    file.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(id: &str) -> DeadLetter {
        DeadLetter {
            id: id.to_owned(),
            kind: TriggerKind::Queue,
            trigger: "orders".to_owned(),
            attempts: 5,
            error: "handler error: no".to_owned(),
            dead_at: Utc::now(),
            event: serde_json::json!({ "body": id }),
        }
    }

    fn ids(letters: &DeadLetters) -> Vec<String> {
        letters.all().into_iter().map(|l| l.id).collect()
    }

    #[test]
    fn a_torn_last_line_does_not_swallow_the_next_letter() {
        let dir = tempfile::tempdir().unwrap();
        let letters = DeadLetters::open(dir.path()).unwrap();
        letters.push(letter("first"));
        let path = dir.path().join("dead-letters.jsonl");
        // A crash in the middle of the second append.
        let mut text = std::fs::read(&path).unwrap();
        text.extend_from_slice(br#"{"id":"torn","kind":"qu"#);
        std::fs::write(&path, text).unwrap();
        let letters = DeadLetters::open(dir.path()).unwrap();
        assert_eq!(ids(&letters), ["first"]);
        letters.push(letter("third"));
        let again = DeadLetters::open(dir.path()).unwrap();
        assert_eq!(ids(&again), ["first", "third"]);
    }

    #[test]
    fn bad_lines_are_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let good = |id: &str| serde_json::to_vec(&letter(id)).unwrap();
        let mut text = good("a");
        text.extend_from_slice(b"\n\xff\xfe not utf-8\n");
        let mut bad_utf8_inside = good("b");
        bad_utf8_inside.splice(8..8, [0xc3u8]);
        text.extend_from_slice(&bad_utf8_inside);
        text.extend_from_slice(b"\nnot json\n\n");
        text.extend_from_slice(&good("c"));
        text.push(b'\n');
        std::fs::write(dir.path().join("dead-letters.jsonl"), text).unwrap();
        let letters = DeadLetters::open(dir.path()).unwrap();
        assert_eq!(ids(&letters), ["a", "c"]);
        letters.push(letter("d"));
        assert_eq!(
            ids(&DeadLetters::open(dir.path()).unwrap()),
            ["a", "c", "d"]
        );
    }
}
