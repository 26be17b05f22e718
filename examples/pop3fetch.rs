//! `pop3fetch`: download mail from a POP3 server into a Maildir, built on
//! `pop3-proto`.
//!
//! ```sh
//! POP3_PASSWORD=demo cargo run --example pop3fetch -- pop3://demo@127.0.0.1:1110 --maildir ./mail --allow-plaintext
//! ```
//!
//! `pop3fetch URL --maildir DIR [--keep] [--starttls] [--allow-plaintext]
//!            [--bare-lf] [--password-file FILE] [--ca-file PEM]`
//!
//! URL (RFC 2384): `pop3://user;AUTH=MECH@host:port`, `pop3s://…` for implicit TLS
//! (port 995). `AUTH=*` (or none) picks the strongest mechanism the server offers,
//! `AUTH=+APOP` uses APOP. The password comes from `POP3_PASSWORD` or
//! `--password-file`, never from the command line.
//!
//! Every message is written to DIR/tmp, fsynced, renamed into DIR/new (line ends
//! become LF, as Maildir readers expect), and its UID recorded in
//! DIR/.pop3fetch-uids; only then is it marked for deletion (default) or kept
//! (`--keep`, so the next run fetches only new mail). A message already on disk from
//! an interrupted run is deleted without being fetched again. Exit code 0 only if
//! every message arrived; on any error the half-written file is removed from tmp/.
//!
//! Message numbers come from STAT only: a UIDL or LIST entry numbered 0 or above
//! STAT's count fails the run before anything is fetched or deleted. Line ends are
//! learnt from the server (a `+OK` ending in a bare LF means an LF-only server);
//! `--bare-lf` makes a bare LF end a line in every message, for servers that send
//! CRLF status lines but LF-only messages.

#[path = "common/maildir.rs"]
mod maildir;
#[path = "common/url.rs"]
mod url;

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use pop3_proto::blocking::ClientConn;
use pop3_proto::client::{Client, ClientConfig, ClientEvent, CommandKind};
use pop3_proto::tls::{self, NetStream};
use pop3_proto::BareLf;

struct Options {
    url: url::Url,
    maildir: PathBuf,
    keep: bool,
    starttls: bool,
    allow_plaintext: bool,
    bare_lf: bool,
    password: Vec<u8>,
    ca_file: Option<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut url_arg = None;
    let mut maildir = None;
    let (mut keep, mut starttls, mut allow_plaintext, mut bare_lf) = (false, false, false, false);
    let (mut password_file, mut ca_file): (Option<PathBuf>, Option<PathBuf>) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--maildir" => maildir = Some(PathBuf::from(value()?)),
            "--keep" => keep = true,
            "--starttls" => starttls = true,
            "--allow-plaintext" => allow_plaintext = true,
            "--bare-lf" => bare_lf = true,
            "--password-file" => password_file = Some(value()?.into()),
            "--ca-file" => ca_file = Some(value()?.into()),
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => url_arg = Some(url::parse(s)?),
        }
    }
    let password = match (password_file, std::env::var_os("POP3_PASSWORD")) {
        (Some(f), _) => {
            let mut p = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            while p.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                p.pop();
            }
            p
        }
        (None, Some(p)) => p.into_encoded_bytes(),
        (None, None) => return Err("set POP3_PASSWORD or use --password-file".into()),
    };
    Ok(Options {
        url: url_arg.ok_or("missing URL")?,
        maildir: maildir.ok_or("missing --maildir")?,
        keep,
        starttls,
        allow_plaintext,
        bare_lf,
        password,
        ca_file,
    })
}

/// CRLF -> LF across chunk boundaries.
struct ToLf {
    cr: bool,
}

