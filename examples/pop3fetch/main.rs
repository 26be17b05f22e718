//! `pop3fetch`: download mail from a POP3 server into a Maildir (or hand it to an
//! MDA), built on `pop3-proto`.
//!
//! ```sh
//! POP3_PASSWORD=demo cargo run --example pop3fetch -- pop3://demo@127.0.0.1:1110 --maildir ./mail --allow-plaintext
//! ```
//!
//! `pop3fetch --help` lists every option and the exit codes.
//!
//! Never losing mail:
//!
//! - What was delivered is remembered per account (user, host, port) in a journal
//!   (`common/fetch_state.rs`): a message is deleted unfetched only if this account
//!   delivered a message with its UID (and, when both are known, its size). A partial
//!   journal line left by a crash is never read as a UID. UIDs the server lists twice
//!   identify nothing and are never trusted.
//! - Messages are written to `tmp/` as they arrive, then committed in groups: every
//!   file of a group fdatasynced, renamed into `new/`, `new/` fsynced once, the UIDs
//!   appended to the journal and fsynced once; only then are their DELEs sent. The
//!   commit runs on its own thread while the next messages arrive.
//! - The journal is opened for writing before connecting; a refused DELE or RETR is
//!   reported (exit code 1) and retried on the next run.
//!
//! Bounded against a hostile server: message numbers come from STAT only (a listing
//! longer than STAT's count, or naming a message twice, fails the run before anything
//! is fetched or deleted), messages over `--max-size` are not fetched (and one that
//! grows past it while arriving fails the run), and `--timeout`, `--speed-limit`/
//! `--speed-time` and `--max-time` bound the time (`common/wire.rs`). Without TLS no
//! password-based login is used (not even a CRAM-MD5, SCRAM or APOP digest) unless
//! `--allow-plaintext`.

#[path = "../common/fetch_state.rs"]
mod fetch_state;
#[path = "../common/maildir.rs"]
mod maildir;
#[path = "../common/url.rs"]
mod url;
#[path = "../common/wire.rs"]
mod wire;

mod check;
mod config;
mod hints;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use pop3_proto::blocking::{self, ClientConn, StartTls};
use pop3_proto::client::{Client, ClientConfig, ClientError, ClientEvent, CommandKind, Login};
use pop3_proto::response::code::ResponseCode;
use pop3_proto::tls::{self, NetStream};
use pop3_proto::BareLf;

use fetch_state::{Account, Delivered, State};

/// The exit codes (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Some messages were not fetched or not deleted; the next run retries.
    Partial = 1,
    Usage = 2,
    Auth = 3,
    Network = 4,
    Protocol = 5,
    Local = 6,
    Busy = 7,
    /// Another run holds this account.
    Locked = 8,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  every message was fetched (and deleted, unless kept); or nothing to do; or not
     logged in because the server's LOGIN-DELAY has not passed since the last login
  1  some messages were not fetched or not deleted: the server refused RETR or DELE,
     QUIT did not apply the deletions, or (with --keep/--keep-for) messages without a
     unique UID; everything else was done, and the next run retries them
  2  usage error
  3  login failed or refused: wrong credentials, no login allowed without TLS, the
     password command failed
  4  network: cannot connect, TLS failed, connection lost, --timeout, --speed-limit
     or --max-time exceeded
  5  protocol: the server's replies cannot be believed (a listing beyond STAT's count,
     a message growing past --max-size, a malformed reply)
  6  local: the Maildir, the state file or the MDA failed
  7  server busy: [IN-USE], [LOGIN-DELAY] or [SYS/TEMP] at login; try later
  8  another pop3fetch run is fetching this account (its process id is said)
With --check the code is that of the failing step's class: 4 name, connection, TLS,
greeting or STLS; 3 login refused; 7 [IN-USE], [LOGIN-DELAY], [SYS/TEMP]; 5 the
server cannot do what the options ask (--keep without UIDL, EXPIRE 0); 6 local (the
--ca-file). With --all, the worst code of the accounts.
Messages delivered before an error stay delivered and recorded: the next run deletes
them from the server (unless kept) without fetching them again.";

const ABOUT: &str = "Fetch mail from a POP3 server into a Maildir or an MDA, \
never losing a message";

const LONG_ABOUT: &str = "\
Fetch mail from a POP3 server into a Maildir (or hand each message to an MDA), then
delete it from the server unless kept. A message is deleted only after it is safely
on disk (fsynced), and only by the account that delivered it.

URL (RFC 2384): pop3://user;AUTH=MECH@host:port, or pop3s://... for implicit TLS
(port 995). AUTH=* (or none) picks the strongest mechanism the server offers;
AUTH=+APOP uses APOP, AUTH=USER uses USER/PASS, AUTH=XOAUTH2 or OAUTHBEARER send an
OAuth token as the password. User names are %-encoded (%40 for @).

The password (or token) comes from --password-command, --password-file or the
POP3_PASSWORD environment variable, never from the command line.

What was delivered is remembered per account in DIR/.pop3fetch-state-USER@HOST:PORT
(DIR: --state-dir, by default the Maildir; --account names the account otherwise).

Several accounts: a TOML file (--config, by default ~/.config/pop3fetch/config.toml)
with an [account.NAME] table each, whose keys are the long options (an underscore or
a dash); `pop3fetch --account NAME` fetches one, `pop3fetch --all` every one. The
command line overrides the file. No password is kept in it:

    [defaults]
    timeout = 60

    [account.work]
    url = \"pop3s://alice@mail.example.org\"
    password_command = \"pass show mail/work\"
    maildir = \"~/Mail/work\"
    keep_for = \"7d\"

    [account.home]
    url = \"pop3://bob@pop.example.net\"
    starttls = true
    password_file = \"~/.config/pop3fetch/home.password\"
    mda = \"procmail\"
    max_size = \"50M\"";

