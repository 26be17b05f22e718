//! pop3fetch's connection: time limits a hostile or broken server cannot stretch, and
//! a protocol trace with the secrets taken out.
//!
//! [`Guarded`] wraps the stream the client runs over. Every read is bounded by
//! `timeout` (nothing at all arrives) and by the overall deadline (`max_time`); while
//! bulk data is expected (a message body, a listing) the bytes per second of time
//! spent waiting are measured over windows of `speed_time`, and a window below
//! `speed_limit` ends the session, as curl's `--speed-limit`/`--speed-time` do. A
//! server that trickles a body at one byte per second therefore fails in about
//! `speed_time` seconds instead of never. The time the fetcher spends on its own disk
//! is not counted: only time blocked in `read`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use pop3_proto::blocking::StartTls;

/// The bounds of one session.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for any byte (or for a write to be accepted).
    pub timeout: Duration,
    /// The whole session, from connecting (`None`: no limit).
    pub max_time: Option<Duration>,
    /// Lowest bytes per second while bulk data arrives (0: no check).
    pub speed_limit: u64,
    /// Over how much waiting time the speed is measured.
    pub speed_time: Duration,
}

fn timed_out(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, msg)
}

/// A stream with [`Limits`] and an optional trace.
pub struct Guarded<S> {
    inner: S,
    /// The same socket, to set its timeouts.
    tcp: TcpStream,
    limits: Limits,
    deadline: Option<Instant>,
    read_timeout: Option<Duration>,
    bulk: bool,
    /// Time blocked in reads and bytes read, in the current speed window.
    window_wait: Duration,
    window_bytes: u64,
    trace: Option<Tracer>,
}

impl<S: Read + Write> Guarded<S> {
    /// `tcp` is (a clone of) the socket under `inner`; `started` is when the session
    /// began (the `max_time` deadline counts from it).
    pub fn new(
        inner: S,
        tcp: TcpStream,
        limits: Limits,
        started: Instant,
        trace: bool,
    ) -> io::Result<Self> {
        tcp.set_write_timeout(Some(limits.timeout))?;
        Ok(Guarded {
            inner,
            tcp,
            limits,
            deadline: limits.max_time.map(|t| started + t),
            read_timeout: None,
            bulk: false,
            window_wait: Duration::ZERO,
            window_bytes: 0,
            trace: trace.then(Tracer::new),
        })
    }

    /// A new longest wait for any byte (or for a write to be accepted).
    pub fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.tcp.set_write_timeout(Some(timeout))?;
        self.limits.timeout = timeout;
        Ok(())
    }

    /// Bulk data (a message, a listing) is expected now, or no longer: only then is
    /// the speed measured.
    pub fn set_bulk(&mut self, bulk: bool) {
        if bulk != self.bulk {
            self.bulk = bulk;
            self.window_wait = Duration::ZERO;
            self.window_bytes = 0;
        }
    }

    /// A line of the trace (`-- what`), if tracing.
    pub fn note(&mut self, what: &str) {
        if self.trace.is_some() {
            eprintln!("-- {what}");
        }
    }

    fn check_deadline(&self, now: Instant) -> io::Result<Duration> {
        match self.deadline {
            Some(d) if now >= d => Err(timed_out(format!(
                "session took longer than --max-time {} s",
                self.limits.max_time.unwrap_or_default().as_secs()
            ))),
            Some(d) => Ok(self.limits.timeout.min(d - now)),
            None => Ok(self.limits.timeout),
        }
    }
}

impl<S: Read + Write> Read for Guarded<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let start = Instant::now();
        let wait = self.check_deadline(start)?.max(Duration::from_millis(1));
        if self.read_timeout != Some(wait) {
            self.tcp.set_read_timeout(Some(wait))?;
            self.read_timeout = Some(wait);
        }
        let result = self.inner.read(buf);
        let waited = start.elapsed();
        match result {
            Ok(n) => {
                if let Some(t) = self.trace.as_mut() {
                    t.server(&buf[..n]);
                }
                if self.bulk && self.limits.speed_limit > 0 {
                    self.window_wait += waited;
                    self.window_bytes += n as u64;
                    if self.window_wait >= self.limits.speed_time {
                        let rate = self.window_bytes as f64 / self.window_wait.as_secs_f64();
                        if rate < self.limits.speed_limit as f64 {
                            return Err(timed_out(format!(
                                "transfer slower than --speed-limit {} bytes/s for \
                                 --speed-time {} s ({rate:.0} bytes/s)",
                                self.limits.speed_limit,
                                self.limits.speed_time.as_secs()
                            )));
                        }
                        self.window_wait = Duration::ZERO;
                        self.window_bytes = 0;
                    }
                }
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.check_deadline(Instant::now())?;
                Err(timed_out(format!(
                    "no data from the server for {} s (--timeout)",
                    wait.as_secs_f64().round()
                )))
            }
            Err(e) => Err(e),
        }
    }
}

