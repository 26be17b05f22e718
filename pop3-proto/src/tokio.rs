//! tokio adapters (feature `tokio`): the [`crate::driver`] loop over any
//! `AsyncRead + AsyncWrite`, for both roles.
//!
//! - [`ClientConn::next`] returns the next [`ClientEvent`], borrowing the receive
//!   buffer until the next call, so the caller may `.await` (a file write, a
//!   database) between events.
//! - [`serve`] runs a server session to its end over an [`AsyncBackend`] and any
//!   stream ([`serve_starttls`] over one that can start TLS), the async
//!   twin of [`blocking::Backend`](crate::blocking::Backend); the session's timers
//!   (idle timer, failed-login delay) run on tokio's clock: create the [`Server`] with
//!   [`now`] (so `tokio::time::pause` works in tests).
//! - With the feature `tokio-rustls`, `TokioStream` is a TCP stream that can be
//!   plain, TLS from the first byte (port 995) or switched to TLS by STLS.

use core::future::Future;
use std::boxed::Box;
use std::io;
use std::pin::Pin;
use std::time::Duration;
use std::vec;
use std::vec::Vec;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub use crate::blocking::Error;
use crate::time::Instant;

/// The current time on tokio's clock as an [`Instant`] (milliseconds, monotonic,
/// starting at the UNIX time of the first call; it follows `tokio::time::pause`).
pub fn now() -> Instant {
    static START: std::sync::OnceLock<(::tokio::time::Instant, u64)> = std::sync::OnceLock::new();
    let (base, epoch_ms) = START.get_or_init(|| {
        let epoch = crate::blocking::now();
        (::tokio::time::Instant::now(), epoch.as_millis())
    });
    Instant::from_millis(*epoch_ms).plus_millis(Instant::from_duration(base.elapsed()).as_millis())
}
use crate::client::{Client, ClientEvent, Login};
use crate::driver::{ClientDriver, Poll, ServerDriver, ServerPoll};
use crate::server::{Marks, Open, Server, ServerEvent};

/// A stream whose transport can be switched to TLS in place (for STLS).
pub trait AsyncStartTls {
    /// Runs the TLS handshake on this connection (client or server side, as the
    /// stream was built).
    fn start_tls(&mut self) -> impl Future<Output = io::Result<()>> + Send;

    /// The TLS session's `tls-exporter` channel binding (RFC 9266), once TLS runs:
    /// what SCRAM -PLUS binds to. Default: none.
    fn channel_binding(&self) -> Option<[u8; 32]> {
        None
    }
}

/// Plain TCP cannot start TLS: servers over it must not offer STLS.
impl AsyncStartTls for ::tokio::net::TcpStream {
    async fn start_tls(&mut self) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "plain TCP has no TLS",
        ))
    }
}

async fn send_all<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<usize> {
    stream.write_all(bytes).await?;
    stream.flush().await?;
    Ok(bytes.len())
}