fn cli() -> Command {
    let flag = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let value = |name: &'static str, meta: &'static str, help: &'static str| {
        Arg::new(name).long(name).value_name(meta).help(help)
    };
    Command::new("pop3fetch")
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .after_help(EXIT_CODES)
        // A configuration file's options come first: the command line overrides them.
        .args_override_self(true)
        .arg(
            Arg::new("url")
                .value_name("URL")
                .required_unless_present_any(["account", "all"])
                .help(
                    "pop3://user[;AUTH=MECH]@host[:port] or pop3s://...; without it, \
                     --account NAME or --all take accounts from the configuration file",
                ),
        )
        .next_help_heading("Accounts in a configuration file")
        .arg(
            value(
                "config",
                "FILE",
                "The configuration file (TOML, an [account.NAME] table per account) \
                 [default: $XDG_CONFIG_HOME/pop3fetch/config.toml, else \
                 ~/.config/pop3fetch/config.toml]",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            flag(
                "all",
                "Fetch every account of the configuration file, one after the other; one \
                 failing does not stop the others, and the exit code is the worst one",
            )
            .conflicts_with_all(["url", "check"]),
        )
        .arg(flag(
            "check",
            "Test the account step by step (name, connection, TLS, greeting, CAPA, STLS, \
             login, STAT) without fetching or deleting anything: one line per step, and for \
             a failing one the likely cause and the fix; exit code of the step's class",
        ))
        .next_help_heading("Delivery")
        .arg(
            value(
                "maildir",
                "DIR",
                "Deliver into this Maildir (created if missing)",
            )
            // Needed unless --mda or --check (checked after the configuration
            // file, which may give it).
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "mda",
                "COMMAND",
                "Deliver each message by piping it (LF line ends) to `sh -c COMMAND`; \
                 exit status 0 means delivered. Run once per message",
            )
            .conflicts_with("maildir"),
        )
        .arg(
            value(
                "state-dir",
                "DIR",
                "Where the per-account state lives [default: the Maildir; with --mda: \
                 $XDG_STATE_HOME/pop3fetch or ~/.local/state/pop3fetch]",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "account",
                "NAME",
                "Without a URL: the account [account.NAME] of the configuration file. With \
                 a URL: the account's name in the state [default: USER@HOST:PORT]; runs \
                 that give the same name share what was delivered: give one when the same \
                 mailbox is reached by another host name or port",
            )
            .value_parser(clap::builder::NonEmptyStringValueParser::new()),
        )
        .next_help_heading("What stays on the server")
        .arg(flag(
            "keep",
            "Leave every message on the server; later runs fetch only new ones",
        ))
        .arg(
            value(
                "keep-for",
                "DURATION",
                "Leave messages on the server for DURATION after they were delivered, \
                 then delete them (e.g. 36h, 7d, 90m, 600s; a bare number is seconds)",
            )
            .value_parser(parse_duration)
            .conflicts_with("keep"),
        )
        .arg(
            value(
                "max-size",
                "SIZE",
                "Do not fetch messages larger than SIZE (their LIST size; suffixes K, M, \
                 G are powers of 1024); they stay on the server. A message that grows \
                 past SIZE while arriving fails the run",
            )
            .value_parser(parse_size)
            .default_value("256M"),
        )
        .arg(
            flag(
                "delete-oversized",
                "Delete messages over --max-size from the server without fetching them",
            )
            .requires("max-size"),
        )
        .next_help_heading("Security and login")
        .arg(flag("starttls", "Upgrade a pop3:// connection with STLS"))
        .arg(flag(
            "allow-plaintext",
            "Allow a password-based login without TLS: USER/PASS, PLAIN and LOGIN \
             send the password, and CRAM-MD5, SCRAM or APOP send a digest that can be \
             cracked offline by anyone who can rewrite the server's replies",
        ))
        .arg(
            value(
                "ca-file",
                "PEM",
                "Also trust the CA certificates in this PEM file",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "password-file",
                "FILE",
                "Read the password (or OAuth token) from FILE (trailing newlines dropped)",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "password-command",
                "COMMAND",
                "Run `sh -c COMMAND` and use its output as the password or OAuth token \
                 (trailing newlines dropped); a failing command fails the run",
            )
            .conflicts_with("password-file"),
        )
        .arg(
            value(
                "password-timeout",
                "SECS",
                "Kill --password-command if it has not finished within SECS seconds \
                 (with what it started, unless it reads a terminal) and fail the run",
            )
            .value_parser(value_parser!(u64).range(1..))
            .default_value("60"),
        )
        .next_help_heading("Limits")
        .arg(
            value(
                "timeout",
                "SECS",
                "Give up when the server sends nothing for SECS seconds (or takes \
                 nothing we send)",
            )
            .value_parser(value_parser!(u64).range(1..))
            .default_value("120"),
        )
        .arg(
            value(
                "max-time",
                "SECS",
                "Give up when the whole session takes longer than SECS seconds \
                 [default: no limit]",
            )
            .value_parser(value_parser!(u64).range(1..)),
        )
        .arg(
            value(
                "speed-limit",
                "BYTES",
                "Give up when a message or listing arrives slower than BYTES per second \
                 for --speed-time seconds (0: never)",
            )
            .value_parser(value_parser!(u64))
            .default_value("1000"),
        )
        .arg(
            value(
                "speed-time",
                "SECS",
                "The time over which --speed-limit is measured",
            )
            .value_parser(value_parser!(u64).range(1..))
            .default_value("60"),
        )
        .next_help_heading("Protocol")
        .arg(flag(
            "bare-lf",
            "A bare LF ends a line in every message (servers that send CRLF status \
             lines but LF-only messages); by default line ends are learnt from the server",
        ))
        .arg(flag(
            "no-utf8",
            "Do not send UTF8 (RFC 6856) when the server offers it",
        ))
        .arg(flag(
            "trace",
            "Print the protocol exchange on stderr (C: client, S: server); passwords, \
             digests, tokens and SASL responses are replaced by <redacted>, message \
             bodies by their size",
        ))
        .arg(flag(
            "quiet",
            "No progress bar (on a terminal a long fetch shows messages, bytes, rate and \
             time left; elsewhere there is none)",
        ))
}

/// `36h`, `7d`, `90m`, `600s`, `600`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s}: expected a number with s, m, h or d"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s}: unknown unit {unit} (s, m, h or d)")),
    };
    n.checked_mul(factor)
        .map(Duration::from_secs)
        .ok_or(format!("{s}: too long"))
}

/// `1000`, `64K`, `256M`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s}: expected a number with K, M or G"))?;
    let factor = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{s}: unknown unit {unit} (K, M or G)")),
    };
    n.checked_mul(factor).ok_or(format!("{s}: too large"))
}

enum Sink {
    Maildir(PathBuf),
    /// A shell command run once per message.
    Mda(String),
    /// `--check` delivers nothing.
    Nowhere,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Keep {
    /// Delete what was delivered (the default).
    Nothing,
    /// Delete nothing.
    All,
    /// Delete what was delivered at least this long ago.
    For(Duration),
}

struct Options {
    /// `--check`: test the account, fetch nothing.
    check: bool,
    url: url::Url,
    sink: Sink,
    state_dir: PathBuf,
    account: Option<String>,
    keep: Keep,
    starttls: bool,
    allow_plaintext: bool,
    bare_lf: bool,
    utf8: bool,
    trace: bool,
    /// No progress bar.
    quiet: bool,
    password: Vec<u8>,
    ca_file: Option<PathBuf>,
    max_size: u64,
    delete_oversized: bool,
    limits: wire::Limits,
}

/// Why a run stopped.
struct Failure {
    exit: Exit,
    msg: String,
}

fn fail(exit: Exit, msg: impl std::fmt::Display) -> Failure {
    Failure {
        exit,
        msg: msg.to_string(),
    }
}

type Res<T> = Result<T, Failure>;

fn trim_newlines(mut p: Vec<u8>) -> Vec<u8> {
    while p.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        p.pop();
    }
    p
}

