//! A Maildir per user under `--maildir-root`: a user's messages as a session lists
//! them at login, each with its size on the wire (CRLF line ends, dot-stuffing),
//! found without reading the file where possible.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;

use pop3_proto::codec::body::WireSize;

use super::maildrop;
use super::message::{Msg, Source};

/// A cached wire size: the file's (length, mtime) when it was computed, and the size.
type SizeEntry = ((u64, Option<std::time::SystemTime>), u64);

/// Wire sizes computed by reading a file, by device and inode (with its length and
/// mtime), for every session.
pub struct WireSizes {
    sizes: Mutex<HashMap<(u64, u64), SizeEntry>>,
}

/// The messages of `user`'s Maildir under `root`.
pub fn messages(root: &Path, user: &str, sizes: &WireSizes) -> io::Result<Vec<Msg>> {
    let mut out = Vec::new();
    for e in maildrop::list(root, user)? {
        let size = sizes.wire_size(&e)?;
        out.push(Msg {
            uid: e.uid,
            size,
            source: Source::File(e.file),
        });
    }
    Ok(out)
}

/// The `,W=` field of a Maildir name (`1600000000.M1P2.host,S=1000,W=1020:2,S`): the
/// message's size with CRLF line ends, as Dovecot writes it.
fn wire_size_in_name(name: &std::ffi::OsStr) -> Option<u64> {
    let name = name.to_str()?;
    let base = name.split(':').next()?;
    base.split(',')
        .find_map(|f| f.strip_prefix("W=")?.parse().ok())
}

impl WireSizes {
    pub fn new() -> WireSizes {
        WireSizes {
            sizes: Mutex::new(HashMap::new()),
        }
    }

    /// A message's wire size without reading it where possible: from its name's
    /// `,W=` field, else from what this process computed before for the same file
    /// (length and modification time unchanged, as the listing found them), else by
    /// reading it once, 64 KiB at a time and no further than the listed length.
    /// Login time then depends on the number of messages, not on their size, and
    /// login memory on neither.
    pub fn wire_size(&self, e: &maildrop::Entry) -> io::Result<u64> {
        let f = &e.file;
        if let Some(size) = wire_size_in_name(f.name()) {
            return Ok(size);
        }
        let key = (f.len, f.modified);
        if let Some((k, size)) = self.sizes.lock().unwrap().get(&f.id) {
            if *k == key {
                return Ok(*size);
            }
        }
        let mut file = f.open_listed()?;
        let room = usize::try_from(f.len).unwrap_or(usize::MAX).min(64 * 1024);
        let (mut size, mut buf) = (WireSize::new(), vec![0; room]);
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => size.add(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let size = size.total();
        self.sizes.lock().unwrap().insert(f.id, (key, size));
        Ok(size)
    }

    /// The file with this id is gone: its size is no longer needed.
    pub fn forget(&self, id: &(u64, u64)) {
        self.sizes.lock().unwrap().remove(id);
    }
}