/// A [`Client`] over an async stream: the [`ClientDriver`] loop with 64 KiB of
/// receive and 32 KiB of transmit buffer (a SASL line with a 16 KiB token is 22 KiB).
pub struct ClientConn<S> {
    driver: ClientDriver<Vec<u8>, Vec<u8>>,
    stream: S,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ClientConn<S> {
    /// Wraps a connected stream; the greeting is read by the first
    /// [`next`](Self::next).
    pub fn new(stream: S, client: Client) -> Self {
        ClientConn {
            driver: ClientDriver::new(client, vec![0; 64 * 1024], vec![0; 32 * 1024]),
            stream,
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

    /// Sends what is queued and returns the next event, reading as needed. The
    /// event borrows the receive buffer until the next call. `Ok(None)` once
    /// nothing is queued or in flight (queue more, or drop the connection).
    ///
    /// The client's greeting and reply timeouts run on tokio's clock
    /// ([`ClientConfig::reply_timeout_ms`](crate::client::ClientConfig::reply_timeout_ms)):
    /// a server that stays silent ends the call with [`Error::Client`] of
    /// [`ClientError::GreetingTimeout`](crate::client::ClientError::GreetingTimeout)
    /// or [`ClientError::ReplyTimeout`](crate::client::ClientError::ReplyTimeout).
    ///
    /// **Cancel-safe**: every `.await` inside is a single read or write whose result
    /// is recorded before the next one, so the future may be dropped at any point
    /// (wrapped in `tokio::time::timeout`, raced in `select!`) and `next()` called
    /// again: no byte is lost, sent twice or read as another reply. An event is
    /// never lost either: it is only taken when `next()` returns it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use pop3_proto::client::{Client, ClientConfig, ClientEvent};
    /// use pop3_proto::tokio::ClientConn;
    /// use tokio::io::AsyncWriteExt;
    ///
    /// let (ours, mut server) = tokio::io::duplex(64);
    /// let mut conn = ClientConn::new(ours, Client::new(ClientConfig::default(), [7; 32]));
    /// // Not yet: the server is slow.
    /// assert!(tokio::time::timeout(Duration::from_millis(10), conn.next()).await.is_err());
    /// server.write_all(b"+OK ready\r\n").await.unwrap();
    /// // Called again after the timeout: the greeting is there, whole.
    /// let event = conn.next().await.unwrap();
    /// assert!(matches!(event, Some(ClientEvent::Greeting { text: b"ready", .. })));
    /// # }
    /// ```
    pub async fn next(&mut self) -> Result<Option<ClientEvent<'_>>, Error> {
        loop {
            let now = now();
            match self.driver.poll(now)? {
                Poll::Transmit => {
                    // One write, recorded at once: cancel-safe (write_all is not).
                    let n = self.stream.write(self.driver.transmit()).await?;
                    if n == 0 {
                        return Err(Error::Io(io::ErrorKind::WriteZero.into()));
                    }
                    self.driver.transmitted(n);
                    if self.driver.transmit().is_empty() {
                        self.stream.flush().await?;
                    }
                }
                Poll::Event => break,
                Poll::NeedInput { deadline } => {
                    let read = self.stream.read(self.driver.input());
                    let n = match deadline {
                        None => read.await?,
                        Some(d) => {
                            let wait = d.saturating_duration_since(now);
                            match ::tokio::time::timeout(wait, read).await {
                                Ok(n) => n?,
                                // The deadline: the next poll fails with the timeout.
                                Err(_) => continue,
                            }
                        }
                    };
                    if n == 0 {
                        return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
                    }
                    self.driver.received(n);
                }
                Poll::Idle | Poll::Closed => return Ok(None),
            }
        }
        Ok(self.driver.event())
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub async fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error> {
        while let Some(event) = self.next().await? {
            f(event);
        }
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
    pub async fn login(
        &mut self,
        login: Login<'_>,
        f: impl FnMut(ClientEvent<'_>),
    ) -> Result<(), Error> {
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
    ) -> Result<(), Error> {
        while let Some(event) = self.next().await? {
            if matches!(event, ClientEvent::NeedCredentials { .. }) {
                self.driver.credentials(login)?;
            } else {
                f(event);
            }
        }
        Ok(())
    }
}

impl<S: AsyncRead + AsyncWrite + AsyncStartTls + Unpin> ClientConn<S> {
    /// After [`ClientEvent::StartTls`]: runs the handshake, drops buffered plaintext
    /// (RFC 2595) and tells the client (which queues CAPA again).
    pub async fn start_tls(&mut self) -> Result<(), Error> {
        self.stream.start_tls().await?;
        self.driver.tls_started()?;
        if let Some(cb) = self.stream.channel_binding() {
            self.driver.client().set_channel_binding(cb);
        }
        Ok(())
    }
}

/// A message for [`ServerEvent::Retrieve`], streamed (a `tokio::fs::File`, an
/// in-memory cursor).
pub type MessageReader = Pin<Box<dyn AsyncRead + Send>>;

/// How an [`AsyncBackend`] answers a [`ServerEvent`]: owned, so that the event's
/// borrow of the session has ended.
pub enum AsyncAnswer {
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
    /// For Retrieve: the message bytes, as stored (`None`: unreadable).
    Message(Option<MessageReader>),
    /// For Retrieve: the message, already in memory (a `Vec<u8>` read whole, an
    /// `Arc<[u8]>`); encoded from there, without a copy into a read buffer first.
    MessageBytes(Box<dyn AsRef<[u8]> + Send>),
}

/// What an async POP3 server application provides: answers to the server's
/// questions, which may await (a password database, the file system).
pub trait AsyncBackend: Send {
    /// Answers one event (all but [`ServerEvent::StartTls`], which the adapter
    /// handles, and [`ServerEvent::Update`], which goes to [`update`](Self::update)).
    fn answer(&mut self, event: ServerEvent<'_>) -> impl Future<Output = AsyncAnswer> + Send;

    /// UPDATE: remove these messages (numbers of this session), release the lock;
    /// `true` if every one was removed.
    fn update(&mut self, deleted: &[u32]) -> impl Future<Output = bool> + Send;

    /// The session ended (QUIT, error, timeout or disconnect); release any lock.
    fn closed(&mut self) {}
}

/// Serves one session over `stream`, any tokio byte stream (a `TcpStream`, a
/// `UnixStream`, `tokio::io::duplex` in a test), to its end. It cannot offer STLS
/// (a server configured with [`Tls::StartTls`](crate::server::Tls::StartTls) is
/// refused at once): for that, [`serve_starttls`] over an [`AsyncStartTls`] stream.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent};
/// use pop3_proto::tokio::{serve, AsyncAnswer, AsyncBackend};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// /// A backend under test: one user, an empty maildrop.
/// struct Test;
/// impl AsyncBackend for Test {
///     async fn answer(&mut self, event: ServerEvent<'_>) -> AsyncAnswer {
///         match event {
///             ServerEvent::CheckPassword { user, password, .. } => {
///                 AsyncAnswer::Verdict(user == b"alice" && password == b"secret")
///             }
///             _ => AsyncAnswer::Open(Open::Opened { count: 0, size: 0 }),
///         }
///     }
///     async fn update(&mut self, _deleted: &[u32]) -> bool { true }
/// }
///
/// let (ours, mut client) = tokio::io::duplex(4096);
/// let mut config = ServerConfig::new("pop.example.org");
/// config.allow_plaintext_auth = true; // in memory, not the Internet
/// let server = Server::new(config, pop3_proto::tokio::now(), [7; 32]);
/// let session = tokio::spawn(async move { serve(ours, server, &mut Test).await });
/// client.write_all(b"USER alice\r\nPASS secret\r\nQUIT\r\n").await.unwrap();
/// let mut transcript = String::new();
/// client.read_to_string(&mut transcript).await.unwrap();
/// assert!(transcript.contains("+OK Logged in"), "{transcript}");
/// session.await.unwrap().unwrap();
/// # }
/// ```
pub async fn serve<S, M, B>(stream: S, server: Server<M>, backend: &mut B) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    M: Marks + Send,
    B: AsyncBackend,
{
    if server.config().tls == crate::server::Tls::StartTls {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::Unsupported,
            "the server offers STLS over a stream without TLS (tokio::serve_starttls)",
        )));
    }
    serve_with(stream, server, backend, NoTls).await
}

/// [`serve`] over a stream that can start TLS ([`AsyncStartTls`]: `TokioStream`
/// with the feature `tokio-rustls`), so that the server may offer STLS.
///
/// The [`ServerDriver`] loop with a
/// receive buffer of [`ServerConfig::max_sasl_line`](crate::server::ServerConfig::max_sasl_line)
/// (24 KiB by default, at least 8 KiB: a SASL line fits whole) and 128 KiB of
/// transmit buffer: the replies to pipelined RETRs collect there until half of it
/// is pending ([`ServerDriver::set_write_batch`]), a long message leaves in writes
/// of its size. `backend.closed()` is called however the session ends, also when this
/// future is dropped (a task aborted, a timeout around it).
pub async fn serve_starttls<S, M, B>(
    stream: S,
    server: Server<M>,
    backend: &mut B,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + AsyncStartTls + Unpin + Send,
    M: Marks + Send,
    B: AsyncBackend,
{
    serve_with(stream, server, backend, WithTls).await
}

/// How the session upgrades its stream on STLS.
trait Upgrade<S>: Send {
    fn upgrade(&self, stream: &mut S) -> impl Future<Output = io::Result<()>> + Send;
    fn channel_binding(&self, stream: &S) -> Option<[u8; 32]>;
}

/// A stream without TLS.
struct NoTls;

impl<S: Send> Upgrade<S> for NoTls {
    async fn upgrade(&self, _: &mut S) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the stream has no TLS",
        ))
    }

    fn channel_binding(&self, _: &S) -> Option<[u8; 32]> {
        None
    }
}

/// A stream that starts TLS itself.
struct WithTls;

impl<S: AsyncStartTls + Send> Upgrade<S> for WithTls {
    fn upgrade(&self, stream: &mut S) -> impl Future<Output = io::Result<()>> + Send {
        stream.start_tls()
    }

