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

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Stores (or replaces) `record`.
    pub(crate) fn save(&self, record: &SpoolRecord) -> Result<(), Error> {
        let json = serde_json::to_vec(record)
            .map_err(|e| Error::platform(format!("encoding event {}: {e}", record.id)))?;
        let tmp = self.dir.join(format!(".{}.tmp", record.id));
        std::fs::write(&tmp, json).map_err(io_error(format!("writing {}", tmp.display())))?;
        let path = self.path(&record.id);
        std::fs::rename(&tmp, &path).map_err(io_error(format!("writing {}", path.display())))
    }

    /// Forgets the event `id` (it is finished).
    pub(crate) fn remove(&self, id: &str) {
        let path = self.path(id);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(path = %path.display(), error = %e, "could not remove a finished event from the spool; it will be delivered again at the next start");
        }
    }

    /// Every stored record. Unreadable files are reported and left in place
    /// for a person to look at, never deleted.
    pub(crate) fn load(&self) -> Vec<SpoolRecord> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match std::fs::read(&path).map(|bytes| serde_json::from_slice::<SpoolRecord>(&bytes)) {
                Ok(Ok(record)) => records.push(record),
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
        };
        spool.save(&record).unwrap();
        std::fs::write(dir.path().join("spool/broken.json"), "{").unwrap();
        let loaded = spool.load();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].attempts_done, 2);
        assert!(matches!(&loaded[0].event, LocalEvent::Queue(m) if m.body[..] == [0, 255]));
        spool.remove("abc");
        assert!(spool.load().is_empty());
        assert!(
            dir.path().join("spool/broken.json").exists(),
            "unreadable files are kept"
        );
    }
}