/// The most a --password-command may print (a long OAuth token is a few KiB).
const MAX_PASSWORD_OUTPUT: u64 = 64 * 1024;

/// Runs `sh -c cmd` for the password, killed if it has not finished within
/// `timeout`. Where standard input is not a terminal the command runs in a process
/// group of its own, so that what it started dies with it; one that asks at a
/// terminal stays in the terminal's group (a background group could not read it).
fn password_command(cmd: &str, timeout: Duration) -> Res<Vec<u8>> {
    use std::os::unix::process::CommandExt;
    let failed = |what: String| fail(Exit::Auth, format!("--password-command {what}"));
    let own_group = !io::stdin().is_terminal();
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if own_group {
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| failed(format!(": {e}")))?;
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout
            .take(MAX_PASSWORD_OUTPUT + 1)
            .read_to_end(&mut out)
            .map(|_| out)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| failed(format!(": {e}")))? {
            break status;
        }
        if Instant::now() >= deadline {
            if own_group {
                let group = rustix::process::Pid::from_child(&child);
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed(format!(
                "did not finish within {} s: killed (--password-timeout)",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        return Err(failed(format!("failed ({status})")));
    }
    let out = reader
        .join()
        .map_err(|_| failed("output unreadable".into()))?
        .map_err(|e| failed(format!("output: {e}")))?;
    if out.len() as u64 > MAX_PASSWORD_OUTPUT {
        return Err(failed(format!("printed over {MAX_PASSWORD_OUTPUT} bytes")));
    }
    Ok(trim_newlines(out))
}

fn password(m: &ArgMatches) -> Res<Vec<u8>> {
    if let Some(cmd) = m.get_one::<String>("password-command") {
        let timeout = Duration::from_secs(*m.get_one::<u64>("password-timeout").expect("default"));
        return password_command(cmd, timeout);
    }
    if let Some(f) = m.get_one::<PathBuf>("password-file") {
        let p = std::fs::read(f).map_err(|e| fail(Exit::Auth, format!("{}: {e}", f.display())))?;
        return Ok(trim_newlines(p));
    }
    match std::env::var_os("POP3_PASSWORD") {
        Some(p) => Ok(p.into_encoded_bytes()),
        None => Err(fail(
            Exit::Usage,
            "no password: set POP3_PASSWORD, or use --password-file or --password-command",
        )),
    }
}

fn default_state_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d).join("pop3fetch")),
        _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/pop3fetch")),
    }
}

fn options(m: &ArgMatches) -> Res<Options> {
    let url = url::parse(m.get_one::<String>("url").expect("required"))
        .map_err(|e| fail(Exit::Usage, format!("URL: {e}")))?;
    let check = m.get_flag("check");
    let sink = match (m.get_one::<PathBuf>("maildir"), m.get_one::<String>("mda")) {
        (Some(d), _) => Sink::Maildir(d.clone()),
        (None, Some(c)) => Sink::Mda(c.clone()),
        (None, None) if check => Sink::Nowhere,
        (None, None) => return Err(fail(Exit::Usage, "--maildir or --mda is needed")),
    };
    let state_dir = match (m.get_one::<PathBuf>("state-dir"), &sink) {
        (Some(d), _) => d.clone(),
        (None, Sink::Nowhere) => PathBuf::new(),
        (None, Sink::Maildir(d)) => d.clone(),
        (None, Sink::Mda(_)) => default_state_dir().ok_or(fail(
            Exit::Usage,
            "--mda needs --state-dir (neither XDG_STATE_HOME nor HOME is set)",
        ))?,
    };
    let keep = if m.get_flag("keep") {
        Keep::All
    } else {
        match m.get_one::<Duration>("keep-for") {
            Some(d) => Keep::For(*d),
            None => Keep::Nothing,
        }
    };
    let secs = |name| Duration::from_secs(*m.get_one::<u64>(name).expect("default"));
    Ok(Options {
        check,
        url,
        sink,
        state_dir,
        account: m.get_one::<String>("account").cloned(),
        keep,
        starttls: m.get_flag("starttls"),
        allow_plaintext: m.get_flag("allow-plaintext"),
        bare_lf: m.get_flag("bare-lf"),
        utf8: !m.get_flag("no-utf8"),
        trace: m.get_flag("trace"),
        quiet: m.get_flag("quiet"),
        password: password(m)?,
        ca_file: m.get_one::<PathBuf>("ca-file").cloned(),
        max_size: *m.get_one::<u64>("max-size").expect("default"),
        delete_oversized: m.get_flag("delete-oversized"),
        limits: wire::Limits {
            timeout: secs("timeout"),
            max_time: m
                .get_one::<u64>("max-time")
                .map(|s| Duration::from_secs(*s)),
            speed_limit: *m.get_one::<u64>("speed-limit").expect("default"),
            speed_time: secs("speed-time"),
        },
    })
}

/// CRLF -> LF across chunk boundaries.
struct ToLf {
    cr: bool,
}

impl ToLf {
    fn convert(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let mut rest = data;
        if std::mem::take(&mut self.cr) && rest.first() != Some(&b'\n') {
            out.push(b'\r');
        }
        while let Some(i) = rest.iter().position(|b| *b == b'\r') {
            out.extend_from_slice(&rest[..i]);
            match rest.get(i + 1) {
                Some(b'\n') => {}
                Some(_) => out.push(b'\r'),
                None => self.cr = true,
            }
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        out.clear();
        if std::mem::take(&mut self.cr) {
            out.push(b'\r');
        }
    }
}

#[derive(Default)]
struct Stats {
    fetched: u64,
    bytes: u64,
    deleted: u64,
    skipped: u64,
    failed: u64,
    too_large: u64,
    dele_refused: u64,
    untracked: u64,
    /// Not logged in: the server's LOGIN-DELAY ends in this many seconds.
    login_delayed: Option<u64>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A session error from the blocking adapter.
fn wire_err(e: blocking::Error) -> Failure {
    match e {
        blocking::Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            fail(Exit::Network, "the server closed the connection")
        }
        blocking::Error::Io(e) => fail(Exit::Network, e),
        blocking::Error::Client(ClientError::Sasl(what)) => {
            fail(Exit::Auth, format!("authentication: {what}"))
        }
        blocking::Error::Client(ClientError::Rejected) => fail(
            Exit::Busy,
            "the server refused the connection (-ERR greeting)",
        ),
        e => fail(Exit::Protocol, e),
    }
}

/// A failed TLS handshake, with what it most likely means.
fn tls_err(o: &Options, e: &io::Error) -> Failure {
    match hints::tls(e, &o.url.host, o.url.port) {
        Some(hint) => fail(Exit::Network, format!("TLS: {e}\n  hint: {hint}")),
        None => fail(Exit::Network, format!("TLS: {e}")),
    }
}

fn queue_err(e: ClientError) -> Failure {
    fail(Exit::Protocol, e)
}

/// A message on its way to its destination.
enum Out {
    Maildir(maildir::Delivery),
    Mda(Mda),
}

/// An MDA run: killed if dropped before [`Mda::finish`] (a message cut short must
/// not be delivered by an MDA that takes end of input as its end).
struct Mda {
    child: Child,
    done: bool,
}

impl Mda {
    fn start(cmd: &str) -> io::Result<Mda> {
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        Ok(Mda { child, done: false })
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.child.stdin.as_mut() {
            Some(s) => s.write_all(bytes),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn finish(mut self) -> io::Result<()> {
        drop(self.child.stdin.take());
        let status = self.child.wait()?;
        self.done = true;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("the MDA failed ({status})")))
        }
    }
}

