//! The mailbox side of the example servers (`pop3d`, `tokio_pop3d`): options, users,
//! the demo mailbox or a Maildir per user, locks, sizes, UIDs and deletion at UPDATE.
//! Each server maps its adapter's events onto a [`Session`].
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pop3_proto::codec::body::{wire_size, WireSize};
use pop3_proto::sasl::cram::CramMd5Context;
use pop3_proto::sasl::scram::{Hash, ScramVerifier};
use pop3_proto::sasl::SaslMechanism;
use pop3_proto::server::{MechanismSet, Open, ServerConfig, ServerEvent, Tls};

#[path = "server_cli.rs"]
pub mod cli;
#[path = "guesses.rs"]
pub mod guesses;
#[path = "maildrop.rs"]
pub mod maildrop;

use guesses::Guesses;

pub const DEMO: [&[u8]; 3] = [
    b"From: Postmaster <postmaster@example.org>\nTo: demo@example.org\nSubject: Welcome to pop3d\n\nThis is the pop3-proto demo mailbox.\nTry RETR, TOP, UIDL, DELE and QUIT.\n",
    b"From: Alice <alice@example.org>\nTo: demo@example.org\nSubject: Dots\n\nThe next line starts with a dot and is dot-stuffed on the wire:\n.like this\n..and this\n",
    b"From: Bob <bob@example.org>\nTo: demo@example.org\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\xc3\xbc\xc3\x9fe aus dem Speicher.\n",
];

/// A message a session can serve.
#[derive(Clone)]
pub enum Source {
    Memory(Arc<[u8]>),
    /// A Maildir file as listed when the maildrop was opened (opened and removed
    /// without following symlinks, and only while it is the file listed).
    File(maildrop::MsgFile),
}

#[derive(Clone)]
pub struct Msg {
    pub uid: String,
    pub size: u64,
    pub source: Source,
}

/// The `,W=` field of a Maildir name (`1600000000.M1P2.host,S=1000,W=1020:2,S`): the
/// message's size with CRLF line ends, as Dovecot writes it.
fn wire_size_in_name(name: &std::ffi::OsStr) -> Option<u64> {
    let name = name.to_str()?;
    let base = name.split(':').next()?;
    base.split(',')
        .find_map(|f| f.strip_prefix("W=")?.parse().ok())
}

