//! The client role as a pure state machine.
//!
//! Commands are queued with methods ([`Client::stat`], [`Client::retr`], …) and
//! written by [`Client::poll_transmit`] into the caller's buffer: all at once when
//! the server offers PIPELINING, one at a time otherwise. Replies are decoded by
//! [`Client::handle_input`] from the caller's receive buffer and matched to the
//! commands in order; each produces typed [`ClientEvent`]s, message bodies as
//! borrowed, dot-unstuffed chunks.
//!
//! Drive it with [`crate::driver::ClientDriver`] and its one loop rule (call
//! `poll`, do what it says, call `poll` again). Events borrow only the received
//! bytes, never the client, so commands can be queued while one is held; as a `Copy`
//! [`EventToken`] an event can also be kept across `.await`.
//!
//! ## When the server's reply is wrong
//!
//! Two kinds of wrong, two outcomes:
//!
//! - **Malformed inside its own framing** — a status line or one listing line that is
//!   framed correctly but cannot be believed: `+OK 7` to STAT, a LIST line that is not
//!   `msg size`, `LIST 1` answered for message 99, a message number 0 or above what
//!   STAT allows. Only that command fails: the reply is consumed to its end (a
//!   listing up to its `.`, its later lines unreported) and
//!   [`ClientEvent::Invalid`] takes the place of its last event, with a typed
//!   [`InvalidReply`]. The next command reads its own reply.
//! - **Framing lost** — bytes when no reply is expected (no command in flight, or
//!   more bytes after a SASL challenge before our answer), a line that is not
//!   `+OK`/`-ERR` where one must be, a line too long to frame, a SASL exchange that
//!   fails on our side (a SCRAM server that did not prove the password). Then
//!   [`handle_input`](Client::handle_input) returns the error and the client is
//!   closed: [`is_closed`](Client::is_closed), every later command refused with
//!   [`ClientError::WrongState`], nothing more read as a reply (all input is
//!   consumed from then on, in the sense that none of it will ever be used).
//!
//! Either way the caller knows how much input was used: an event's
//! [`Decoded::consumed`], or, after an error, all of it.
//!
//! ## STLS
//!
//! Nothing can be queued behind STLS (RFC 2595: what follows depends on its
//! outcome): until it is answered, commands are refused with
//! [`ClientError::WrongState`]. After `+OK` ([`ClientEvent::StartTls`]) nothing is
//! sent or read until [`Client::tls_started`]: the event consumes all the input it
//! was decoded from, and later input is consumed and ignored, so plaintext the server
//! (or anyone on the path) put behind its `+OK` is never read as a reply.

pub mod caps;

use core::fmt;

use crate::codec::client::{Expect, ResponseDecoder, ResponseEvent};
use crate::codec::{DecodeError, Decoded};
use crate::command::Command;
use crate::encode::EncodeError;
use crate::response::capability::Capability;
use crate::response::code::ResponseCode;
use crate::response::greeting::apop_timestamp;
use crate::response::listing::{LangEntry, ListEntry, ListingError, Stat, UidlEntry};
use crate::response::status::StatusLine;
use crate::sasl::MechanismSet;
use crate::BareLf;

pub use crate::sasl::SaslMechanism;
pub use caps::Capabilities;

use crate::sasl::client::{Creds, SaslClient};

/// Commands that can be queued or in flight at once; one more is
/// [`ClientError::QueueFull`].
///
/// To fetch more messages than that (a RETR per message of a 40-message mailbox),
/// queue while there is room and refill as replies come in: at each event, while
/// [`Client::queue_room`] allows (it grows as each reply ends), and at
/// [`Poll::Idle`](crate::driver::Poll::Idle) (nothing queued or in flight: then
/// also QUIT once everything was queued). With PIPELINING the queue keeps up to 32
/// commands on the wire; without, they leave one at a time.
///
/// ```
/// use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
/// use pop3_proto::driver::{ClientDriver, Poll};
/// use pop3_proto::time::Instant;
///
/// /// A server in memory: the reply to each command line.
/// fn reply(line: &[u8]) -> Vec<u8> {
///     match line.strip_prefix(b"RETR ") {
///         Some(n) => [b"+OK\r\nmessage ", n, b"\r\n.\r\n"].concat(),
///         None => b"+OK\r\n".to_vec(),
///     }
/// }
///
/// let config = ClientConfig { allow_plaintext: true, auto_capa: false, ..ClientConfig::default() };
/// let mut c = ClientDriver::new(Client::new(config, [1; 32]), [0u8; 1024], [0u8; 512]);
/// let login = Login::UserPass { user: b"alice", password: b"secret" };
/// let (now, count) = (Instant::from_millis(0), 40);
/// let (mut wire, mut next, mut fetched) = (b"+OK ready\r\n".to_vec(), 1, 0);
/// loop {
///     // Refill whenever there is room, from login on.
///     while c.client_ref().is_logged_in() && next <= count && c.client_ref().queue_room() > 0 {
///         c.client().retr(next).unwrap();
///         next += 1;
///     }
///     match c.poll(now).unwrap() {
///         Poll::Transmit => {
///             let sent = c.transmit().to_vec();
///             c.transmitted(sent.len());
///             for line in sent.split_inclusive(|b| *b == b'\n') {
///                 wire.extend(reply(line.trim_ascii_end()));
///             }
///         }
///         Poll::NeedInput { .. } => {
///             let n = wire.len().min(c.input().len());
///             c.input()[..n].copy_from_slice(&wire[..n]);
///             c.received(n);
///             wire.drain(..n);
///         }
///         Poll::Event => match c.event().unwrap() {
///             ClientEvent::Greeting { .. } => c.client().login(login).unwrap(),
///             ClientEvent::NeedCredentials { .. } => c.credentials(&login).unwrap(),
///             ClientEvent::MessageEnd { .. } => fetched += 1,
///             _ => {}
///         },
///         // Everything queued was answered: all fetched, time to go.
///         Poll::Idle => c.client().quit().unwrap(),
///         Poll::Closed => break,
///     }
/// }
/// assert_eq!(fetched, 40);
/// ```
pub const MAX_QUEUED: usize = 32;

/// Most lines a CAPA listing may have (Dovecot's has about ten): the client did not
/// ask for a stream, so a longer one is a server that never ends it, and fatal
/// ([`ClientError::Protocol`]).
pub const MAX_CAPA_LINES: u32 = 256;

/// Client settings. `ClientConfig::default()` is the safe choice for an
/// unencrypted connection that will be upgraded with STLS; set `tls` for port 995.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The transport is already encrypted (implicit TLS, port 995). Default: `false`.
    pub tls: bool,
    /// Allow sending passwords or tokens in cleartext (USER/PASS, PLAIN, LOGIN,
    /// XOAUTH2, OAUTHBEARER) without TLS. Default: `false` (RFC 2595, RFC 8314).
    pub allow_plaintext: bool,
    /// Send CAPA after the greeting, after STLS and after login (RFC 2449, RFC 2595).
    /// Default: `true`.
    pub auto_capa: bool,
    /// What a bare LF means in message bodies. Default: [`BareLf::Auto`]: a body
    /// whose `+OK` line ended in CRLF is framed as RFC 1939 says (only CRLF ends a
    /// line), one whose `+OK` line ended in a bare LF as an LF-only server sends it.
    pub bare_lf: BareLf,
    /// Lowest SCRAM iteration count accepted. Default: 4096 (RFC 5802's
    /// recommendation); counts above 1,000,000 are always refused.
    pub min_scram_iterations: u32,
    /// Host name the client connected to (OAUTHBEARER sends it). Default: empty.
    /// Set it from a `&str` with [`with_host`](Self::with_host).
    pub host: crate::ShortString,
    /// Port the client connected to (OAUTHBEARER sends it). Default: 110.
    pub port: u16,
    /// How long the server may take to send its greeting, in milliseconds from the
    /// driver's first [`poll`](crate::driver::ClientDriver::poll) (0: no limit).
    /// Past it the driver fails with [`ClientError::GreetingTimeout`]. Default:
    /// [`DEFAULT_TIMEOUT_MS`] (120 s, curl's response timeout; mpop waits 180 s).
    pub greeting_timeout_ms: u32,
    /// How long the server may send nothing while a reply is due, in milliseconds
    /// since the last byte sent or received (0: no limit): a long message that
    /// keeps arriving never times out, a server that stops does. Past it the driver
    /// fails with [`ClientError::ReplyTimeout`]. Default: [`DEFAULT_TIMEOUT_MS`].
    pub reply_timeout_ms: u32,
}