impl ToLf {
    fn convert(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.clear();
        for &b in data {
            if self.cr && b != b'\n' {
                out.push(b'\r');
            }
            self.cr = b == b'\r';
            if !self.cr {
                out.push(b);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        out.clear();
        if std::mem::take(&mut self.cr) {
            out.push(b'\r');
        }
    }
}

/// UIDs already delivered to the Maildir.
struct UidState {
    path: PathBuf,
    uids: HashSet<Vec<u8>>,
}

impl UidState {
    fn load(dir: &Path) -> io::Result<UidState> {
        let path = dir.join(".pop3fetch-uids");
        let uids = match std::fs::read(&path) {
            Ok(bytes) => bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => HashSet::new(),
            Err(e) => return Err(e),
        };
        Ok(UidState { path, uids })
    }

    fn add(&mut self, uid: &[u8]) -> io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(uid)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        self.uids.insert(uid.to_vec());
        Ok(())
    }

    /// Forgets UIDs the server no longer has (deleted at UPDATE).
    fn retain(&mut self, keep: impl Fn(&[u8]) -> bool) -> io::Result<()> {
        self.uids.retain(|u| keep(u));
        let tmp = self.path.with_extension("tmp");
        let mut f = File::create(&tmp)?;
        for u in &self.uids {
            f.write_all(u)?;
            f.write_all(b"\n")?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }
}

#[derive(Default)]
struct Stats {
    fetched: u64,
    bytes: u64,
    deleted: u64,
    skipped: u64,
    failed: u64,
}

fn fail(msg: impl std::fmt::Display) -> String {
    msg.to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(o: &Options, stats: &mut Stats) -> Result<(), String> {
    maildir::create(&o.maildir).map_err(|e| format!("{}: {e}", o.maildir.display()))?;
    let mut state = UidState::load(&o.maildir).map_err(fail)?;
    let tcp = TcpStream::connect((o.url.host.as_str(), o.url.port))
        .map_err(|e| format!("connect {}:{}: {e}", o.url.host, o.url.port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(fail)?;
    let _ = tcp.set_nodelay(true);
    let tls_config = if o.url.tls || o.starttls {
        Some(tls::client_config(o.ca_file.as_deref()).map_err(fail)?)
    } else {
        None
    };
    let stream = match &tls_config {
        Some(c) if o.url.tls => {
            NetStream::client_tls(tcp, c.clone(), &o.url.host).map_err(|e| format!("TLS: {e}"))?
        }
        Some(c) => NetStream::client_starttls(tcp, c.clone(), &o.url.host).map_err(fail)?,
        None => NetStream::plain(tcp),
    };
    let config = ClientConfig {
        tls: o.url.tls,
        allow_plaintext: o.allow_plaintext,
        host: o.url.host.as_str().try_into().unwrap_or_default(),
        port: o.url.port,
        bare_lf: if o.bare_lf {
            BareLf::LineEnd
        } else {
            BareLf::Auto
        },
        ..ClientConfig::default()
    };
    let mut random = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .map_err(fail)?;
    let mut conn = ClientConn::new(stream, Client::new(config, random));
    let mut error: Option<String> = None;
    let mut starttls = false;
    let on_event = |ev: ClientEvent<'_>, error: &mut Option<String>, starttls: &mut bool| match ev {
        ClientEvent::Error {
            command, text: t, ..
        } if error.is_none() => *error = Some(format!("{command:?}: -ERR {}", text(t))),
        ClientEvent::StartTls => *starttls = true,
        _ => {}
    };
    conn.run(|ev| on_event(ev, &mut error, &mut starttls))
        .map_err(fail)?;
    if o.starttls && !o.url.tls {
        if !conn.client().capabilities().stls {
            return Err("server does not offer STLS".into());
        }
        conn.client().stls().map_err(fail)?;
        conn.run(|ev| on_event(ev, &mut error, &mut starttls))
            .map_err(fail)?;
        if !starttls {
            return Err(error.take().unwrap_or("STLS refused".into()));
        }
        conn.start_tls().map_err(|e| format!("TLS: {e}"))?;
        conn.run(|ev| on_event(ev, &mut error, &mut starttls))
            .map_err(fail)?;
    }
    // Log in.
    let caps = *conn.client().capabilities();
    let tls_active = conn.client().tls_active();
    let login = url::login(&o.url, &caps, tls_active, o.allow_plaintext, &o.password);
    conn.client().login(login).map_err(fail)?;
    conn.run(|ev| on_event(ev, &mut error, &mut starttls))
        .map_err(fail)?;
    if !conn.client().is_logged_in() {
        return Err(format!(
            "login failed: {}",
            error.take().unwrap_or_default()
        ));
    }
    // What is there. STAT's count is the only numbering trusted: the client refuses
    // UIDL and LIST entries outside 1..=count (ClientEvent::Invalid), and nothing is
    // sized or allocated by a number the server put in a listing.
    let mut count: Option<u32> = None;
    let mut uids: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut sizes: HashMap<u32, u64> = HashMap::new();
    let mut uidl_failed = false;
    let mut listing_error: Option<String> = None;
    conn.client().stat().map_err(fail)?;
    conn.client().uidl(None).map_err(fail)?;
    conn.client().list(None).map_err(fail)?;
    conn.run(|ev| match ev {
        ClientEvent::Stat(s) => count = Some(s.count),
        ClientEvent::Uidl(e) if count.is_some_and(|c| (1..=c).contains(&e.msg)) => {
            uids.insert(e.msg, e.uid.to_vec());
        }
        ClientEvent::List(e) if count.is_some_and(|c| (1..=c).contains(&e.msg)) => {
            sizes.insert(e.msg, e.size);
        }
        ClientEvent::Uidl(_) | ClientEvent::List(_) => {
            listing_error.get_or_insert("listing entry without STAT".into());
        }
        ClientEvent::Error {
            command: CommandKind::Uidl,
            ..
        } => uidl_failed = true,
        ClientEvent::Error {
            command: CommandKind::Stat,
            text: t,
            ..
        } => {
            listing_error.get_or_insert(format!("STAT: -ERR {}", text(t)));
        }
        ClientEvent::Invalid {
            command, reason, ..
        } => {
            listing_error.get_or_insert(format!("{command:?}: {reason}"));
        }
        _ => {}
    })
    .map_err(fail)?;
    if let Some(e) = listing_error {
        return Err(e);
    }
    let count = count.ok_or("no reply to STAT")?;
    if o.keep && uidl_failed {
        return Err("--keep needs UIDL, which the server refuses".into());
    }
    let total_bytes: u64 = sizes.values().sum();
    // Messages 1..=count in order: those already on disk are deleted (or skipped)
    // without being fetched again, the others fetched, at most 8 in flight.
    let progress = io::stderr().is_terminal();
    let mut next: u32 = 1;
    let mut in_flight = 0;
    let mut delivery: Option<maildir::Delivery> = None;
    let mut lf = ToLf { cr: false };
    let mut buf = Vec::new();
    let mut done: Vec<u32> = Vec::new();
    let mut failed = 0;
    let mut io_error: Option<io::Error> = None;
    loop {
        while next <= count && in_flight < 8 && conn.client().queue_room() > 2 {
            let n = next;
            next += 1;
            match uids.get(&n) {
                Some(uid) if state.uids.contains(uid) => {
                    stats.skipped += 1;
                    if !o.keep {
                        conn.client().dele(n).map_err(fail)?;
                    }
                }
                _ => {
                    conn.client().retr(n).map_err(fail)?;
                    in_flight += 1;
                }
            }
        }
        // On any error return below, a message being written is dropped, which
        // removes its file from tmp/.
        let got = conn
            .next(|ev| {
                let r: io::Result<()> = (|| {
                    match ev {
                        ClientEvent::MessageStart { .. } => {
                            delivery = Some(maildir::Delivery::start(&o.maildir)?)
                        }
                        ClientEvent::MessageData { data, .. } => {
                            lf.convert(data, &mut buf);
                            stats.bytes += data.len() as u64;
                            if let Some(d) = delivery.as_mut() {
                                d.write(&buf)?;
                            }
                        }
                        ClientEvent::MessageEnd { msg } => {
                            lf.finish(&mut buf);
                            if let Some(mut d) = delivery.take() {
                                d.write(&buf)?;
                                d.commit()?;
                            }
                            done.push(msg);
                        }
                        ClientEvent::Error {
                            command: CommandKind::Retr,
                            ..
                        } => failed += 1,
                        ClientEvent::Deleted { .. } => stats.deleted += 1,
                        _ => {}
                    }
                    Ok(())
                })();
                if let Err(e) = r {
                    io_error.get_or_insert(e);
                }
            })
            .map_err(fail)?;
        if let Some(e) = io_error.take() {
            return Err(format!("writing to {}: {e}", o.maildir.display()));
        }
        for msg in done.drain(..) {
            in_flight -= 1;
            stats.fetched += 1;
            if let Some(uid) = uids.get(&msg) {
                state.add(uid).map_err(fail)?;
            }
            if !o.keep {
                conn.client().dele(msg).map_err(fail)?;
            }
            if progress {
                eprint!(
                    "\rpop3fetch: {}/{} messages, {} of {} bytes",
                    stats.fetched + stats.skipped,
                    count,
                    stats.bytes,
                    total_bytes
                );
            }
        }
        in_flight -= failed;
        stats.failed += failed as u64;
        failed = 0;
        if got.is_none() && next > count && in_flight == 0 {
            break;
        }
    }
    if progress {
        eprintln!();
    }
    // UPDATE: only now are the deletions applied.
    conn.client().quit().map_err(fail)?;
    let mut closed = false;
    let mut update_error = None;
    conn.run(|ev| match ev {
        ClientEvent::Closed => closed = true,
        ClientEvent::Error { text: t, .. } => update_error = Some(text(t)),
        ClientEvent::Deleted { .. } => stats.deleted += 1,
        _ => {}
    })
    .map_err(fail)?;
    if !closed {
        return Err(format!("QUIT failed: {}", update_error.unwrap_or_default()));
    }
    if !o.keep {
        // Deleted on the server: their UIDs will not come back.
        let gone: HashSet<Vec<u8>> = uids.into_values().collect();
        state.retain(|u| !gone.contains(u)).map_err(fail)?;
    }
    if stats.failed > 0 {
        return Err(format!("{} messages could not be retrieved", stats.failed));
    }
    Ok(())
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("pop3fetch: {e}");
            }
            eprintln!("usage: pop3fetch URL --maildir DIR [--keep] [--starttls] [--allow-plaintext] [--bare-lf] [--password-file FILE] [--ca-file PEM]");
            return ExitCode::from(2);
        }
    };
    let mut stats = Stats::default();
    let result = run(&o, &mut stats);
    let summary = format!(
        "pop3fetch: {} fetched ({} bytes), {} deleted, {} already here, {} failed",
        stats.fetched, stats.bytes, stats.deleted, stats.skipped, stats.failed
    );
    match result {
        Ok(()) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{summary}");
            eprintln!("pop3fetch: error: {e}");
            ExitCode::FAILURE
        }
    }
}
