//! The servers' side of a Maildir: list a user's messages and open and remove them
//! without following a symbolic link anywhere below the Maildir root.
//!
//! A mail user can usually write their own Maildir, so a path is no safe name for a
//! message: `cur/` made a symlink to another user's `new/` would list, serve and
//! delete that user's mail, and a message file swapped for a symlink after login
//! would serve any file the server can read. So the two directories `new/` and
//! `cur/` are opened once at login (on Linux `openat2` with `RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS` from the root; elsewhere, and where the kernel lacks
//! `openat2`, one component at a time with `O_NOFOLLOW`), and every later open or
//! removal is relative to those directories, of one name, with `O_NOFOLLOW`, and
//! only of the file the listing saw (same device, inode and file times): a file
//! swapped or changed since is neither served nor removed (Maildir messages do not
//! change once delivered).
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode, OFlags, Stat};

/// One directory of a maildrop (`new/` or `cur/`), opened without following links.
pub struct Folder {
    fd: OwnedFd,
    /// For messages in logs only: never opened by this path.
    path: PathBuf,
}

/// A message file as the listing found it.
#[derive(Clone)]
pub struct MsgFile {
    folder: Arc<Folder>,
    name: OsString,
    /// Its length and modification time when listed.
    pub len: u64,
    pub modified: Option<SystemTime>,
    /// Device and inode: what identifies this file, whatever its name points at later.
    pub id: (u64, u64),
    /// Its modification and status change times when listed: with the inode, what
    /// tells a file written since under a freed inode number from the one listed
    /// (the kernel's file times tick coarsely, so both are compared).
    changed: [(i64, u64); 2],
}