/// The default [`ClientConfig::greeting_timeout_ms`] and
/// [`ClientConfig::reply_timeout_ms`]: 120 s, as curl's response timeout (mpop's
/// default is 180 s).
pub const DEFAULT_TIMEOUT_MS: u32 = 120_000;

impl ClientConfig {
    /// Sets [`host`](Self::host) (cut to 64 bytes at a character boundary) and
    /// [`port`](Self::port).
    ///
    /// ```
    /// use pop3_proto::client::ClientConfig;
    ///
    /// let config = ClientConfig { tls: true, ..ClientConfig::default() }
    ///     .with_host("mail.example.org", 995);
    /// assert_eq!(config.host, "mail.example.org");
    /// ```
    pub fn with_host(mut self, host: &str, port: u16) -> Self {
        self.host = crate::short_string(host);
        self.port = port;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tls: false,
            allow_plaintext: false,
            auto_capa: true,
            bare_lf: BareLf::Auto,
            min_scram_iterations: 4096,
            host: heapless::String::new(),
            port: 110,
            greeting_timeout_ms: DEFAULT_TIMEOUT_MS,
            reply_timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}

/// How to log in, with the credentials.
///
/// The client keeps no copy of them: [`Client::login`] checks and queues the login,
/// and when a line that carries them is due the client asks for them again with
/// [`ClientEvent::NeedCredentials`], answered with the same `Login` through
/// [`Client::write_credentials`] (or [`ClientDriver::credentials`]). So a token of
/// any length can be sent, and the credentials stay where the caller keeps them.
///
/// [`ClientDriver::credentials`]: crate::driver::ClientDriver::credentials
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Login<'a> {
    /// USER and PASS (cleartext).
    UserPass {
        /// The user name.
        user: &'a [u8],
        /// The password.
        password: &'a [u8],
    },
    /// APOP: the password never crosses the wire, but MD5 is broken; only when the
    /// greeting carried a valid timestamp.
    Apop {
        /// The user name.
        user: &'a [u8],
        /// The shared secret.
        secret: &'a [u8],
    },
    /// AUTH with a SASL mechanism.
    Sasl {
        /// The mechanism.
        mechanism: SaslMechanism,
        /// The authorization identity (usually empty: act as `user`).
        authzid: &'a [u8],
        /// The user name (authentication identity).
        user: &'a [u8],
        /// The password, or the bearer token for XOAUTH2 / OAUTHBEARER; unused by EXTERNAL.
        secret: &'a [u8],
    },
}

/// Passwords, secrets and tokens print as `<redacted N bytes>`, names as byte
/// strings.
impl fmt::Debug for Login<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::debug::{Bytes, Redacted};
        match *self {
            Login::UserPass { user, password } => f
                .debug_struct("UserPass")
                .field("user", &Bytes(user))
                .field("password", &Redacted(password.len()))
                .finish(),
            Login::Apop { user, secret } => f
                .debug_struct("Apop")
                .field("user", &Bytes(user))
                .field("secret", &Redacted(secret.len()))
                .finish(),
            Login::Sasl {
                mechanism,
                authzid,
                user,
                secret,
            } => f
                .debug_struct("Sasl")
                .field("mechanism", &mechanism)
                .field("authzid", &Bytes(authzid))
                .field("user", &Bytes(user))
                .field("secret", &Redacted(secret.len()))
                .finish(),
        }
    }
}

/// What the server said, typed by the command it answers. `Debug` prints byte
/// fields as byte strings (`b"000001"`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientEvent<'a> {
    /// The next line carries the login's credentials (USER, PASS, APOP, AUTH with
    /// an initial response, or the answer to a SASL challenge): answer with the
    /// [`Login`] that was queued, through [`Client::write_credentials`] (or
    /// [`ClientDriver::credentials`](crate::driver::ClientDriver::credentials)),
    /// before anything else. The client keeps no credentials between lines, so it
    /// may ask more than once per login (PASS after USER without PIPELINING; LOGIN,
    /// CRAM-MD5 and SCRAM after their challenges).
    NeedCredentials {
        /// The SASL challenge the answer is computed from (base64 text, as
        /// received), to pass to [`Client::write_credentials`]; empty when the
        /// credentials go with a command.
        challenge: &'a [u8],
    },
    /// The `+OK` greeting; `apop` tells whether it had a valid APOP timestamp.
    Greeting {
        /// The greeting text.
        text: &'a [u8],
        /// APOP is possible.
        apop: bool,
    },
    /// One capability line (all are also recorded in [`Client::capabilities`]).
    Capability(Capability<'a>),
    /// The end of the CAPA listing.
    CapabilitiesEnd,
    /// `+OK` to STLS: run the TLS handshake now, then call [`Client::tls_started`].
    StartTls,
    /// Logged in: TRANSACTION state.
    LoggedIn,
    /// The reply to STAT.
    Stat(Stat),
    /// A scan listing line (LIST, or LIST n).
    List(ListEntry),
    /// The end of a LIST listing.
    ListEnd,
    /// A unique-id line (UIDL, or UIDL n).
    Uidl(UidlEntry<'a>),
    /// The end of a UIDL listing.
    UidlEnd,
    /// A language line of LANG.
    Lang(LangEntry<'a>),
    /// The end of a LANG listing.
    LangEnd,
    /// The message (RETR or TOP) starts.
    MessageStart {
        /// The message number.
        msg: u32,
    },
    /// Message bytes, dot-unstuffed, CRLF line ends as received.
    MessageData {
        /// The message number.
        msg: u32,
        /// The bytes (borrowed from the input).
        data: &'a [u8],
    },
    /// The message is complete (its terminator was received).
    MessageEnd {
        /// The message number.
        msg: u32,
    },
    /// DELE succeeded.
    Deleted {
        /// The message number.
        msg: u32,
    },
    /// `+OK` to NOOP, RSET, UTF8 or LANG tag.
    Ok {
        /// The command answered.
        command: CommandKind,
        /// The text after `+OK`.
        text: &'a [u8],
    },
    /// `+OK` to QUIT: in TRANSACTION state the deletions were applied. Close.
    Closed,
    /// A reply the client refuses although its framing was intact (see the module
    /// docs): a malformed STAT, LIST n or UIDL n reply or listing line, or a message
    /// number out of range or other than the one asked for. The command failed, its
    /// reply was consumed to its end (this event takes the place of a listing's end;
    /// its lines after the bad one are not reported), and the session goes on.
    Invalid {
        /// The command whose reply was refused.
        command: CommandKind,
        /// The message the command named (LIST n, UIDL n), if any.
        msg: Option<u32>,
        /// What was wrong.
        reason: InvalidReply,
    },
    /// `-ERR` to a command. The session goes on (unless the server closes).
    Error {
        /// The command refused.
        command: CommandKind,
        /// The message the refused command named (RETR, TOP, DELE, LIST n, UIDL n), so
        /// that pipelined refusals need no bookkeeping by the caller.
        msg: Option<u32>,
        /// The response code, if any (IN-USE, LOGIN-DELAY, SYS/TEMP, AUTH, …).
        code: Option<ResponseCode<'a>>,
        /// The server's text.
        text: &'a [u8],
    },
}

impl fmt::Debug for ClientEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::debug::Bytes;
        match *self {
            ClientEvent::NeedCredentials { challenge } => f
                .debug_struct("NeedCredentials")
                .field("challenge", &Bytes(challenge))
                .finish(),
            ClientEvent::Greeting { text, apop } => f
                .debug_struct("Greeting")
                .field("text", &Bytes(text))
                .field("apop", &apop)
                .finish(),
            ClientEvent::Capability(c) => f.debug_tuple("Capability").field(&c).finish(),
            ClientEvent::CapabilitiesEnd => f.write_str("CapabilitiesEnd"),
            ClientEvent::StartTls => f.write_str("StartTls"),
            ClientEvent::LoggedIn => f.write_str("LoggedIn"),
            ClientEvent::Stat(s) => f.debug_tuple("Stat").field(&s).finish(),
            ClientEvent::List(e) => f.debug_tuple("List").field(&e).finish(),
            ClientEvent::ListEnd => f.write_str("ListEnd"),
            ClientEvent::Uidl(e) => f.debug_tuple("Uidl").field(&e).finish(),
            ClientEvent::UidlEnd => f.write_str("UidlEnd"),
            ClientEvent::Lang(e) => f.debug_tuple("Lang").field(&e).finish(),
            ClientEvent::LangEnd => f.write_str("LangEnd"),
            ClientEvent::MessageStart { msg } => {
                f.debug_struct("MessageStart").field("msg", &msg).finish()
            }
            ClientEvent::MessageData { msg, data } => f
                .debug_struct("MessageData")
                .field("msg", &msg)
                .field("data", &Bytes(data))
                .finish(),
            ClientEvent::MessageEnd { msg } => {
                f.debug_struct("MessageEnd").field("msg", &msg).finish()
            }
            ClientEvent::Deleted { msg } => f.debug_struct("Deleted").field("msg", &msg).finish(),
            ClientEvent::Ok { command, text } => f
                .debug_struct("Ok")
                .field("command", &command)
                .field("text", &Bytes(text))
                .finish(),
            ClientEvent::Closed => f.write_str("Closed"),
            ClientEvent::Invalid {
                command,
                msg,
                reason,
            } => f
                .debug_struct("Invalid")
                .field("command", &command)
                .field("msg", &msg)
                .field("reason", &reason)
                .finish(),
            ClientEvent::Error {
                command,
                msg,
                code,
                text,
            } => f
                .debug_struct("Error")
                .field("command", &command)
                .field("msg", &msg)
                .field("code", &code)
                .field("text", &Bytes(text))
                .finish(),
        }
    }
}

