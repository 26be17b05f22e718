//! Adapters for `embedded-io` (blocking) and `embedded-io-async` transports: a
//! UART, an embassy-net socket, or tokio through `embedded-io-adapters`. Generic over
//! the traits, fixed buffers, no allocator; both roles.
//!
//! They are also the adapters for runtimes this crate has none for: smol and
//! async-std streams implement the `futures` 0.3 `AsyncRead` / `AsyncWrite`, and
//! `embedded-io-adapters` (feature `futures-03`) makes them `embedded-io-async`
//! ones: `AsyncClientConn::new(FromFutures::new(tcp), client)`. `examples/smol_fetch.rs`
//! in the repository is a complete fetcher on smol.
//!
//! Each is the [`crate::driver`] loop over [`ClientDriver`] or [`ServerDriver`]: each
//! adapter is only its I/O. The server adapters ask a [`Backend`] (answers borrowed
//! from the backend, messages read in chunks: no allocator anywhere) and take the
//! time from it. While a failed-login reply is held back they wait for its deadline
//! instead of reading ([`Backend::wait_until`]; the async adapter sleeps with the
//! timer you give it and also wakes from a read at the idle deadline). A blocking
//! transport with a read timeout (`ErrorKind::TimedOut`) lets the idle timer run.

use core::fmt;
#[cfg(feature = "embedded-io-async")]
use core::future::Future;
#[cfg(feature = "embedded-io-async")]
use core::time::Duration;

use crate::client::{Client, ClientError, ClientEvent, Login};
use crate::driver::{ClientDriver, Poll, ServerDriver, ServerPoll};
use crate::server::{Marks, Open, Server, ServerError, ServerEvent};
use crate::time::Instant;

/// Why an embedded session failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error<E> {
    /// The transport failed (a UART timeout, a closed socket, …).
    Io(E),
    /// The peer closed the connection before the session ended.
    Eof,
    /// The client state machine refused (protocol violation, bad SASL, …).
    Client(ClientError),
    /// The server state machine was misused by the backend.
    Server(ServerError),
    /// The peer took no bytes for [`ServerConfig::send_timeout_ms`] (a client that
    /// stopped reading): the session is over.
    ///
    /// [`ServerConfig::send_timeout_ms`]: crate::server::ServerConfig::send_timeout_ms
    TimedOut,
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O: {e:?}"),
            Error::Eof => f.write_str("connection closed"),
            Error::Client(e) => write!(f, "{e}"),
            Error::Server(e) => write!(f, "server: {e}"),
            Error::TimedOut => f.write_str("the peer stopped reading"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Client(e) => Some(e),
            Error::Server(e) => Some(e),
            _ => None,
        }
    }
}

impl<E> From<ServerError> for Error<E> {
    fn from(e: ServerError) -> Self {
        Error::Server(e)
    }
}

impl<E> From<ClientError> for Error<E> {
    fn from(e: ClientError) -> Self {
        Error::Client(e)
    }
}

/// A [`Client`] over an `embedded_io` (blocking) transport: the
/// [`ClientDriver`] loop over fixed buffers of `RX` and `TX` bytes. `RX` must hold a
/// status line (512 octets; message bodies stream through any size), `TX` the longest
/// command (255 octets, more for long SASL responses).
///
/// The client's greeting and reply timeouts need a clock: give one with
/// [`with_clock`](Self::with_clock) (without it the client has no timeouts), and a
/// transport whose reads end with `ErrorKind::TimedOut` now and then, so that the
/// adapter can look at the time: past the deadline [`next`](Self::next) fails with
/// [`ClientError::GreetingTimeout`] or [`ClientError::ReplyTimeout`].
#[cfg(feature = "embedded-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "embedded-io")))]
pub struct ClientConn<S, const RX: usize, const TX: usize> {
    driver: ClientDriver<[u8; RX], [u8; TX]>,
    stream: S,
    clock: Option<fn() -> Instant>,
}

