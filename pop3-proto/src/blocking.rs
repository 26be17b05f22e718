//! Blocking adapters: the state machines driven over any `std::io::Read + Write`
//! (a `TcpStream`, a TLS stream, a pipe). A few dozen lines each; the protocol logic
//! stays in [`Client`] and [`Server`].

use std::boxed::Box;
use std::io::{self, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use std::vec;
use std::vec::Vec;

use crate::client::{Client, ClientError, ClientEvent};
use crate::server::{Marks, Open, Server, ServerError, ServerEvent};
use crate::time::Instant;

/// Why a blocking session failed.
#[derive(Debug)]
pub enum Error {
    /// The connection failed or closed early.
    Io(io::Error),
    /// The client state machine refused (protocol violation, bad SASL, …).
    Client(ClientError),
    /// The server state machine was misused by the backend.
    Server(ServerError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O: {e}"),
            Error::Client(e) => write!(f, "{e}"),
            Error::Server(e) => write!(f, "server: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        Error::Client(e)
    }
}

impl From<ServerError> for Error {
    fn from(e: ServerError) -> Self {
        Error::Server(e)
    }
}

/// A stream whose transport can be switched to TLS in place (for STLS).
pub trait StartTls {
    /// Runs the TLS handshake on this connection (client or server side, as the
    /// stream was built).
    fn start_tls(&mut self) -> io::Result<()>;
}

/// A stream whose reads can be bounded in time, so that a server adapter wakes up
/// for its timers (failed-login delay, idle timer) while the client is silent.
pub trait ReadTimeout {
    /// Sets the read timeout (`None`: block).
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl ReadTimeout for std::net::TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_read_timeout(self, timeout)
    }
}

/// Plain TCP cannot start TLS: servers over it must not offer STLS.
impl StartTls for std::net::TcpStream {
    fn start_tls(&mut self) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "plain TCP has no TLS",
        ))
    }
}