/// Why a reply framed correctly was not believed ([`ClientEvent::Invalid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InvalidReply {
    /// The `+OK` text of STAT, LIST n or UIDL n, or a line of a LIST, UIDL or LANG
    /// listing, does not parse.
    Malformed(ListingError),
    /// LIST n or UIDL n was answered for another message.
    OtherMessage {
        /// The message number the server named.
        msg: u32,
    },
    /// Message number 0, or one above the highest the last STAT allows (its count
    /// plus the messages deleted before it in this session: numbers are never
    /// reassigned, RFC 1939 §6). Without a STAT, only 0 is refused.
    NumberOutOfRange {
        /// The message number the server named.
        msg: u32,
    },
}

impl core::error::Error for InvalidReply {}

impl fmt::Display for InvalidReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidReply::Malformed(e) => write!(f, "malformed reply: {e}"),
            InvalidReply::OtherMessage { msg } => {
                write!(f, "reply names another message ({msg})")
            }
            InvalidReply::NumberOutOfRange { msg } => {
                write!(f, "message number {msg} out of range")
            }
        }
    }
}

/// Which command a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CommandKind {
    /// The greeting (no command).
    Greeting,
    /// CAPA
    Capa,
    /// STLS
    Stls,
    /// USER
    User,
    /// PASS
    Pass,
    /// APOP
    Apop,
    /// AUTH
    Auth,
    /// STAT
    Stat,
    /// LIST
    List,
    /// UIDL
    Uidl,
    /// RETR
    Retr,
    /// TOP
    Top,
    /// DELE
    Dele,
    /// NOOP
    Noop,
    /// RSET
    Rset,
    /// QUIT
    Quit,
    /// UTF8
    Utf8,
    /// LANG
    Lang,
}

/// Why the client cannot go on, or refuses a request.
///
/// Every error from [`Client::handle_input`] is fatal: the client is closed (see the
/// module docs). Errors from the methods that queue commands refuse only that
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientError {
    /// The server's bytes could not be decoded (fatal).
    Decode(DecodeError),
    /// Bytes that make no sense where they are: data when no reply is expected, a
    /// success after a failed authentication (fatal).
    Protocol(&'static str),
    /// The greeting was `-ERR` (fatal).
    Rejected,
    /// The command is not allowed in the current state.
    WrongState,
    /// Too many commands queued; handle replies first.
    QueueFull,
    /// Credentials would cross an unencrypted connection; see
    /// [`ClientConfig::allow_plaintext`].
    PlaintextRefused,
    /// The greeting had no APOP timestamp.
    ApopUnavailable,
    /// The server did not advertise that SASL mechanism.
    MechanismUnavailable,
    /// The last CAPA did not advertise this command (UTF8 and LANG need it, RFC
    /// 6856); wait for [`ClientEvent::CapabilitiesEnd`] before queueing them.
    NotAdvertised(CommandKind),
    /// A user name or password makes a command line longer than 255 octets.
    CredentialTooLong,
    /// The client asked for credentials ([`ClientEvent::NeedCredentials`]) and was
    /// polled again without them (fatal: the login cannot go on).
    CredentialsNeeded,
    /// [`Client::write_credentials`] got a [`Login`] of another method or mechanism
    /// than the one queued, or was called when no credentials were asked for.
    LoginMismatch,
    /// An argument contains CR, LF, NUL or another forbidden byte.
    InvalidArgument,
    /// The caller's output buffer is too small for the next line.
    BufferTooSmall,
    /// The SASL exchange failed on our side (bad server signature, nonce, …) (fatal).
    Sasl(&'static str),
    /// The driver's receive or transmit buffer is smaller than the role needs
    /// ([`MIN_CLIENT_RECEIVE`](crate::driver::MIN_CLIENT_RECEIVE),
    /// [`MIN_CLIENT_TRANSMIT`](crate::driver::MIN_CLIENT_TRANSMIT)) (fatal).
    BuffersTooSmall,
    /// No greeting within [`ClientConfig::greeting_timeout_ms`] (fatal).
    GreetingTimeout,
    /// A reply was due and the server sent nothing for
    /// [`ClientConfig::reply_timeout_ms`] (fatal).
    ReplyTimeout,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Decode(e) => write!(f, "cannot decode server reply: {e}"),
            ClientError::Protocol(what) => write!(f, "protocol violation: {what}"),
            ClientError::Rejected => f.write_str("server refused the connection"),
            ClientError::WrongState => f.write_str("command not allowed now"),
            ClientError::QueueFull => f.write_str("too many commands queued"),
            ClientError::PlaintextRefused => {
                f.write_str("refusing to send credentials over an unencrypted connection")
            }
            ClientError::ApopUnavailable => f.write_str("server offers no APOP timestamp"),
            ClientError::MechanismUnavailable => f.write_str("SASL mechanism not offered"),
            ClientError::NotAdvertised(command) => {
                write!(f, "{command:?} not advertised by the server")
            }
            ClientError::CredentialTooLong => f.write_str("credential too long"),
            ClientError::CredentialsNeeded => {
                f.write_str("the client asked for credentials and got none")
            }
            ClientError::LoginMismatch => {
                f.write_str("credentials for another login than the one queued")
            }
            ClientError::InvalidArgument => f.write_str("invalid argument"),
            ClientError::BufferTooSmall => f.write_str("output buffer too small"),
            ClientError::Sasl(what) => write!(f, "SASL: {what}"),
            ClientError::BuffersTooSmall => {
                f.write_str("driver buffers smaller than a protocol line")
            }
            ClientError::GreetingTimeout => f.write_str("no greeting from the server in time"),
            ClientError::ReplyTimeout => f.write_str("no reply from the server in time"),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<DecodeError> for ClientError {
    fn from(e: DecodeError) -> Self {
        ClientError::Decode(e)
    }
}

impl From<EncodeError> for ClientError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::BufferTooSmall => ClientError::BufferTooSmall,
            EncodeError::LineTooLong { .. } => ClientError::CredentialTooLong,
            EncodeError::InvalidArgument => ClientError::InvalidArgument,
        }
    }
}

/// A queued or in-flight command, without borrowed data (credentials are asked
/// for when their line is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Capa,
    Stls,
    User,
    Pass,
    Apop,
    Auth { initial_response: bool },
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Retr(u32),
    Top(u32, u32),
    Dele(u32),
    Noop,
    Rset,
    Quit,
    Utf8,
    Lang(Option<[u8; 8]>),
}

impl Pending {
    fn kind(&self) -> CommandKind {
        match self {
            Pending::Capa => CommandKind::Capa,
            Pending::Stls => CommandKind::Stls,
            Pending::User => CommandKind::User,
            Pending::Pass => CommandKind::Pass,
            Pending::Apop => CommandKind::Apop,
            Pending::Auth { .. } => CommandKind::Auth,
            Pending::Stat => CommandKind::Stat,
            Pending::List(_) => CommandKind::List,
            Pending::Uidl(_) => CommandKind::Uidl,
            Pending::Retr(_) => CommandKind::Retr,
            Pending::Top(..) => CommandKind::Top,
            Pending::Dele(_) => CommandKind::Dele,
            Pending::Noop => CommandKind::Noop,
            Pending::Rset => CommandKind::Rset,
            Pending::Quit => CommandKind::Quit,
            Pending::Utf8 => CommandKind::Utf8,
            Pending::Lang(_) => CommandKind::Lang,
        }
    }

