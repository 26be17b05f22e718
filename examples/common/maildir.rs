//! Just enough Maildir for the example programs: list a mailbox with stable
//! unique-ids, read and remove messages, and deliver a message safely (tmp/, fsync,
//! rename into new/, fsync the directory).
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// One message of a Maildir.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    /// The Maildir unique name (file name up to `:`), usable as a POP3 UID when it
    /// is 1–70 octets of 0x21–0x7E; otherwise a hash of it.
    pub uid: String,
}

/// Creates `dir/{tmp,new,cur}` if missing.
pub fn create(dir: &Path) -> io::Result<()> {
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

fn uid_of(name: &str) -> String {
    let base = name.split(':').next().unwrap_or(name);
    if (1..=70).contains(&base.len()) && base.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return base.to_string();
    }
    // FNV-1a, 64 bits, as hex: stable and within the UIDL alphabet.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in base.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("h{h:016x}")
}

/// Messages of `new/` and `cur/`, oldest first (by modification time, then name),
/// so that message numbers are stable while the mailbox does not change.
pub fn list(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(read) = fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in read {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.file_type()?.is_file() {
                continue;
            }
            let mtime = e.metadata()?.modified().unwrap_or(UNIX_EPOCH);
            entries.push((
                mtime,
                name.clone(),
                Entry {
                    path: e.path(),
                    uid: uid_of(&name),
                },
            ));
        }
    }
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(entries.into_iter().map(|(_, _, e)| e).collect())
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
    file: Option<File>,
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
            file: Some(file),
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
            file.sync_all()?;
        }
        fs::rename(&self.tmp, &self.new)?;
        self.committed = true;
        File::open(self.dir.join("new"))?.sync_all()?;
        Ok(self.new.clone())
    }

    /// Drops a half-written message.
    pub fn abort(self) {}
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.committed {
            drop(self.file.take());
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