impl Drop for Mda {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            drop(self.child.stdin.take());
            let _ = self.child.wait();
        }
    }
}

/// A delivered message waiting for its group commit.
struct Item {
    msg: u32,
    /// Recorded in the state (None: the message has no UID that identifies it).
    uid: Option<Vec<u8>>,
    size: Option<u64>,
    /// The Maildir file (None: the MDA has it).
    written: Option<maildir::Written>,
}

/// The commit thread: group commits of delivered messages, in order. Each batch's
/// answer is the message numbers now safe (their DELEs may go), or why not; after a
/// failure it stops (later batches are dropped, their files removed from tmp/).
fn committer(
    maildir: Option<PathBuf>,
    mut state: State,
    jobs: mpsc::Receiver<Vec<Item>>,
    done: mpsc::Sender<Result<Vec<u32>, String>>,
) -> State {
    for batch in jobs {
        let result = (|| {
            let at = unix_now();
            let (mut files, mut msgs, mut records) = (Vec::new(), Vec::new(), Vec::new());
            for item in batch {
                msgs.push(item.msg);
                files.extend(item.written);
                if let Some(uid) = item.uid {
                    records.push((
                        uid,
                        Delivered {
                            size: item.size,
                            at,
                        },
                    ));
                }
            }
            if let Some(dir) = &maildir {
                maildir::commit_batch(dir, files)
                    .map_err(|e| format!("delivering to {}: {e}", dir.display()))?;
            }
            state
                .append(&records)
                .map_err(|e| format!("recording in {}: {e}", state.path().display()))?;
            Ok(msgs)
        })();
        let failed = result.is_err();
        if done.send(result).is_err() || failed {
            break;
        }
    }
    state
}

/// The longest LOGIN-DELAY honoured (and kept in the journal), in seconds: a day.
const MAX_LOGIN_DELAY: u32 = 86_400;

/// Most messages a run takes on (each costs memory for its UID and size).
const MAX_MESSAGES: u32 = 1_000_000;
/// RETRs in flight at once.
const DEPTH: usize = 16;
/// A group commit closes when the commit thread is idle, or else at this many
/// messages, bytes or seconds.
const BATCH_MESSAGES: usize = 256;
const BATCH_BYTES: u64 = 32 << 20;
const BATCH_AGE: Duration = Duration::from_secs(2);

/// Fresh randomness for a session (SCRAM's client nonce).
fn random32() -> Res<[u8; 32]> {
    let mut random = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .map_err(|e| fail(Exit::Local, e))?;
    Ok(random)
}

fn connect(o: &Options) -> Res<TcpStream> {
    let addrs = (o.url.host.as_str(), o.url.port)
        .to_socket_addrs()
        .map_err(|e| fail(Exit::Network, format!("{}: {e}", o.url.host)))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, o.limits.timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::other("no address"));
    let hint = hints::connect(&e, &o.url.host, o.url.port, o.limits.timeout.as_secs());
    Err(fail(
        Exit::Network,
        format!("connect {}:{}: {e}\n  hint: {hint}", o.url.host, o.url.port),
    ))
}

type Conn = ClientConn<wire::Guarded<NetStream>>;

