//! The local storage folder: objects as files under `<data_dir>/storage/<bucket>/`.
//!
//! The folder remembers what it last saw of each file (size and mtime). Writes
//! and deletes made through the runner update that memory under the same lock
//! as the filesystem change, and the watcher's rescans diff against it, so an
//! object written over HTTP fires exactly one event while files changed by other
//! programs fire theirs too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use axum::body::Body as AxumBody;
use futures_util::TryStreamExt as _;
use nubes_core::{Error, StorageAction, StorageEvent};
use tokio::io::AsyncWriteExt as _;

use crate::spool::Staged;
use crate::storage_key::{key_of, object_path};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    }
}

/// The storage folder and what the runner last saw in it.
#[derive(Debug)]
pub(crate) struct StorageFolder {
    root: PathBuf,
    tmp: PathBuf,
    known: Mutex<HashMap<PathBuf, Stamp>>,
}

fn io_error(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::platform(format!("{what}: {e}")).with_source(e)
}

impl StorageFolder {
    /// Opens (creating as needed) the storage folder under `data_dir` with a
    /// folder per bucket, and remembers the files already there: they fire no
    /// event, they were there before the runner started. Paths are made
    /// absolute because the file watcher reports absolute paths.
    pub(crate) fn open<'a>(
        data_dir: &Path,
        buckets: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, Error> {
        let root = data_dir.join("storage");
        let tmp = data_dir.join("tmp");
        for dir in [&root, &tmp] {
            std::fs::create_dir_all(dir)
                .map_err(io_error(format!("creating {}", dir.display())))?;
        }
        let absolute = |p: &Path| {
            std::fs::canonicalize(p).map_err(io_error(format!("resolving {}", p.display())))
        };
        let folder = StorageFolder {
            root: absolute(&root)?,
            tmp: absolute(&tmp)?,
            known: Mutex::new(HashMap::new()),
        };
        for bucket in buckets {
            let dir = folder.bucket_dir(bucket);
            std::fs::create_dir_all(&dir)
                .map_err(io_error(format!("creating {}", dir.display())))?;
            let _ = folder.rescan(bucket);
        }
        Ok(folder)
    }

    /// The folder holding every bucket.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of `bucket`.
    pub(crate) fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    /// Streams `body` into a new file of `tmp/`, for the object
    /// `bucket`/`key`; [`StorageFolder::store`] puts it in place.
    pub(crate) async fn receive(
        &self,
        bucket: &str,
        key: &str,
        body: AxumBody,
    ) -> Result<Upload, Error> {
        let bucket_dir = self.bucket_dir(bucket);
        let dest = object_path(&bucket_dir, key)?;
        check_no_clash(&bucket_dir, &dest, key)?;
        let name = format!(".nubes-upload-{}", uuid::Uuid::new_v4().simple());
        let tmp = self.tmp.join(&name);
        match write_stream(&tmp, body).await {
            Ok(size) => Ok(Upload {
                name,
                dest,
                event: StorageEvent::new(StorageAction::Created, bucket, key)
                    .with_size(size)
                    .with_time(chrono::Utc::now()),
            }),
            Err(err) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(err)
            }
        }
    }

    /// Moves a received upload into place, replacing the object atomically.
    /// On failure the upload stays in `tmp/` (see [`StorageFolder::discard`]).
    pub(crate) fn store(&self, upload: &Upload) -> Result<(), Error> {
        if let Some(parent) = upload.dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(io_error(format!("creating {}", parent.display())))?;
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        std::fs::rename(self.tmp.join(&upload.name), &upload.dest)
            .map_err(io_error(format!("storing {}", upload.dest.display())))?;
        if let Ok(meta) = std::fs::metadata(&upload.dest) {
            known.insert(upload.dest.clone(), stamp(&meta));
        }
        Ok(())
    }

    /// The object to delete, if there is one; [`StorageFolder::remove`]
    /// deletes it.
    pub(crate) fn removal(&self, bucket: &str, key: &str) -> Result<Option<Removal>, Error> {
        let Some(path) = self.existing(bucket, key)? else {
            return Ok(None);
        };
        Ok(Some(Removal {
            name: format!(".nubes-deleted-{}", uuid::Uuid::new_v4().simple()),
            path,
            event: StorageEvent::new(StorageAction::Deleted, bucket, key)
                .with_time(chrono::Utc::now()),
        }))
    }

    /// Deletes the object by moving it into `tmp/` (kept there until its
    /// event is finished: [`StorageFolder::purge`]); `Ok(false)` when it is
    /// gone already.
    pub(crate) fn remove(&self, removal: &Removal) -> Result<bool, Error> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        match std::fs::symlink_metadata(&removal.path) {
            Ok(meta) if meta.is_file() => {}
            _ => return Ok(false),
        }
        std::fs::rename(&removal.path, self.tmp.join(&removal.name))
            .map_err(io_error(format!("deleting {}", removal.path.display())))?;
        known.remove(&removal.path);
        Ok(true)
    }

    /// Whether the object change `staged` was made (read after a crash: an
    /// upload still in `tmp/` was not stored; a deleted object in `tmp/` was
    /// deleted).
    pub(crate) fn was_made(&self, staged: &Staged) -> bool {
        match staged {
            Staged::Upload(name) => !self.tmp.join(name).exists(),
            Staged::Removed(name) => self.tmp.join(name).exists(),
        }
    }

    /// Removes the file `name` of `tmp/` (a discarded upload, a deleted
    /// object whose event is finished).
    pub(crate) fn purge(&self, name: &str) {
        let path = self.tmp.join(name);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a temporary file");
        }
    }

    /// Removes what crashed runs left in `tmp/`, except the files named in
    /// `keep` (staged changes of spooled events). Only at start, when no
    /// upload is in progress.
    pub(crate) fn clean_tmp(&self, keep: &std::collections::HashSet<String>) {
        let Ok(entries) = std::fs::read_dir(&self.tmp) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with(".nubes-upload-") || name.starts_with(".nubes-deleted-");
            if ours && !keep.contains(name.as_ref()) {
                self.purge(&name);
            }
        }
    }

    /// The path of an existing object, for reads.
    pub(crate) fn existing(&self, bucket: &str, key: &str) -> Result<Option<PathBuf>, Error> {
        let path = object_path(&self.bucket_dir(bucket), key)?;
        Ok(std::fs::symlink_metadata(&path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|_| path))
    }

    /// Compares `bucket`'s folder with what was last seen and returns the
    /// events for what changed: new or modified files are `created`, vanished
    /// ones `deleted`.
    pub(crate) fn rescan(&self, bucket: &str) -> Vec<StorageEvent> {
        let dir = self.bucket_dir(bucket);
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = HashMap::new();
        walk(&dir, &mut seen);
        let mut events = Vec::new();
        let now = chrono::Utc::now();
        for (path, st) in &seen {
            if known.get(path) != Some(st) {
                if let Some(key) = key_of(&dir, path) {
                    events.push(
                        StorageEvent::new(StorageAction::Created, bucket, key)
                            .with_size(st.len)
                            .with_time(now),
                    );
                }
                known.insert(path.clone(), *st);
            }
        }
        let gone: Vec<PathBuf> = known
            .keys()
            .filter(|p| p.starts_with(&dir) && !seen.contains_key(*p))
            .cloned()
            .collect();
        for path in gone {
            known.remove(&path);
            if let Some(key) = key_of(&dir, &path) {
                events.push(StorageEvent::new(StorageAction::Deleted, bucket, key).with_time(now));
            }
        }
        events
    }
}