impl<S: Read + Write> Write for Guarded<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_deadline(Instant::now())?;
        let n = self.inner.write(buf).map_err(|e| {
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                timed_out(format!(
                    "the server took no data for {} s (--timeout)",
                    self.limits.timeout.as_secs()
                ))
            } else {
                e
            }
        })?;
        if let Some(t) = self.trace.as_mut() {
            t.client(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<S: Read + Write + StartTls> StartTls for Guarded<S> {
    fn channel_binding(&self) -> Option<[u8; 32]> {
        self.inner.channel_binding()
    }

    fn start_tls(&mut self) -> io::Result<()> {
        self.inner.start_tls()?;
        if let Some(t) = self.trace.as_mut() {
            t.tls_started();
        }
        Ok(())
    }
}

/// What the next server line answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A one-line reply.
    Single,
    /// `+OK` and a listing up to `.` (CAPA, LIST, UIDL, LANG).
    Listing,
    /// `+OK` and a message up to `.` (RETR, TOP): counted, not shown.
    Message,
    /// AUTH: `+ ` challenges until `+OK` or `-ERR`.
    Sasl,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    Status,
    Listing,
    Message { lines: u64, bytes: u64 },
}

/// Longest line shown (the rest is cut, with its length).
const SHOWN: usize = 200;

/// The protocol trace on stderr: `C: ` what the client sent, `S: ` what the server
/// sent. Password, APOP digest, AUTH initial response and every SASL response are
/// replaced by `<redacted>`; message bodies are summarised by their size.
pub struct Tracer {
    client_line: Vec<u8>,
    server_line: Vec<u8>,
    server_len: usize,
    expect: VecDeque<Expect>,
    reading: Reading,
    in_sasl: bool,
}

fn shown(line: &[u8], len: usize) -> String {
    let mut s: String = String::from_utf8_lossy(&line[..line.len().min(SHOWN)])
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if len > SHOWN {
        s.push_str(&format!("... ({len} bytes)"));
    }
    s
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Tracer {
    fn new() -> Tracer {
        Tracer {
            client_line: Vec::new(),
            server_line: Vec::new(),
            server_len: 0,
            expect: VecDeque::from([Expect::Single]),
            reading: Reading::Status,
            in_sasl: false,
        }
    }

    fn tls_started(&mut self) {
        self.server_line.clear();
        self.server_len = 0;
        eprintln!("-- TLS handshake done");
    }

    fn client(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.client_line.len() < 4096 {
                self.client_line.push(b);
            }
            if b == b'\n' {
                let line = std::mem::take(&mut self.client_line);
                self.client_command(trim_eol(&line));
            }
        }
    }

    fn client_command(&mut self, line: &[u8]) {
        if self.in_sasl {
            eprintln!("C: <redacted SASL response>");
            return;
        }
        let mut words = line.splitn(3, |b| *b == b' ');
        let verb = words.next().unwrap_or_default().to_ascii_uppercase();
        let arg1 = words.next();
        let rest = words.next();
        let (text, expect) = match verb.as_slice() {
            b"PASS" => ("PASS <redacted>".to_string(), Expect::Single),
            b"APOP" => (
                format!("APOP {} <redacted>", shown(arg1.unwrap_or_default(), 0)),
                Expect::Single,
            ),
            b"AUTH" => {
                self.in_sasl = arg1.is_some();
                let mech = shown(arg1.unwrap_or_default(), 0);
                let text = if rest.is_some() {
                    format!("AUTH {mech} <redacted>")
                } else if arg1.is_some() {
                    format!("AUTH {mech}")
                } else {
                    "AUTH".to_string()
                };
                let expect = if arg1.is_some() {
                    Expect::Sasl
                } else {
                    Expect::Listing
                };
                (text, expect)
            }
            b"CAPA" => (shown(line, line.len()), Expect::Listing),
            b"LIST" | b"UIDL" | b"LANG" if arg1.is_none() => {
                (shown(line, line.len()), Expect::Listing)
            }
            b"RETR" | b"TOP" => (shown(line, line.len()), Expect::Message),
            _ => (shown(line, line.len()), Expect::Single),
        };
        eprintln!("C: {text}");
        self.expect.push_back(expect);
    }

    fn server(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.server_line.len() < SHOWN + 2 {
                self.server_line.push(b);
            }
            self.server_len += 1;
            if b == b'\n' {
                let line = std::mem::take(&mut self.server_line);
                let len = self.server_len;
                self.server_len = 0;
                self.server_reply(trim_eol(&line), len);
            }
        }
    }

    fn server_reply(&mut self, line: &[u8], len: usize) {
        let end = line == b"." && len <= 3;
        match self.reading {
            Reading::Listing => {
                eprintln!("S: {}", shown(line, len));
                if end {
                    self.reading = Reading::Status;
                }
            }
            Reading::Message { lines, bytes } => {
                if end {
                    eprintln!("S: <message: {lines} lines, {bytes} bytes>");
                    eprintln!("S: .");
                    self.reading = Reading::Status;
                } else {
                    self.reading = Reading::Message {
                        lines: lines + 1,
                        bytes: bytes + len as u64,
                    };
                }
            }
            Reading::Status => {
                eprintln!("S: {}", shown(line, len));
                let front = self.expect.front().copied().unwrap_or(Expect::Single);
                if front == Expect::Sasl && line.starts_with(b"+") && !line.starts_with(b"+OK") {
                    return;
                }
                self.expect.pop_front();
                if front == Expect::Sasl {
                    self.in_sasl = false;
                }
                if line.starts_with(b"+OK") {
                    match front {
                        Expect::Listing => self.reading = Reading::Listing,
                        Expect::Message => self.reading = Reading::Message { lines: 0, bytes: 0 },
                        _ => {}
                    }
                }
            }
        }
    }
}