impl Shared {
    /// A message's wire size without reading it where possible: from its name's
    /// `,W=` field, else from what this process computed before for the same file
    /// (length and modification time unchanged, as the listing found them), else by
    /// reading it once, 64 KiB at a time and no further than the listed length.
    /// Login time then depends on the number of messages, not on their size, and
    /// login memory on neither.
    fn wire_size(&self, e: &maildrop::Entry) -> io::Result<u64> {
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
}

/// How a user is stored: a password; a SCRAM verifier (`{SCRAM-SHA-256}…`, as
/// `pop3d --scram-verifier` prints it), which serves SCRAM, USER/PASS and PLAIN but
/// not APOP or CRAM-MD5; or a CRAM-MD5 context (`{CRAM-MD5}…`, as
/// `pop3d --cram-md5-context` and Dovecot's `doveadm pw -s CRAM-MD5` print it),
/// which serves CRAM-MD5, USER/PASS and PLAIN but not APOP or SCRAM. Neither stored
/// form gives the password away.
pub enum Credential {
    Password(String),
    Verifier(ScramVerifier),
    CramMd5(CramMd5Context),
}

impl Credential {
    /// A users-file entry's secret. One that starts with `{SCHEME}` (Dovecot's
    /// form) or `SCRAM-SHA-…$` (RFC 5803's) must parse as that scheme, or it is
    /// refused: a damaged stored secret never becomes a literal password that would
    /// then log in with USER/PASS. `{PLAIN}` marks a literal password (one that
    /// itself starts with `{`); anything else is a literal password.
    fn parse(text: &str) -> Result<Credential, String> {
        let scheme = match text.strip_prefix('{').and_then(|r| r.split_once('}')) {
            Some((scheme, _)) => scheme,
            None if text.starts_with("SCRAM-SHA-256$") || text.starts_with("SCRAM-SHA-1$") => {
                "RFC 5803 SCRAM"
            }
            None => return Ok(Credential::Password(text.to_string())),
        };
        let damaged = |e: &dyn std::fmt::Debug| format!("a damaged {scheme} entry ({e:?})");
        match scheme {
            "PLAIN" => Ok(Credential::Password(text["{PLAIN}".len()..].to_string())),
            "SCRAM-SHA-256" | "SCRAM-SHA-1" | "RFC 5803 SCRAM" => ScramVerifier::parse(text.as_bytes())
                .map(Credential::Verifier)
                .map_err(|e| damaged(&e)),
            "CRAM-MD5" => CramMd5Context::parse(text.as_bytes())
                .map(Credential::CramMd5)
                .map_err(|e| damaged(&e)),
            other => Err(format!(
                "{{{other}}} is a password scheme pop3d does not read (it reads {{SCRAM-SHA-256}}, {{SCRAM-SHA-1}}, RFC 5803's SCRAM-SHA-256$…, {{CRAM-MD5}} and {{PLAIN}})"
            )),
        }
    }
}

/// How a session answers a credential check (an event of the server's that asks
/// about a password, a token or a stored secret), whatever the adapter.
pub enum Check {
    /// CheckPassword, CheckToken, CheckExternal: good or not.
    Verdict(bool),
    /// NeedSecret: the password (`None`: unknown user, or stored in a form that
    /// cannot serve this mechanism, which then fails like a wrong password).
    Secret(Option<Vec<u8>>),
    /// NeedSecret of SCRAM: the stored verifier.
    Verifier(Option<ScramVerifier>),
    /// NeedSecret of CRAM-MD5: the stored context.
    CramContext(Option<CramMd5Context>),
    /// Any of them: refused without checking, `-ERR [SYS/TEMP]` (the user's limit on
    /// failed logins is reached).
    TryLater,
}

/// The line for the password on standard input, as `encode` makes it from the
/// password (`pop3d --scram-verifier`, `pop3d --cram-md5-context`).
fn print_stored(encode: impl FnOnce(&str) -> Result<String, String>) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| e.to_string())?;
    println!("{}", encode(password.trim_end_matches(['\n', '\r']))?);
    Ok(())
}

/// The CRAM-MD5 context line for the password on standard input
/// (`pop3d --cram-md5-context`): Dovecot's `{CRAM-MD5}` form.
pub fn print_cram_md5_context() -> Result<(), String> {
    print_stored(|password| {
        let context = CramMd5Context::compute(password.as_bytes());
        Ok(String::from_utf8_lossy(&context.encode()).into_owned())
    })
}

/// The verifier line for the password on standard input (`pop3d --scram-verifier`):
/// SCRAM-SHA-256, 4096 iterations, a random 16-octet salt.
pub fn print_scram_verifier() -> Result<(), String> {
    print_stored(|password| {
        let salt = &random32()[..16];
        let verifier = ScramVerifier::compute(Hash::Sha256, password.as_bytes(), salt, 4096);
        let mut out = [0u8; 256];
        let n = verifier.encode(&mut out).map_err(|e| format!("{e:?}"))?;
        Ok(String::from_utf8_lossy(&out[..n]).into_owned())
    })
}

/// What every session shares.
pub struct Shared {
    users: HashMap<String, Credential>,
    /// Bearer tokens accepted for XOAUTH2 and OAUTHBEARER, by user
    /// (`--bearer-tokens`).
    tokens: HashMap<String, String>,
    root: Option<PathBuf>,
    /// The demo mailbox, shared by all sessions (deletions last as long as the process).
    demo: Mutex<Vec<(String, Arc<[u8]>)>>,
    locks: Mutex<HashSet<String>>,
    /// Wire sizes computed by reading a file, by device and inode (with its length
    /// and mtime).
    sizes: Mutex<HashMap<(u64, u64), SizeEntry>>,
    /// Failed logins by user name and source (`--max-login-failures`,
    /// `--max-user-failures`, `--login-failure-window`).
    guesses: Guesses,
}