/// One listed message: its file and its Maildir unique name.
pub struct Entry {
    pub file: MsgFile,
    /// The Maildir unique name (file name up to `:`), usable as a POP3 UID when it
    /// is 1–70 octets of 0x21–0x7E; otherwise a hash of it.
    pub uid: String,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// `root/user/sub` as a directory, no component below `root` a symlink; `None`
/// when it does not exist (a Maildir may lack `cur/`).
fn open_folder(root: &File, user: &str, sub: &str) -> io::Result<Option<OwnedFd>> {
    let opened = open_beneath(root, user, sub);
    match opened {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e == rustix::io::Errno::NOENT => Ok(None),
        Err(e) if e == rustix::io::Errno::LOOP || e == rustix::io::Errno::NOTDIR => {
            Err(io::Error::other(format!(
                "{user}/{sub}: a symbolic link or not a directory: refused"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(target_os = "linux")]
fn open_beneath(root: &File, user: &str, sub: &str) -> rustix::io::Result<OwnedFd> {
    use rustix::fs::{openat2, ResolveFlags};
    let path = format!("{user}/{sub}");
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
    match openat2(root, &path, DIR_FLAGS, Mode::empty(), resolve) {
        Err(rustix::io::Errno::NOSYS) => open_each(root, user, sub), // before Linux 5.6
        other => other,
    }
}

#[cfg(not(target_os = "linux"))]
fn open_beneath(root: &File, user: &str, sub: &str) -> rustix::io::Result<OwnedFd> {
    open_each(root, user, sub)
}

/// One component at a time, none of them followed if a symlink.
fn open_each(root: &File, user: &str, sub: &str) -> rustix::io::Result<OwnedFd> {
    let dir = openat(root, user, DIR_FLAGS, Mode::empty())?;
    openat(&dir, sub, DIR_FLAGS, Mode::empty())
}

fn uid_of(name: &[u8]) -> String {
    let base = name.split(|b| *b == b':').next().unwrap_or(name);
    if (1..=70).contains(&base.len()) && base.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return String::from_utf8_lossy(base).into_owned();
    }
    // FNV-1a, 64 bits, as hex: stable and within the UIDL alphabet.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in base {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("h{h:016x}")
}

fn modified(st: &Stat) -> Option<SystemTime> {
    let secs = u64::try_from(st.st_mtime).ok()?;
    let nanos = u32::try_from(st.st_mtime_nsec).unwrap_or(0);
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

fn changed(st: &Stat) -> [(i64, u64); 2] {
    [
        (st.st_mtime, st.st_mtime_nsec),
        (st.st_ctime, st.st_ctime_nsec),
    ]
}

/// The messages of `user`'s Maildir under `root` (`new/` and `cur/`), oldest first
/// (by modification time, then name), so that message numbers are stable while the
/// mailbox does not change. Only regular files count; a symlink where `new/`,
/// `cur/` or the Maildir should be is an error, a symlinked message is skipped.
pub fn list(root: &Path, user: &str) -> io::Result<Vec<Entry>> {
    let root_dir = File::open(root)?;
    let mut entries = Vec::new();
    for sub in ["new", "cur"] {
        let Some(fd) = open_folder(&root_dir, user, sub)? else {
            continue;
        };
        let folder = Arc::new(Folder {
            fd,
            path: root.join(user).join(sub),
        });
        for e in Dir::read_from(&folder.fd)? {
            let e = e?;
            let name = e.file_name().to_bytes();
            if name.starts_with(b".") {
                continue;
            }
            let st = match statat(&folder.fd, e.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(rustix::io::Errno::NOENT) => continue, // removed meanwhile
                Err(e) => return Err(e.into()),
            };
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                continue;
            }
            let modified = modified(&st);
            let file = MsgFile {
                folder: folder.clone(),
                name: OsStr::from_bytes(name).to_os_string(),
                len: st.st_size as u64,
                modified,
                id: (st.st_dev, st.st_ino),
                changed: changed(&st),
            };
            entries.push((
                modified.unwrap_or(UNIX_EPOCH),
                name.to_vec(),
                Entry {
                    uid: uid_of(name),
                    file,
                },
            ));
        }
    }
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(entries.into_iter().map(|(_, _, e)| e).collect())
}

impl MsgFile {
    /// Where the file is, for messages only.
    pub fn path(&self) -> PathBuf {
        self.folder.path.join(&self.name)
    }

    /// Its name in its folder.
    pub fn name(&self) -> &OsStr {
        &self.name
    }

    /// Refuses a file that is not the one listed.
    fn check(&self, st: &Stat) -> io::Result<()> {
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile
            || (st.st_dev, st.st_ino) != self.id
            || changed(st) != self.changed
        {
            return Err(io::Error::other(format!(
                "{}: not the file listed at login: refused",
                self.path().display()
            )));
        }
        Ok(())
    }

    /// Opens the file for reading: its name in its folder, not followed if a
    /// symlink, and only if it is still the file listed (`O_NONBLOCK`: a FIFO put in
    /// its place does not block the open).
    pub fn open(&self) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = openat(&self.folder.fd, &self.name, flags, Mode::empty())?;
        self.check(&rustix::fs::fstat(&fd)?)?;
        // Regular files ignore O_NONBLOCK; clear it anyway for the reader.
        rustix::fs::fcntl_setfl(&fd, OFlags::empty())?;
        Ok(File::from(fd))
    }

    /// [`open`](Self::open), read no further than the listed length: a file that
    /// grew since is served as listed, and its end is known without a read of 0.
    pub fn open_listed(&self) -> io::Result<io::Take<File>> {
        use std::io::Read;
        Ok(self.open()?.take(self.len))
    }

    /// Opens the file only if the kernel resolves its name from its caches
    /// (`openat2` with `RESOLVE_CACHED`, Linux 5.12), under the same rules as
    /// [`open`](Self::open).
    #[cfg(target_os = "linux")]
    pub fn open_cached(&self) -> rustix::io::Result<OwnedFd> {
        use rustix::fs::{openat2, ResolveFlags};
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let resolve = ResolveFlags::CACHED | ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
        let fd = openat2(&self.folder.fd, &self.name, flags, Mode::empty(), resolve)?;
        let st = rustix::fs::fstat(&fd)?;
        if self.check(&st).is_err() {
            return Err(rustix::io::Errno::PERM);
        }
        Ok(fd)
    }

    /// Removes the file from its folder, if the name still is the file listed (a
    /// file put in its place since is left alone, and this fails).
    pub fn remove(&self) -> io::Result<()> {
        let st = statat(&self.folder.fd, &self.name, AtFlags::SYMLINK_NOFOLLOW)?;
        self.check(&st)?;
        rustix::fs::unlinkat(&self.folder.fd, &self.name, AtFlags::empty())?;
        Ok(())
    }
}