    fn channel_binding(&self, stream: &S) -> Option<[u8; 32]> {
        stream.channel_binding()
    }
}

async fn serve_with<S, M, B, U>(
    stream: S,
    server: Server<M>,
    backend: &mut B,
    tls: U,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    M: Marks + Send,
    B: AsyncBackend,
    U: Upgrade<S>,
{
    let rx = server.config().max_sasl_line.max(8 * 1024);
    let mut driver = ServerDriver::new(server, vec![0; rx], vec![0; SERVER_TX]);
    driver.set_write_batch(SERVER_TX / 2);
    let mut conn = ServerConn {
        driver,
        stream,
        chunk: Vec::new(),
        tls,
    };
    let backend = Closing(backend);
    conn.serve(backend.0).await
}

/// Calls `closed()` when the session's future ends or is dropped.
struct Closing<'b, B: AsyncBackend>(&'b mut B);

impl<B: AsyncBackend> Drop for Closing<'_, B> {
    fn drop(&mut self) {
        self.0.closed();
    }
}

struct ServerConn<S, M: Marks, U> {
    driver: ServerDriver<M, Vec<u8>, Vec<u8>>,
    stream: S,
    /// Message bytes read from the backend, kept for the next message of a pipeline
    /// (allocated at a RETR or TOP, freed when the session waits for the client).
    chunk: Vec<u8>,
    tls: U,
}