fn run(o: &Options, stats: &mut Stats) -> Res<()> {
    let started = Instant::now();
    let account = Account {
        user: o.url.user.clone(),
        host: o.url.host.clone(),
        port: o.url.port,
        name: o.account.clone(),
    };
    // The local side first: a Maildir or a state that cannot be written fails here,
    // before the server is even contacted.
    let local = |what: &Path, e: io::Error| fail(Exit::Local, format!("{}: {e}", what.display()));
    if let Sink::Maildir(dir) = &o.sink {
        maildir::create(dir).map_err(|e| local(dir, e))?;
        let legacy = dir.join(".pop3fetch-uids");
        if legacy.exists() {
            eprintln!(
                "pop3fetch: note: ignoring {} (written by an older pop3fetch, not tied to \
                 an account); mail kept on the server may be fetched once more",
                legacy.display()
            );
        }
    }
    std::fs::create_dir_all(&o.state_dir).map_err(|e| local(&o.state_dir, e))?;
    let mut state = State::open(&o.state_dir, &account).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock => fail(Exit::Locked, e),
        _ => local(&fetch_state::path_for(&o.state_dir, &account), e),
    })?;
    if state.repaired {
        eprintln!(
            "pop3fetch: {}: dropped a partial last line (an interrupted run)",
            state.path().display()
        );
    }
    if state.ignored > 0 {
        eprintln!(
            "pop3fetch: {}: ignored {} damaged lines",
            state.path().display(),
            state.ignored
        );
    }
    if let Some((at, delay)) = state.last_login {
        let now = unix_now();
        // A journal written before the cap may hold more than a day.
        let next = at.saturating_add(u64::from(delay.min(MAX_LOGIN_DELAY)));
        if now < next {
            stats.login_delayed = Some(next - now);
            return Ok(());
        }
    }

    // Connect.
    let tcp = connect(o)?;
    tcp.set_read_timeout(Some(o.limits.timeout))
        .map_err(|e| fail(Exit::Network, e))?;
    let _ = tcp.set_nodelay(true);
    let tcp_handle = tcp.try_clone().map_err(|e| fail(Exit::Network, e))?;
    if o.trace {
        eprintln!("-- connected to {}:{}", o.url.host, o.url.port);
    }
    let tls_config = if o.url.tls || o.starttls {
        Some(tls::client_config(o.ca_file.as_deref()).map_err(|e| {
            let what = o
                .ca_file
                .as_deref()
                .unwrap_or(Path::new("system CA certificates"));
            local(what, e)
        })?)
    } else {
        None
    };
    let stream = match &tls_config {
        Some(c) if o.url.tls => {
            NetStream::client_tls(tcp, c.clone(), &o.url.host).map_err(|e| tls_err(o, &e))?
        }
        Some(c) => NetStream::client_starttls(tcp, c.clone(), &o.url.host)
            .map_err(|e| fail(Exit::Network, e))?,
        None => NetStream::plain(tcp),
    };
    if o.trace && o.url.tls {
        eprintln!("-- TLS handshake done");
    }
    let stream = wire::Guarded::new(stream, tcp_handle, o.limits, started, o.trace)
        .map_err(|e| fail(Exit::Network, e))?;
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
    // SCRAM -PLUS binds to the TLS session (after STLS, start_tls hands it over).
    let channel_binding = stream.channel_binding();
    let mut conn: Conn = ClientConn::new(stream, Client::new(config, random32()?));
    if let Some(cb) = channel_binding {
        conn.client().set_channel_binding(cb);
    }
    let mut greeted = false;
    conn.run(|ev| greeted |= matches!(ev, ClientEvent::Greeting { .. }))
        .map_err(|e| match e {
            blocking::Error::Io(e)
                if !greeted
                    && matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
            {
                let hint = hints::no_greeting(
                    o.url.tls,
                    &o.url.host,
                    o.url.port,
                    o.limits.timeout.as_secs(),
                );
                fail(Exit::Network, format!("no greeting: {e}\n  hint: {hint}"))
            }
            e => wire_err(e),
        })?;
    if o.starttls && !o.url.tls {
        if !conn.client().capabilities().stls {
            return Err(fail(
                Exit::Network,
                format!(
                    "the server does not offer STLS\n  hint: use pop3s://{} (port 995) if it \
                     has it, or --allow-plaintext without --starttls on a network you trust",
                    o.url.host
                ),
            ));
        }
        conn.client().stls().map_err(queue_err)?;
        let (mut ok, mut refused) = (false, None);
        conn.run(|ev| match ev {
            ClientEvent::StartTls => ok = true,
            ClientEvent::Error { text: t, .. } => refused = Some(text(t)),
            _ => {}
        })
        .map_err(wire_err)?;
        if !ok {
            return Err(fail(
                Exit::Network,
                format!("STLS refused: {}", refused.unwrap_or_default()),
            ));
        }
        conn.start_tls().map_err(|e| match e {
            blocking::Error::Io(e) => tls_err(o, &e),
            e => fail(Exit::Network, format!("TLS: {e}")),
        })?;
        conn.run(|_| {}).map_err(wire_err)?;
    }
    // UTF8 (RFC 6856) when offered: user names, passwords and messages in UTF-8.
    if o.utf8 && conn.client().capabilities().utf8.is_some() {
        conn.client().utf8().map_err(queue_err)?;
        conn.run(|_| {}).map_err(wire_err)?;
    }
    login(o, &mut conn)?;
    let caps = *conn.client().capabilities();
    if let Some(delay) = caps.login_delay.filter(|d| *d > 0) {
        // A hostile or broken LOGIN-DELAY (4294967295 s is 136 years) must not stop
        // this account's fetching for ever: at most a day is honoured or kept.
        if delay > MAX_LOGIN_DELAY {
            eprintln!(
                "pop3fetch: the server's LOGIN-DELAY of {delay} s is over a day: \
                 honouring {MAX_LOGIN_DELAY} s"
            );
        }
        let delay = delay.min(MAX_LOGIN_DELAY);
        state
            .record_login(unix_now(), delay)
            .map_err(|e| local(state.path(), e))?;
    }
    let listing = list(&mut conn)?;
    if o.keep != Keep::Nothing && !listing.uidl {
        return Err(fail(
            Exit::Protocol,
            "--keep and --keep-for need UIDL, which the server refuses",
        ));
    }
    fetch(o, conn, state, listing, stats)
}

fn login(o: &Options, conn: &mut Conn) -> Res<()> {
    let caps = url::usable_capabilities(conn.client());
    let tls_active = conn.client().tls_active();
    let login = url::choose_login(&o.url, &caps, tls_active, o.allow_plaintext, &o.password)
        .map_err(|e| fail(Exit::Auth, e))?;
    match try_login(conn, &login) {
        Err((refused, challenged)) => match url::plus_fallback(&o.url, &login, challenged) {
            Some(plain) => {
                if o.trace {
                    eprintln!(
                        "-- {} refused before the proof ({}): trying {} once, without \
                         channel binding",
                        mechanism_name(&login),
                        refused.msg.lines().next().unwrap_or_default(),
                        mechanism_name(&plain)
                    );
                }
                try_login(conn, &plain).map_err(|(f, _)| f)
            }
            None => Err(refused),
        },
        Ok(()) => Ok(()),
    }
}

/// The exit code of a login refused with `code`: the server is busy ([IN-USE],
/// [LOGIN-DELAY], [SYS/TEMP]: try later), or the login failed.
fn login_exit(code: Option<&ResponseCode<'_>>) -> Exit {
    match code {
        Some(ResponseCode::InUse | ResponseCode::LoginDelay | ResponseCode::SysTemp) => Exit::Busy,
        _ => Exit::Auth,
    }
}

/// The SASL mechanism of a login, for messages.
fn mechanism_name(login: &Login<'_>) -> String {
    match login {
        Login::Sasl { mechanism, .. } => mechanism.name().to_string(),
        _ => "USER/PASS".into(),
    }
}

/// Queues `login` and runs it; on failure also whether a SASL challenge came (a
/// refusal before any challenge is one before the proof).
fn try_login(conn: &mut Conn, login: &Login<'_>) -> Result<(), (Failure, bool)> {
    let early = |f| (f, false);
    conn.client().login(*login).map_err(|e| match e {
        ClientError::PlaintextRefused
        | ClientError::ApopUnavailable
        | ClientError::MechanismUnavailable
        | ClientError::CredentialTooLong => early(fail(Exit::Auth, e)),
        e => early(queue_err(e)),
    })?;
    let mut refused: Option<Failure> = None;
    let mut challenged = false;
    // The client keeps no credentials: they are handed over when their line is due.
    loop {
        let asked = conn.next(|ev| match ev {
            ClientEvent::NeedCredentials { challenge } => {
                challenged |= !challenge.is_empty();
                true
            }
            // The CAPA re-sent after login may be refused (RFC 1939-only servers):
            // that means no capabilities, not a failed login.
            ClientEvent::Error {
                command:
                    CommandKind::User | CommandKind::Pass | CommandKind::Apop | CommandKind::Auth,
                code,
                text: t,
                ..
            } => {
                refused.get_or_insert(fail(
                    login_exit(code.as_ref()),
                    format!(
                        "login failed: -ERR {}\n  hint: {}",
                        text(t),
                        hints::login(code.as_ref())
                    ),
                ));
                false
            }
            _ => false,
        });
        match asked {
            Ok(None) => break,
            Ok(Some(true)) => {
                if let Err(e) = conn.credentials(login) {
                    return Err((wire_err(e), challenged));
                }
            }
            Ok(Some(false)) => {}
            Err(e) => return Err((refused.unwrap_or_else(|| wire_err(e)), challenged)),
        }
    }
    if let Some(f) = refused {
        return Err((f, challenged));
    }
    if !conn.client().is_logged_in() {
        return Err((fail(Exit::Auth, "login failed"), challenged));
    }
    Ok(())
}

