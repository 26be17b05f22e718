//! Blocking adapters: the state machines driven over any `std::io::Read + Write`
//! (a `TcpStream`, a TLS stream, a pipe). Each is the [`crate::driver`] loop with
//! blocking reads and writes; the protocol logic stays in [`Client`] and [`Server`].

use std::boxed::Box;
use std::io::{self, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use std::vec;
use std::vec::Vec;

use crate::client::{Client, ClientError, ClientEvent, Login};
use crate::driver::{ClientDriver, Poll, ServerDriver, ServerPoll};
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

    /// The TLS session's `tls-exporter` channel binding (RFC 9266), once TLS runs:
    /// what SCRAM -PLUS binds to. Default: none.
    fn channel_binding(&self) -> Option<[u8; 32]> {
        None
    }
}

/// A stream whose reads can be bounded in time, so that a server adapter wakes up
/// for its timers (failed-login delay, idle timer) while the client is silent.
pub trait ReadTimeout {
    /// Sets the read timeout (`None`: block).
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;

    /// Sets the write timeout (`None`: block), so that a client that stops reading
    /// ends its session ([`ServerConfig::send_timeout_ms`](crate::server::ServerConfig::send_timeout_ms)).
    /// The default does nothing.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Ok(())
    }
}

impl ReadTimeout for std::net::TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_write_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl ReadTimeout for std::os::unix::net::UnixStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_write_timeout(self, timeout)
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

/// The current time as an [`Instant`]: milliseconds on a monotonic clock (a step of
/// the wall clock never stretches a failed-login delay or fires the idle timer),
/// starting at the UNIX time of the first call.
pub fn now() -> Instant {
    static START: std::sync::OnceLock<(std::time::Instant, u64)> = std::sync::OnceLock::new();
    let (base, epoch_ms) = START.get_or_init(|| {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis();
        (std::time::Instant::now(), u64::try_from(ms).unwrap_or(0))
    });
    Instant::from_millis(*epoch_ms).plus_millis(Instant::from_duration(base.elapsed()).as_millis())
}

/// Writes everything the driver has to transmit.
fn send_all(stream: &mut impl Write, bytes: &[u8]) -> io::Result<usize> {
    stream.write_all(bytes)?;
    stream.flush()?;
    Ok(bytes.len())
}

/// Sets a stream's read timeout (`None`: block): the optional capability behind
/// [`ClientConn::with_timeouts`] and [`ServerConn::with_timeouts`].
type SetTimeout<S> = fn(&mut S, Option<Duration>) -> io::Result<()>;

/// How long a read waits for `deadline` (at least 1 ms; `None`: `default`).
fn wait_for(deadline: Option<Instant>, now: Instant, default: Duration) -> Duration {
    deadline.map_or(default, |d| {
        d.saturating_duration_since(now)
            .max(Duration::from_millis(1))
    })
}

/// A read that ended at its timeout.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A [`Client`] over a blocking stream: the [`ClientDriver`] loop with 64 KiB of
/// receive and 32 KiB of transmit buffer (a SASL line with a 16 KiB token is 22 KiB).
///
/// Any `Read + Write` works (a `TcpStream`, a `UnixStream`, `tls::NetStream` of the
/// feature `rustls`, a test double). The client's greeting and reply timeouts
/// ([`ClientConfig::reply_timeout_ms`](crate::client::ClientConfig::reply_timeout_ms))
/// end [`next`](Self::next) with [`ClientError::GreetingTimeout`] or
/// [`ClientError::ReplyTimeout`] (as [`Error::Client`]) once the stream can time out
/// its reads: call [`with_timeouts`](Self::with_timeouts) for a stream that
/// implements [`ReadTimeout`] (`TcpStream`, `UnixStream`, `NetStream`). Without it,
/// a read blocks as long as the stream lets it, and the deadline is checked when it
/// returns. STLS needs a stream that implements [`StartTls`] ([`start_tls`](Self::start_tls)).
pub struct ClientConn<S> {
    driver: ClientDriver<Vec<u8>, Vec<u8>>,
    stream: S,
    read_timeout: Option<SetTimeout<S>>,
}