    fn expect(&self) -> Expect {
        match self {
            Pending::Capa | Pending::List(None) | Pending::Uidl(None) | Pending::Lang(None) => {
                Expect::Listing
            }
            Pending::Retr(_) | Pending::Top(..) => Expect::Body,
            Pending::Auth { .. } => Expect::Sasl,
            _ => Expect::Status,
        }
    }

    /// Commands whose line carries credentials (asked for when it is due).
    fn needs_credentials(&self) -> bool {
        matches!(
            self,
            Pending::User
                | Pending::Pass
                | Pending::Apop
                | Pending::Auth {
                    initial_response: true
                }
        )
    }

    /// Commands after which nothing may be sent until their reply has arrived.
    fn is_barrier(&self) -> bool {
        matches!(
            self,
            Pending::Stls | Pending::Auth { .. } | Pending::Quit | Pending::Capa
        )
    }

    /// The message the command names, if any.
    fn msg(&self) -> Option<u32> {
        match *self {
            Pending::Retr(m) | Pending::Top(m, _) | Pending::Dele(m) => Some(m),
            Pending::List(m) | Pending::Uidl(m) => m,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    pending: Pending,
    sent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Greeting,
    Authorization,
    Transaction,
    Closed,
}

/// A POP3 client session.
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    decoder: ResponseDecoder,
    queue: heapless::Deque<Entry, MAX_QUEUED>,
    phase: Phase,
    caps: Capabilities,
    tls_active: bool,
    timestamp: heapless::Vec<u8, 96>,
    sasl: Option<SaslClient>,
    random: [u8; 32],
    /// A SASL line waits to be sent (the response to the last challenge).
    sasl_line_ready: bool,
    /// The next command to send carries credentials: nothing leaves until
    /// `write_credentials`.
    creds_blocked: bool,
    /// STLS was accepted: nothing is sent or read until `tls_started`.
    awaiting_tls: bool,
    /// The listing being received failed: its remaining lines are skipped, and this
    /// is reported at its end.
    invalid: Option<InvalidReply>,
    /// Lines of the multi-line reply being received, to bound those the caller did
    /// not ask to stream: CAPA ([`MAX_CAPA_LINES`]), and a whole LIST or UIDL past
    /// the highest message number STAT allows.
    lines: u32,
    /// The highest message number, from the last STAT (count + deleted before it).
    max_msg: Option<u32>,
    /// DELE accepted since login or the last RSET.
    deleted: u32,
    /// The TLS session's `tls-exporter` value (RFC 9266), for SCRAM -PLUS.
    channel_binding: Option<[u8; 32]>,
}

impl Client {
    /// A client about to receive the greeting. `random` must be fresh per session
    /// (SCRAM client nonce).
    pub fn new(config: ClientConfig, random: [u8; 32]) -> Self {
        let decoder = ResponseDecoder::new().with_bare_lf(config.bare_lf);
        let tls_active = config.tls;
        let mut client = Client {
            config,
            decoder,
            queue: heapless::Deque::new(),
            phase: Phase::Greeting,
            caps: Capabilities::default(),
            tls_active,
            timestamp: heapless::Vec::new(),
            sasl: None,
            random,
            sasl_line_ready: false,
            creds_blocked: false,
            awaiting_tls: false,
            invalid: None,
            lines: 0,
            max_msg: None,
            deleted: 0,
            channel_binding: None,
        };
        client.decoder.expect(Expect::Status);
        client
    }

    /// The capabilities learnt from the last CAPA.
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// True once logged in (TRANSACTION state).
    pub fn is_logged_in(&self) -> bool {
        self.phase == Phase::Transaction
    }

    /// How long the server may be silent now, in milliseconds (`None`: no limit):
    /// the greeting timeout before the greeting, else the reply timeout.
    pub(crate) fn silence_limit_ms(&self) -> Option<u64> {
        let ms = if self.phase == Phase::Greeting {
            self.config.greeting_timeout_ms
        } else {
            self.config.reply_timeout_ms
        };
        (ms > 0).then_some(u64::from(ms))
    }

    /// The error for a server silent past [`silence_limit_ms`](Self::silence_limit_ms).
    pub(crate) fn timeout_error(&self) -> ClientError {
        if self.phase == Phase::Greeting {
            ClientError::GreetingTimeout
        } else {
            ClientError::ReplyTimeout
        }
    }

    /// True after QUIT was answered or a fatal error.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// How many more commands can be queued now (at most [`MAX_QUEUED`] are
    /// queued or in flight at once; a login takes up to two). Queue more as it
    /// grows (see [`MAX_QUEUED`] for the refill loop).
    pub fn queue_room(&self) -> usize {
        self.queue.capacity() - self.queue.len()
    }

    /// True when no command is queued or waiting for its reply (also while the TLS
    /// handshake after [`ClientEvent::StartTls`] is awaited).
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && !self.sasl_line_ready && self.phase != Phase::Greeting
    }

    /// True if the connection is encrypted.
    pub fn tls_active(&self) -> bool {
        self.tls_active
    }

    /// True between STLS's `+OK` ([`ClientEvent::StartTls`]) and
    /// [`tls_started`](Self::tls_started): the transport awaits its TLS handshake.
    pub fn awaiting_tls(&self) -> bool {
        self.awaiting_tls && self.phase != Phase::Closed
    }

    fn push(&mut self, pending: Pending) -> Result<(), ClientError> {
        // Nothing behind QUIT, nor behind STLS until the handshake is over.
        if self.phase == Phase::Closed
            || self.awaiting_tls
            || self
                .queue
                .iter()
                .any(|e| matches!(e.pending, Pending::Quit | Pending::Stls))
        {
            return Err(ClientError::WrongState);
        }
        self.queue
            .push_back(Entry {
                pending,
                sent: false,
            })
            .map_err(|_| ClientError::QueueFull)
    }