/// An upload received into `tmp/`, not stored yet.
#[derive(Debug)]
pub(crate) struct Upload {
    /// Its file name in `tmp/`.
    pub(crate) name: String,
    dest: PathBuf,
    /// The `created` event it fires once stored.
    pub(crate) event: StorageEvent,
}

/// An object to delete.
#[derive(Debug)]
pub(crate) struct Removal {
    /// The file name in `tmp/` it is moved to.
    pub(crate) name: String,
    path: PathBuf,
    /// The `deleted` event it fires once deleted.
    pub(crate) event: StorageEvent,
}

/// Objects are files, so `a` and `a/b` cannot both exist (S3 and GCS allow
/// it): say so clearly instead of failing with an I/O error.
fn check_no_clash(bucket_dir: &Path, dest: &Path, key: &str) -> Result<(), Error> {
    if dest.is_dir() {
        return Err(Error::invalid_event(format!(
            "object key `{key}` is a folder of other objects in the local storage folder, \
             which cannot also hold an object of that name"
        )));
    }
    let mut ancestor = dest.parent();
    while let Some(dir) = ancestor {
        if dir == bucket_dir {
            break;
        }
        if dir.is_file() {
            let prefix = crate::storage_key::key_of(bucket_dir, dir).unwrap_or_default();
            return Err(Error::invalid_event(format!(
                "object key `{key}` needs `{prefix}` to be a folder, but `{prefix}` is an object; \
                 the local storage folder cannot hold both"
            )));
        }
        ancestor = dir.parent();
    }
    Ok(())
}

/// Regular files below `dir` (symlinks are not followed: they could point out).
fn walk(dir: &Path, out: &mut HashMap<PathBuf, Stamp>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let path = entry.path();
        if meta.is_dir() {
            walk(&path, out);
        } else if meta.is_file() {
            out.insert(path, stamp(&meta));
        }
    }
}

async fn write_stream(path: &Path, body: AxumBody) -> Result<u64, Error> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(io_error(format!("creating {}", path.display())))?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| Error::invalid_event(format!("reading the request body failed: {e}")))?
    {
        size += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(io_error(format!("writing {}", path.display())))?;
    }
    file.flush()
        .await
        .map_err(io_error(format!("writing {}", path.display())))?;
    Ok(size)
}
