//! What pop3fetch delivered, per account: a journal of UIDs that survives a crash at
//! any byte.
//!
//! One file per account (user, host, port), named after it, whose first line names
//! the account again: a file is never used for another account, so a UID seen on one
//! server can never make pop3fetch delete a message of another server unfetched.
//!
//! ```text
//! pop3fetch-state 1 alice@mail.example.org:995 9f2c01aa
//! D uid-1 5123 1767225600 0c1d2e3f        delivered: UID, LIST size (or -), when
//! L 1767225600 900 77aa0b1c               last login, the server's LOGIN-DELAY
//! ```
//!
//! Every line ends in an FNV-1a checksum of the rest of the line and a newline. Records
//! are appended and fsynced in groups ([`State::append`]); a line without its newline
//! (a write cut by a crash) is cut off the file when it is next opened and never read
//! as a UID, and a line whose checksum fails is ignored (re-fetching the message is the
//! worst that follows). UIDs the server no longer has are dropped by rewriting the
//! file whole: written beside it, fsynced, renamed over it, the directory fsynced.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The account a state file belongs to.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// A name the user gave the account (the same mailbox reached by another host
    /// name or port), instead of `user@host:port`.
    pub name: Option<String>,
}

impl Account {
    /// The name given, else `user@host:port` with the host in lower case (DNS names
    /// are case-insensitive).
    pub fn key(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!(
                "{}@{}:{}",
                self.user,
                self.host.to_ascii_lowercase(),
                self.port
            ),
        }
    }
}

/// One delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Its size in the server's LIST when it was delivered, if known.
    pub size: Option<u64>,
    /// When it was delivered (UNIX seconds).
    pub at: u64,
}

const MAGIC: &str = "pop3fetch-state 1";