/// What the server holds.
struct Listing {
    count: u32,
    /// UIDs by message number.
    uids: HashMap<u32, Vec<u8>>,
    sizes: HashMap<u32, u64>,
    /// UIDL answered.
    uidl: bool,
}

/// STAT, UIDL and LIST. STAT's count is the only numbering trusted: the client
/// refuses entries outside 1..=count (ClientEvent::Invalid), and a listing that names
/// a message twice (so could go on for ever) fails here, as soon as it does.
fn list(conn: &mut Conn) -> Res<Listing> {
    let mut count: Option<u32> = None;
    let mut listing = Listing {
        count: 0,
        uids: HashMap::new(),
        sizes: HashMap::new(),
        uidl: true,
    };
    let mut error: Option<Failure> = None;
    let bad = |what: String| fail(Exit::Protocol, what);
    conn.client().stat().map_err(queue_err)?;
    conn.client().uidl(None).map_err(queue_err)?;
    conn.client().list(None).map_err(queue_err)?;
    let mut done = false;
    while !done {
        let got = conn
            .next(|ev| match ev {
                ClientEvent::Stat(s) if s.count > MAX_MESSAGES => {
                    error.get_or_insert(bad(format!(
                        "the server reports {} messages; pop3fetch takes at most {MAX_MESSAGES} \
                         in one run",
                        s.count
                    )));
                }
                ClientEvent::Stat(s) => count = Some(s.count),
                ClientEvent::Uidl(_) | ClientEvent::List(_) if count.is_none() => {
                    error.get_or_insert(bad("listing entry without STAT".into()));
                }
                ClientEvent::Uidl(e) => {
                    let again = listing.uids.insert(e.msg, e.uid.to_vec()).is_some();
                    if again {
                        error.get_or_insert(bad(format!(
                            "UIDL lists message {} twice (a listing longer than STAT's count)",
                            e.msg
                        )));
                    }
                }
                ClientEvent::List(e) => {
                    let again = listing.sizes.insert(e.msg, e.size).is_some();
                    if again {
                        error.get_or_insert(bad(format!(
                            "LIST lists message {} twice (a listing longer than STAT's count)",
                            e.msg
                        )));
                    }
                }
                ClientEvent::Error {
                    command: CommandKind::Uidl,
                    ..
                } => listing.uidl = false,
                ClientEvent::Error {
                    command: CommandKind::List,
                    ..
                } => {}
                ClientEvent::Error {
                    command, text: t, ..
                } => {
                    error.get_or_insert(bad(format!("{command:?}: -ERR {}", text(t))));
                }
                ClientEvent::Invalid {
                    command, reason, ..
                } => {
                    error.get_or_insert(bad(format!("{command:?}: {reason}")));
                }
                _ => {}
            })
            .map_err(wire_err)?;
        if let Some(e) = error.take() {
            return Err(e);
        }
        done = got.is_none();
        // Listings are bulk data: a trickle fails --speed-limit.
        conn.stream().set_bulk(count.is_some() && !done);
    }
    listing.count = count.ok_or(fail(Exit::Protocol, "no reply to STAT"))?;
    Ok(listing)
}

/// What happens to each message, decided before the first RETR.
#[derive(Default)]
struct Plan {
    fetch: VecDeque<u32>,
    /// DELEs for messages already delivered (or oversized, with --delete-oversized).
    dele: VecDeque<u32>,
}

/// The UIDs that identify one message each: a UID the server gives to two messages
/// identifies neither (trusting it lost the second one after an interrupted run).
fn unique_uids(listing: &Listing) -> HashMap<u32, Vec<u8>> {
    let mut seen: HashMap<&[u8], u32> = HashMap::new();
    for uid in listing.uids.values() {
        *seen.entry(uid.as_slice()).or_insert(0) += 1;
    }
    listing
        .uids
        .iter()
        .filter(|(_, u)| seen.get(u.as_slice()) == Some(&1))
        .map(|(n, u)| (*n, u.clone()))
        .collect()
}

fn plan(o: &Options, state: &State, listing: &Listing, stats: &mut Stats) -> Plan {
    let unique = unique_uids(listing);
    let now = unix_now();
    let mut plan = Plan::default();
    for n in 1..=listing.count {
        let size = listing.sizes.get(&n).copied();
        let uid = unique.get(&n);
        if size.is_some_and(|s| s > o.max_size) {
            if o.delete_oversized {
                plan.dele.push_back(n);
            } else {
                stats.too_large += 1;
                eprintln!(
                    "pop3fetch: message {n} ({} bytes) is over --max-size {}: left on the server",
                    size.unwrap_or(0),
                    o.max_size
                );
            }
            continue;
        }
        match uid {
            Some(uid) if state.has(uid, size) => {
                stats.skipped += 1;
                let due = match o.keep {
                    Keep::Nothing => true,
                    Keep::All => false,
                    Keep::For(d) => state
                        .get(uid)
                        .is_some_and(|r| now.saturating_sub(r.at) >= d.as_secs()),
                };
                if due {
                    plan.dele.push_back(n);
                }
            }
            None if o.keep != Keep::Nothing => {
                // Kept on the server, it would be fetched again on every run.
                stats.untracked += 1;
                eprintln!(
                    "pop3fetch: message {n} has no UID of its own (missing, or shared with \
                     another message): not fetched, as --keep could not tell it apart later"
                );
            }
            _ => plan.fetch.push_back(n),
        }
    }
    plan
}