#[cfg(feature = "embedded-io")]
impl<S: embedded_io::Read + embedded_io::Write, const RX: usize, const TX: usize>
    ClientConn<S, RX, TX>
{
    /// Wraps a connected transport; the greeting is read by the first
    /// [`next`](Self::next).
    pub fn new(stream: S, client: Client) -> Self {
        ClientConn {
            driver: ClientDriver::new(client, [0; RX], [0; TX]),
            stream,
            clock: None,
        }
    }

    /// The clock of the client's timeouts (milliseconds, monotonic).
    pub fn with_clock(mut self, now: fn() -> Instant) -> Self {
        self.clock = Some(now);
        self
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        self.driver.client()
    }

    /// Sends what is queued and hands the next event to `f`, reading as needed.
    /// `Ok(None)` once nothing is queued or in flight.
    pub fn next<R>(
        &mut self,
        f: impl FnOnce(ClientEvent<'_>) -> R,
    ) -> Result<Option<R>, Error<S::Error>> {
        loop {
            let now = self.clock.map_or(Instant::from_millis(0), |now| now());
            match self.driver.poll(now)? {
                Poll::Transmit => {
                    let out = self.driver.transmit();
                    self.stream.write_all(out).map_err(Error::Io)?;
                    self.stream.flush().map_err(Error::Io)?;
                    let n = out.len();
                    self.driver.transmitted(n);
                }
                Poll::Event => break,
                Poll::NeedInput { .. } => match self.stream.read(self.driver.input()) {
                    Ok(0) => return Err(Error::Eof),
                    Ok(n) => self.driver.received(n),
                    // A read timeout: the next poll looks at the deadline.
                    Err(e)
                        if self.clock.is_some()
                            && embedded_io::Error::kind(&e) == embedded_io::ErrorKind::TimedOut => {
                    }
                    Err(e) => return Err(Error::Io(e)),
                },
                Poll::Idle | Poll::Closed => return Ok(None),
            }
        }
        Ok(self.driver.event().map(f))
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error<S::Error>> {
        while self.next(&mut f)?.is_some() {}
        Ok(())
    }

    /// Answers [`ClientEvent::NeedCredentials`] (from [`next`](Self::next)) with the
    /// login that was queued; see [`ClientDriver::credentials`].
    pub fn credentials(&mut self, login: &Login<'_>) -> Result<(), Error<S::Error>> {
        self.driver.credentials(login)?;
        Ok(())
    }

    /// Queues `login` and runs everything queued to completion like
    /// [`run`](Self::run), answering the client's requests for credentials from
    /// `login` (see [`run_with_credentials`](Self::run_with_credentials)).
    pub fn login(
        &mut self,
        login: Login<'_>,
        f: impl FnMut(ClientEvent<'_>),
    ) -> Result<(), Error<S::Error>> {
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
    ) -> Result<(), Error<S::Error>> {
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

    /// The STLS upgrade: after [`ClientEvent::StartTls`], hands the transport to
    /// `handshake`, which runs the TLS handshake over it and returns the encrypted
    /// stream (e.g. embedded-tls's `blocking::TlsConnection` after `open`). Then drops
    /// the plaintext received after the `+OK` (RFC 2595) and tells the client, which
    /// forgets the capabilities and queues CAPA again; the session goes on over the
    /// returned stream. A failed handshake is [`Error::Io`] and ends the session;
    /// [`Error::Client`] (`WrongState`) when no STLS was accepted.
    pub fn start_tls<T, E>(
        self,
        handshake: impl FnOnce(S) -> Result<T, E>,
    ) -> Result<ClientConn<T, RX, TX>, Error<E>>
    where
        T: embedded_io::Read + embedded_io::Write,
    {
        let ClientConn {
            mut driver,
            stream,
            clock,
        } = self;
        if !driver.client().awaiting_tls() {
            return Err(Error::Client(ClientError::WrongState));
        }
        let stream = handshake(stream).map_err(Error::Io)?;
        driver.tls_started()?;
        Ok(ClientConn {
            driver,
            stream,
            clock,
        })
    }

    /// The STLS upgrade for a transport that switches to TLS in place (an enum of
    /// the plain and the encrypted stream, say): after [`ClientEvent::StartTls`],
    /// `handshake` runs the TLS handshake over the transport and leaves it
    /// encrypted; then the same as [`start_tls`](Self::start_tls). Nothing is moved,
    /// which keeps a firmware's stack down: the buffers stay where they are.
    pub fn start_tls_in_place<E>(
        &mut self,
        handshake: impl FnOnce(&mut S) -> Result<(), E>,
    ) -> Result<(), Error<E>> {
        if !self.driver.client().awaiting_tls() {
            return Err(Error::Client(ClientError::WrongState));
        }
        handshake(&mut self.stream).map_err(Error::Io)?;
        self.driver.tls_started()?;
        Ok(())
    }
}

/// A [`Client`] over an `embedded_io_async` transport (embassy, or tokio through
/// `embedded-io-adapters`): the [`ClientDriver`] loop over fixed buffers.
///
/// The client's greeting and reply timeouts need a clock
/// ([`with_clock`](Self::with_clock); without one the client has no timeouts) and
/// the executor's timer: [`next_within`](Self::next_within) takes it and fails
/// past the deadline with [`ClientError::GreetingTimeout`] or
/// [`ClientError::ReplyTimeout`]. [`next`](Self::next) is cancel-safe, so it may
/// also be raced against a timer until [`deadline`](Self::deadline) and called again.
#[cfg(feature = "embedded-io-async")]
#[cfg_attr(docsrs, doc(cfg(feature = "embedded-io-async")))]
pub struct AsyncClientConn<S, const RX: usize, const TX: usize> {
    driver: ClientDriver<[u8; RX], [u8; TX]>,
    stream: S,
    clock: Option<fn() -> Instant>,
    deadline: Option<Instant>,
}

#[cfg(feature = "embedded-io-async")]
impl<S: embedded_io_async::Read + embedded_io_async::Write, const RX: usize, const TX: usize>
    AsyncClientConn<S, RX, TX>
{
    /// Wraps a connected transport; the greeting is read by the first
    /// [`next`](Self::next).
    pub fn new(stream: S, client: Client) -> Self {
        AsyncClientConn {
            driver: ClientDriver::new(client, [0; RX], [0; TX]),
            stream,
            clock: None,
            deadline: None,
        }
    }

    /// The clock of the client's timeouts (milliseconds, monotonic).
    pub fn with_clock(mut self, now: fn() -> Instant) -> Self {
        self.clock = Some(now);
        self
    }

    /// While [`next`](Self::next) waits for the server: when it gives up (the
    /// greeting or reply timeout); `None` without a clock or when nothing is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        self.driver.client()
    }

    /// The transport (to start implicit TLS on it in place before the greeting, or to
    /// close a TLS session after QUIT).
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Sends what is queued and returns the next event, reading as needed: the
    /// event borrows the receive buffer until the next call, and the caller may
    /// `.await` anything in between. `Ok(None)` once nothing is queued or in flight.
    ///
    /// Cancel-safe: each `.await` is one read or one write whose result is recorded
    /// before the next, so the future may be dropped (a timeout) and `next` called
    /// again without losing or repeating a byte.
    pub async fn next(&mut self) -> Result<Option<ClientEvent<'_>>, Error<S::Error>> {
        self.next_inner(None::<fn(Duration) -> core::future::Ready<()>>)
            .await
    }

    /// [`next`](Self::next) that enforces the client's greeting and reply timeouts
    /// itself (with a clock, [`with_clock`](Self::with_clock)): `sleep` is the
    /// executor's timer (`embassy_time::Timer::after`, `tokio::time::sleep`), and a
    /// read that outlasts the deadline ends the call with
    /// [`ClientError::GreetingTimeout`] or [`ClientError::ReplyTimeout`].
    pub async fn next_within<F: Future<Output = ()>>(
        &mut self,
        sleep: impl FnMut(Duration) -> F,
    ) -> Result<Option<ClientEvent<'_>>, Error<S::Error>> {
        self.next_inner(Some(sleep)).await
    }

    async fn next_inner<F, T>(
        &mut self,
        mut sleep: Option<T>,
    ) -> Result<Option<ClientEvent<'_>>, Error<S::Error>>
    where
        F: Future<Output = ()>,
        T: FnMut(Duration) -> F,
    {
        loop {
            let now = self.clock.map_or(Instant::from_millis(0), |now| now());
            self.deadline = None;
            match self.driver.poll(now)? {
                Poll::Transmit => {
                    let n = self
                        .stream
                        .write(self.driver.transmit())
                        .await
                        .map_err(Error::Io)?;
                    if n == 0 {
                        return Err(Error::Eof);
                    }
                    self.driver.transmitted(n);
                    if self.driver.transmit().is_empty() {
                        self.stream.flush().await.map_err(Error::Io)?;
                    }
                }
                Poll::Event => break,
                Poll::NeedInput { deadline } => {
                    let deadline = deadline.filter(|_| self.clock.is_some());
                    self.deadline = deadline;
                    let read = self.stream.read(self.driver.input());
                    let n = match (deadline, sleep.as_mut()) {
                        (Some(d), Some(sleep)) => {
                            match first(read, sleep(d.saturating_duration_since(now))).await {
                                Some(n) => n,
                                // The deadline: the next poll fails with the timeout.
                                None => continue,
                            }
                        }
                        _ => read.await,
                    };
                    match n.map_err(Error::Io)? {
                        0 => return Err(Error::Eof),
                        n => self.driver.received(n),
                    }
                }
                Poll::Idle | Poll::Closed => return Ok(None),
            }
        }
        Ok(self.driver.event())
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub async fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error<S::Error>> {
        while let Some(event) = self.next().await? {
            f(event);
        }
        Ok(())
    }

    /// Answers [`ClientEvent::NeedCredentials`] (from [`next`](Self::next)) with the
    /// login that was queued; see [`ClientDriver::credentials`].
    pub fn credentials(&mut self, login: &Login<'_>) -> Result<(), Error<S::Error>> {
        self.driver.credentials(login)?;
        Ok(())
    }

    /// Queues `login` and runs everything queued to completion like
    /// [`run`](Self::run), answering the client's requests for credentials from
    /// `login` (see [`run_with_credentials`](Self::run_with_credentials)).
    pub async fn login(
        &mut self,
        login: Login<'_>,
        f: impl FnMut(ClientEvent<'_>),
    ) -> Result<(), Error<S::Error>> {
        self.driver.client().login(login)?;
        self.run_with_credentials(&login, f).await
    }

    /// Runs everything queued to completion like [`run`](Self::run), answering
    /// [`ClientEvent::NeedCredentials`] from `login` (borrowed for this call only:
    /// the client stores no credentials) and handing every other event to `f`.
    pub async fn run_with_credentials(
        &mut self,
        login: &Login<'_>,
        mut f: impl FnMut(ClientEvent<'_>),
    ) -> Result<(), Error<S::Error>> {
        while let Some(event) = self.next().await? {
            if matches!(event, ClientEvent::NeedCredentials { .. }) {
                self.driver.credentials(login)?;
            } else {
                f(event);
            }
        }
        Ok(())
    }

    /// The STLS upgrade: after [`ClientEvent::StartTls`], hands the transport to
    /// `handshake`, whose future runs the TLS handshake over it and returns the
    /// encrypted stream (e.g. embedded-tls's `TlsConnection` after `open`), then goes
    /// on like the blocking `ClientConn::start_tls`.
    pub async fn start_tls<T, E, F>(
        self,
        handshake: impl FnOnce(S) -> F,
    ) -> Result<AsyncClientConn<T, RX, TX>, Error<E>>
    where
        T: embedded_io_async::Read + embedded_io_async::Write,
        F: Future<Output = Result<T, E>>,
    {
        let AsyncClientConn {
            mut driver,
            stream,
            clock,
            ..
        } = self;
        if !driver.client().awaiting_tls() {
            return Err(Error::Client(ClientError::WrongState));
        }
        let stream = handshake(stream).await.map_err(Error::Io)?;
        driver.tls_started()?;
        Ok(AsyncClientConn {
            driver,
            stream,
            clock,
            // The next poll gives the deadline of the reply now awaited.
            deadline: None,
        })
    }

    /// The STLS upgrade for a transport that switches to TLS in place (an enum of
    /// the plain and the encrypted stream, say), like the blocking
    /// `ClientConn::start_tls_in_place`: `handshake` runs the handshake over the
    /// transport and leaves it encrypted. Nothing is moved (a by-value upgrade moves
    /// the client and its buffers through the future's state and the stack).
    pub async fn start_tls_in_place<E>(
        &mut self,
        handshake: impl AsyncFnOnce(&mut S) -> Result<(), E>,
    ) -> Result<(), Error<E>> {
        if !self.driver.client().awaiting_tls() {
            return Err(Error::Client(ClientError::WrongState));
        }
        handshake(&mut self.stream).await.map_err(Error::Io)?;
        self.driver.tls_started()?;
        Ok(())
    }
}

/// How a [`Backend`] answers a [`ServerEvent`]: data borrowed from the backend (flash,
/// a static table), so no allocator is needed. `Debug` prints a secret redacted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// For CheckPassword, CheckToken, CheckExternal.
    Verdict(bool),
    /// For NeedSecret.
    Secret(Option<&'a [u8]>),
    /// For NeedSecret of SCRAM: the user's stored verifier (`None`: unknown user).
    Verifier(Option<&'a crate::sasl::scram::ScramVerifier>),
    /// For NeedSecret of CRAM-MD5: the user's stored context (`None`: unknown user).
    CramContext(Option<&'a crate::sasl::cram::CramMd5Context>),
    /// For any credential check (CheckPassword, CheckToken, CheckExternal,
    /// NeedSecret): not now, `-ERR [SYS/TEMP]` without checking (a limit on failed
    /// logins for the user is reached; see `Server::answer_try_later`).
    TryLater,
    /// For OpenMaildrop.
    Open(Open),
    /// For Size.
    Size(u64),
    /// For Uid.
    Uid(&'a [u8]),
    /// For Retrieve: `true` if the message can be read (then
    /// [`Backend::read_message`] streams it), `false` for `-ERR`.
    Message(bool),
}

impl core::fmt::Debug for Answer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::{Bytes, Redacted};
        match self {
            Answer::Verdict(v) => f.debug_tuple("Verdict").field(v).finish(),
            Answer::Secret(s) => f
                .debug_tuple("Secret")
                .field(&s.map(|s| Redacted(s.len())))
                .finish(),
            Answer::Verifier(v) => f.debug_tuple("Verifier").field(v).finish(),
            Answer::CramContext(c) => f.debug_tuple("CramContext").field(c).finish(),
            Answer::TryLater => f.write_str("TryLater"),
            Answer::Open(o) => f.debug_tuple("Open").field(o).finish(),
            Answer::Size(n) => f.debug_tuple("Size").field(n).finish(),
            Answer::Uid(u) => f.debug_tuple("Uid").field(&Bytes(u)).finish(),
            Answer::Message(m) => f.debug_tuple("Message").field(m).finish(),
        }
    }
}

/// What a POP3 server application on a small device provides.
pub trait Backend {
    /// The current time (a tick counter in milliseconds is enough).
    fn now(&mut self) -> Instant;

    /// Answers one event (all but [`ServerEvent::StartTls`], which these plain
    /// transports never offer, and [`ServerEvent::Update`], which goes to
    /// [`update`](Self::update)).
    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_>;

    /// Reads bytes of message `msg` from `offset` into `buf`: `Some(0)` at its end,
    /// `None` when it cannot be read (the client then never takes a truncated message
    /// for a whole one: the connection closes).
    fn read_message(&mut self, msg: u32, offset: u64, buf: &mut [u8]) -> Option<usize>;

    /// UPDATE: remove these messages, release the lock; `true` if all were removed.
    fn update(&mut self, deleted: &mut dyn Iterator<Item = u32>) -> bool;

    /// The session ended; release any lock.
    fn closed(&mut self) {}

    /// Blocks until `deadline` (the end of a failed-login delay), for the blocking
    /// [`ServerConn`]. The default spins on [`now`](Self::now); a device would sleep
    /// or run other work.
    fn wait_until(&mut self, deadline: Instant) {
        while self.now() < deadline {
            core::hint::spin_loop();
        }
    }
}

/// Answers the pending event. A message is streamed into the transmit buffer until
/// the buffer is full; `sending` keeps the message and offset, and the next
/// [`ServerPoll::Event`] (the Retrieve is still pending) goes on after the transmit.
fn answer_event<M, B, const RX: usize, const TX: usize>(
    driver: &mut ServerDriver<M, [u8; RX], [u8; TX]>,
    backend: &mut B,
    now: Instant,
    sending: &mut Option<(u32, u64)>,
) -> Result<(), ServerError>
where
    M: Marks,
    B: Backend,
{
    let Some(event) = driver.event() else {
        return Ok(());
    };
    let (msg, mut offset) = match (event, *sending) {
        (ServerEvent::Update, _) => {
            let ok = backend.update(&mut driver.server_ref().deleted());
            return driver.server().answer_update(ok);
        }
        (ServerEvent::StartTls, _) => return Err(ServerError::Unexpected),
        (ServerEvent::Retrieve { msg, .. }, Some((m, offset))) if m == msg => (msg, offset),
        (event, _) => {
            let retrieve = match event {
                ServerEvent::Retrieve { msg, .. } => msg,
                _ => 0,
            };
            let answer = backend.answer(event);
            let server = driver.server();
            match answer {
                Answer::Verdict(ok) => return server.answer_password(ok, now),
                Answer::Secret(s) => return server.answer_secret(s, now),
                Answer::Verifier(v) => return server.answer_verifier(v, now),
                Answer::CramContext(c) => return server.answer_cram_context(c, now),
                Answer::TryLater => return server.answer_try_later(now),
                Answer::Open(open) => return server.answer_open(open),
                Answer::Size(size) => return server.answer_size(size),
                Answer::Uid(uid) => return server.answer_uid(uid),
                Answer::Message(false) => return server.body_failed(),
                Answer::Message(true) => (retrieve, 0),
            }
        }
    };
    let mut chunk = [0u8; 256];
    loop {
        if driver.server_ref().body_done() {
            break;
        }
        let Some(n) = backend.read_message(msg, offset, &mut chunk) else {
            *sending = None;
            return driver.server().body_failed();
        };
        if n == 0 {
            break;
        }
        let taken = driver.body(&chunk[..n.min(chunk.len())])?;
        offset += taken as u64;
        if taken == 0 {
            // Full: transmit, then go on from `offset` at the next event.
            *sending = Some((msg, offset));
            return Ok(());
        }
    }
    *sending = None;
    if driver.server_ref().is_closed() {
        return Ok(());
    }
    driver.server().body_end()
}

/// A [`Server`] session over an `embedded_io` (blocking) transport: the
/// [`ServerDriver`] loop over fixed buffers of `RX` (at least a command line,
/// [`MIN_SERVER_RECEIVE`](crate::driver::MIN_SERVER_RECEIVE): 255 octets; SASL lines
/// need more) and `TX` bytes (at least
/// [`MIN_SERVER_TRANSMIT`](crate::driver::MIN_SERVER_TRANSMIT): 32 octets; messages
/// leave in writes of that size).
///
/// A blocking `embedded_io` write cannot be interrupted from here: give the
/// transport a write timeout (a TCP stack's send timeout) so that a client that stops
/// reading loses its session; [`AsyncServerConn`] bounds its writes itself with
/// [`ServerConfig::send_timeout_ms`](crate::server::ServerConfig::send_timeout_ms).
#[cfg(feature = "embedded-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "embedded-io")))]
pub struct ServerConn<S, M: Marks, const RX: usize, const TX: usize> {
    driver: ServerDriver<M, [u8; RX], [u8; TX]>,
    stream: S,
}

#[cfg(feature = "embedded-io")]
impl<S, M, const RX: usize, const TX: usize> ServerConn<S, M, RX, TX>
where
    S: embedded_io::Read + embedded_io::Write,
    M: Marks,
{
    /// Wraps an accepted connection; the greeting is queued in `server`.
    pub fn new(stream: S, server: Server<M>) -> Self {
        ServerConn {
            driver: ServerDriver::new(server, [0; RX], [0; TX]),
            stream,
        }
    }

    /// Serves the session to its end (`backend.closed()` is called however it ends).
    pub fn serve<B: Backend>(&mut self, backend: &mut B) -> Result<(), Error<S::Error>> {
        let result = self.serve_inner(backend);
        backend.closed();
        result
    }

    fn serve_inner<B: Backend>(&mut self, backend: &mut B) -> Result<(), Error<S::Error>> {
        let mut sending = None;
        loop {
            let now = backend.now();
            match self.driver.poll(now)? {
                ServerPoll::Transmit => {
                    let out = self.driver.transmit();
                    self.stream.write_all(out).map_err(Error::Io)?;
                    self.stream.flush().map_err(Error::Io)?;
                    let n = out.len();
                    self.driver.transmitted(n);
                }
                ServerPoll::Event => answer_event(&mut self.driver, backend, now, &mut sending)?,
                ServerPoll::NeedInput { deadline } => {
                    let holding = self.driver.server_ref().holds_output();
                    let input = self.driver.input();
                    if holding || input.is_empty() {
                        // A reply waits for its delay: reading could block past it.
                        backend.wait_until(deadline.unwrap_or(now));
                        continue;
                    }
                    match self.stream.read(input) {
                        Ok(0) => return Ok(()),
                        Ok(n) => self.driver.received(n),
                        // A read timeout: the next poll checks the idle timer.
                        Err(e)
                            if embedded_io::Error::kind(&e) == embedded_io::ErrorKind::TimedOut => {
                        }
                        Err(e) => return Err(Error::Io(e)),
                    }
                }
                ServerPoll::Closed => return Ok(()),
            }
        }
    }
}

/// A [`Server`] session over an `embedded_io_async` transport (embassy-net): the same
/// loop as [`ServerConn`], awaiting the transport.
#[cfg(feature = "embedded-io-async")]
#[cfg_attr(docsrs, doc(cfg(feature = "embedded-io-async")))]
pub struct AsyncServerConn<S, M: Marks, const RX: usize, const TX: usize> {
    driver: ServerDriver<M, [u8; RX], [u8; TX]>,
    stream: S,
}

#[cfg(feature = "embedded-io-async")]
impl<S, M, const RX: usize, const TX: usize> AsyncServerConn<S, M, RX, TX>
where
    S: embedded_io_async::Read + embedded_io_async::Write,
    M: Marks,
{
    /// Wraps an accepted connection; the greeting is queued in `server`.
    pub fn new(stream: S, server: Server<M>) -> Self {
        AsyncServerConn {
            driver: ServerDriver::new(server, [0; RX], [0; TX]),
            stream,
        }
    }

    /// Writes what the driver has to transmit, within the server's send timeout
    /// ([`ServerConfig::send_timeout_ms`](crate::server::ServerConfig::send_timeout_ms),
    /// 60 s): a client that stops reading loses its session (and its maildrop lock).
    async fn flush<F: Future<Output = ()>>(
        &mut self,
        sleep: &mut impl FnMut(Duration) -> F,
    ) -> Result<(), Error<S::Error>> {
        let limit = self.driver.server_ref().send_timeout();
        let (driver, stream) = (&self.driver, &mut self.stream);
        let out = driver.transmit();
        let n = out.len();
        let write = async {
            stream.write_all(out).await?;
            stream.flush().await
        };
        match first(write, sleep(limit)).await {
            Some(result) => result.map_err(Error::Io)?,
            None => return Err(Error::TimedOut),
        }
        self.driver.transmitted(n);
        Ok(())
    }

    /// Serves the session to its end (`backend.closed()` is called however it
    /// ends). `sleep` is the executor's timer (`embassy_time::Timer::after`,
    /// `tokio::time::sleep`): the adapter sleeps through a failed-login delay and
    /// stops waiting for input at the idle deadline.
    pub async fn serve<B, F>(
        &mut self,
        backend: &mut B,
        mut sleep: impl FnMut(Duration) -> F,
    ) -> Result<(), Error<S::Error>>
    where
        B: Backend,
        F: Future<Output = ()>,
    {
        let result = self.serve_inner(backend, &mut sleep).await;
        backend.closed();
        result
    }

    async fn serve_inner<B, F>(
        &mut self,
        backend: &mut B,
        sleep: &mut impl FnMut(Duration) -> F,
    ) -> Result<(), Error<S::Error>>
    where
        B: Backend,
        F: Future<Output = ()>,
    {
        let mut sending = None;
        loop {
            let now = backend.now();
            match self.driver.poll(now)? {
                ServerPoll::Transmit => self.flush(sleep).await?,
                ServerPoll::Event => answer_event(&mut self.driver, backend, now, &mut sending)?,
                ServerPoll::NeedInput { deadline } => {
                    let wait = deadline.map(|d| d.saturating_duration_since(now));
                    let holding = self.driver.server_ref().holds_output();
                    let input = self.driver.input();
                    if holding || input.is_empty() {
                        sleep(wait.unwrap_or(Duration::ZERO)).await;
                        continue;
                    }
                    let read = self.stream.read(input);
                    let n = match wait {
                        None => read.await,
                        Some(wait) => match first(read, sleep(wait)).await {
                            Some(n) => n,
                            None => continue, // the deadline: poll handles the timer
                        },
                    };
                    match n.map_err(Error::Io)? {
                        0 => return Ok(()),
                        n => self.driver.received(n),
                    }
                }
                ServerPoll::Closed => return Ok(()),
            }
        }
    }
}

/// Runs `work` until it finishes (`Some`) or `timer` does (`None`, `work` dropped).
#[cfg(feature = "embedded-io-async")]
async fn first<W: Future, T: Future<Output = ()>>(work: W, timer: T) -> Option<W::Output> {
    let (mut work, mut timer) = (core::pin::pin!(work), core::pin::pin!(timer));
    core::future::poll_fn(|cx| {
        if let core::task::Poll::Ready(v) = work.as_mut().poll(cx) {
            return core::task::Poll::Ready(Some(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return core::task::Poll::Ready(None);
        }
        core::task::Poll::Pending
    })
    .await
}