/// FNV-1a, 32 bits.
fn checksum(line: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in line {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// `%XX` for every byte outside 0x21..=0x7E and for `%` itself: a UID (or an account)
/// is one space-free, newline-free word whatever the server sent.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn unescape(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = std::str::from_utf8(s.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out)
}

fn line(body: &str) -> String {
    format!("{body} {:08x}\n", checksum(body.as_bytes()))
}

/// The body of a complete line if its checksum holds.
fn verified(line: &[u8]) -> Option<&[u8]> {
    let (body, sum) = line.split_at(line.iter().rposition(|b| *b == b' ')?);
    let sum = std::str::from_utf8(&sum[1..]).ok()?;
    (sum.len() == 8 && u32::from_str_radix(sum, 16).ok()? == checksum(body)).then_some(body)
}

/// The state file of `account` in `dir`: `.pop3fetch-state-` and the account, with
/// every byte a file name should not hold as `%XX` (a hash if that is too long).
pub fn path_for(dir: &Path, account: &Account) -> PathBuf {
    let key = account.key();
    let mut name = String::from(".pop3fetch-state-");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"@:.-_+=,".contains(&b) {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.len() > 200 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        name = format!(".pop3fetch-state-{h:016x}");
    }
    dir.join(name)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Takes the account's run lock, `<state file>.lock` (never renamed, unlike the
/// state file when it is compacted), and writes this process's id into it; or says
/// which process holds it.
fn lock_run(state: &Path) -> io::Result<File> {
    use rustix::fs::{flock, FlockOperation};
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&name)?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {
            file.set_len(0)?;
            file.write_all(format!("{}\n", std::process::id()).as_bytes())?;
            Ok(file)
        }
        Err(rustix::io::Errno::WOULDBLOCK) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "another pop3fetch (process {}) is fetching this account",
                    if holder.is_empty() { "unknown" } else { holder }
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// An account's journal, open for appending.
pub struct State {
    path: PathBuf,
    file: File,
    /// `<state>.lock`, locked (`flock`) while this run holds the account.
    _run_lock: File,
    account: String,
    delivered: HashMap<Vec<u8>, Delivered>,
    /// The last login (UNIX seconds) and the LOGIN-DELAY the server announced then.
    pub last_login: Option<(u64, u32)>,
    /// Complete lines that were damaged (checksum or syntax) and were ignored.
    pub ignored: usize,
    /// A partial last line was cut off when the file was opened.
    pub repaired: bool,
    lines: usize,
}

impl State {
    /// Opens (or creates) the state of `account` in `dir`, for appending: a state
    /// that cannot be written fails here, before anything is fetched.
    ///
    /// The account is locked for as long as the state is open: a second run on it
    /// at the same time fails here ([`io::ErrorKind::WouldBlock`], naming the
    /// process that holds it) instead of fetching the same messages again.
    pub fn open(dir: &Path, account: &Account) -> io::Result<State> {
        let path = path_for(dir, account);
        let run_lock = lock_run(&path)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let key = account.key();
        let mut state = State {
            path,
            file,
            _run_lock: run_lock,
            account: key.clone(),
            delivered: HashMap::new(),
            last_login: None,
            ignored: 0,
            repaired: false,
            lines: 0,
        };
        // Only complete lines count; a partial one is cut off before anything is
        // appended after it.
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let header_end = bytes.iter().position(|b| *b == b'\n');
        match header_end {
            None => {
                // New, or its creation was cut short: start it (again).
                state.file.set_len(0)?;
                state
                    .file
                    .write_all(line(&format!("{MAGIC} {}", escape(key.as_bytes()))).as_bytes())?;
                state.file.sync_all()?;
                sync_dir(dir)?;
                state.repaired = !bytes.is_empty();
                return Ok(state);
            }
            Some(end) => {
                let header = verified(&bytes[..end]).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: not a pop3fetch state file", state.path.display()),
                    )
                })?;
                let expected = format!("{MAGIC} {}", escape(key.as_bytes()));
                if header != expected.as_bytes() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{}: belongs to another account ({})",
                            state.path.display(),
                            String::from_utf8_lossy(header)
                        ),
                    ));
                }
                for l in bytes[end + 1..complete].split(|b| *b == b'\n') {
                    if l.is_empty() {
                        continue;
                    }
                    if !state.apply(l) {
                        state.ignored += 1;
                    }
                }
            }
        }
        if complete < bytes.len() {
            state.file.set_len(complete as u64)?;
            state.file.sync_all()?;
            state.repaired = true;
        }
        Ok(state)
    }

    /// Reads one complete line into memory; false if it is damaged.
    fn apply(&mut self, l: &[u8]) -> bool {
        let Some(body) = verified(l) else {
            return false;
        };
        let fields: Vec<&[u8]> = body.split(|b| *b == b' ').collect();
        let number = |f: &[u8]| std::str::from_utf8(f).ok()?.parse::<u64>().ok();
        match fields.as_slice() {
            [b"D", uid, size, at] => {
                let (Some(uid), Some(at)) = (unescape(uid), number(at)) else {
                    return false;
                };
                let size = if *size == b"-" {
                    None
                } else {
                    match number(size) {
                        Some(s) => Some(s),
                        None => return false,
                    }
                };
                if uid.is_empty() {
                    return false;
                }
                self.delivered.insert(uid, Delivered { size, at });
            }
            [b"L", at, delay] => match (number(at), number(delay)) {
                (Some(at), Some(delay)) => {
                    self.last_login = Some((at, u32::try_from(delay).unwrap_or(u32::MAX)))
                }
                _ => return false,
            },
            _ => return false,
        }
        self.lines += 1;
        true
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is recorded for `uid`, if anything.
    pub fn get(&self, uid: &[u8]) -> Option<Delivered> {
        self.delivered.get(uid).copied()
    }

    /// `uid` was delivered, and it is the same message: not one of another size under
    /// a reused UID (when both sizes are known).
    pub fn has(&self, uid: &[u8], size: Option<u64>) -> bool {
        match self.delivered.get(uid) {
            Some(d) => match (d.size, size) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            },
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.delivered.len()
    }

    pub fn uids(&self) -> impl Iterator<Item = &[u8]> {
        self.delivered.keys().map(Vec::as_slice)
    }

    /// Appends records of delivered messages in one write and one fsync; only then are
    /// they in memory. On an error the file may end in a partial line (cut off at the
    /// next open).
    pub fn append(&mut self, records: &[(Vec<u8>, Delivered)]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut buf = String::new();
        for (uid, d) in records {
            let size = d.size.map_or("-".to_string(), |s| s.to_string());
            buf.push_str(&line(&format!("D {} {size} {}", escape(uid), d.at)));
        }
        self.file.write_all(buf.as_bytes())?;
        self.file.sync_data()?;
        for (uid, d) in records {
            self.delivered.insert(uid.clone(), *d);
        }
        self.lines += records.len();
        Ok(())
    }

    /// Records a login and the server's LOGIN-DELAY (seconds).
    pub fn record_login(&mut self, at: u64, delay: u32) -> io::Result<()> {
        self.file
            .write_all(line(&format!("L {at} {delay}")).as_bytes())?;
        self.file.sync_data()?;
        self.last_login = Some((at, delay));
        self.lines += 1;
        Ok(())
    }

    /// Keeps only the UIDs `keep` accepts, by replacing the file atomically (written
    /// beside it, fsynced, renamed over it, directory fsynced). Nothing is rewritten
    /// when nothing would be dropped and the file has no more than twice as many
    /// lines as it needs.
    pub fn retain(&mut self, keep: impl Fn(&[u8]) -> bool) -> io::Result<usize> {
        let before = self.delivered.len();
        let kept: HashMap<Vec<u8>, Delivered> = self
            .delivered
            .iter()
            .filter(|(u, _)| keep(u))
            .map(|(u, d)| (u.clone(), *d))
            .collect();
        let dropped = before - kept.len();
        let needed = kept.len() + usize::from(self.last_login.is_some());
        if dropped == 0 && self.lines <= 2 * needed + 64 {
            return Ok(0);
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        let mut out = String::new();
        out.push_str(&line(&format!(
            "{MAGIC} {}",
            escape(self.account.as_bytes())
        )));
        let mut sorted: Vec<_> = kept.iter().collect();
        sorted.sort_by_key(|(u, d)| (d.at, u.as_slice()));
        for (uid, d) in sorted {
            let size = d.size.map_or("-".to_string(), |s| s.to_string());
            out.push_str(&line(&format!("D {} {size} {}", escape(uid), d.at)));
        }
        if let Some((at, delay)) = self.last_login {
            out.push_str(&line(&format!("L {at} {delay}")));
        }
        let mut f = File::create(&tmp)?;
        f.write_all(out.as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &self.path)?;
        sync_dir(dir)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.lines = needed;
        self.delivered = kept;
        Ok(dropped)
    }
}