/// Fetches what the plan says, commits in groups, sends DELEs for what is safe, QUITs
/// and drops from the state what the server deleted.
fn fetch(
    o: &Options,
    mut conn: Conn,
    state: State,
    listing: Listing,
    stats: &mut Stats,
) -> Res<()> {
    let Plan {
        fetch: mut to_fetch,
        dele: mut dele_queue,
    } = plan(o, &state, &listing, stats);
    let unique_uids = unique_uids(&listing);
    let deleting = o.keep == Keep::Nothing;
    let maildir = match &o.sink {
        Sink::Maildir(d) => Some(d.clone()),
        Sink::Mda(_) | Sink::Nowhere => None,
    };
    let (jobs, job_rx) = mpsc::channel::<Vec<Item>>();
    let (done_tx, done) = mpsc::channel();
    let commit_thread = std::thread::spawn(move || committer(maildir, state, job_rx, done_tx));

    let bar = progress_bar(o, &to_fetch, &listing);
    let mut deleted_msgs: Vec<u32> = Vec::new();
    let mut batch: Vec<Item> = Vec::new();
    let mut batch_bytes = 0u64;
    let mut batch_started = Instant::now();
    let mut outstanding = 0usize;

    let mut session = || -> Res<()> {
        let mut in_flight = 0usize;
        let mut current: Option<(u32, Out, u64)> = None;
        let mut lf = ToLf { cr: false };
        let mut buf = Vec::new();
        let mut failure: Option<Failure> = None;
        let absorb = |r: Result<Vec<u32>, String>,
                      stats: &mut Stats,
                      dele_queue: &mut VecDeque<u32>|
         -> Res<()> {
            let msgs = r.map_err(|e| fail(Exit::Local, e))?;
            stats.fetched += msgs.len() as u64;
            if deleting {
                dele_queue.extend(msgs);
            }
            bar.set_message(format!("{} messages", stats.fetched));
            Ok(())
        };
        loop {
            while let Ok(r) = done.try_recv() {
                outstanding -= 1;
                absorb(r, stats, &mut dele_queue)?;
            }
            while conn.client().queue_room() > 1 {
                let Some(n) = dele_queue.pop_front() else {
                    break;
                };
                conn.client().dele(n).map_err(queue_err)?;
            }
            while in_flight < DEPTH && conn.client().queue_room() > 1 {
                let Some(n) = to_fetch.pop_front() else {
                    break;
                };
                conn.client().retr(n).map_err(queue_err)?;
                in_flight += 1;
            }
            let got = conn
                .next(|ev| {
                    let r: Result<(), Failure> = (|| {
                        match ev {
                            ClientEvent::MessageStart { msg } => {
                                lf = ToLf { cr: false };
                                let out = match &o.sink {
                                    Sink::Maildir(d) => Out::Maildir(
                                        maildir::Delivery::start(d).map_err(|e| local_err(d, e))?,
                                    ),
                                    Sink::Mda(cmd) => Out::Mda(
                                        Mda::start(cmd)
                                            .map_err(|e| fail(Exit::Local, format!("MDA: {e}")))?,
                                    ),
                                    Sink::Nowhere => {
                                        return Err(fail(Exit::Usage, "no --maildir or --mda"))
                                    }
                                };
                                current = Some((msg, out, 0));
                            }
                            ClientEvent::MessageData { msg, data } => {
                                stats.bytes += data.len() as u64;
                                bar.inc(data.len() as u64);
                                let Some((_, out, bytes)) = current.as_mut() else {
                                    return Ok(());
                                };
                                *bytes += data.len() as u64;
                                if *bytes > o.max_size {
                                    return Err(fail(
                                        Exit::Protocol,
                                        format!(
                                            "message {msg} grew past --max-size {} bytes while \
                                             arriving (LIST said {}); stopped receiving it",
                                            o.max_size,
                                            listing
                                                .sizes
                                                .get(&msg)
                                                .map_or("nothing".to_string(), |s| s.to_string())
                                        ),
                                    ));
                                }
                                lf.convert(data, &mut buf);
                                write_out(o, out, &buf)?;
                            }
                            ClientEvent::MessageEnd { msg } => {
                                in_flight -= 1;
                                lf.finish(&mut buf);
                                let Some((_, mut out, bytes)) = current.take() else {
                                    return Ok(());
                                };
                                write_out(o, &mut out, &buf)?;
                                let written = match out {
                                    Out::Maildir(d) => {
                                        let dir = d.tmp_path().to_path_buf();
                                        Some(d.finish().map_err(|e| local_err(&dir, e))?)
                                    }
                                    Out::Mda(m) => {
                                        m.finish().map_err(|e| {
                                            fail(Exit::Local, format!("message {msg}: {e}"))
                                        })?;
                                        None
                                    }
                                };
                                batch_bytes += bytes;
                                if batch.is_empty() {
                                    batch_started = Instant::now();
                                }
                                batch.push(Item {
                                    msg,
                                    uid: unique_uids.get(&msg).cloned(),
                                    size: listing.sizes.get(&msg).copied(),
                                    written,
                                });
                            }
                            ClientEvent::Error {
                                command: CommandKind::Retr,
                                msg,
                                text: t,
                                ..
                            } => {
                                in_flight -= 1;
                                stats.failed += 1;
                                eprintln!(
                                    "pop3fetch: message {}: RETR refused: -ERR {}",
                                    msg.unwrap_or(0),
                                    text(t)
                                );
                            }
                            ClientEvent::Error {
                                command: CommandKind::Dele,
                                msg,
                                text: t,
                                ..
                            } => {
                                stats.dele_refused += 1;
                                eprintln!(
                                    "pop3fetch: message {}: DELE refused: -ERR {} (kept on the \
                                     server; the next run deletes it)",
                                    msg.unwrap_or(0),
                                    text(t)
                                );
                            }
                            ClientEvent::Deleted { msg } => deleted_msgs.push(msg),
                            ClientEvent::Error {
                                command, text: t, ..
                            } => {
                                return Err(fail(
                                    Exit::Protocol,
                                    format!("{command:?}: -ERR {}", text(t)),
                                ))
                            }
                            ClientEvent::Invalid {
                                command, reason, ..
                            } => {
                                return Err(fail(Exit::Protocol, format!("{command:?}: {reason}")))
                            }
                            _ => {}
                        }
                        Ok(())
                    })();
                    if let Err(f) = r {
                        failure.get_or_insert(f);
                    }
                })
                .map_err(wire_err)?;
            if let Some(f) = failure.take() {
                return Err(f);
            }
            conn.stream().set_bulk(current.is_some());
            // A group commit starts as soon as the commit thread is idle: while it
            // syncs one group, the next grows with what arrives meanwhile.
            let drained = in_flight == 0 && to_fetch.is_empty();
            if !batch.is_empty()
                && (drained
                    || outstanding == 0
                    || batch.len() >= BATCH_MESSAGES
                    || batch_bytes >= BATCH_BYTES
                    || batch_started.elapsed() >= BATCH_AGE)
            {
                jobs.send(std::mem::take(&mut batch))
                    .map_err(|_| fail(Exit::Local, "the commit thread stopped"))?;
                batch_bytes = 0;
                outstanding += 1;
            }
            if got.is_none() {
                // Nothing queued or in flight.
                if outstanding > 0 {
                    let r = done
                        .recv()
                        .map_err(|_| fail(Exit::Local, "the commit thread stopped"))?;
                    outstanding -= 1;
                    absorb(r, stats, &mut dele_queue)?;
                } else if dele_queue.is_empty() && to_fetch.is_empty() {
                    return Ok(());
                }
            }
        }
    };
    let result = session();
    // Whatever happened, messages complete on disk are committed and recorded (the
    // next run deletes them without fetching them again); a half-received one was
    // removed when it was dropped.
    if !batch.is_empty() {
        let _ = jobs.send(std::mem::take(&mut batch));
    }
    drop(jobs);
    // (After a clean run every batch was accounted for in the session.)
    for msgs in done.iter().flatten() {
        stats.fetched += msgs.len() as u64;
    }
    let mut state = commit_thread
        .join()
        .map_err(|_| fail(Exit::Local, "the commit thread panicked"))?;
    bar.finish_and_clear();
    result?;

    // UPDATE: only now are the deletions applied.
    conn.client().quit().map_err(queue_err)?;
    let mut closed = false;
    let mut update_error = None;
    conn.run(|ev| match ev {
        ClientEvent::Closed => closed = true,
        ClientEvent::Error { text: t, .. } => update_error = Some(text(t)),
        _ => {}
    })
    .map_err(wire_err)?;
    if !closed {
        return Err(fail(
            Exit::Partial,
            format!(
                "QUIT failed, the server did not delete anything: {} (the next run deletes \
                 what was delivered)",
                update_error.unwrap_or_default()
            ),
        ));
    }
    stats.deleted += deleted_msgs.len() as u64;
    // The server deleted these: their UIDs will not come back, nor will those it no
    // longer lists. UIDs whose DELE was refused stay, so the next run retries.
    let gone: HashSet<&[u8]> = deleted_msgs
        .iter()
        .filter_map(|n| listing.uids.get(n).map(Vec::as_slice))
        .collect();
    let listed: HashSet<&[u8]> = listing.uids.values().map(Vec::as_slice).collect();
    let complete = listing.uidl;
    state
        .retain(|u| !gone.contains(u) && (!complete || listed.contains(u)))
        .map_err(|e| fail(Exit::Local, format!("{}: {e}", state.path().display())))?;
    Ok(())
}