/// The tokio server's transmit buffer (its untouched pages cost no memory).
const SERVER_TX: usize = 128 * 1024;

/// How much of a message the tokio server reads at a time.
const READ_CHUNK: usize = 64 * 1024;

impl<S, M, U> ServerConn<S, M, U>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    M: Marks + Send,
    U: Upgrade<S>,
{
    /// Sends the transmit buffer; a client that reads nothing for the send timeout
    /// ends the session (`TimedOut`), releasing what it holds.
    async fn flush(&mut self) -> io::Result<()> {
        let limit = self.driver.server_ref().send_timeout();
        let n = ::tokio::time::timeout(limit, send_all(&mut self.stream, self.driver.transmit()))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client stopped reading"))??;
        self.driver.transmitted(n);
        Ok(())
    }

    async fn serve<B: AsyncBackend>(&mut self, backend: &mut B) -> Result<(), Error> {
        loop {
            let now = now();
            match self.driver.poll(now)? {
                ServerPoll::Transmit => self.flush().await?,
                ServerPoll::Closed => {
                    let _ = self.stream.shutdown().await;
                    return Ok(());
                }
                ServerPoll::NeedInput { deadline } => {
                    // Waiting for the client: a session between commands holds no
                    // read buffer (pipelined RETRs share one).
                    self.chunk = Vec::new();
                    let wait = deadline.map_or(Duration::from_secs(60), |d| {
                        d.saturating_duration_since(now)
                            .max(Duration::from_millis(1))
                    });
                    let input = self.driver.input();
                    if input.is_empty() {
                        // Full of input that waits for a timer (a failed-login delay).
                        ::tokio::time::sleep(wait).await;
                        continue;
                    }
                    match ::tokio::time::timeout(wait, self.stream.read(input)).await {
                        Err(_) => {} // the deadline: poll handles the timer
                        Ok(Ok(0)) => return Ok(()),
                        Ok(Ok(n)) => self.driver.received(n),
                        Ok(Err(e)) => return Err(e.into()),
                    }
                }
                ServerPoll::Event => self.answer(backend, now).await?,
            }
        }
    }

    async fn answer<B: AsyncBackend>(
        &mut self,
        backend: &mut B,
        now: crate::time::Instant,
    ) -> Result<(), Error> {
        let Some(event) = self.driver.event() else {
            return Ok(());
        };
        match event {
            ServerEvent::StartTls => {
                // `+OK` left before the event was handed out.
                self.tls.upgrade(&mut self.stream).await?;
                self.driver.tls_started()?;
                if let Some(cb) = self.tls.channel_binding(&self.stream) {
                    self.driver.server().set_channel_binding(cb);
                }
                return Ok(());
            }
            ServerEvent::Update => {
                let deleted: Vec<u32> = self.driver.server_ref().deleted().collect();
                let ok = backend.update(&deleted).await;
                self.driver.server().answer_update(ok)?;
                return Ok(());
            }
            _ => {}
        }
        let answer = backend.answer(event).await;
        let server = self.driver.server();
        match answer {
            AsyncAnswer::Verdict(ok) => server.answer_password(ok, now)?,
            AsyncAnswer::Secret(s) => server.answer_secret(s.as_deref(), now)?,
            AsyncAnswer::Verifier(v) => server.answer_verifier(v.as_ref(), now)?,
            AsyncAnswer::CramContext(c) => server.answer_cram_context(c.as_ref(), now)?,
            AsyncAnswer::TryLater => server.answer_try_later(now)?,
            AsyncAnswer::Open(open) => server.answer_open(open)?,
            AsyncAnswer::Size(size) => server.answer_size(size)?,
            AsyncAnswer::Uid(uid) => server.answer_uid(&uid)?,
            AsyncAnswer::Message(None) => server.body_failed()?,
            AsyncAnswer::MessageBytes(bytes) => {
                self.encode_piece((*bytes).as_ref()).await?;
                if !self.driver.server_ref().is_closed() {
                    self.driver.server().body_end()?;
                }
            }
            AsyncAnswer::Message(Some(mut reader)) => {
                if self.chunk.is_empty() {
                    self.chunk = vec![0; READ_CHUNK];
                }
                let mut chunk = std::mem::take(&mut self.chunk);
                let result = self.stream_message(&mut reader, &mut chunk).await;
                self.chunk = chunk;
                result?;
            }
        }
        Ok(())
    }

    /// Streams one message from `reader` through the core's body encoder.
    async fn stream_message(
        &mut self,
        reader: &mut MessageReader,
        chunk: &mut [u8],
    ) -> Result<(), Error> {
        while !self.driver.server_ref().body_done() {
            let n = match reader.read(chunk).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => {
                    // -ERR if nothing was sent yet, else the connection closes.
                    self.driver.server().body_failed()?;
                    return Ok(());
                }
            };
            self.encode_piece(&chunk[..n]).await?;
        }
        if !self.driver.server_ref().is_closed() {
            self.driver.server().body_end()?;
        }
        Ok(())
    }

    /// Encodes `piece` of the message being sent, transmitting whenever the
    /// transmit buffer is full.
    async fn encode_piece(&mut self, mut piece: &[u8]) -> Result<(), Error> {
        while !piece.is_empty() && !self.driver.server_ref().body_done() {
            let taken = self.driver.body(piece)?;
            if taken == 0 {
                // The transmit buffer is full: send it (what poll would say).
                self.flush().await?;
            }
            piece = &piece[taken.min(piece.len())..];
        }
        Ok(())
    }
}

