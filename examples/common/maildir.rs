//! Just enough Maildir for the fetchers: deliver a message safely (tmp/, fsync,
//! rename into new/, fsync the directory), one at a time or in groups
//! ([`commit_batch`]: the same guarantee with one directory fsync per group).
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Creates `dir/{tmp,new,cur}` if missing.
pub fn create(dir: &Path) -> io::Result<()> {
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new unique file name (time, counter, pid, host). The fields are zero-padded so
/// that names sort in delivery order, as Maildir readers list them.
pub fn unique_name() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:010}.M{:06}Q{:06}P{}.pop3-proto",
        now.as_secs(),
        now.subsec_micros(),
        n,
        std::process::id()
    )
}

/// A message being written into `tmp/`; [`Delivery::commit`] makes it visible.
/// Dropped without a successful commit (an error anywhere, a panic), it removes its
/// file from `tmp/`.
pub struct Delivery {
    file: Option<BufWriter<File>>,
    tmp: PathBuf,
    new: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Delivery {
    pub fn start(dir: &Path) -> io::Result<Delivery> {
        let name = unique_name();
        let tmp = dir.join("tmp").join(&name);
        let file = File::options().write(true).create_new(true).open(&tmp)?;
        Ok(Delivery {
            file: Some(BufWriter::with_capacity(128 * 1024, file)),
            tmp,
            new: dir.join("new").join(&name),
            dir: dir.to_path_buf(),
            committed: false,
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// fsync the file, rename it into `new/`, fsync `new/`: after this returns the
    /// message survives a crash. On an error before the rename the file is removed.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        if let Some(file) = self.file.take() {
            file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        fs::rename(&self.tmp, &self.new)?;
        self.committed = true;
        File::open(self.dir.join("new"))?.sync_all()?;
        Ok(self.new.clone())
    }

    /// Drops a half-written message.
    pub fn abort(self) {}

    /// Where the message is being written.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// The message is complete: its bytes are handed to the kernel and the file
    /// closed, not yet synced; it stays in `tmp/` until [`commit_batch`].
    pub fn finish(mut self) -> io::Result<Written> {
        if let Some(file) = self.file.take() {
            file.into_inner().map_err(|e| e.into_error())?;
        }
        self.committed = true;
        Ok(Written {
            tmp: std::mem::take(&mut self.tmp),
            new: std::mem::take(&mut self.new),
            done: false,
        })
    }
}

/// A complete message in `tmp/` waiting for [`commit_batch`]; removed from `tmp/` if
/// dropped before.
pub struct Written {
    tmp: PathBuf,
    new: PathBuf,
    done: bool,
}

impl Drop for Written {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Group commit: fdatasync every message of `batch` (from a few threads at once, so
/// that the filesystem can merge their journal commits), rename each into `new/`,
/// fsync `new/` once. When this returns `Ok`, every message of the batch survives a
/// crash; on an error, those not yet renamed are removed from `tmp/`.
pub fn commit_batch(dir: &Path, mut batch: Vec<Written>) -> io::Result<Vec<PathBuf>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let threads = batch.len().clamp(1, 16);
    let per = batch.len().div_ceil(threads);
    std::thread::scope(|s| {
        let workers: Vec<_> = batch
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || -> io::Result<()> {
                    for w in chunk {
                        File::open(&w.tmp)?.sync_data()?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(io::ErrorKind::Other.into()))
        })
    })?;
    let mut paths = Vec::with_capacity(batch.len());
    for w in &mut batch {
        fs::rename(&w.tmp, &w.new)?;
        w.done = true;
        paths.push(w.new.clone());
    }
    File::open(dir.join("new"))?.sync_all()?;
    Ok(paths)
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.committed {
            drop(self.file.take());
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