    fn require(&self, phase: Phase) -> Result<(), ClientError> {
        let login_queued = self.queue.iter().any(|e| {
            matches!(
                e.pending,
                Pending::Pass | Pending::Apop | Pending::Auth { .. }
            )
        });
        let ok = match phase {
            Phase::Authorization => {
                matches!(self.phase, Phase::Greeting | Phase::Authorization) && !login_queued
            }
            // Transaction commands may be queued behind a login (RFC 2449 pipelining).
            Phase::Transaction => self.phase == Phase::Transaction || login_queued,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ClientError::WrongState)
        }
    }

    /// Queues CAPA.
    pub fn capa(&mut self) -> Result<(), ClientError> {
        self.push(Pending::Capa)
    }

    /// Queues STLS (AUTHORIZATION only; not after UTF8, RFC 6856). Until it is
    /// answered nothing else can be queued; after `+OK`, nothing until
    /// [`tls_started`](Self::tls_started).
    pub fn stls(&mut self) -> Result<(), ClientError> {
        self.require(Phase::Authorization)?;
        if self.tls_active {
            return Err(ClientError::WrongState);
        }
        self.push(Pending::Stls)
    }

    /// The TLS handshake after [`ClientEvent::StartTls`] succeeded: everything learnt
    /// before is forgotten (RFC 2595), and CAPA is queued again if `auto_capa`.
    ///
    /// Input received before this call was consumed and ignored by the client (the
    /// StartTls event consumed all of its input); pass only bytes read through TLS
    /// from now on. Refused with [`ClientError::WrongState`] at any other time.
    pub fn tls_started(&mut self) -> Result<(), ClientError> {
        if !self.awaiting_tls || self.phase == Phase::Closed {
            return Err(ClientError::WrongState);
        }
        self.awaiting_tls = false;
        self.tls_active = true;
        self.caps = Capabilities::default();
        if self.config.auto_capa {
            self.capa()?;
        }
        Ok(())
    }

    /// Gives the client the TLS session's channel binding: its `tls-exporter` value
    /// (RFC 9266: 32 bytes exported with the label `EXPORTER-Channel-Binding` and no
    /// context). With it the client can log in with SCRAM-SHA-1-PLUS and
    /// SCRAM-SHA-256-PLUS, and plain SCRAM tells a server that offered no -PLUS
    /// that it could have bound (`y`). The adapters call it after every handshake
    /// they run; after implicit TLS (port 995) the caller does.
    pub fn set_channel_binding(&mut self, tls_exporter: [u8; 32]) {
        self.channel_binding = Some(tls_exporter);
    }

    /// True once [`set_channel_binding`](Self::set_channel_binding) gave the client a
    /// binding (SCRAM -PLUS is possible).
    pub fn has_channel_binding(&self) -> bool {
        self.channel_binding.is_some()
    }

    /// Checks a login and queues its commands. The credentials are checked (no
    /// CR, LF or NUL, lines within 255 octets, plaintext policy, mechanism offered)
    /// but not kept: the client asks for them again with
    /// [`ClientEvent::NeedCredentials`] when their line is due.
    pub fn login(&mut self, login: Login<'_>) -> Result<(), ClientError> {
        self.require(Phase::Authorization)?;
        let cleartext = !self.tls_active && !self.config.allow_plaintext;
        match login {
            Login::UserPass { user, password } => {
                if cleartext {
                    return Err(ClientError::PlaintextRefused);
                }
                // Validate now so that a bad argument never half-queues a login.
                Command::User(user).check()?;
                Command::Pass(password).check()?;
                if self.queue.capacity() - self.queue.len() < 2 {
                    return Err(ClientError::QueueFull);
                }
                self.push(Pending::User)?;
                self.push(Pending::Pass)
            }
            Login::Apop { user, .. } => {
                if !cfg!(feature = "apop") {
                    return Err(ClientError::MechanismUnavailable);
                }
                if self.timestamp.is_empty() {
                    return Err(ClientError::ApopUnavailable);
                }
                Command::Apop {
                    name: user,
                    digest: &[b'0'; 32],
                }
                .check()?;
                self.push(Pending::Apop)
            }
            Login::Sasl {
                mechanism,
                authzid,
                user,
                secret,
            } => {
                if !mechanism.is_compiled() {
                    return Err(ClientError::MechanismUnavailable);
                }
                if cleartext && MechanismSet::PLAINTEXT.contains(mechanism.bit()) {
                    return Err(ClientError::PlaintextRefused);
                }
                if self.caps.known && !self.caps.mechanisms.contains(mechanism.bit()) {
                    return Err(ClientError::MechanismUnavailable);
                }
                if [authzid, user, secret].iter().any(|c| c.contains(&0)) {
                    return Err(ClientError::InvalidArgument);
                }
                // -PLUS binds to the session: only with its binding. The GS2 flag of
                // plain SCRAM, and whether AUTH carries an initial response, are
                // decided when the line is due, after CAPA.
                if mechanism.is_plus() && self.channel_binding.is_none() {
                    return Err(ClientError::MechanismUnavailable);
                }
                let sasl = SaslClient::new(mechanism, &self.random)?;
                self.sasl = Some(sasl);
                self.push(Pending::Auth {
                    initial_response: false,
                })
            }
        }
    }

    /// True if the client waits for the login's credentials
    /// ([`ClientEvent::NeedCredentials`]) before it can send anything more.
    pub fn wants_credentials(&self) -> bool {
        if self.sasl_line_ready {
            self.sasl.as_ref().is_some_and(|s| s.needs_credentials())
        } else {
            self.creds_blocked
        }
    }

    /// Answers [`ClientEvent::NeedCredentials`]: writes the line that carries the
    /// credentials into `out` and returns its length (with PIPELINING, USER and PASS
    /// together). `login` must be the one queued with [`login`](Self::login);
    /// `challenge` the event's. The credentials are not kept.
    ///
    /// An error is fatal (the client is closed): the login cannot go on without its
    /// line. [`ClientError::LoginMismatch`] for another login or when nothing was
    /// asked; [`ClientError::BufferTooSmall`] when `out` cannot hold the line (a
    /// long token needs a transmit buffer of 4/3 its size and some).
    pub fn write_credentials(
        &mut self,
        login: &Login<'_>,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<usize, ClientError> {
        match self.credentials_line(login, challenge, out) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn credentials_line(
        &mut self,
        login: &Login<'_>,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<usize, ClientError> {
        if self.sasl_line_ready {
            let sasl = self.sasl.as_mut().ok_or(ClientError::LoginMismatch)?;
            let creds = sasl_creds(login, sasl.mechanism(), &self.channel_binding, &self.caps)
                .filter(|_| sasl.needs_credentials())
                .ok_or(ClientError::LoginMismatch)?;
            let n = sasl.write_response(Some(&creds), challenge, &self.config, out)?;
            self.sasl_line_ready = false;
            return Ok(n);
        }
        if !self.creds_blocked {
            return Err(ClientError::LoginMismatch);
        }
        let i = self
            .queue
            .iter()
            .position(|e| !e.sent)
            .ok_or(ClientError::LoginMismatch)?;
        let mut written = 0;
        for i in i..self.queue.len() {
            let Some(entry) = self.queue.iter().nth(i).copied() else {
                break;
            };
            let n = match (entry.pending, *login) {
                (Pending::User, Login::UserPass { user, .. }) => {
                    Command::User(user).encode(&mut out[written..])?
                }
                (Pending::Pass, Login::UserPass { password, .. }) => {
                    match Command::Pass(password).encode(&mut out[written..]) {
                        Ok(n) => n,
                        // PASS asks again once USER has left.
                        Err(EncodeError::BufferTooSmall) if written > 0 => break,
                        Err(e) => return Err(e.into()),
                    }
                }
                #[cfg(feature = "apop")]
                (Pending::Apop, Login::Apop { user, secret }) => {
                    let digest = crate::sasl::apop_digest(&self.timestamp, secret);
                    Command::Apop {
                        name: user,
                        digest: &digest,
                    }
                    .encode(&mut out[written..])?
                }
                (Pending::Auth { .. }, Login::Sasl { .. }) => {
                    let sasl = self.sasl.as_mut().ok_or(ClientError::LoginMismatch)?;
                    let creds =
                        sasl_creds(login, sasl.mechanism(), &self.channel_binding, &self.caps)
                            .ok_or(ClientError::LoginMismatch)?;
                    sasl.write_auth_command(Some(&creds), &self.config, &mut out[written..])?
                }
                _ if written > 0 => break,
                _ => return Err(ClientError::LoginMismatch),
            };
            written += n;
            if let Some(e) = self.queue.iter_mut().nth(i) {
                e.sent = true;
            }
            // Only PASS may follow USER at once, and only with PIPELINING.
            if !(matches!(entry.pending, Pending::User) && self.caps.pipelining) {
                break;
            }
        }
        self.creds_blocked = false;
        Ok(written)
    }

    /// Queues STAT.
    pub fn stat(&mut self) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::Stat)
    }

    /// Queues LIST (all messages, or one).
    pub fn list(&mut self, msg: Option<u32>) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::List(msg))
    }

    /// Queues UIDL (all messages, or one).
    pub fn uidl(&mut self, msg: Option<u32>) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::Uidl(msg))
    }

    /// Queues RETR.
    pub fn retr(&mut self, msg: u32) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::Retr(msg))
    }

    /// Queues TOP (headers and `lines` body lines).
    pub fn top(&mut self, msg: u32, lines: u32) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::Top(msg, lines))
    }

    /// Queues DELE.
    pub fn dele(&mut self, msg: u32) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::Dele(msg))
    }

    /// Queues NOOP.
    pub fn noop(&mut self) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::Noop)
    }

    /// Queues RSET.
    pub fn rset(&mut self) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::Rset)
    }

    /// Queues UTF8 (AUTHORIZATION only), if the last CAPA advertised it (RFC 6856);
    /// otherwise [`ClientError::NotAdvertised`].
    pub fn utf8(&mut self) -> Result<(), ClientError> {
        self.require(Phase::Authorization)?;
        if !(self.caps.known && self.caps.utf8.is_some()) {
            return Err(ClientError::NotAdvertised(CommandKind::Utf8));
        }
        self.push(Pending::Utf8)
    }

    /// Queues LANG: the listing (`None`) or a language tag of at most 8 octets (`*`
    /// for the server's default); only if the last CAPA advertised LANG (RFC 6856),
    /// otherwise [`ClientError::NotAdvertised`].
    pub fn lang(&mut self, tag: Option<&[u8]>) -> Result<(), ClientError> {
        if !(self.caps.known && self.caps.lang) {
            return Err(ClientError::NotAdvertised(CommandKind::Lang));
        }
        let tag = match tag {
            None => None,
            Some(t) if !t.is_empty() && t.len() <= 8 && t.iter().all(u8::is_ascii_graphic) => {
                let mut b = [0u8; 8];
                b[..t.len()].copy_from_slice(t);
                Some(b)
            }
            Some(_) => return Err(ClientError::InvalidArgument),
        };
        self.push(Pending::Lang(tag))
    }

    /// Queues QUIT. In TRANSACTION state this applies the deletions (UPDATE).
    pub fn quit(&mut self) -> Result<(), ClientError> {
        self.push(Pending::Quit)
    }

    /// Writes the next commands into `out` and returns how many bytes to send.
    ///
    /// Without PIPELINING only one command is in flight at a time; with it, every
    /// queued command goes, except that nothing follows STLS, AUTH, CAPA or QUIT
    /// before their reply (the meaning of later bytes depends on it). `out` should
    /// hold at least 255 octets, more for long SASL responses.
    pub fn poll_transmit(&mut self, out: &mut [u8]) -> Result<usize, ClientError> {
        if self.phase == Phase::Greeting || self.phase == Phase::Closed || self.awaiting_tls {
            return Ok(0);
        }
        if self.sasl_line_ready {
            let sasl = self
                .sasl
                .as_mut()
                .ok_or(ClientError::Protocol("no SASL exchange"))?;
            if sasl.needs_credentials() {
                return Ok(0);
            }
            let n = sasl.write_response(None, &[], &self.config, out)?;
            self.sasl_line_ready = false;
            return Ok(n);
        }
        self.creds_blocked = false;
        let mut written = 0;
        let mut in_flight = self.queue.iter().filter(|e| e.sent).count();
        for i in 0..self.queue.len() {
            let Some(entry) = self.queue.iter().nth(i).copied() else {
                break;
            };
            if entry.sent {
                if entry.pending.is_barrier() {
                    break;
                }
                continue;
            }
            if in_flight > 0 && !self.caps.pipelining {
                break;
            }
            let entry = self.decide_initial_response(i, entry);
            if entry.pending.needs_credentials() {
                self.creds_blocked = true;
                break;
            }
            let n = match self.encode(&entry.pending, &mut out[written..]) {
                Ok(n) => n,
                Err(ClientError::BufferTooSmall) if written > 0 => break,
                Err(e) => return Err(e),
            };
            written += n;
            in_flight += 1;
            if let Some(e) = self.queue.iter_mut().nth(i) {
                e.sent = true;
            }
            if entry.pending.is_barrier() {
                break;
            }
        }
        Ok(written)
    }

    /// AUTH carries an initial response when the server's CAPA (answered by now:
    /// CAPA is sent before anything queued behind it) advertised SASL (RFC 2449), for
    /// mechanisms that start with the client; decided when the line is due, not when
    /// the login was queued. Whether it fits the command line is checked when it is
    /// written (else it goes after the first challenge).
    fn decide_initial_response(&mut self, i: usize, entry: Entry) -> Entry {
        let Pending::Auth { .. } = entry.pending else {
            return entry;
        };
        let initial_response =
            self.caps.sasl && self.sasl.as_ref().is_some_and(|s| s.has_initial_response());
        let entry = Entry {
            pending: Pending::Auth { initial_response },
            ..entry
        };
        if let Some(e) = self.queue.iter_mut().nth(i) {
            *e = entry;
        }
        entry
    }

    fn encode(&mut self, pending: &Pending, out: &mut [u8]) -> Result<usize, ClientError> {
        let command = match pending {
            Pending::Capa => Command::Capa,
            Pending::Stls => Command::Stls,
            // Written by `write_credentials`.
            Pending::User | Pending::Pass | Pending::Apop => {
                return Err(ClientError::CredentialsNeeded)
            }
            Pending::Auth { .. } => {
                let sasl = self
                    .sasl
                    .as_mut()
                    .ok_or(ClientError::Protocol("no SASL exchange"))?;
                return sasl.write_auth_command(None, &self.config, out);
            }
            Pending::Stat => Command::Stat,
            Pending::List(m) => Command::List(*m),
            Pending::Uidl(m) => Command::Uidl(*m),
            Pending::Retr(m) => Command::Retr(*m),
            Pending::Top(m, n) => Command::Top { msg: *m, lines: *n },
            Pending::Dele(m) => Command::Dele(*m),
            Pending::Noop => Command::Noop,
            Pending::Rset => Command::Rset,
            Pending::Quit => Command::Quit,
            Pending::Utf8 => Command::Utf8,
            Pending::Lang(None) => Command::Lang(None),
            Pending::Lang(Some(tag)) => {
                let len = tag.iter().position(|b| *b == 0).unwrap_or(tag.len());
                Command::Lang(Some(&tag[..len]))
            }
        };
        Ok(command.encode(out)?)
    }

    /// Decodes the next reply event from `input` (the received bytes not yet
    /// consumed). No event and nothing consumed means: read more.
    ///
    /// The event borrows `input` only, never the client: commands may be queued
    /// while it is held. For a loop that must hold an event across `.await`, see
    /// [`handle_input_token`](Self::handle_input_token).
    ///
    /// Pass everything received before calling [`poll_transmit`](Self::poll_transmit)
    /// (the driver does): bytes that arrived while no command was in flight are
    /// refused as such only if the client sees them before the next command leaves.
    ///
    /// An error is fatal: the client is closed, and none of `input` nor anything
    /// later will be read (see the module docs). A reply that is wrong inside its own
    /// framing is not an error but a [`ClientEvent::Invalid`].
    pub fn handle_input<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Decoded<ClientEvent<'a>>, ClientError> {
        let d = self.handle_input_token(input)?;
        Ok(Decoded {
            consumed: d.consumed,
            item: d.item.map(|token| token.event(input)),
        })
    }

    /// [`handle_input`](Self::handle_input) with the event as a `Copy`
    /// [`EventToken`] that borrows nothing; [`EventToken::event`] turns it into the
    /// [`ClientEvent`] given the same `input`. The driver ([`crate::driver`]) holds
    /// tokens so that its events can leave an async `next()`.
    pub fn handle_input_token(&mut self, input: &[u8]) -> Result<Decoded<EventToken>, ClientError> {
        if self.phase == Phase::Closed {
            return Ok(Decoded::need_more());
        }
        if self.awaiting_tls {
            // RFC 2595: nothing sent before the handshake is a reply.
            return Ok(Decoded {
                consumed: input.len(),
                item: None,
            });
        }
        if input.is_empty() {
            return Ok(Decoded::need_more());
        }
        if self.decoder.is_idle() {
            match self.queue.front() {
                Some(e) if e.sent && !self.sasl_line_ready => {
                    self.decoder.expect(e.pending.expect());
                }
                // Nothing in flight, or our SASL answer not sent yet: no reply is due.
                _ => {
                    return Err(self.fail(ClientError::Protocol(
                        "data from the server before a command",
                    )))
                }
            }
        }
        let decoded = match self.decoder.decode(input) {
            Ok(d) => d,
            Err(e) => return Err(self.fail(e.into())),
        };
        let consumed = decoded.consumed;
        let Some(event) = decoded.item else {
            return Ok(Decoded {
                consumed,
                item: None,
            });
        };
        let item = match self.reply(event, input) {
            Ok(item) => item,
            Err(e) => return Err(self.fail(e)),
        };
        // After `+OK` to STLS the rest of the input is plaintext nobody may act on.
        let consumed = if self.awaiting_tls {
            input.len()
        } else {
            consumed
        };
        Ok(Decoded { consumed, item })
    }

    /// Closes the session after an error that loses framing; returns the error.
    pub(crate) fn fail(&mut self, error: ClientError) -> ClientError {
        self.phase = Phase::Closed;
        self.queue.clear();
        self.sasl = None;
        self.sasl_line_ready = false;
        self.awaiting_tls = false;
        self.invalid = None;
        self.creds_blocked = false;
        error
    }

    fn finish_front(&mut self) {
        self.queue.pop_front();
        self.lines = 0;
    }

    fn reply(
        &mut self,
        event: ResponseEvent<'_>,
        input: &[u8],
    ) -> Result<Option<EventToken>, ClientError> {
        let token = |shape: Shape, part: &[u8]| EventToken::new(shape, input, part);
        if self.phase == Phase::Greeting {
            let ResponseEvent::Status(status) = event else {
                return Err(ClientError::Protocol("greeting is not a status line"));
            };
            if !status.is_ok() {
                return Err(ClientError::Rejected);
            }
            self.phase = Phase::Authorization;
            // At most 96 octets (apop_timestamp's bound): it always fits.
            let stamp = apop_timestamp(status.text)
                .filter(|stamp| self.timestamp.extend_from_slice(stamp).is_ok());
            if self.config.auto_capa {
                // Best effort: not possible if STLS was queued before the greeting.
                let _ = self.capa();
            }
            return Ok(Some(token(
                Shape::Greeting {
                    apop: stamp.is_some(),
                },
                status.text,
            )));
        }
        let Some(front) = self.queue.front().copied() else {
            return Err(ClientError::Protocol("reply without a command"));
        };
        let pending = front.pending;
        let kind = pending.kind();
        let msg = pending.msg().unwrap_or(0);
        match event {
            ResponseEvent::Status(status) if !status.is_ok() => {
                self.refused(pending);
                // The whole status line, so that the code and the text come back.
                Ok(Some(token(
                    Shape::Error {
                        command: kind,
                        msg: pending.msg(),
                    },
                    status_line(input, status.text),
                )))
            }
            ResponseEvent::Status(status) => self.accepted(pending, status.text, input),
            ResponseEvent::Challenge(challenge) => {
                let sasl = self
                    .sasl
                    .as_mut()
                    .ok_or(ClientError::Protocol("unexpected challenge"))?;
                let needs_credentials = sasl.challenge(challenge)?;
                self.sasl_line_ready = true;
                // The answer is computed from the challenge, which the event points at.
                Ok(needs_credentials.then(|| token(Shape::NeedCredentials, challenge)))
            }
            // A listing longer than it can be ends the session (else a server that
            // never ends it keeps the client reading for ever, failed or not).
            ResponseEvent::Line(_) if self.too_many_lines(pending) => {
                Err(ClientError::Protocol(match pending {
                    Pending::Capa => "CAPA listing too long",
                    _ => "listing longer than STAT's count",
                }))
            }
            // The rest of a listing that already failed.
            ResponseEvent::Line(_) if self.invalid.is_some() => Ok(None),
            ResponseEvent::Line(line) => {
                let shape = match pending {
                    Pending::Capa => {
                        self.caps.record(&Capability::parse(line));
                        return Ok(Some(token(Shape::Capability, line)));
                    }
                    Pending::List(_) => ListEntry::parse(line)
                        .map_err(InvalidReply::Malformed)
                        .and_then(|entry| {
                            self.check_msg(entry.msg, None)?;
                            Ok(token(Shape::List(entry), &[]))
                        }),
                    Pending::Uidl(_) => UidlEntry::parse(line)
                        .map_err(InvalidReply::Malformed)
                        .and_then(|entry| {
                            self.check_msg(entry.msg, None)?;
                            Ok(token(Shape::Uidl { msg: entry.msg }, entry.uid))
                        }),
                    Pending::Lang(_) => LangEntry::parse(line)
                        .map_err(InvalidReply::Malformed)
                        .map(|_| token(Shape::Lang, line)),
                    _ => return Err(ClientError::Protocol("unexpected listing line")),
                };
                match shape {
                    Ok(token) => Ok(Some(token)),
                    Err(reason) => {
                        // Reported at the listing's end, which is consumed first.
                        self.invalid = Some(reason);
                        Ok(None)
                    }
                }
            }
            // A CR the body decoder held back from the previous input is its own
            // static byte, not a piece of this input.
            ResponseEvent::Data(data) if data == b"\r" && offset_in(input, data).is_none() => {
                Ok(Some(token(Shape::MessageCr { msg }, &[])))
            }
            ResponseEvent::Data(data) => Ok(Some(token(Shape::MessageData { msg }, data))),
            ResponseEvent::End => {
                self.finish_front();
                if let Some(reason) = self.invalid.take() {
                    return Ok(Some(token(
                        Shape::Invalid {
                            command: kind,
                            msg: pending.msg(),
                            reason,
                        },
                        &[],
                    )));
                }
                let shape = match kind {
                    CommandKind::Capa => {
                        self.caps.known = true;
                        Shape::CapabilitiesEnd
                    }
                    CommandKind::List => Shape::ListEnd,
                    CommandKind::Uidl => Shape::UidlEnd,
                    CommandKind::Lang => Shape::LangEnd,
                    _ => Shape::MessageEnd { msg },
                };
                Ok(Some(token(shape, &[])))
            }
        }
    }

    /// Counts a line of the reply to `pending`: true when it is one too many.
    fn too_many_lines(&mut self, pending: Pending) -> bool {
        self.lines = self.lines.saturating_add(1);
        let bound = match pending {
            Pending::Capa => Some(MAX_CAPA_LINES),
            Pending::List(None) | Pending::Uidl(None) => self.max_msg,
            _ => None,
        };
        bound.is_some_and(|max| self.lines > max)
    }

    /// A message number the server named: the one asked for (`asked`), and within
    /// 1..=the highest STAT allows.
    fn check_msg(&self, msg: u32, asked: Option<u32>) -> Result<(), InvalidReply> {
        if asked.is_some_and(|n| n != msg) {
            return Err(InvalidReply::OtherMessage { msg });
        }
        if msg == 0 || self.max_msg.is_some_and(|max| msg > max) {
            return Err(InvalidReply::NumberOutOfRange { msg });
        }
        Ok(())
    }

    /// Bookkeeping after `-ERR` to the front command.
    fn refused(&mut self, pending: Pending) {
        self.finish_front();
        match pending {
            Pending::User => {
                // PASS must not follow a refused USER.
                if matches!(
                    self.queue.front(),
                    Some(Entry {
                        pending: Pending::Pass,
                        sent: false
                    })
                ) {
                    self.queue.pop_front();
                }
            }
            Pending::Auth { .. } => {
                self.sasl = None;
                self.sasl_line_ready = false;
            }
            Pending::Capa => self.caps = Capabilities::default(),
            // Nothing may be queued behind STLS; make sure nothing is.
            Pending::Stls => self.queue.clear(),
            _ => {}
        }
        if matches!(
            pending,
            Pending::User | Pending::Pass | Pending::Apop | Pending::Auth { .. }
        ) {
            self.creds_blocked = false;
            // Commands queued behind the failed login would only be refused.
            while let Some(e) = self.queue.back() {
                if e.sent || matches!(e.pending, Pending::Quit | Pending::Capa) {
                    break;
                }
                self.queue.pop_back();
            }
        }
    }

    fn accepted(
        &mut self,
        pending: Pending,
        text: &[u8],
        input: &[u8],
    ) -> Result<Option<EventToken>, ClientError> {
        let invalid = |reason: InvalidReply| Shape::Invalid {
            command: pending.kind(),
            msg: pending.msg(),
            reason,
        };
        let shape = match pending {
            Pending::Capa => {
                self.caps = Capabilities::default();
                self.invalid = None;
                return Ok(None);
            }
            Pending::List(None) | Pending::Uidl(None) | Pending::Lang(None) => {
                self.invalid = None;
                return Ok(None);
            }
            Pending::Retr(msg) | Pending::Top(msg, _) => Shape::MessageStart { msg },
            Pending::Stls => {
                self.finish_front();
                // Nothing was allowed behind it; nothing leaves before the handshake.
                self.queue.clear();
                self.awaiting_tls = true;
                Shape::StartTls
            }
            Pending::User => {
                self.finish_front();
                return Ok(None);
            }
            Pending::Pass | Pending::Apop => {
                self.finish_front();
                self.logged_in()
            }
            Pending::Auth { .. } => {
                self.finish_front();
                let sasl = self
                    .sasl
                    .take()
                    .ok_or(ClientError::Protocol("no SASL exchange"))?;
                // SCRAM: the server must have proved it knows the password.
                sasl.check_success()?;
                self.logged_in()
            }
            Pending::Stat => {
                self.finish_front();
                match Stat::parse(text) {
                    Ok(stat) => {
                        self.max_msg = Some(stat.count.saturating_add(self.deleted));
                        Shape::Stat(stat)
                    }
                    Err(e) => invalid(InvalidReply::Malformed(e)),
                }
            }
            Pending::List(Some(n)) => {
                self.finish_front();
                match ListEntry::parse(text).map_err(InvalidReply::Malformed) {
                    Ok(entry) => match self.check_msg(entry.msg, Some(n)) {
                        Ok(()) => Shape::List(entry),
                        Err(reason) => invalid(reason),
                    },
                    Err(reason) => invalid(reason),
                }
            }
            Pending::Uidl(Some(n)) => {
                self.finish_front();
                let entry = match UidlEntry::parse(text).map_err(InvalidReply::Malformed) {
                    Ok(entry) => entry,
                    Err(reason) => return Ok(Some(EventToken::new(invalid(reason), input, &[]))),
                };
                if let Err(reason) = self.check_msg(entry.msg, Some(n)) {
                    return Ok(Some(EventToken::new(invalid(reason), input, &[])));
                }
                return Ok(Some(EventToken::new(
                    Shape::Uidl { msg: entry.msg },
                    input,
                    entry.uid,
                )));
            }
            Pending::Dele(msg) => {
                self.finish_front();
                self.deleted = self.deleted.saturating_add(1);
                Shape::Deleted { msg }
            }
            Pending::Quit => {
                self.finish_front();
                self.phase = Phase::Closed;
                Shape::Closed
            }
            Pending::Noop | Pending::Rset | Pending::Utf8 | Pending::Lang(Some(_)) => {
                self.finish_front();
                if matches!(pending, Pending::Rset) {
                    self.deleted = 0;
                }
                return Ok(Some(EventToken::new(
                    Shape::Ok {
                        command: pending.kind(),
                    },
                    input,
                    text,
                )));
            }
        };
        Ok(Some(EventToken::new(shape, input, &[])))
    }

    fn logged_in(&mut self) -> Shape {
        self.phase = Phase::Transaction;
        self.max_msg = None;
        self.deleted = 0;
        if self.config.auto_capa {
            self.caps = Capabilities {
                pipelining: self.caps.pipelining,
                ..Capabilities::default()
            };
            // Best effort: not possible once QUIT is queued.
            let _ = self.capa();
        }
        Shape::LoggedIn
    }
}