#[cfg(feature = "tokio-rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-rustls")))]
pub use self::tls::TokioStream;

#[cfg(feature = "tokio-rustls")]
mod tls {
    use std::boxed::Box;
    use std::io;
    use std::pin::Pin;
    use std::string::ToString;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use ::tokio::net::TcpStream;
    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, ServerConfig};
    use tokio_rustls::{client, server, TlsAcceptor, TlsConnector};

    use super::AsyncStartTls;
    use crate::tls::{other, Upgrade};

    enum Inner {
        Plain(TcpStream),
        Client(Box<client::TlsStream<TcpStream>>),
        Server(Box<server::TlsStream<TcpStream>>),
        Broken,
    }

    /// A tokio TCP connection, possibly under TLS (rustls): the async twin of
    /// [`tls::NetStream`](crate::tls::NetStream).
    pub struct TokioStream {
        inner: Inner,
        upgrade: Upgrade,
        handshake_timeout: std::time::Duration,
    }

    impl TokioStream {
        /// A plain connection that cannot start TLS.
        pub fn plain(tcp: TcpStream) -> Self {
            TokioStream {
                inner: Inner::Plain(tcp),
                upgrade: Upgrade::None,
                handshake_timeout: crate::tls::DEFAULT_HANDSHAKE_TIMEOUT,
            }
        }

        /// Bounds the whole TLS handshake (default
        /// [`DEFAULT_HANDSHAKE_TIMEOUT`](crate::tls::DEFAULT_HANDSHAKE_TIMEOUT)).
        pub fn handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.handshake_timeout = timeout;
            self
        }

        /// A client connection, plain for now; STLS will verify `host` with `config`.
        pub fn client_starttls(
            tcp: TcpStream,
            config: Arc<ClientConfig>,
            host: &str,
        ) -> io::Result<Self> {
            let name = ServerName::try_from(host.to_string()).map_err(other)?;
            Ok(TokioStream {
                inner: Inner::Plain(tcp),
                upgrade: Upgrade::Client(config, name),
                handshake_timeout: crate::tls::DEFAULT_HANDSHAKE_TIMEOUT,
            })
        }

        /// A client connection under TLS from the first byte (pop3s).
        pub async fn client_tls(
            tcp: TcpStream,
            config: Arc<ClientConfig>,
            host: &str,
        ) -> io::Result<Self> {
            let mut s = Self::client_starttls(tcp, config, host)?;
            s.start_tls().await?;
            Ok(s)
        }

        /// A server connection, plain for now; STLS will use `config`.
        pub fn server_starttls(tcp: TcpStream, config: Arc<ServerConfig>) -> Self {
            TokioStream {
                inner: Inner::Plain(tcp),
                upgrade: Upgrade::Server(config),
                handshake_timeout: crate::tls::DEFAULT_HANDSHAKE_TIMEOUT,
            }
        }

        /// A server connection under TLS from the first byte (pop3s).
        pub async fn server_tls(tcp: TcpStream, config: Arc<ServerConfig>) -> io::Result<Self> {
            let mut s = Self::server_starttls(tcp, config);
            s.start_tls().await?;
            Ok(s)
        }

        /// True once TLS is running.
        pub fn is_tls(&self) -> bool {
            matches!(self.inner, Inner::Client(_) | Inner::Server(_))
        }
    }

    impl AsyncStartTls for TokioStream {
        fn channel_binding(&self) -> Option<[u8; 32]> {
            match &self.inner {
                Inner::Client(s) => crate::tls::channel_binding(s.get_ref().1),
                Inner::Server(s) => crate::tls::channel_binding(s.get_ref().1),
                _ => None,
            }
        }

        async fn start_tls(&mut self) -> io::Result<()> {
            let Inner::Plain(_) = self.inner else {
                return Err(other("TLS already active"));
            };
            let Inner::Plain(tcp) = std::mem::replace(&mut self.inner, Inner::Broken) else {
                return Err(other("TLS already active"));
            };
            let limit = self.handshake_timeout;
            let late = |_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake took too long");
            self.inner = match self.upgrade.clone() {
                Upgrade::None => {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "no TLS configured",
                    ))
                }
                Upgrade::Client(config, name) => {
                    let connect = TlsConnector::from(config).connect(name, tcp);
                    let s = ::tokio::time::timeout(limit, connect)
                        .await
                        .map_err(late)??;
                    Inner::Client(Box::new(s))
                }
                Upgrade::Server(config) => {
                    let accept = TlsAcceptor::from(config).accept(tcp);
                    let s = ::tokio::time::timeout(limit, accept)
                        .await
                        .map_err(late)??;
                    Inner::Server(Box::new(s))
                }
            };
            Ok(())
        }
    }

    fn broken() -> io::Error {
        other("broken stream")
    }

    impl AsyncRead for TokioStream {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match &mut self.get_mut().inner {
                Inner::Plain(t) => Pin::new(t).poll_read(cx, buf),
                Inner::Client(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
                Inner::Server(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
                Inner::Broken => Poll::Ready(Err(broken())),
            }
        }
    }

    impl AsyncWrite for TokioStream {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            match &mut self.get_mut().inner {
                Inner::Plain(t) => Pin::new(t).poll_write(cx, buf),
                Inner::Client(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
                Inner::Server(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
                Inner::Broken => Poll::Ready(Err(broken())),
            }
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match &mut self.get_mut().inner {
                Inner::Plain(t) => Pin::new(t).poll_flush(cx),
                Inner::Client(s) => Pin::new(s.as_mut()).poll_flush(cx),
                Inner::Server(s) => Pin::new(s.as_mut()).poll_flush(cx),
                Inner::Broken => Poll::Ready(Ok(())),
            }
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match &mut self.get_mut().inner {
                Inner::Plain(t) => Pin::new(t).poll_shutdown(cx),
                Inner::Client(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
                Inner::Server(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
                Inner::Broken => Poll::Ready(Ok(())),
            }
        }
    }
}
