//! `pop3d`: a POP3 server over Maildir, built on `pop3-proto`.
//!
//! With no arguments it serves an embedded demo mailbox (user `demo`, password
//! `demo`) on 127.0.0.1:1110:
//!
//! ```sh
//! cargo run --example pop3d
//! curl pop3://demo:demo@127.0.0.1:1110/1
//! ```
//!
//! Options:
//!   --listen ADDR            plain listener (default 127.0.0.1:1110)
//!   --maildir-root DIR       user X's mailbox is the Maildir DIR/X
//!   --users FILE             lines `name:password`
//!   --tls-cert PEM --tls-key PEM   enable STLS (and --listen-tls)
//!   --listen-tls ADDR        implicit TLS listener (pop3s)
//!   --allow-plaintext-auth   allow USER/PASS, PLAIN, LOGIN without TLS
//!
//! Each session locks its mailbox (a second login gets `-ERR [IN-USE]`); deletions
//! are applied only at QUIT, one file at a time; UIDs are the Maildir unique names,
//! stable across sessions.

#[path = "common/maildir.rs"]
mod maildir;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pop3_proto::blocking::{self, Answer, Backend, ServerConn};
use pop3_proto::codec::body::wire_size;
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::tls::{self, NetStream};

const DEMO: [&[u8]; 3] = [
    b"From: Postmaster <postmaster@example.org>\nTo: demo@example.org\nSubject: Welcome to pop3d\n\nThis is the pop3-proto demo mailbox.\nTry RETR, TOP, UIDL, DELE and QUIT.\n",
    b"From: Alice <alice@example.org>\nTo: demo@example.org\nSubject: Dots\n\nThe next line starts with a dot and is dot-stuffed on the wire:\n.like this\n..and this\n",
    b"From: Bob <bob@example.org>\nTo: demo@example.org\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\xc3\xbc\xc3\x9fe aus dem Speicher.\n",
];

/// A message a session can serve.
#[derive(Clone)]
enum Source {
    Memory(Arc<[u8]>),
    File(PathBuf),
}

#[derive(Clone)]
struct Msg {
    uid: String,
    size: u64,
    source: Source,
}

struct Shared {
    users: HashMap<String, String>,
    root: Option<PathBuf>,
    /// The demo mailbox, shared by all sessions (deletions last as long as the process).
    demo: Mutex<Vec<(String, Arc<[u8]>)>>,
    locks: Mutex<HashSet<String>>,
}

struct Session {
    shared: Arc<Shared>,
    locked: Option<String>,
    messages: Vec<Msg>,
}