/// The credentials of `login` for the SASL exchange of `mechanism`, with what the
/// session knows: its channel binding, and whether the server's last CAPA offered a
/// -PLUS mechanism (it supports binding, RFC 5802 §6). `None` when `login` is not
/// that exchange's.
fn sasl_creds<'a>(
    login: &Login<'a>,
    mechanism: SaslMechanism,
    channel_binding: &'a Option<[u8; 32]>,
    caps: &Capabilities,
) -> Option<Creds<'a>> {
    let Login::Sasl {
        mechanism: asked,
        authzid,
        user,
        secret,
    } = *login
    else {
        return None;
    };
    (asked == mechanism).then(|| Creds {
        authzid,
        user,
        secret,
        channel_binding: channel_binding.as_ref().map(|c| &c[..]),
        plus_offered: caps.mechanisms.contains(MechanismSet::SCRAM_SHA_1_PLUS)
            || caps.mechanisms.contains(MechanismSet::SCRAM_SHA_256_PLUS),
    })
}

/// The status line that ends with `text`: the decoder hands status lines out from the
/// start of the input, so the line is `input[..end of text]`.
fn status_line<'a>(input: &'a [u8], text: &[u8]) -> &'a [u8] {
    let end = offset_in(input, text).map_or(0, |start| start + text.len());
    &input[..end]
}