impl<S: Read + Write + ReadTimeout> ClientConn<S> {
    /// Lets the client's timeouts interrupt a blocked read: each read gets the time
    /// left to the deadline as its timeout.
    pub fn with_timeouts(mut self) -> Self {
        self.read_timeout = Some(|s, t| s.set_read_timeout(t));
        self
    }
}

impl<S: Read + Write> ClientConn<S> {
    /// Wraps a connected stream; the greeting is read by the first
    /// [`next`](Self::next).
    pub fn new(stream: S, client: Client) -> Self {
        ClientConn {
            driver: ClientDriver::new(client, vec![0; 64 * 1024], vec![0; 32 * 1024]),
            stream,
            read_timeout: None,
        }
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        self.driver.client()
    }

    /// The underlying stream.
    pub fn stream(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Sends what is queued and hands the next event to `f`, reading as needed.
    /// Returns `Ok(None)` once nothing is queued or in flight.
    pub fn next<R>(&mut self, f: impl FnOnce(ClientEvent<'_>) -> R) -> Result<Option<R>, Error> {
        loop {
            let now = now();
            match self.driver.poll(now)? {
                Poll::Transmit => {
                    let n = send_all(&mut self.stream, self.driver.transmit())?;
                    self.driver.transmitted(n);
                }
                Poll::Event => break,
                Poll::NeedInput { deadline } => {
                    if let Some(set) = self.read_timeout {
                        let wait = deadline.map(|_| wait_for(deadline, now, Duration::ZERO));
                        set(&mut self.stream, wait)?;
                    }
                    match self.stream.read(self.driver.input()) {
                        Ok(0) => return Err(Error::Io(io::ErrorKind::UnexpectedEof.into())),
                        Ok(n) => self.driver.received(n),
                        // Our own timeout: the next poll says whether the deadline passed.
                        Err(e) if self.read_timeout.is_some() && is_timeout(&e) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Poll::Idle | Poll::Closed => return Ok(None),
            }
        }
        Ok(self.driver.event().map(f))
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error> {
        while self.next(&mut f)?.is_some() {}
        Ok(())
    }

    /// Answers [`ClientEvent::NeedCredentials`] (from [`next`](Self::next)) with the
    /// login that was queued; see [`ClientDriver::credentials`].
    pub fn credentials(&mut self, login: &Login<'_>) -> Result<(), Error> {
        self.driver.credentials(login)?;
        Ok(())
    }

    /// Queues `login` and runs everything queued to completion like
    /// [`run`](Self::run), answering the client's requests for credentials from
    /// `login` (see [`run_with_credentials`](Self::run_with_credentials)).
    pub fn login(&mut self, login: Login<'_>, f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error> {
        self.driver.client().login(login)?;
        self.run_with_credentials(&login, f)
    }

    /// Runs everything queued to completion like [`run`](Self::run), answering
    /// [`ClientEvent::NeedCredentials`] from `login` (borrowed for this call only:
    /// the client stores no credentials) and handing every other event to `f`.
    pub fn run_with_credentials(
        &mut self,
        login: &Login<'_>,
        mut f: impl FnMut(ClientEvent<'_>),
    ) -> Result<(), Error> {
        loop {
            let asked = self.next(|e| match e {
                ClientEvent::NeedCredentials { .. } => true,
                e => {
                    f(e);
                    false
                }
            })?;
            match asked {
                None => return Ok(()),
                Some(true) => self.credentials(login)?,
                Some(false) => {}
            }
        }
    }
}

impl<S: Read + Write + StartTls> ClientConn<S> {
    /// After [`ClientEvent::StartTls`]: runs the handshake, drops buffered plaintext
    /// (RFC 2595) and tells the client (which queues CAPA again).
    pub fn start_tls(&mut self) -> Result<(), Error> {
        self.stream.start_tls()?;
        self.driver.tls_started()?;
        if let Some(cb) = self.stream.channel_binding() {
            self.driver.client().set_channel_binding(cb);
        }
        Ok(())
    }
}

/// How a backend answers a [`ServerEvent`] (owned, so the event's borrow has ended).
pub enum Answer<'a> {
    /// For CheckPassword, CheckToken, CheckExternal.
    Verdict(bool),
    /// For NeedSecret.
    Secret(Option<Vec<u8>>),
    /// For NeedSecret of SCRAM: the user's stored verifier (`None`: unknown user).
    Verifier(Option<crate::sasl::scram::ScramVerifier>),
    /// For NeedSecret of CRAM-MD5: the user's stored context (`None`: unknown user).
    CramContext(Option<crate::sasl::cram::CramMd5Context>),
    /// For any credential check (CheckPassword, CheckToken, CheckExternal,
    /// NeedSecret): not now, `-ERR [SYS/TEMP]` without checking (a limit on failed
    /// logins for the user is reached; see `Server::answer_try_later`).
    TryLater,
    /// For OpenMaildrop.
    Open(Open),
    /// For Size.
    Size(u64),
    /// For Uid.
    Uid(Vec<u8>),
    /// For Retrieve: the message bytes, streamed (`None`: unreadable).
    Message(Option<Box<dyn Read + 'a>>),
    /// For Retrieve: the message, already in memory (a demo mailbox, a store that
    /// keeps messages); encoded from there, without a copy into a read buffer first.
    MessageBytes(&'a [u8]),
}

/// What a POP3 server application provides: answers to the server's questions.
pub trait Backend {
    /// Answers one event (all but [`ServerEvent::StartTls`], which the adapter
    /// handles, and [`ServerEvent::Update`], which goes to [`update`](Self::update)).
    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_>;

    /// UPDATE: remove these messages (numbers of this session), release the lock;
    /// `true` if every one was removed.
    fn update(&mut self, deleted: &[u32]) -> bool;

    /// The session ended (QUIT, error, timeout or disconnect); release any lock.
    fn closed(&mut self) {}
}

/// A [`Server`] session over a blocking stream: the [`ServerDriver`] loop with a
/// receive buffer of [`ServerConfig::max_sasl_line`](crate::server::ServerConfig::max_sasl_line)
/// (24 KiB by default, at least 8 KiB: a SASL line fits whole) and 128 KiB of
/// transmit buffer: the replies to pipelined RETRs collect there until half of it
/// is pending ([`ServerDriver::set_write_batch`]), a long message leaves in writes
/// of its size.
///
/// Any `Read + Write` serves (a `TcpStream`, a `UnixStream`, an in-memory pipe in a
/// test). Two capabilities are optional, attached when the stream has them:
/// [`with_start_tls`](Self::with_start_tls) (STLS, [`StartTls`]) and
/// [`with_timeouts`](Self::with_timeouts) (read and write timeouts,
/// [`ReadTimeout`]: the idle timer and the send timeout run while the client is
/// silent). Without timeouts a read blocks until the client sends or closes (a
/// failed-login reply still leaves after its delay: the adapter sleeps instead of
/// reading then); a server that offers STLS ([`Tls::StartTls`]) over a stream
/// without TLS is refused at once by [`serve`](Self::serve).
///
/// [`Tls::StartTls`]: crate::server::Tls::StartTls
pub struct ServerConn<S, M: Marks> {
    driver: ServerDriver<M, Vec<u8>, Vec<u8>>,
    stream: S,
    /// Message bytes read from the backend, kept for the next message of a pipeline
    /// (allocated at a RETR or TOP, freed when the session waits for the client).
    chunk: Vec<u8>,
    start_tls: Option<StartTlsFn<S>>,
    read_timeout: Option<SetTimeout<S>>,
    write_timeout: Option<SetTimeout<S>>,
}

/// Runs the TLS handshake and returns the channel binding: the optional capability
/// behind [`ServerConn::with_start_tls`].
type StartTlsFn<S> = fn(&mut S) -> io::Result<Option<[u8; 32]>>;

impl<S: Read + Write + StartTls, M: Marks> ServerConn<S, M> {
    /// Lets the session answer STLS with a TLS handshake on the stream.
    pub fn with_start_tls(mut self) -> Self {
        self.start_tls = Some(|s| {
            s.start_tls()?;
            Ok(s.channel_binding())
        });
        self
    }
}

impl<S: Read + Write + ReadTimeout, M: Marks> ServerConn<S, M> {
    /// Lets the session bound its reads (the idle timer, a failed-login delay) and
    /// its writes (the send timeout) in time.
    pub fn with_timeouts(mut self) -> Self {
        self.read_timeout = Some(|s, t| s.set_read_timeout(t));
        self.write_timeout = Some(|s, t| s.set_write_timeout(t));
        self
    }
}

/// The blocking server's transmit buffer (its untouched pages cost no memory).
const SERVER_TX: usize = 128 * 1024;

/// How much of a message the blocking server reads at a time.
const READ_CHUNK: usize = 64 * 1024;

impl<S: Read + Write, M: Marks> ServerConn<S, M> {
    /// Wraps an accepted stream; the greeting is already queued in `server`.
    /// Attach [`with_timeouts`](Self::with_timeouts) where the stream has them, so
    /// that idle sessions end while the client is silent, and
    /// [`with_start_tls`](Self::with_start_tls) to offer STLS.
    pub fn new(stream: S, server: Server<M>) -> Self {
        let rx = server.config().max_sasl_line.max(8 * 1024);
        let mut driver = ServerDriver::new(server, vec![0; rx], vec![0; SERVER_TX]);
        driver.set_write_batch(SERVER_TX / 2);
        ServerConn {
            driver,
            stream,
            chunk: Vec::new(),
            start_tls: None,
            read_timeout: None,
            write_timeout: None,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let n = send_all(&mut self.stream, self.driver.transmit())?;
        self.driver.transmitted(n);
        Ok(())
    }

    /// Serves the session to its end.
    pub fn serve<B: Backend>(&mut self, backend: &mut B) -> Result<(), Error> {
        let result = self.serve_inner(backend);
        backend.closed();
        result
    }

    fn serve_inner<B: Backend>(&mut self, backend: &mut B) -> Result<(), Error> {
        let tls = self.driver.server_ref().config().tls;
        if tls == crate::server::Tls::StartTls && self.start_tls.is_none() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::Unsupported,
                "the server offers STLS over a stream without TLS (ServerConn::with_start_tls)",
            )));
        }
        if let Some(set) = self.write_timeout {
            let send_timeout = self.driver.server_ref().send_timeout();
            set(&mut self.stream, Some(send_timeout))?;
        }
        loop {
            let now = now();
            match self.driver.poll(now)? {
                ServerPoll::Transmit => self.flush()?,
                ServerPoll::Closed => return Ok(()),
                ServerPoll::NeedInput { deadline } => {
                    // Waiting for the client: a session between commands holds no
                    // read buffer (pipelined RETRs share one).
                    self.chunk = Vec::new();
                    // Wake up at the deadline even if the client says nothing.
                    let wait = deadline.map(|d| d.as_millis().saturating_sub(now.as_millis()));
                    let timeout = Duration::from_millis(wait.unwrap_or(60_000).clamp(1, 60_000));
                    // Without read timeouts a held reply (a failed-login delay)
                    // must not wait behind a read that may block for ever.
                    let held =
                        self.read_timeout.is_none() && self.driver.server_ref().holds_output();
                    let input = self.driver.input();
                    if input.is_empty() || held {
                        // Full of input that waits for a timer (a failed-login delay).
                        std::thread::sleep(timeout);
                        continue;
                    }
                    if let Some(set) = self.read_timeout {
                        set(&mut self.stream, Some(timeout))?;
                    }
                    match self.stream.read(self.driver.input()) {
                        Ok(0) => return Ok(()),
                        Ok(n) => self.driver.received(n),
                        Err(e) if is_timeout(&e) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                ServerPoll::Event => self.answer(backend, now)?,
            }
        }
    }

    /// Answers the pending event with the backend's help.
    fn answer<B: Backend>(&mut self, backend: &mut B, now: Instant) -> Result<(), Error> {
        let Some(event) = self.driver.event() else {
            return Ok(());
        };
        if matches!(event, ServerEvent::StartTls) {
            // `+OK` was sent before the event was handed out.
            let start_tls = self.start_tls.ok_or_else(|| {
                io::Error::new(io::ErrorKind::Unsupported, "the stream has no TLS")
            })?;
            let binding = start_tls(&mut self.stream)?;
            self.driver.tls_started()?;
            if let Some(cb) = binding {
                self.driver.server().set_channel_binding(cb);
            }
            return Ok(());
        }
        if matches!(event, ServerEvent::Update) {
            let deleted: Vec<u32> = self.driver.server_ref().deleted().collect();
            let ok = backend.update(&deleted);
            self.driver.server().answer_update(ok)?;
            return Ok(());
        }
        let answer = backend.answer(event);
        let server = self.driver.server();
        match answer {
            Answer::Verdict(ok) => server.answer_password(ok, now)?,
            Answer::Secret(s) => server.answer_secret(s.as_deref(), now)?,
            Answer::Verifier(v) => server.answer_verifier(v.as_ref(), now)?,
            Answer::CramContext(c) => server.answer_cram_context(c.as_ref(), now)?,
            Answer::TryLater => server.answer_try_later(now)?,
            Answer::Open(open) => server.answer_open(open)?,
            Answer::Size(size) => server.answer_size(size)?,
            Answer::Uid(uid) => server.answer_uid(&uid)?,
            Answer::Message(None) => server.body_failed()?,
            Answer::MessageBytes(bytes) => {
                self.encode_piece(bytes)?;
                if !self.driver.server_ref().is_closed() {
                    self.driver.server().body_end()?;
                }
            }
            Answer::Message(Some(mut reader)) => {
                if self.chunk.is_empty() {
                    self.chunk = vec![0; READ_CHUNK];
                }
                let mut chunk = std::mem::take(&mut self.chunk);
                let result = self.stream_message(&mut *reader, &mut chunk);
                self.chunk = chunk;
                result?;
            }
        }
        Ok(())
    }

    /// Streams one message from `reader` through the core's body encoder.
    fn stream_message(&mut self, reader: &mut dyn Read, chunk: &mut [u8]) -> Result<(), Error> {
        while !self.driver.server_ref().body_done() {
            let n = match reader.read(chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => {
                    // -ERR if nothing was sent yet, else the connection closes.
                    self.driver.server().body_failed()?;
                    return Ok(());
                }
            };
            self.encode_piece(&chunk[..n])?;
        }
        if !self.driver.server_ref().is_closed() {
            self.driver.server().body_end()?;
        }
        Ok(())
    }

    /// Encodes `piece` of the message being sent, transmitting whenever the
    /// transmit buffer is full.
    fn encode_piece(&mut self, mut piece: &[u8]) -> Result<(), Error> {
        while !piece.is_empty() && !self.driver.server_ref().body_done() {
            let taken = self.driver.body(piece)?;
            if taken == 0 {
                // The transmit buffer is full: send it (what poll would say).
                self.flush()?;
            }
            piece = &piece[taken.min(piece.len())..];
        }
        Ok(())
    }
}