impl Session {
    fn open(&mut self, user: &str) -> io::Result<Open> {
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
                let dir = root.join(user);
                let mut out = Vec::new();
                for e in maildir::list(&dir)? {
                    let bytes = std::fs::read(&e.path)?;
                    out.push(Msg {
                        uid: e.uid,
                        size: wire_size(&bytes),
                        source: Source::File(e.path),
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

    fn msg(&self, n: u32) -> &Msg {
        &self.messages[n as usize - 1]
    }
}

impl Backend for Session {
    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_> {
        match event {
            ServerEvent::CheckPassword { user, password, .. } => {
                let ok = std::str::from_utf8(user)
                    .ok()
                    .and_then(|u| self.shared.users.get(u))
                    .is_some_and(|p| p.as_bytes() == password);
                Answer::Verdict(ok)
            }
            ServerEvent::CheckToken { .. } | ServerEvent::CheckExternal { .. } => {
                Answer::Verdict(false)
            }
            ServerEvent::NeedSecret { user } => Answer::Secret(
                std::str::from_utf8(user)
                    .ok()
                    .and_then(|u| self.shared.users.get(u))
                    .map(|p| p.as_bytes().to_vec()),
            ),
            ServerEvent::OpenMaildrop { user } => {
                let user = String::from_utf8_lossy(user).into_owned();
                match self.open(&user) {
                    Ok(open) => Answer::Open(open),
                    Err(e) => {
                        eprintln!("pop3d: cannot open mailbox of {user}: {e}");
                        Answer::Open(Open::Unavailable)
                    }
                }
            }
            ServerEvent::Size { msg } => Answer::Size(self.msg(msg).size),
            ServerEvent::Uid { msg } => Answer::Uid(self.msg(msg).uid.clone().into_bytes()),
            ServerEvent::Retrieve { msg, .. } => match &self.msg(msg).source {
                Source::Memory(bytes) => {
                    Answer::Message(Some(Box::new(Cursor::new(bytes.clone()))))
                }
                Source::File(path) => {
                    Answer::Message(File::open(path).ok().map(|f| Box::new(f) as Box<dyn Read>))
                }
            },
            ServerEvent::StartTls => Answer::StartTls,
            ServerEvent::Update => Answer::Verdict(false),
        }
    }

    fn update(&mut self, deleted: &[u32]) -> bool {
        let mut all = true;
        let gone: HashSet<&str> = deleted.iter().map(|n| self.msg(*n).uid.as_str()).collect();
        for n in deleted {
            if let Source::File(path) = &self.msg(*n).source {
                if let Err(e) = std::fs::remove_file(path) {
                    eprintln!("pop3d: cannot remove {}: {e}", path.display());
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
        all
    }

    fn closed(&mut self) {
        if let Some(user) = self.locked.take() {
            self.shared.locks.lock().unwrap().remove(&user);
        }
    }
}

struct Options {
    listen: String,
    listen_tls: Option<String>,
    root: Option<PathBuf>,
    users: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    allow_plaintext: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        listen: "127.0.0.1:1110".into(),
        listen_tls: None,
        root: None,
        users: None,
        cert: None,
        key: None,
        allow_plaintext: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--listen" => o.listen = value()?,
            "--listen-tls" => o.listen_tls = Some(value()?),
            "--maildir-root" => o.root = Some(value()?.into()),
            "--users" => o.users = Some(value()?.into()),
            "--tls-cert" => o.cert = Some(value()?.into()),
            "--tls-key" => o.key = Some(value()?.into()),
            "--allow-plaintext-auth" => o.allow_plaintext = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.root.is_some() != o.users.is_some() {
        return Err("--maildir-root and --users go together".into());
    }
    if o.cert.is_some() != o.key.is_some() {
        return Err("--tls-cert and --tls-key go together".into());
    }
    if o.listen_tls.is_some() && o.cert.is_none() {
        return Err("--listen-tls needs --tls-cert and --tls-key".into());
    }
    Ok(o)
}

/// A listener with a deep accept queue: std's 128 drops SYNs when hundreds of
/// clients connect at once, and each drop costs the client a 1 s retransmission.
fn listen(addr: &str) -> io::Result<TcpListener> {
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

fn random32() -> [u8; 32] {
    let mut r = [0u8; 32];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut r))
        .is_err()
    {
        let t = blocking::now().as_millis().to_le_bytes();
        for (i, b) in r.iter_mut().enumerate() {
            *b = t[i % 8] ^ (i as u8).wrapping_mul(151);
        }
    }
    r
}

fn serve(
    tcp: TcpStream,
    shared: Arc<Shared>,
    config: ServerConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    implicit: bool,
) {
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = tcp.set_nodelay(true);
    let stream = match (tls, implicit) {
        (Some(t), true) => match NetStream::server_tls(tcp, t) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("pop3d: {peer}: TLS handshake failed: {e}");
                return;
            }
        },
        (Some(t), false) => NetStream::server_starttls(tcp, t),
        (None, _) => NetStream::plain(tcp),
    };
    let server = Server::with_marks(config, blocking::now(), random32(), Vec::new());
    let mut conn = ServerConn::new(stream, server);
    let mut session = Session {
        shared,
        locked: None,
        messages: Vec::new(),
    };
    if let Err(e) = conn.serve(&mut session) {
        eprintln!("pop3d: {peer}: {e}");
    }
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("pop3d: {e}");
            }
            eprintln!("usage: pop3d [--listen ADDR] [--maildir-root DIR --users FILE] [--tls-cert PEM --tls-key PEM] [--listen-tls ADDR] [--allow-plaintext-auth]");
            return ExitCode::from(2);
        }
    };
    let demo = o.root.is_none();
    let users: HashMap<String, String> = match &o.users {
        None => HashMap::from([("demo".to_string(), "demo".to_string())]),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .filter_map(|l| l.split_once(':'))
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            Err(e) => {
                eprintln!("pop3d: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    let tls = match (&o.cert, &o.key) {
        (Some(c), Some(k)) => match tls::server_config(c, k) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("pop3d: TLS certificate or key: {e}");
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let shared = Arc::new(Shared {
        users,
        root: o.root.clone(),
        demo: Mutex::new(
            DEMO.iter()
                .enumerate()
                .map(|(i, m)| (format!("demo-{:04}", i + 1), Arc::from(*m)))
                .collect(),
        ),
        locks: Mutex::new(HashSet::new()),
    });
    let mut config = ServerConfig::new("localhost");
    config.implementation = "pop3-proto pop3d".try_into().unwrap_or_default();
    config.apop = true;
    // Bearer tokens need an identity provider, which this example does not have.
    config.mechanisms = config
        .mechanisms
        .without(pop3_proto::server::MechanismSet::XOAUTH2)
        .without(pop3_proto::server::MechanismSet::OAUTHBEARER);
    // The demo serves loopback without TLS: plaintext logins must work there.
    config.allow_plaintext_auth = o.allow_plaintext || (demo && tls.is_none());
    config.tls = if tls.is_some() {
        Tls::StartTls
    } else {
        Tls::None
    };
    let listener = match listen(&o.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pop3d: cannot listen on {}: {e}", o.listen);
            return ExitCode::FAILURE;
        }
    };
    if let (Some(addr), Some(t)) = (&o.listen_tls, &tls) {
        let l = match listen(addr) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("pop3d: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let (shared, t) = (shared.clone(), t.clone());
        let mut c = config.clone();
        c.tls = Tls::Implicit;
        eprintln!(
            "pop3d: pop3s on {}",
            l.local_addr().map(|a| a.to_string()).unwrap_or_default()
        );
        std::thread::spawn(move || {
            for tcp in l.incoming().flatten() {
                let (shared, c, t) = (shared.clone(), c.clone(), t.clone());
                std::thread::spawn(move || serve(tcp, shared, c, Some(t), true));
            }
        });
    }
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    if demo {
        eprintln!("pop3d: demo mailbox (user demo, password demo) on {addr}");
        eprintln!("pop3d: try: curl pop3://demo:demo@{addr}/1");
    } else {
        eprintln!(
            "pop3d: serving {} on {addr}",
            o.root
                .as_ref()
                .map(|r| r.display().to_string())
                .unwrap_or_default()
        );
    }
    for tcp in listener.incoming() {
        match tcp {
            Ok(tcp) => {
                let (shared, c, t) = (shared.clone(), config.clone(), tls.clone());
                std::thread::spawn(move || serve(tcp, shared, c, t, false));
            }
            Err(e) => eprintln!("pop3d: accept: {e}"),
        }
    }
    ExitCode::SUCCESS
}