/// Where `part` starts inside `input`, if it is a piece of it.
fn offset_in(input: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
    (start + part.len() <= input.len()).then_some(start)
}

/// What an [`EventToken`] stands for; its bytes are a range of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Range: the SASL challenge (empty when a command needs the credentials).
    NeedCredentials,
    /// Range: the greeting text.
    Greeting {
        apop: bool,
    },
    /// Range: the capability line.
    Capability,
    CapabilitiesEnd,
    StartTls,
    LoggedIn,
    Stat(Stat),
    List(ListEntry),
    ListEnd,
    /// Range: the unique-id.
    Uidl {
        msg: u32,
    },
    UidlEnd,
    /// Range: the language line.
    Lang,
    LangEnd,
    MessageStart {
        msg: u32,
    },
    /// Range: the data.
    MessageData {
        msg: u32,
    },
    /// No range: one CR held back by the body decoder from earlier input.
    MessageCr {
        msg: u32,
    },
    MessageEnd {
        msg: u32,
    },
    Deleted {
        msg: u32,
    },
    /// Range: the text after `+OK`.
    Ok {
        command: CommandKind,
    },
    Closed,
    /// Range: the whole status line (code and text are parsed again).
    Error {
        command: CommandKind,
        msg: Option<u32>,
    },
    Invalid {
        command: CommandKind,
        msg: Option<u32>,
        reason: InvalidReply,
    },
}