/// A cached wire size: the file's (length, mtime) when it was computed, and the size.
type SizeEntry = ((u64, Option<std::time::SystemTime>), u64);

/// One session's view of its mailbox.
pub struct Session {
    shared: Arc<Shared>,
    /// Where the client connects from, as failed logins are counted.
    source: guesses::Source,
    locked: Option<String>,
    messages: Vec<Msg>,
    /// The user whose secret this session gave the server core (APOP, CRAM-MD5,
    /// SCRAM), which checks the digest itself and tells only success: that attempt
    /// stays a failure unless the maildrop of this user is opened.
    checking: Option<Vec<u8>>,
}

impl Session {
    fn open_maildrop(&mut self, user: &str) -> io::Result<Open> {
        if !self.shared.locks.lock().unwrap().insert(user.to_string()) {
            return Ok(Open::InUse);
        }
        self.locked = Some(user.to_string());
        self.messages = match &self.shared.root {
            None => self
                .shared
                .demo
                .lock()
                .unwrap()
                .iter()
                .map(|(uid, body)| Msg {
                    uid: uid.clone(),
                    size: wire_size(body),
                    source: Source::Memory(body.clone()),
                })
                .collect(),
            Some(root) => {
                let mut out = Vec::new();
                for e in maildrop::list(root, user)? {
                    let size = self.shared.wire_size(&e)?;
                    out.push(Msg {
                        uid: e.uid,
                        size,
                        source: Source::File(e.file),
                    });
                }
                out
            }
        };
        let size = self.messages.iter().map(|m| m.size).sum();
        Ok(Open::Opened {
            count: self.messages.len() as u32,
            size,
        })
    }

    /// Message `n` of this session (1-based; the server core checks the number).
    pub fn msg(&self, n: u32) -> &Msg {
        &self.messages[n as usize - 1]
    }

    /// A session of `shared` for a client at `peer`, nothing locked yet.
    pub fn new(shared: Arc<Shared>, peer: std::net::IpAddr) -> Session {
        Session {
            shared,
            source: peer.into(),
            locked: None,
            messages: Vec::new(),
            checking: None,
        }
    }

    /// USER/PASS, PLAIN, LOGIN: is `password` the password of `user`, who acts as
    /// itself? An `authzid` (PLAIN's) other than empty or `user` is refused: these
    /// servers have no delegation, so no one opens another user's mailbox (the
    /// server core already refuses it, as `allow_authzid` is off; this holds even
    /// if it were on).
    pub fn check_password(&self, authzid: &[u8], user: &[u8], password: &[u8]) -> bool {
        (authzid.is_empty() || authzid == user)
            && match self.credential(user) {
                Some(Credential::Password(p)) => p.as_bytes() == password,
                Some(Credential::Verifier(v)) => v.check_password(password),
                Some(Credential::CramMd5(c)) => c.check_password(password),
                None => false,
            }
    }