fn local_err(what: &Path, e: io::Error) -> Failure {
    fail(Exit::Local, format!("{}: {e}", what.display()))
}

fn write_out(o: &Options, out: &mut Out, bytes: &[u8]) -> Res<()> {
    match out {
        Out::Maildir(d) => d.write(bytes).map_err(|e| match &o.sink {
            Sink::Maildir(dir) => local_err(dir, e),
            Sink::Mda(_) | Sink::Nowhere => fail(Exit::Local, e),
        }),
        Out::Mda(m) => m
            .write(bytes)
            .map_err(|e| fail(Exit::Local, format!("MDA: {e}"))),
    }
}

/// A progress bar on a terminal (messages, bytes of the total to fetch, rate, time
/// left), hidden when standard error is not a terminal or with --quiet.
fn progress_bar(o: &Options, to_fetch: &VecDeque<u32>, listing: &Listing) -> ProgressBar {
    if o.quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total: u64 = to_fetch.iter().filter_map(|m| listing.sizes.get(m)).sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "pop3fetch: {msg:>14} of {prefix} [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
         {binary_bytes_per_sec} {eta} left",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_prefix(to_fetch.len().to_string());
    bar.set_message("0 messages");
    bar
}

/// The configuration file: `--config`, else the default one.
fn config_file(m: &ArgMatches) -> Res<config::Config> {
    let path = match m.get_one::<PathBuf>("config") {
        Some(p) => p.clone(),
        None => config::default_path().ok_or(fail(
            Exit::Usage,
            "no configuration file: give --config FILE (neither XDG_CONFIG_HOME nor HOME is set)",
        ))?,
    };
    config::Config::load(&path).map_err(|e| fail(Exit::Usage, e))
}

/// The options of account `name` of `config`, with the command line's after them.
fn account_options(config: &config::Config, name: &str, raw: &[String]) -> Res<Options> {
    let mut args = vec![raw[0].clone()];
    args.extend(config.args(name).map_err(|e| fail(Exit::Usage, e))?);
    args.extend(raw[1..].iter().filter(|a| *a != "--all").cloned());
    let m = cli()
        .try_get_matches_from(args)
        .map_err(|e| fail(Exit::Usage, format!("account {name}: {e}")))?;
    options(&m)
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().collect();
    let m = cli().get_matches_from(&raw);
    let from_file = m.get_one::<String>("url").is_none();
    let options = if m.get_flag("all") {
        return all_accounts(&m, &raw);
    } else if from_file {
        let name = m
            .get_one::<String>("account")
            .expect("required without a URL");
        config_file(&m).and_then(|c| account_options(&c, name, &raw))
    } else {
        options(&m)
    };
    let o = match options {
        Ok(o) => o,
        Err(f) => {
            eprintln!("pop3fetch: {}", f.msg);
            return ExitCode::from(f.exit as u8);
        }
    };
    if o.check {
        return match check::check(&o) {
            Ok(()) => ExitCode::SUCCESS,
            Err(f) => ExitCode::from(f.exit as u8),
        };
    }
    ExitCode::from(one_account(&o) as u8)
}

/// `--all`: every account of the file in turn; the exit code is the worst.
fn all_accounts(m: &ArgMatches, raw: &[String]) -> ExitCode {
    let config = match config_file(m) {
        Ok(c) => c,
        Err(f) => {
            eprintln!("pop3fetch: {}", f.msg);
            return ExitCode::from(f.exit as u8);
        }
    };
    let mut worst = 0u8;
    let mut outcome = Vec::new();
    for name in config.names() {
        println!("pop3fetch: account {name}");
        let code = match account_options(&config, &name, raw) {
            Ok(o) => one_account(&o) as u8,
            Err(f) => {
                eprintln!("pop3fetch: {}", f.msg);
                f.exit as u8
            }
        };
        outcome.push(match code {
            0 => format!("{name} ok"),
            c => format!("{name} failed (exit {c})"),
        });
        worst = worst.max(code);
    }
    println!("pop3fetch: accounts: {}", outcome.join(", "));
    ExitCode::from(worst)
}

/// Fetches one account and reports it; returns its exit code.
fn one_account(o: &Options) -> i32 {
    let mut stats = Stats::default();
    let result = run(o, &mut stats);
    if let Some(secs) = stats.login_delayed {
        println!(
            "pop3fetch: not logging in: the server asks for a delay between logins \
             (LOGIN-DELAY); next login in {secs} s"
        );
        return 0;
    }
    let mut summary = format!(
        "pop3fetch: {} fetched ({} bytes), {} deleted, {} already here, {} failed",
        stats.fetched, stats.bytes, stats.deleted, stats.skipped, stats.failed
    );
    for (n, what) in [
        (stats.too_large, "too large (left on the server)"),
        (stats.dele_refused, "not deleted (DELE refused)"),
        (
            stats.untracked,
            "without a UID of their own (left on the server)",
        ),
    ] {
        if n > 0 {
            summary.push_str(&format!(", {n} {what}"));
        }
    }
    println!("{summary}");
    let partial = stats.failed + stats.dele_refused + stats.untracked;
    match result {
        Err(f) => {
            eprintln!("pop3fetch: error: {}", f.msg);
            f.exit as i32
        }
        Ok(()) if partial > 0 => {
            eprintln!(
                "pop3fetch: error: {partial} messages were not fetched or not deleted; the \
                 next run retries them"
            );
            Exit::Partial as i32
        }
        Ok(()) => 0,
    }
}