/// A client event that borrows nothing: its kind and numbers, and where its bytes are
/// in the input it was decoded from. `Copy`, so an async loop can keep it across
/// `.await` points and turn it into a [`ClientEvent`] with [`event`](Self::event)
/// when the borrow of its receive buffer is free again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventToken {
    shape: Shape,
    start: usize,
    end: usize,
}

impl EventToken {
    fn new(shape: Shape, input: &[u8], part: &[u8]) -> Self {
        let start = if part.is_empty() {
            None
        } else {
            offset_in(input, part)
        };
        let (start, end) = start.map_or((0, 0), |s| (s, s + part.len()));
        EventToken { shape, start, end }
    }

    /// The event, borrowing from `input`: the same bytes that were passed to
    /// [`Client::handle_input_token`] (later bytes may have been appended).
    pub fn event(self, input: &[u8]) -> ClientEvent<'_> {
        let bytes = input.get(self.start..self.end).unwrap_or(&[]);
        match self.shape {
            Shape::NeedCredentials => ClientEvent::NeedCredentials { challenge: bytes },
            Shape::Greeting { apop } => ClientEvent::Greeting { text: bytes, apop },
            Shape::Capability => ClientEvent::Capability(Capability::parse(bytes)),
            Shape::CapabilitiesEnd => ClientEvent::CapabilitiesEnd,
            Shape::StartTls => ClientEvent::StartTls,
            Shape::LoggedIn => ClientEvent::LoggedIn,
            Shape::Stat(stat) => ClientEvent::Stat(stat),
            Shape::List(entry) => ClientEvent::List(entry),
            Shape::ListEnd => ClientEvent::ListEnd,
            Shape::Uidl { msg } => ClientEvent::Uidl(UidlEntry { msg, uid: bytes }),
            Shape::UidlEnd => ClientEvent::UidlEnd,
            Shape::Lang => ClientEvent::Lang(LangEntry::parse(bytes).unwrap_or(LangEntry {
                tag: bytes,
                description: &[],
            })),
            Shape::LangEnd => ClientEvent::LangEnd,
            Shape::MessageStart { msg } => ClientEvent::MessageStart { msg },
            Shape::MessageData { msg } => ClientEvent::MessageData { msg, data: bytes },
            Shape::MessageCr { msg } => ClientEvent::MessageData { msg, data: b"\r" },
            Shape::MessageEnd { msg } => ClientEvent::MessageEnd { msg },
            Shape::Deleted { msg } => ClientEvent::Deleted { msg },
            Shape::Ok { command } => ClientEvent::Ok {
                command,
                text: bytes,
            },
            Shape::Closed => ClientEvent::Closed,
            Shape::Invalid {
                command,
                msg,
                reason,
            } => ClientEvent::Invalid {
                command,
                msg,
                reason,
            },
            Shape::Error { command, msg } => {
                let (code, text) =
                    StatusLine::parse(bytes).map_or((None, bytes), |s| (s.code, s.text));
                ClientEvent::Error {
                    command,
                    msg,
                    code,
                    text,
                }
            }
        }
    }

    /// [`ClientEvent::NeedCredentials`] for a command (no challenge).
    pub(crate) fn need_credentials() -> Self {
        EventToken {
            shape: Shape::NeedCredentials,
            start: 0,
            end: 0,
        }
    }

    /// True for [`ClientEvent::NeedCredentials`].
    pub fn is_need_credentials(self) -> bool {
        self.shape == Shape::NeedCredentials
    }

    /// The token's bytes in `input` (the challenge of `NeedCredentials`).
    pub(crate) fn bytes(self, input: &[u8]) -> &[u8] {
        input.get(self.start..self.end).unwrap_or(&[])
    }

    /// True for [`ClientEvent::MessageData`] (the driver uses it to hand out body
    /// bytes without parsing anything).
    pub fn is_message_data(self) -> bool {
        matches!(
            self.shape,
            Shape::MessageData { .. } | Shape::MessageCr { .. }
        )
    }
}