/// The current time as an [`Instant`] (milliseconds since the UNIX epoch).
pub fn now() -> Instant {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// Receive buffer: bytes `start..end` of `buf` are unconsumed.
struct Rx {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Rx {
    fn new(capacity: usize) -> Self {
        Rx {
            buf: vec![0; capacity],
            start: 0,
            end: 0,
        }
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads more; `Ok(0)` is end of stream.
    fn fill(&mut self, stream: &mut impl Read) -> io::Result<usize> {
        if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = stream.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// A [`Client`] over a blocking stream.
pub struct ClientConn<S> {
    client: Client,
    stream: S,
    rx: Rx,
    tx: Vec<u8>,
}

impl<S: Read + Write> ClientConn<S> {
    /// Wraps a connected stream; the greeting is read by the first
    /// [`next`](Self::next).
    pub fn new(stream: S, client: Client) -> Self {
        ClientConn {
            client,
            stream,
            rx: Rx::new(64 * 1024),
            tx: vec![0; 16 * 1024],
        }
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The underlying stream.
    pub fn stream(&mut self) -> &mut S {
        &mut self.stream
    }

    fn flush(&mut self) -> Result<(), Error> {
        loop {
            let n = self.client.poll_transmit(&mut self.tx)?;
            if n == 0 {
                return Ok(());
            }
            self.stream.write_all(&self.tx[..n])?;
            self.stream.flush()?;
        }
    }

    /// Sends what is queued and hands the next event to `f`, reading as needed.
    /// Returns `Ok(None)` once nothing is queued or in flight.
    pub fn next<R>(&mut self, f: impl FnOnce(ClientEvent<'_>) -> R) -> Result<Option<R>, Error> {
        loop {
            self.flush()?;
            let d = self.client.handle_input(self.rx.data())?;
            let consumed = d.consumed;
            if let Some(event) = d.item {
                let r = f(event);
                self.rx.consume(consumed);
                return Ok(Some(r));
            }
            self.rx.consume(consumed);
            if consumed > 0 {
                continue;
            }
            if self.client.is_idle() || self.client.is_closed() {
                return Ok(None);
            }
            if self.rx.fill(&mut self.stream)? == 0 {
                return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error> {
        while self.next(&mut f)?.is_some() {}
        Ok(())
    }
}

impl<S: Read + Write + StartTls> ClientConn<S> {
    /// After [`ClientEvent::StartTls`]: drops buffered plaintext (RFC 2595), runs the
    /// handshake, and tells the client (which queues CAPA again).
    pub fn start_tls(&mut self) -> Result<(), Error> {
        self.rx.clear();
        self.stream.start_tls()?;
        self.client.tls_started()?;
        Ok(())
    }
}

/// How a backend answers a [`ServerEvent`] (owned, so the event's borrow has ended).
pub enum Answer<'a> {
    /// For CheckPassword, CheckToken, CheckExternal.
    Verdict(bool),
    /// For NeedSecret.
    Secret(Option<Vec<u8>>),
    /// For OpenMaildrop.
    Open(Open),
    /// For Size.
    Size(u64),
    /// For Uid.
    Uid(Vec<u8>),
    /// For Retrieve: the message bytes, streamed (`None`: unreadable).
    Message(Option<Box<dyn Read + 'a>>),
    /// For StartTls (the adapter runs the handshake).
    StartTls,
}

/// What a POP3 server application provides: answers to the server's questions.
pub trait Backend {
    /// Answers one event (all but [`ServerEvent::Update`], which goes to
    /// [`update`](Self::update)).
    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_>;

    /// UPDATE: remove these messages (numbers of this session), release the lock;
    /// `true` if every one was removed.
    fn update(&mut self, deleted: &[u32]) -> bool;

    /// The session ended (QUIT, error, timeout or disconnect); release any lock.
    fn closed(&mut self) {}
}

/// A [`Server`] session over a blocking stream.
pub struct ServerConn<S, M: Marks> {
    server: Server<M>,
    stream: S,
    rx: Rx,
}

impl<S: Read + Write, M: Marks> ServerConn<S, M> {
    /// Wraps an accepted stream; the greeting is already queued in `server`.
    /// Give the stream a read timeout so that idle sessions end (the server closes
    /// after its idle timer; a timeout only makes the adapter check the time).
    pub fn new(stream: S, server: Server<M>) -> Self {
        ServerConn {
            server,
            stream,
            rx: Rx::new(8 * 1024),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let pending = self.server.poll_transmit();
        if !pending.is_empty() {
            let n = pending.len();
            self.stream.write_all(pending)?;
            self.stream.flush()?;
            self.server.transmitted(n);
        }
        Ok(())
    }

    /// Serves the session to its end.
    pub fn serve<B: Backend>(&mut self, backend: &mut B) -> Result<(), Error>
    where
        S: StartTls + ReadTimeout,
    {
        let result = self.serve_inner(backend);
        backend.closed();
        result
    }

    fn serve_inner<B: Backend>(&mut self, backend: &mut B) -> Result<(), Error>
    where
        S: StartTls + ReadTimeout,
    {
        loop {
            self.flush()?;
            if self.server.is_closed() {
                return Ok(());
            }
            let now = now();
            let d = self.server.handle_input(self.rx.data(), now)?;
            let consumed = d.consumed;
            let Some(event) = d.item else {
                self.rx.consume(consumed);
                if consumed > 0 || !self.server.poll_transmit().is_empty() {
                    continue;
                }
                if let Some(deadline) = self.server.poll_timeout() {
                    if now >= deadline {
                        self.server.handle_timeout(now);
                        continue;
                    }
                    // Wake up at the deadline even if the client says nothing.
                    let wait = deadline.as_millis() - now.as_millis();
                    self.stream
                        .set_read_timeout(Some(Duration::from_millis(wait.clamp(1, 60_000))))?;
                }
                match self.rx.fill(&mut self.stream) {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        self.server.handle_timeout(self::now());
                    }
                    Err(e) => return Err(e.into()),
                }
                continue;
            };
            let is_start_tls = matches!(event, ServerEvent::StartTls);
            if matches!(event, ServerEvent::Update) {
                self.rx.consume(consumed);
                let deleted: Vec<u32> = self.server.deleted().collect();
                let ok = backend.update(&deleted);
                self.server.answer_update(ok)?;
                continue;
            }
            let answer = backend.answer(event);
            self.rx.consume(consumed);
            match answer {
                Answer::Verdict(ok) => self.server.answer_password(ok, now)?,
                Answer::Secret(s) => self.server.answer_secret(s.as_deref(), now)?,
                Answer::Open(open) => self.server.answer_open(open)?,
                Answer::Size(size) => self.server.answer_size(size)?,
                Answer::Uid(uid) => self.server.answer_uid(&uid)?,
                Answer::StartTls if is_start_tls => {
                    self.flush()?;
                    self.rx.clear();
                    self.stream.start_tls()?;
                    self.server.tls_started()?;
                }
                Answer::StartTls => return Err(Error::Server(ServerError::Unexpected)),
                Answer::Message(None) => self.server.body_failed()?,
                Answer::Message(Some(mut reader)) => {
                    let mut chunk = vec![0u8; 16 * 1024];
                    loop {
                        if self.server.body_done() {
                            break;
                        }
                        let n = match reader.read(&mut chunk) {
                            Ok(0) => break,
                            Ok(n) => n,
                            Err(_) => {
                                self.server.body_failed()?;
                                break;
                            }
                        };
                        let mut rest = &chunk[..n];
                        while !rest.is_empty() {
                            let taken = self.server.body(rest)?;
                            if taken == 0 {
                                self.flush()?;
                            }
                            rest = &rest[taken.min(rest.len())..];
                        }
                    }
                    if !self.server.is_closed() {
                        self.server.body_end()?;
                    }
                }
            }
        }
    }
}
