//! Events not yet finished, kept on disk so a crash or restart loses none.
//!
//! Every accepted event is written to `<data_dir>/spool/<id>.json` before the
//! runner answers `202`, updated after each failed attempt, and removed once the
//! event is handled, failed permanently or dead-lettered. At start the runner
//! resumes every event it finds there, at the attempt after the last one made.
//! Writes go through a temporary file and a rename, so a record is never seen
//! half-written.

use std::path::{Path, PathBuf};

use nubes_core::Error;
use serde::{Deserialize, Serialize};

use crate::delivery::LocalEvent;

/// One unfinished event, as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SpoolRecord {
    pub(crate) id: String,
    pub(crate) trigger: String,
    /// W3C traceparent of the event's trace, to keep it across restarts.
    pub(crate) traceparent: Option<String>,
    pub(crate) event: LocalEvent,
    /// Attempts already made (0 before the first).
    pub(crate) attempts_done: u32,
    /// For a storage event spooled before its object change was made: the
    /// temporary file that tells, after a crash, whether the change happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) staged: Option<Staged>,
}

/// The object change a storage event reports, staged in the runner's `tmp/`
/// folder (file names, not paths: the data folder may move between runs).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Staged {
    /// A `PUT`: the upload, renamed into the bucket when stored. Still there:
    /// the object was not stored.
    Upload(String),
    /// A `DELETE`: where the object was moved, removed once its event is
    /// finished. Still there: the object was deleted.
    Removed(String),
}

/// A record as loaded, with the key it is stored under: its file's name.
#[derive(Debug)]
pub(crate) struct Spooled {
    pub(crate) key: String,
    pub(crate) record: SpoolRecord,
}

/// The spool folder.
#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
}

fn io_error(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::platform(format!("{what}: {e}")).with_source(e)
}

impl Spool {
    pub(crate) fn open(data_dir: &Path) -> Result<Self, Error> {
        let dir = data_dir.join("spool");
        std::fs::create_dir_all(&dir).map_err(io_error(format!("creating {}", dir.display())))?;
        Ok(Spool { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Stores (or replaces) `record` under `key` (its file's name).
    pub(crate) fn save(&self, key: &str, record: &SpoolRecord) -> Result<(), Error> {
        let json = serde_json::to_vec(record)
            .map_err(|e| Error::platform(format!("encoding event {}: {e}", record.id)))?;
        let tmp = self.dir.join(format!(".{key}.tmp"));
        std::fs::write(&tmp, json).map_err(io_error(format!("writing {}", tmp.display())))?;
        let path = self.path(key);
        std::fs::rename(&tmp, &path).map_err(io_error(format!("writing {}", path.display())))
    }

    /// Forgets the event stored under `key` (it is finished); whether it is
    /// gone from the spool.
    pub(crate) fn remove(&self, key: &str) -> bool {
        let path = self.path(key);
        match std::fs::remove_file(&path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "could not remove a finished event from the spool; it will be delivered again at the next start");
                false
            }
        }
    }

    /// Whether a record is stored under `key`.
    pub(crate) fn holds(&self, key: &str) -> bool {
        self.path(key).exists()
    }

    /// Every stored record, keyed by its file (whatever the id inside says,
    /// so a finished event removes the very file it was loaded from).
    /// Unreadable files are reported and left in place for a person to look
    /// at, never deleted.
    pub(crate) fn load(&self) -> Vec<Spooled> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let Some(key) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                tracing::error!(path = %path.display(), "spooled event with a file name that is not UTF-8 left in place");
                continue;
            };
            match std::fs::read(&path).map(|bytes| serde_json::from_slice::<SpoolRecord>(&bytes)) {
                Ok(Ok(record)) => records.push(Spooled { key, record }),
                Ok(Err(e)) => {
                    tracing::error!(path = %path.display(), error = %e, "unreadable spooled event left in place")
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "unreadable spooled event left in place")
                }
            }
        }
        records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubes_core::QueueMessage;

    #[test]
    fn records_round_trip_and_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let record = SpoolRecord {
            id: "abc".into(),
            trigger: "jobs".into(),
            traceparent: None,
            event: LocalEvent::Queue(QueueMessage::new("abc", vec![0u8, 255])),
            attempts_done: 2,
            staged: None,
        };
        spool.save("abc", &record).unwrap();
        std::fs::write(dir.path().join("spool/broken.json"), "{").unwrap();
        let loaded = spool.load();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].record.attempts_done, 2);
        assert!(matches!(&loaded[0].record.event, LocalEvent::Queue(m) if m.body[..] == [0, 255]));
        assert!(spool.remove("abc"));
        assert!(spool.load().is_empty());
        assert!(
            dir.path().join("spool/broken.json").exists(),
            "unreadable files are kept"
        );
    }

    #[test]
    fn records_are_keyed_by_their_file_not_their_id() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let record = SpoolRecord {
            id: "../../escape".into(),
            trigger: "jobs".into(),
            traceparent: None,
            event: LocalEvent::Queue(QueueMessage::new("m", "x")),
            attempts_done: 0,
            staged: Some(Staged::Upload(".nubes-upload-1".into())),
        };
        spool.save("renamed", &record).unwrap();
        let loaded = spool.load();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].key, "renamed");
        assert_eq!(loaded[0].record.id, "../../escape");
        assert_eq!(loaded[0].record.staged, record.staged);
        assert!(spool.remove(&loaded[0].key));
        assert!(spool.load().is_empty());
    }
}