    /// XOAUTH2, OAUTHBEARER: is `token` one of `user`'s (`--bearer-tokens`)? Compared
    /// in time independent of where the first difference is.
    pub fn check_token(&self, user: &[u8], token: &[u8]) -> bool {
        let known = std::str::from_utf8(user)
            .ok()
            .and_then(|u| self.shared.tokens.get(u));
        known.is_some_and(|t| {
            t.len() == token.len()
                && t.bytes().zip(token).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    }

    fn credential(&self, user: &[u8]) -> Option<&Credential> {
        std::str::from_utf8(user)
            .ok()
            .and_then(|u| self.shared.users.get(u))
    }

    /// The shared secret of `user` (APOP, CRAM-MD5, SCRAM), if the user exists and
    /// has a password (a stored verifier serves SCRAM only).
    pub fn secret(&self, user: &[u8]) -> Option<Vec<u8>> {
        match self.credential(user) {
            Some(Credential::Password(p)) => Some(p.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// The stored SCRAM verifier of `user` for `mechanism`, if that is how the user
    /// is stored (`Some(None)`: stored otherwise, or unknown, for this mechanism:
    /// answer with [`secret`](Self::secret) instead when `None`).
    pub fn verifier(
        &self,
        user: &[u8],
        mechanism: Option<SaslMechanism>,
    ) -> Option<Option<ScramVerifier>> {
        let hash = match mechanism? {
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha1Plus => Hash::Sha1,
            SaslMechanism::ScramSha256 | SaslMechanism::ScramSha256Plus => Hash::Sha256,
            _ => return None,
        };
        match self.credential(user) {
            Some(Credential::Verifier(v)) => Some((v.hash == hash).then(|| v.clone())),
            _ => None,
        }
    }

    /// The stored CRAM-MD5 context of `user` for `mechanism`, if that is how the
    /// user is stored and `mechanism` is CRAM-MD5 (answer with
    /// [`secret`](Self::secret) instead when `None`).
    pub fn cram_context(
        &self,
        user: &[u8],
        mechanism: Option<SaslMechanism>,
    ) -> Option<CramMd5Context> {
        match (mechanism?, self.credential(user)) {
            (SaslMechanism::CramMd5, Some(Credential::CramMd5(c))) => Some(*c),
            _ => None,
        }
    }

    /// The answer to a credential check, `None` for any other event: a password or
    /// token compared, or the stored secret that serves the mechanism asking; or,
    /// once the user name has had too many failures lately, a refusal without any
    /// of that.
    pub fn check(&mut self, event: &ServerEvent<'_>) -> Option<Check> {
        let user = match *event {
            ServerEvent::CheckPassword { user, .. }
            | ServerEvent::CheckToken { user, .. }
            | ServerEvent::NeedSecret { user, .. } => user,
            ServerEvent::CheckExternal { authzid } => authzid,
            _ => return None,
        };
        // An earlier digest login of this session that did not open the maildrop
        // stays a failure.
        self.checking = None;
        if !self.shared.guesses.attempt(user, self.source) {
            return Some(Check::TryLater);
        }
        Some(match *event {
            ServerEvent::CheckPassword {
                authzid,
                user,
                password,
            } => self.verdict(user, self.check_password(authzid, user, password)),
            ServerEvent::CheckToken { user, token } => {
                self.verdict(user, self.check_token(user, token))
            }
            ServerEvent::CheckExternal { authzid } => self.verdict(authzid, false),
            ServerEvent::NeedSecret { user, mechanism } => {
                self.checking = Some(user.to_vec());
                if let Some(verifier) = self.verifier(user, mechanism) {
                    Check::Verifier(verifier)
                } else if let Some(context) = self.cram_context(user, mechanism) {
                    Check::CramContext(Some(context))
                } else {
                    Check::Secret(self.secret(user))
                }
            }
            _ => return None,
        })
    }

    /// A verdict on `user`'s credentials: a good one was no failure.
    fn verdict(&self, user: &[u8], ok: bool) -> Check {
        if ok {
            self.shared.guesses.succeeded(user, self.source);
        }
        Check::Verdict(ok)
    }

    /// Locks and opens the mailbox of `user`, who just logged in.
    pub fn open(&mut self, user: &[u8]) -> Open {
        if self.checking.take().is_some_and(|u| u == user) {
            self.shared.guesses.succeeded(user, self.source);
        }
        let user = String::from_utf8_lossy(user).into_owned();
        match self.open_maildrop(&user) {
            Ok(open) => open,
            Err(e) => {
                eprintln!("pop3d: cannot open mailbox of {user}: {e}");
                // The lock taken for this failed open goes at once: a later login of
                // this session as someone else must not strand it.
                self.release();
                self.messages.clear();
                Open::Unavailable
            }
        }
    }

    /// UPDATE: removes the messages numbered `deleted` and releases the maildrop
    /// lock; `true` if all went.
    pub fn update(&mut self, deleted: &[u32]) -> bool {
        let mut all = true;
        let gone: HashSet<&str> = deleted.iter().map(|n| self.msg(*n).uid.as_str()).collect();
        for n in deleted {
            if let Source::File(file) = &self.msg(*n).source {
                self.shared.sizes.lock().unwrap().remove(&file.id);
                if let Err(e) = file.remove() {
                    eprintln!("pop3d: cannot remove {}: {e}", file.path().display());
                    all = false;
                }
            }
        }
        if self.shared.root.is_none() {
            self.shared
                .demo
                .lock()
                .unwrap()
                .retain(|(uid, _)| !gone.contains(uid.as_str()));
        }
        // UPDATE ends with the lock released (RFC 1939 §6), before the `+OK` to
        // QUIT leaves: a client that logs in again right after it finds the
        // maildrop free (`closed` would release it only after the reply was sent).
        self.release();
        all
    }

    /// The session ended: releases the mailbox lock.
    pub fn release(&mut self) {
        if let Some(user) = self.locked.take() {
            self.shared.locks.lock().unwrap().remove(&user);
        }
    }
}

/// Command-line options, the same for both servers.
pub struct Options {
    pub listen: String,
    pub listen_tls: Option<String>,
    pub root: Option<PathBuf>,
    pub users: Option<PathBuf>,
    /// Lines `name:token`: bearer tokens accepted for XOAUTH2 and OAUTHBEARER.
    pub tokens: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub allow_plaintext: bool,
    /// Do not offer SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS (for clients that
    /// mishandle them: mutt 2.2, neomutt).
    pub no_scram_plus: bool,
    /// A write that makes no progress this long ends the session.
    pub send_timeout: Duration,
    /// A TLS handshake that takes longer ends the connection.
    pub handshake_timeout: Duration,
    /// A client that has not logged in this long after connecting is closed.
    pub login_timeout: Duration,
    /// Sessions at once, in all and from one address.
    pub max_connections: usize,
    pub max_per_ip: usize,
    /// Failed logins of one user name from one address (IPv6: /64), within
    /// `login_failure_window`, after which its logins from there are refused
    /// unchecked (`-ERR [SYS/TEMP]`) until the window passes.
    pub max_login_failures: usize,
    /// Failed logins of one user name from all addresses within the window, after
    /// which every address that failed for it is refused (others still checked).
    pub max_user_failures: usize,
    pub login_failure_window: Duration,
    /// User names whose failures are remembered at most (the table's bound).
    pub login_failure_users: usize,
}

/// A listener with a deep accept queue: std's 128 drops SYNs when hundreds of
/// clients connect at once, and each drop costs the client a 1 s retransmission.
pub fn listen(addr: &str) -> io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::other("no address"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Fresh randomness for a session (APOP timestamp, SCRAM nonces).
pub fn random32() -> [u8; 32] {
    let mut r = [0u8; 32];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut r))
        .is_err()
    {
        let t = pop3_proto::blocking::now().as_millis().to_le_bytes();
        for (i, b) in r.iter_mut().enumerate() {
            *b = t[i % 8] ^ (i as u8).wrapping_mul(151);
        }
    }
    r
}

/// Everything a server needs from its options: the shared mailbox state, the TLS
/// configuration and the session settings.
pub struct Setup {
    pub shared: Arc<Shared>,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub config: ServerConfig,
    pub handshake_timeout: Duration,
    pub admission: Arc<Admission>,
}

/// Reads the users file and the TLS files and builds the session settings.
pub fn setup(o: &Options) -> Result<Setup, String> {
    let demo = o.root.is_none();
    let mut users_text = String::new();
    let users: HashMap<String, Credential> = match &o.users {
        None => HashMap::from([("demo".to_string(), Credential::Password("demo".into()))]),
        Some(path) => {
            users_text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            users_text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
                .filter_map(|(n, l)| Some((n + 1, l.split_once(':')?)))
                .map(|(n, (u, p))| {
                    let at = format!("{}: line {n}", path.display());
                    if !is_mailbox_name(u) {
                        return Err(format!(
                            "{at}: user name {u:?} is not one plain path component (its Maildir would be outside --maildir-root)"
                        ));
                    }
                    let credential = Credential::parse(p).map_err(|e| format!("{at}: {e}"))?;
                    Ok((u.to_string(), credential))
                })
                .collect::<Result<_, _>>()?
        }
    };
    let tokens: HashMap<String, String> = match &o.tokens {
        None => HashMap::new(),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .map(|(u, t)| (u.to_string(), t.trim_end().to_string()))
            .collect(),
    };
    let tls = match (&o.cert, &o.key) {
        (Some(c), Some(k)) => Some(
            pop3_proto::tls::server_config(c, k)
                .map_err(|e| format!("TLS certificate or key: {e}"))?,
        ),
        _ => None,
    };
    let shared = Arc::new(Shared {
        users,
        tokens,
        root: o.root.clone(),
        demo: Mutex::new(
            DEMO.iter()
                .enumerate()
                .map(|(i, m)| (format!("demo-{:04}", i + 1), Arc::from(*m)))
                .collect(),
        ),
        locks: Mutex::new(HashSet::new()),
        sizes: Mutex::new(HashMap::new()),
        guesses: Guesses::new(
            o.max_login_failures,
            o.max_user_failures,
            o.login_failure_window,
            o.login_failure_users,
        ),
    });
    let mut config = ServerConfig::new("localhost");
    config.implementation = "pop3-proto pop3d".try_into().unwrap_or_default();
    config.apop = true;
    // The users file answers every secret a mechanism asks for (a password, a SCRAM
    // verifier, a CRAM-MD5 context): offer them all. Bearer tokens need an identity
    // provider, which this example does not have: only a file of tokens stands in
    // for one.
    config.mechanisms = MechanismSet::ALL.without(MechanismSet::EXTERNAL);
    if o.tokens.is_none() {
        config.mechanisms = config.mechanisms.without(MechanismSet::TOKENS);
    }
    // mutt 2.2 and neomutt pick -PLUS, cancel it and send the next command before
    // reading the -ERR, which pairs every later reply with the wrong command.
    if o.no_scram_plus {
        config.mechanisms = config.mechanisms.without(MechanismSet::PLUS);
    }
    // The demo serves loopback without TLS: plaintext logins must work there.
    config.allow_plaintext_auth = o.allow_plaintext || (demo && tls.is_none());
    // No delegation: the core refuses a PLAIN or SCRAM authzid other than the user
    // (RFC 4616 §2), as Dovecot does for PLAIN without master users.
    config.allow_authzid = false;
    config.send_timeout_ms = u64::try_from(o.send_timeout.as_millis()).unwrap_or(u64::MAX);
    config.login_timeout_ms = u64::try_from(o.login_timeout.as_millis()).unwrap_or(u64::MAX);
    // Unknown users' made-up SCRAM salts come from a key as secret as the users file
    // and the same after a restart (a keyed hash of the file: one PBKDF2 round).
    let mock = ScramVerifier::compute(Hash::Sha256, users_text.as_bytes(), b"pop3d mock key", 1);
    config.scram_mock_key.copy_from_slice(&mock.stored_key);
    config.tls = if tls.is_some() {
        Tls::StartTls
    } else {
        Tls::None
    };
    Ok(Setup {
        shared,
        tls,
        config,
        handshake_timeout: o.handshake_timeout,
        admission: Arc::new(Admission {
            max: o.max_connections,
            max_per_ip: o.max_per_ip,
            open: Mutex::new((0, HashMap::new())),
        }),
    })
}

/// What the server says when it starts: what it serves, where, with which TLS and
/// which logins.
pub fn banner(o: &Options, setup: &Setup, addr: &str) {
    let c = &setup.config;
    if o.root.is_none() {
        eprintln!("pop3d: demo mailbox (user demo, password demo) on {addr}");
        eprintln!("pop3d: try: curl pop3://demo:demo@{addr}/1");
    } else {
        let root = o.root.as_ref().map(|r| r.display().to_string());
        eprintln!(
            "pop3d: serving the Maildirs under {} for {} users on {addr}",
            root.unwrap_or_default(),
            setup.shared.users.len()
        );
    }
    let tls = match (&setup.tls, &o.listen_tls) {
        (None, _) => "no TLS".to_string(),
        (Some(_), None) => format!("STLS on {addr}"),
        (Some(_), Some(s)) => format!("STLS on {addr}, pop3s on {s}"),
    };
    let mut logins = vec!["USER".to_string()];
    if c.apop {
        logins.push("APOP".into());
    }
    let sasl: Vec<&str> = pop3_proto::sasl::SaslMechanism::ALL
        .iter()
        .filter(|m| c.mechanisms.contains(m.bit()) && (setup.tls.is_some() || !m.is_plus()))
        .map(|m| m.name())
        .collect();
    logins.push(format!("SASL {}", sasl.join(" ")));
    let plaintext = match (c.allow_plaintext_auth, setup.tls.is_some()) {
        (true, _) => "passwords accepted without TLS",
        (false, true) => "passwords only under TLS, -PLUS only over TLS",
        (false, false) => "no password login without TLS (--allow-plaintext-auth)",
    };
    eprintln!("pop3d: {tls}; logins: {}; {plaintext}", logins.join(", "));
}

/// A user name that is safe as a directory name under the Maildir root: one path
/// component, not `.`/`..`, no NUL, not hidden.
fn is_mailbox_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.len() <= 255
}

/// How many sessions are open, in all and per address; a connection over either
/// limit is turned away with `-ERR [SYS/TEMP]` before a session starts.
pub struct Admission {
    max: usize,
    max_per_ip: usize,
    open: Mutex<(usize, HashMap<std::net::IpAddr, usize>)>,
}

/// An admitted session; its place is given back when it is dropped.
pub struct Ticket {
    admission: Arc<Admission>,
    ip: std::net::IpAddr,
}

impl Admission {
    /// A place for a session from `ip`, or the `-ERR` line to send instead.
    pub fn enter(self: &Arc<Self>, ip: std::net::IpAddr) -> Result<Ticket, &'static [u8]> {
        let mut open = self.open.lock().unwrap();
        if open.0 >= self.max {
            return Err(b"-ERR [SYS/TEMP] Too many connections, try again later\r\n");
        }
        let from_ip = open.1.entry(ip).or_default();
        if *from_ip >= self.max_per_ip {
            return Err(b"-ERR [SYS/TEMP] Too many connections from your address\r\n");
        }
        *from_ip += 1;
        open.0 += 1;
        Ok(Ticket {
            admission: self.clone(),
            ip,
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().unwrap();
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// Logs an accept error at most once a second and backs off, so that running out
/// of descriptors neither spins a core nor floods the log.
pub struct AcceptErrors {
    last_log: Option<std::time::Instant>,
    suppressed: u64,
}

impl AcceptErrors {
    pub fn new() -> Self {
        AcceptErrors {
            last_log: None,
            suppressed: 0,
        }
    }

    /// Records an accept error; returns how long to wait before accepting again.
    pub fn failed(&mut self, e: &io::Error) -> Duration {
        let now = std::time::Instant::now();
        if self
            .last_log
            .is_none_or(|t| now - t >= Duration::from_secs(1))
        {
            eprintln!("pop3d: accept: {e} ({} more not logged)", self.suppressed);
            self.last_log = Some(now);
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
        Duration::from_millis(100)
    }
}
