//! The server role: RFC 1939 AUTHORIZATION, TRANSACTION and UPDATE as a pure state
//! machine.
//!
//! The server never blocks and owns no mailbox. Whatever it needs from the
//! application (a password check, a message size, a unique-id, message bytes, the
//! deletion at UPDATE) it asks for with a [`ServerEvent`] from
//! [`Server::handle_input`], and the application answers with the matching
//! `answer_*` method before calling `handle_input` again. Message numbers, deletion
//! marks, states and every protocol rule are enforced here, so an application cannot
//! serve a deleted message or expunge outside UPDATE by mistake.
//!
//! Drive it with [`crate::driver::ServerDriver`] and its one loop rule (call `poll`,
//! do what it says, call `poll` again); the calls below are what the driver makes.
//! Used call by call, the rule is: after every call, move
//! [`poll_transmit`](Server::poll_transmit) out and send it *before* waiting for
//! input (a listing's last line may be queued by a call that consumed nothing and
//! returned no event); answer [`event`](Server::event) before
//! [`handle_input`](Server::handle_input) again; wake at
//! [`poll_timeout`](Server::poll_timeout) for [`handle_timeout`](Server::handle_timeout).

pub mod config;
pub mod marks;
mod top;

use core::fmt;
use core::ops::Range;

use crate::codec::server::{ClientLine, CommandDecoder};
use crate::codec::Decoded;
use crate::command::{Command, CommandError, SaslResponse};
use crate::encode::Writer;
use crate::limits::MAX_STATUS_LINE;
use crate::response::capability::Capability;
use crate::response::code::ResponseCode;
use crate::response::listing::{is_valid_uid, ListEntry, Stat, UidlEntry};
use crate::response::status::StatusLine;
use crate::time::Instant;
use crate::txbuf::TxBuf;
use crate::BodyEncoder;

pub use config::{MechanismSet, ServerConfig, Tls};
pub use marks::Marks;

use crate::sasl::server::{apop_verify, AuthStep, SaslServer};
use top::TopFilter;

/// Capacity of the server's outgoing buffer.
const TX_CAPACITY: usize = 1024;
/// Room kept free before handling a new command: the longest reply line.
const REPLY_ROOM: usize = MAX_STATUS_LINE + 8;

/// Something the server needs the application to do or decide. `Debug` prints
/// names as byte strings and passwords and tokens as `<redacted N bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerEvent<'a> {
    /// Check a cleartext password (USER/PASS, AUTH PLAIN, AUTH LOGIN). Answer with
    /// [`Server::answer_password`].
    ///
    /// `authzid` is the identity the client asks to act as (RFC 4616 §2; PLAIN
    /// only, empty otherwise). An empty `authzid`, or one equal to `user`, means
    /// "act as myself": answer `true` if `password` is `user`'s. Any other `authzid`
    /// reaches the application only when [`ServerConfig::allow_authzid`] is set (by
    /// default the server refuses it itself, as a failed login); then answer `true`
    /// only if `password` is `user`'s **and** `user` may act as `authzid` (an
    /// administrator, a delegate), because the session is then `authzid`'s:
    /// [`ServerEvent::OpenMaildrop`] names `authzid`, not `user`.
    CheckPassword {
        /// The authorization identity requested (PLAIN only; empty otherwise).
        authzid: &'a [u8],
        /// The user name (the authentication identity).
        user: &'a [u8],
        /// The password.
        password: &'a [u8],
    },
    /// Check an OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER). Answer with
    /// [`Server::answer_password`].
    ///
    /// `user` is the identity the client asks to act as (XOAUTH2's `user=`,
    /// OAUTHBEARER's authzid `a=`), and the session's user if the answer is `true`.
    /// The authentication identity is inside the token, where the server cannot
    /// see it, so this check is wholly the application's: answer `true` only if the
    /// token is valid and was issued to `user` (or its subject may act as `user`).
    /// OAUTHBEARER without `a=` gives an empty `user`, which names no maildrop:
    /// answer `false`. [`ServerConfig::allow_authzid`] does not apply here.
    CheckToken {
        /// The user the token must be for: the session's user if accepted.
        user: &'a [u8],
        /// The bearer token.
        token: &'a [u8],
    },
    /// Accept or refuse the identity the transport proved (EXTERNAL: the TLS client
    /// certificate). Answer with [`Server::answer_password`].
    ///
    /// `authzid` is the identity the client asks to act as, and the session's user
    /// if the answer is `true`. The authentication identity is the certificate's,
    /// which the server cannot see, so this check is wholly the application's:
    /// answer `true` only if the certificate is trusted and its identity is
    /// `authzid` or may act as `authzid`. An empty `authzid` asks for the
    /// certificate's own identity, but the session's user
    /// ([`ServerEvent::OpenMaildrop`]) then stays empty: answer `false` unless the
    /// maildrop does not depend on the user name. [`ServerConfig::allow_authzid`]
    /// does not apply here.
    CheckExternal {
        /// The authorization identity the client asks for (may be empty): the
        /// session's user if accepted.
        authzid: &'a [u8],
    },
    /// The shared secret of `user` is needed (APOP, CRAM-MD5, SCRAM). Answer with
    /// [`Server::answer_secret`] (the password), or for SCRAM with
    /// [`Server::answer_verifier`] (a stored verifier), for CRAM-MD5 with
    /// [`Server::answer_cram_context`] (a stored context). For an unknown user
    /// answer `None`: the client sees the same failure as for a wrong password.
    NeedSecret {
        /// The user name.
        user: &'a [u8],
        /// The SASL mechanism asking (`None`: APOP).
        mechanism: Option<crate::sasl::SaslMechanism>,
    },
    /// Credentials are good: lock and open the maildrop of `user`. Answer with
    /// [`Server::answer_open`].
    OpenMaildrop {
        /// The user the session acts as: the authorization identity when one was
        /// given and accepted, else the authenticated user.
        user: &'a [u8],
    },
    /// The size in octets of message `msg` (CRLF line ends, no stuffing) is needed.
    /// Answer with [`Server::answer_size`].
    Size {
        /// The message number (valid and not deleted).
        msg: u32,
    },
    /// The unique-id of message `msg` is needed. Answer with [`Server::answer_uid`].
    Uid {
        /// The message number (valid and not deleted).
        msg: u32,
    },
    /// Send message `msg` with [`Server::body`] and [`Server::body_end`]; the `+OK`
    /// is already queued. For TOP, `lines` is the number of body lines wanted: send
    /// the whole message anyway, the server cuts it (and [`Server::body_done`] tells
    /// when the rest would be discarded).
    Retrieve {
        /// The message number (valid and not deleted).
        msg: u32,
        /// `Some(n)` for `TOP msg n`; `Some(u32::MAX)` (also for any larger `n`)
        /// is never cut.
        lines: Option<u32>,
    },
    /// `+OK` to STLS is queued: send it, then run the TLS handshake on the
    /// connection and call [`Server::tls_started`]. Received plaintext after the
    /// STLS line was discarded (consumed) and must not be passed again.
    StartTls,
    /// QUIT in TRANSACTION: remove the messages marked deleted
    /// ([`Server::deleted`]), release the maildrop lock, and answer with
    /// [`Server::answer_update`].
    Update,
}

impl fmt::Debug for ServerEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::debug::{Bytes, Redacted};
        match *self {
            ServerEvent::CheckPassword {
                authzid,
                user,
                password,
            } => f
                .debug_struct("CheckPassword")
                .field("authzid", &Bytes(authzid))
                .field("user", &Bytes(user))
                .field("password", &Redacted(password.len()))
                .finish(),
            ServerEvent::CheckToken { user, token } => f
                .debug_struct("CheckToken")
                .field("user", &Bytes(user))
                .field("token", &Redacted(token.len()))
                .finish(),
            ServerEvent::CheckExternal { authzid } => f
                .debug_struct("CheckExternal")
                .field("authzid", &Bytes(authzid))
                .finish(),
            ServerEvent::NeedSecret { user, mechanism } => f
                .debug_struct("NeedSecret")
                .field("user", &Bytes(user))
                .field("mechanism", &mechanism)
                .finish(),
            ServerEvent::OpenMaildrop { user } => f
                .debug_struct("OpenMaildrop")
                .field("user", &Bytes(user))
                .finish(),
            ServerEvent::Size { msg } => f.debug_struct("Size").field("msg", &msg).finish(),
            ServerEvent::Uid { msg } => f.debug_struct("Uid").field("msg", &msg).finish(),
            ServerEvent::Retrieve { msg, lines } => f
                .debug_struct("Retrieve")
                .field("msg", &msg)
                .field("lines", &lines)
                .finish(),
            ServerEvent::StartTls => f.write_str("StartTls"),
            ServerEvent::Update => f.write_str("Update"),
        }
    }
}

/// What [`Server::body`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BodyWrite {
    /// Bytes of the chunk taken (sent, or cut by TOP).
    pub taken: usize,
    /// Bytes written into the caller's buffer.
    pub written: usize,
}

/// The outcome of opening a maildrop, for [`Server::answer_open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Open {
    /// Locked and opened: `count` messages of `size` octets in total.
    Opened {
        /// Number of messages (numbered 1..=count for this session).
        count: u32,
        /// Their total size in octets.
        size: u64,
    },
    /// Another session holds the lock (`-ERR [IN-USE]`).
    InUse,
    /// The user logged in too recently (`-ERR [LOGIN-DELAY]`).
    LoginDelay,
    /// The maildrop cannot be opened now (`-ERR [SYS/TEMP]`).
    Unavailable,
}

/// Misuse of the server API by the application (never caused by the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerError {
    /// An `answer_*` method was called that does not match the pending event.
    Unexpected,
    /// `handle_input` was called while an event is still unanswered.
    AnswerPending,
    /// The unique-id given is not 1–70 octets of 0x21–0x7E.
    InvalidUid,
    /// The maildrop storage ([`Marks`]) cannot hold that many messages.
    TooManyMessages,
    /// The transmit buffer cannot hold even the `+OK` line of a message (21 octets)
    /// when empty: give the driver a larger one.
    BufferTooSmall,
    /// The driver's receive or transmit buffer is smaller than the role needs
    /// ([`MIN_SERVER_RECEIVE`](crate::driver::MIN_SERVER_RECEIVE),
    /// [`MIN_SERVER_TRANSMIT`](crate::driver::MIN_SERVER_TRANSMIT)).
    BuffersTooSmall,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerError::Unexpected => "answer does not match the pending event",
            ServerError::AnswerPending => "an event is still unanswered",
            ServerError::InvalidUid => "invalid unique-id",
            ServerError::TooManyMessages => "maildrop larger than the deletion-mark storage",
            ServerError::BufferTooSmall => "transmit buffer too small for a reply line",
            ServerError::BuffersTooSmall => "driver buffers smaller than a protocol line",
        })
    }
}

impl core::error::Error for ServerError {}

/// What the server waits for or works on.
///
/// The SASL variant is large (its fixed buffers); without an allocator the session
/// owns that memory in any case, so boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum State {
    /// AUTHORIZATION; `user` holds a name accepted by USER (PASS may follow).
    Authorization { user_given: bool },
    /// Waiting for `answer_password` for USER/PASS with this password.
    CheckingPassword { password: heapless::Vec<u8, 255> },
    /// Waiting for `answer_secret` for APOP with this digest.
    ApopSecret { digest: [u8; 32] },
    /// A SASL exchange is running.
    Sasl(SaslServer),
    /// Credentials are good; OpenMaildrop is to be emitted.
    Open { emitted: bool },
    /// TRANSACTION, idle.
    Transaction,
    /// Asking for sizes or uids for a listing, next message `next`.
    Listing {
        kind: ListingKind,
        next: u32,
        emitted: bool,
    },
    /// `+OK` to STLS was queued; waiting for `tls_started`.
    StartingTls,
    /// Sending a message body.
    Sending {
        msg: u32,
        lines: Option<u32>,
        encoder: BodyEncoder,
        top: Option<TopFilter>,
        /// Whether the `+OK` line was queued (it waits for the first body bytes, so
        /// that an unreadable message can still get `-ERR`).
        started: bool,
    },
    /// Waiting for `answer_update`.
    Update { emitted: bool },
    /// The session is over.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListingKind {
    /// `LIST n`: one size, single-line reply.
    ListOne,
    /// `LIST`: sizes of every undeleted message.
    ListAll,
    /// `UIDL n`.
    UidlOne,
    /// `UIDL`.
    UidlAll,
    /// `DELE n`: the size is needed to keep STAT right.
    Dele,
}

/// A POP3 server session.
///
/// `M` stores the deletion marks: `[u8; N]` for `8 * N` messages without an
/// allocator (default 4096 messages), or `Vec<u8>` with `std`.
#[derive(Debug, Clone)]
pub struct Server<M: Marks = [u8; 512]> {
    config: ServerConfig,
    decoder: CommandDecoder,
    /// The caller's receive buffer size (see `set_input_capacity`).
    input_capacity: usize,
    tx: TxBuf<TX_CAPACITY>,
    state: State,
    marks: M,
    /// The user named by USER or authenticated; 255 octets fit any command line.
    user: heapless::Vec<u8, 255>,
    /// The APOP timestamp of the greeting, brackets included.
    timestamp: heapless::Vec<u8, 96>,
    /// Per-session randomness from the caller (SCRAM nonce and salt).
    random: [u8; 32],
    tls_active: bool,
    /// The TLS session's `tls-exporter` value (RFC 9266), for SCRAM -PLUS.
    channel_binding: Option<[u8; 32]>,
    utf8: bool,
    bad_commands: u32,
    last_activity: Instant,
    /// Until when the client may log in (far future once a maildrop is open).
    login_deadline: Instant,
    hold_until: Option<Instant>,
    /// Messages in the maildrop at open, and their total size.
    opened: (u32, u64),
    /// Undeleted messages and their size (what STAT reports).
    current: (u32, u64),
}

impl Server<[u8; 512]> {
    /// A server session with a 4096-message deletion bitmap, greeting queued.
    ///
    /// `random` must be fresh per session (it makes the APOP timestamp unique and
    /// seeds SCRAM nonces); `now` starts the idle timer.
    pub fn new(config: ServerConfig, now: Instant, random: [u8; 32]) -> Self {
        Server::with_marks(config, now, random, [0; 512])
    }
}

impl<M: Marks> Server<M> {
    /// A server session with the given deletion-mark storage, greeting queued.
    pub fn with_marks(config: ServerConfig, now: Instant, random: [u8; 32], marks: M) -> Self {
        let tls_active = config.tls == Tls::Implicit;
        let config_login_timeout = config.login_timeout_ms;
        let decoder = CommandDecoder::new().with_max_sasl_line(config.max_sasl_line);
        let mut server = Server {
            config,
            decoder,
            input_capacity: usize::MAX,
            tx: TxBuf::new(),
            state: State::Authorization { user_given: false },
            marks,
            user: heapless::Vec::new(),
            timestamp: heapless::Vec::new(),
            random,
            tls_active,
            channel_binding: None,
            utf8: false,
            bad_commands: 0,
            last_activity: now,
            login_deadline: now.plus_millis(config_login_timeout),
            hold_until: None,
            opened: (0, 0),
            current: (0, 0),
        };
        // APOP's digest can be cracked offline: not before an available STLS.
        if server.config.apop && !server.logins_wait_for_tls() {
            let mut stamp = [0u8; 96];
            let mut w = Writer::new(&mut stamp);
            let made = (|| {
                // RFC 1939's form, `<process-id.clock@host>` (digits, as in its
                // `<1896.697170952@dbc.mtview.ca.us>`): some clients (Perl's
                // Mail::Box) take APOP only from a timestamp of that shape. 64
                // random bits stand for the process id, the clock for the clock.
                w.put(b"<")?;
                let mut unique = [0u8; 8];
                unique.copy_from_slice(&random[..8]);
                w.put_u64(u64::from_le_bytes(unique))?;
                w.put(b".")?;
                w.put_u64(now.as_millis())?;
                w.put(b"@")?;
                w.put(server.config.hostname.as_bytes())?;
                w.put(b">")
            })();
            let n = w.len();
            if made.is_ok() {
                let _ = server.timestamp.extend_from_slice(&stamp[..n]);
            }
        }
        let mut text = [0u8; 200];
        let mut w = Writer::new(&mut text);
        let _ = w.put(b"POP3 server ready");
        if !server.timestamp.is_empty() {
            let _ = w.put(b" ");
            let _ = w.put(&server.timestamp);
        }
        let n = w.len();
        server.reply(StatusLine::ok(&text[..n]));
        server
    }

    /// The settings this session runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The APOP timestamp sent in the greeting (empty when APOP is off).
    pub fn apop_timestamp(&self) -> &[u8] {
        &self.timestamp
    }

    /// Moves the reply bytes waiting to be sent into `out` (as many as fit) and
    /// returns their number; 0 while a failed login is being delayed. The same shape
    /// as [`Client::poll_transmit`](crate::client::Client::poll_transmit): the caller
    /// owns the buffer, of any size. Message bodies do not pass through here but are
    /// encoded straight into the caller's buffer by [`body`](Self::body).
    pub fn poll_transmit(&mut self, out: &mut [u8]) -> usize {
        if self.hold_until.is_some() {
            return 0;
        }
        let pending = self.tx.pending();
        let n = pending.len().min(out.len());
        out[..n].copy_from_slice(&pending[..n]);
        self.tx.consume(n);
        n
    }

    /// True when reply bytes wait for [`poll_transmit`](Self::poll_transmit)
    /// (false while a failed login is being delayed).
    pub fn has_transmit(&self) -> bool {
        self.hold_until.is_none() && !self.tx.pending().is_empty()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next: the end of
    /// a failed-login delay, or the idle deadline, or before login the login
    /// deadline if sooner.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Closed) {
            // A last failed login closes the session, but its reply is still held.
            return self.hold_until;
        }
        Some(
            self.hold_until.unwrap_or(
                self.last_activity
                    .plus_millis(self.idle_timeout())
                    .min(self.login_deadline),
            ),
        )
    }

    fn idle_timeout(&self) -> u64 {
        self.config.idle_timeout_ms.max(config::MIN_IDLE_TIMEOUT_MS)
    }

    /// Advances time: ends a failed-login delay, or closes an idle session (no
    /// UPDATE, no reply, as RFC 1939 requires).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(until) = self.hold_until {
            if now >= until {
                self.hold_until = None;
            }
            return;
        }
        if now >= self.last_activity.plus_millis(self.idle_timeout()) {
            self.state = State::Closed;
            self.tx.clear();
        } else if now >= self.login_deadline && !matches!(self.state, State::Closed) {
            self.tx.clear();
            self.err(None, b"Login took too long");
            self.state = State::Closed;
        }
    }

    /// True while reply bytes are held back by a failed-login delay (until
    /// [`poll_timeout`](Self::poll_timeout)).
    pub fn holds_output(&self) -> bool {
        self.hold_until.is_some() && !self.tx.pending().is_empty()
    }

    /// The client made progress at `now` (it read bytes the server sent): restarts
    /// the idle timer, so that a long message is not cut by it. Drivers call this
    /// after a write.
    pub fn handle_progress(&mut self, now: Instant) {
        if now > self.last_activity {
            self.last_activity = now;
        }
    }

    /// Limits every line to `capacity` octets, the caller's receive buffer: a longer
    /// line is answered `-ERR` and discarded, rather than waited for. The drivers set
    /// it to their buffer's size.
    pub fn set_input_capacity(&mut self, capacity: usize) {
        self.input_capacity = capacity;
        self.decoder = self.decoder.with_input_capacity(capacity);
    }

    /// True once the session is over: send what is pending, then close.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// True in TRANSACTION state (a maildrop is open and locked).
    pub fn in_transaction(&self) -> bool {
        matches!(
            self.state,
            State::Transaction | State::Listing { .. } | State::Sending { .. }
        )
    }

    /// How long a write may make no progress before the adapter ends the session
    /// ([`ServerConfig::send_timeout_ms`], at least 1 ms).
    pub fn send_timeout(&self) -> core::time::Duration {
        core::time::Duration::from_millis(self.config.send_timeout_ms.max(1))
    }

    /// True if TLS is active on the connection.
    pub fn tls_active(&self) -> bool {
        self.tls_active
    }

    /// True if message `msg` is marked as deleted.
    pub fn is_deleted(&self, msg: u32) -> bool {
        self.marks.get(msg)
    }

    /// The message numbers marked as deleted, for UPDATE.
    pub fn deleted(&self) -> impl Iterator<Item = u32> + '_ {
        (1..=self.opened.0).filter(|m| self.marks.get(*m))
    }

    /// The authenticated (or USER-named) user.
    pub fn user(&self) -> &[u8] {
        &self.user
    }

    fn reply(&mut self, line: StatusLine<'_>) {
        // Replies are built from our own texts; they always fit the room kept free.
        let _ = self.tx.write_with(|w| line.encode_into(w));
    }

    fn ok(&mut self, text: &[u8]) {
        self.reply(StatusLine::ok(text));
    }

    fn err(&mut self, code: Option<ResponseCode<'_>>, text: &[u8]) {
        self.reply(StatusLine::err(code, text));
    }

    fn plaintext_allowed(&self) -> bool {
        self.tls_active || self.config.allow_plaintext_auth
    }

    /// True before STLS on a server that offers it, unless plaintext logins are
    /// allowed: then no login at all is offered, since every one gives a passive
    /// observer something to attack (a password, or an APOP, CRAM-MD5 or SCRAM
    /// digest to crack offline) and TLS is one command away.
    fn logins_wait_for_tls(&self) -> bool {
        !self.plaintext_allowed() && self.config.tls == Tls::StartTls
    }

    /// Mechanisms offered right now: none while logins wait for TLS; without TLS
    /// (none configured, plaintext not allowed) only those that send no password.
    fn mechanisms_now(&self) -> MechanismSet {
        let mut set = self.config.mechanisms;
        if self.logins_wait_for_tls() {
            set = MechanismSet::default();
        } else if !self.plaintext_allowed() {
            set = set.without(MechanismSet::PLAINTEXT);
        }
        if !self.tls_active {
            set = set.without(MechanismSet::EXTERNAL);
        }
        if !self.tls_active || self.channel_binding.is_none() {
            // -PLUS binds to the TLS session: only with its binding data.
            set = set.without(MechanismSet::PLUS);
        }
        set
    }

    /// Counts a bad command; past the limit, answers and closes.
    fn bad_command(&mut self, text: &[u8]) {
        self.bad_commands += 1;
        if self.bad_commands >= self.config.max_bad_commands.max(1) {
            self.err(None, b"Too many bad commands, closing");
            self.state = State::Closed;
        } else {
            self.err(None, text);
        }
    }

    fn auth_failed(&mut self, now: Instant, text: &[u8]) {
        self.login_refused(now, Some(ResponseCode::Auth), text);
    }

    /// Ends a login attempt that did not succeed (wrong credentials, a cancelled or
    /// broken SASL exchange): `-ERR`, counted as a bad command, answered after the
    /// failure delay, so that neither guessing nor restarting an expensive exchange
    /// is free.
    fn login_refused(&mut self, now: Instant, code: Option<ResponseCode<'_>>, text: &[u8]) {
        self.err(code, text);
        self.user.clear();
        self.state = State::Authorization { user_given: false };
        self.decoder.set_sasl(false);
        self.bad_commands += 1;
        if self.config.auth_failure_delay_ms > 0 {
            self.hold_until = Some(now.plus_millis(self.config.auth_failure_delay_ms));
        }
        if self.bad_commands >= self.config.max_bad_commands.max(1) {
            self.state = State::Closed;
        }
    }

    /// Processes received bytes: at most one line is handled, or a pending event
    /// emitted, per call. Returns the bytes consumed and the event, if any.
    ///
    /// Nothing consumed and no event means the server cannot go on until
    /// [`poll_transmit`](Self::poll_transmit) is sent (when it is not empty), more
    /// input arrives, or [`poll_timeout`](Self::poll_timeout) passes. A driver that
    /// always sends pending bytes before waiting for input never deadlocks.
    ///
    /// A SASL message is decoded into the session, which has room for every
    /// mechanism's but a long bearer token's (768 octets): use
    /// [`handle_input_in_place`](Self::handle_input_in_place), as the drivers do, for
    /// tokens up to [`ServerConfig::max_sasl_line`].
    pub fn handle_input(
        &mut self,
        input: &[u8],
        now: Instant,
    ) -> Result<Decoded<ServerEvent<'_>>, ServerError> {
        let d = self.advance(Input::Shared(input), now)?;
        Ok(Decoded {
            consumed: d.consumed,
            item: if d.item.is_some() { self.event() } else { None },
        })
    }

    /// [`handle_input`](Self::handle_input) for input the caller can lend mutably
    /// (its receive buffer): a SASL message is decoded in place there instead of
    /// into the session, so that a message as long as
    /// [`ServerConfig::max_sasl_line`] (a 16 KiB OAuth token) costs the session no
    /// memory. The event may then borrow `input`: keep the line in place, unconsumed
    /// and unchanged, until the event is answered, and fetch it again with
    /// [`event_in`](Self::event_in) (the line's bytes are decoded data by then, and
    /// consumed all the same).
    pub fn handle_input_in_place<'a>(
        &'a mut self,
        input: &'a mut [u8],
        now: Instant,
    ) -> Result<Decoded<ServerEvent<'a>>, ServerError> {
        let d = self.advance(Input::InPlace(input), now)?;
        Ok(Decoded {
            consumed: d.consumed,
            item: if d.item.is_some() {
                self.event_in(input)
            } else {
                None
            },
        })
    }

    /// The event the application has not answered yet, if any: what the last
    /// [`handle_input`](Self::handle_input) returned, until its `answer_*` call.
    /// It borrows only the server (a password or a SASL message is kept in the
    /// session until answered), so a driver can hand it out again at any time; an
    /// event whose SASL message [`handle_input_in_place`](Self::handle_input_in_place)
    /// left in the caller's input is only whole with [`event_in`](Self::event_in),
    /// and `None` here.
    pub fn event(&self) -> Option<ServerEvent<'_>> {
        self.event_in(&[])
    }

    /// [`event`](Self::event), with `input` the caller's input that was given to
    /// [`handle_input_in_place`](Self::handle_input_in_place) (from the same first
    /// byte), where a SASL message may have been decoded: the event's fields may
    /// borrow it.
    pub fn event_in<'a>(&'a self, input: &'a [u8]) -> Option<ServerEvent<'a>> {
        Some(match &self.state {
            State::CheckingPassword { password } => ServerEvent::CheckPassword {
                authzid: b"",
                user: &self.user,
                password,
            },
            State::ApopSecret { .. } => ServerEvent::NeedSecret {
                user: &self.user,
                mechanism: None,
            },
            State::Sasl(sasl) if sasl.awaiting_answer() => return sasl.event(input),
            State::Open { emitted: true } => ServerEvent::OpenMaildrop { user: &self.user },
            State::Update { emitted: true } => ServerEvent::Update,
            State::Listing {
                kind,
                next,
                emitted: true,
            } => match kind {
                ListingKind::UidlOne | ListingKind::UidlAll => ServerEvent::Uid { msg: *next },
                _ => ServerEvent::Size { msg: *next },
            },
            State::Sending { msg, lines, .. } => ServerEvent::Retrieve {
                msg: *msg,
                lines: *lines,
            },
            State::StartingTls => ServerEvent::StartTls,
            _ => return None,
        })
    }

    /// True while an event waits for the application's answer.
    fn answer_pending(&self) -> bool {
        match &self.state {
            State::CheckingPassword { .. }
            | State::ApopSecret { .. }
            | State::Open { emitted: true }
            | State::Update { emitted: true }
            | State::Listing { emitted: true, .. }
            | State::Sending { .. }
            | State::StartingTls => true,
            State::Sasl(sasl) => sasl.awaiting_answer(),
            _ => false,
        }
    }

    /// [`handle_input`](Self::handle_input) without the event: `item` tells whether
    /// one is now pending ([`event_in`](Self::event_in)).
    fn advance(&mut self, mut input: Input<'_>, now: Instant) -> Result<Decoded<()>, ServerError> {
        if let Some(until) = self.hold_until {
            if now < until {
                return Ok(Decoded::need_more());
            }
            self.hold_until = None;
        }
        if self.answer_pending() {
            return Err(ServerError::AnswerPending);
        }
        match &mut self.state {
            State::Closed => return Ok(Decoded::need_more()),
            State::Open { emitted } | State::Update { emitted } => {
                *emitted = true;
                return Ok(Decoded {
                    consumed: 0,
                    item: Some(()),
                });
            }
            State::Listing { next, emitted, .. } => {
                // Only the full listings get here unemitted; they ask message by message.
                while *next <= self.opened.0 && self.marks.get(*next) {
                    *next += 1;
                }
                if *next <= self.opened.0 {
                    if self.tx.room() < REPLY_ROOM {
                        return Ok(Decoded::need_more());
                    }
                    *emitted = true;
                    return Ok(Decoded {
                        consumed: 0,
                        item: Some(()),
                    });
                }
                // Past the last message: end the listing and go on with the input.
                self.state = State::Transaction;
                let _ = self.tx.put(b".\r\n");
            }
            _ => {}
        }
        if self.tx.room() < REPLY_ROOM {
            return Ok(Decoded::need_more());
        }
        let bytes = input.bytes();
        let decoded = self.decoder.decode(bytes);
        let Some(line) = decoded.item else {
            return Ok(Decoded {
                consumed: decoded.consumed,
                item: None,
            });
        };
        self.last_activity = now;
        let mut consumed = decoded.consumed;
        match line {
            Err(CommandError::LineTooLong) if matches!(self.state, State::Sasl(_)) => {
                // The exchange ends: what follows is a command again, never SASL data.
                self.login_refused(now, None, b"Line too long");
            }
            Err(CommandError::LineTooLong) => self.bad_command(b"Line too long"),
            Err(e) => self.bad_command(e.text().as_bytes()),
            Ok(ClientLine::Sasl(SaslResponse::Cancel)) => self.sasl_cancelled(now),
            Ok(ClientLine::Sasl(SaslResponse::Data(b64))) => {
                // Where the base64 is in the input, to decode it there if allowed.
                let start = b64.as_ptr() as usize - bytes.as_ptr() as usize;
                let b64 = start..start + b64.len();
                self.sasl_line(&mut input, b64, now);
            }
            Ok(ClientLine::Command(command)) => {
                self.command(command, now);
                if matches!(self.state, State::StartingTls) {
                    // RFC 2595 / CVE-2011-0411: never act on plaintext sent after STLS.
                    consumed = bytes.len();
                }
            }
        }
        Ok(Decoded {
            consumed,
            item: self.answer_pending().then_some(()),
        })
    }

    fn command(&mut self, command: Command<'_>, now: Instant) {
        let authorization = matches!(self.state, State::Authorization { .. });
        match command {
            Command::Capa => self.capabilities(),
            Command::Quit if authorization => {
                self.ok(b"Logging out");
                self.state = State::Closed;
            }
            Command::Quit => self.state = State::Update { emitted: false },
            Command::Lang(tag) if self.config.lang => self.lang(tag),
            Command::Noop if !authorization => self.ok(b""),
            _ if authorization => self.authorization(command, now),
            _ => self.transaction(command),
        }
    }

    fn capabilities(&mut self) {
        let authorization = matches!(self.state, State::Authorization { .. });
        let mut names = [0u8; 160];
        let n = crate::sasl::mechanism_list(self.mechanisms_now(), &mut names);
        let config = &self.config;
        let flag = |on: bool, cap: Capability<'static>| on.then_some(cap);
        let caps = [
            Some(Capability::Top),
            Some(Capability::Uidl),
            Some(Capability::RespCodes),
            Some(Capability::AuthRespCode),
            Some(Capability::Pipelining),
            flag(
                self.tls_active || config.allow_plaintext_auth,
                Capability::User,
            ),
            flag(
                authorization && config.tls == Tls::StartTls && !self.tls_active,
                Capability::Stls,
            ),
            config.login_delay.map(|seconds| Capability::LoginDelay {
                seconds,
                per_user: false,
            }),
            config.expire.map(|policy| Capability::Expire {
                policy,
                per_user: false,
            }),
            flag(config.utf8, Capability::Utf8 { user: true }),
            flag(config.lang, Capability::Lang),
            (!config.implementation.is_empty())
                .then(|| Capability::Implementation(config.implementation.as_bytes())),
            (n > 0).then(|| Capability::Sasl(crate::SaslMechanisms::new(&names[..n]))),
        ];
        let _ = self.tx.write_with(|w| {
            StatusLine::ok(b"Capability list follows").encode_into(w)?;
            for cap in caps.iter().flatten() {
                cap.encode_into(w)?;
            }
            w.put(b".\r\n")
        });
    }

    fn lang(&mut self, tag: Option<&[u8]>) {
        match tag {
            None => {
                let _ = self.tx.write_with(|w| {
                    StatusLine::ok(b"Language listing follows").encode_into(w)?;
                    w.put(b"en English\r\n.\r\n")
                });
            }
            Some(t)
                if t == b"*"
                    || t.eq_ignore_ascii_case(b"en")
                    || t.eq_ignore_ascii_case(b"i-default") =>
            {
                self.ok(b"en Language is English")
            }
            Some(_) => self.err(None, b"Unsupported language"),
        }
    }

    fn authorization(&mut self, command: Command<'_>, now: Instant) {
        let user_given = matches!(self.state, State::Authorization { user_given: true });
        match command {
            Command::User(name) => {
                if !self.plaintext_allowed() {
                    self.err(
                        Some(ResponseCode::Auth),
                        b"Plaintext authentication disallowed on non-secure connections",
                    );
                } else if self.utf8 && core::str::from_utf8(name).is_err() {
                    self.err(Some(ResponseCode::Utf8), b"User name is not UTF-8");
                } else {
                    self.set_user(name);
                    self.state = State::Authorization { user_given: true };
                    self.ok(b"");
                }
            }
            Command::Pass(_) if !user_given => self.bad_command(b"No user name given"),
            Command::Pass(password) => {
                if self.utf8 && core::str::from_utf8(password).is_err() {
                    self.auth_failed(now, b"Password is not UTF-8");
                    return;
                }
                let mut stored = heapless::Vec::new();
                // A command line holds at most 250 octets of password.
                let _ = stored.extend_from_slice(&password[..password.len().min(255)]);
                self.state = State::CheckingPassword { password: stored };
            }
            Command::Apop { name, digest } => {
                if self.timestamp.is_empty() {
                    self.bad_command(b"APOP not available");
                } else if digest.len() != 32 || !digest.iter().all(u8::is_ascii_hexdigit) {
                    self.auth_failed(now, b"Malformed APOP digest");
                } else {
                    let mut d = [0u8; 32];
                    d.copy_from_slice(digest);
                    d.make_ascii_lowercase();
                    self.set_user(name);
                    self.state = State::ApopSecret { digest: d };
                }
            }
            Command::Auth {
                mechanism: None, ..
            } => {
                let mut names = [0u8; 160];
                let n = crate::sasl::mechanism_list(self.mechanisms_now(), &mut names);
                let _ = self.tx.write_with(|w| {
                    StatusLine::ok(b"").encode_into(w)?;
                    for name in names[..n].split(|b| *b == b' ').filter(|n| !n.is_empty()) {
                        w.put(name)?;
                        w.put(b"\r\n")?;
                    }
                    w.put(b".\r\n")
                });
            }
            Command::Auth {
                mechanism: Some(mechanism),
                initial_response,
            } => {
                let offered = self.mechanisms_now();
                match SaslServer::start(
                    mechanism,
                    initial_response,
                    offered,
                    self.config.allow_authzid,
                    &self.random,
                    self.config.hostname.as_bytes(),
                    self.channel_binding.as_ref(),
                ) {
                    Ok((sasl, step)) => {
                        self.state = State::Sasl(sasl);
                        self.sasl_step(step, now);
                    }
                    Err(text) => self.err(None, text.as_bytes()),
                }
            }
            Command::Stls => {
                if self.config.tls != Tls::StartTls || self.tls_active {
                    self.bad_command(b"STLS not available");
                } else {
                    self.ok(b"Begin TLS negotiation now");
                    self.state = State::StartingTls;
                }
            }
            Command::Utf8 if self.config.utf8 => {
                self.utf8 = true;
                self.ok(b"UTF8 enabled");
            }
            _ => self.bad_command(b"Not allowed in AUTHORIZATION state"),
        }
    }

    fn set_user(&mut self, name: &[u8]) {
        self.user.clear();
        // A command line holds at most 250 octets of name.
        let _ = self.user.extend_from_slice(&name[..name.len().min(255)]);
    }

    /// Checks a message number; on failure answers `-ERR` and returns `None`.
    fn message(&mut self, msg: u32) -> Option<u32> {
        if msg == 0 || msg > self.opened.0 {
            let mut text = [0u8; 40];
            let mut w = Writer::new(&mut text);
            let _ = w.put(b"There's no message ");
            let _ = w.put_u64(u64::from(msg));
            let n = w.len();
            self.bad_command_quiet();
            self.err(None, &text[..n]);
            None
        } else if self.marks.get(msg) {
            self.err(None, b"Message is deleted");
            None
        } else {
            Some(msg)
        }
    }

    /// Counts a bad command without answering (the caller answers).
    fn bad_command_quiet(&mut self) {
        self.bad_commands += 1;
    }

    fn transaction(&mut self, command: Command<'_>) {
        match command {
            Command::Stat => {
                let mut text = [0u8; 48];
                let stat = Stat {
                    count: self.current.0,
                    size: self.current.1,
                };
                if let Ok(n) = stat.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
            }
            Command::List(None) | Command::Uidl(None) => {
                let uidl = matches!(command, Command::Uidl(_));
                self.ok(if uidl {
                    b"Unique-ID listing follows"
                } else {
                    b"Scan listing follows"
                });
                self.state = State::Listing {
                    kind: if uidl {
                        ListingKind::UidlAll
                    } else {
                        ListingKind::ListAll
                    },
                    next: 1,
                    emitted: false,
                };
            }
            Command::List(Some(msg)) | Command::Uidl(Some(msg)) | Command::Dele(msg) => {
                let Some(msg) = self.message(msg) else {
                    return;
                };
                let kind = match command {
                    Command::List(_) => ListingKind::ListOne,
                    Command::Uidl(_) => ListingKind::UidlOne,
                    _ => ListingKind::Dele,
                };
                self.state = State::Listing {
                    kind,
                    next: msg,
                    emitted: true,
                };
            }
            Command::Retr(msg) | Command::Top { msg, .. } => {
                let Some(msg) = self.message(msg) else {
                    return;
                };
                let lines = match command {
                    Command::Top { lines, .. } => Some(lines),
                    _ => None,
                };
                self.state = State::Sending {
                    msg,
                    lines,
                    encoder: BodyEncoder::new(),
                    top: lines.map(TopFilter::new),
                    started: false,
                };
            }
            Command::Rset => {
                let _ = self.marks.reset(self.opened.0);
                self.current = self.opened;
                let mut text = [0u8; 48];
                let stat = Stat {
                    count: self.current.0,
                    size: self.current.1,
                };
                if let Ok(n) = stat.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
            }
            _ => self.bad_command(b"Not allowed in TRANSACTION state"),
        }
    }

    fn stat_reply(&mut self, prefix: &[u8]) {
        let mut text = [0u8; 64];
        let mut w = Writer::new(&mut text);
        let _ = w.put(prefix);
        let _ = w.put_u64(u64::from(self.current.0));
        let _ = w.put(b" messages (");
        let _ = w.put_u64(self.current.1);
        let _ = w.put(b" octets)");
        let n = w.len();
        self.ok(&text[..n]);
    }

    /// Answers [`ServerEvent::CheckPassword`], [`ServerEvent::CheckToken`] or
    /// [`ServerEvent::CheckExternal`]: `true` if the credentials are good.
    pub fn answer_password(&mut self, valid: bool, now: Instant) -> Result<(), ServerError> {
        match &mut self.state {
            State::CheckingPassword { .. } => {}
            State::Sasl(sasl) if sasl.awaiting_verdict() => {
                if valid {
                    let user = sasl.authorized_user();
                    let mut name: heapless::Vec<u8, 255> = heapless::Vec::new();
                    let _ = name.extend_from_slice(&user[..user.len().min(255)]);
                    self.user = name;
                }
            }
            _ => return Err(ServerError::Unexpected),
        }
        self.decoder.set_sasl(false);
        if valid {
            self.state = State::Open { emitted: false };
        } else {
            self.auth_failed(now, b"Authentication failed");
        }
        Ok(())
    }

    /// Answers [`ServerEvent::NeedSecret`] with the user's secret (password), or
    /// `None` for an unknown user (the client sees the same failure either way).
    pub fn answer_secret(
        &mut self,
        secret: Option<&[u8]>,
        now: Instant,
    ) -> Result<(), ServerError> {
        match &mut self.state {
            State::ApopSecret { digest } => {
                let good = secret.is_some_and(|s| apop_verify(&self.timestamp, s, digest));
                if good {
                    self.state = State::Open { emitted: false };
                } else {
                    self.auth_failed(now, b"Authentication failed");
                }
                Ok(())
            }
            State::Sasl(sasl) if sasl.awaiting_secret() => {
                let step = sasl.secret(secret, &self.config.scram_mock_key);
                self.sasl_step(step, now);
                Ok(())
            }
            _ => Err(ServerError::Unexpected),
        }
    }

    /// Answers [`ServerEvent::NeedSecret`] of a SCRAM exchange
    /// ([`secret_mechanism`](Self::secret_mechanism) is SCRAM-SHA-1 or -256) with the
    /// user's stored verifier instead of a password, or `None` for an unknown user
    /// (the exchange then fails at the client's proof, like a wrong password). A
    /// verifier of the other hash is [`ServerError::Unexpected`].
    pub fn answer_verifier(
        &mut self,
        verifier: Option<&crate::sasl::scram::ScramVerifier>,
        now: Instant,
    ) -> Result<(), ServerError> {
        let State::Sasl(sasl) = &mut self.state else {
            return Err(ServerError::Unexpected);
        };
        if !sasl.awaiting_secret() {
            return Err(ServerError::Unexpected);
        }
        let step = sasl
            .verifier(verifier, &self.config.scram_mock_key)
            .map_err(|()| ServerError::Unexpected)?;
        self.sasl_step(step, now);
        Ok(())
    }

    /// Answers [`ServerEvent::NeedSecret`] of a CRAM-MD5 exchange
    /// ([`secret_mechanism`](Self::secret_mechanism) is CRAM-MD5) with the user's
    /// stored context instead of a password (Dovecot's `{CRAM-MD5}` form, see
    /// [`CramMd5Context`](crate::sasl::cram::CramMd5Context)), or `None` for an
    /// unknown user (the same failure, after the same work, as a wrong password).
    /// Any other pending event is [`ServerError::Unexpected`].
    pub fn answer_cram_context(
        &mut self,
        context: Option<&crate::sasl::cram::CramMd5Context>,
        now: Instant,
    ) -> Result<(), ServerError> {
        let State::Sasl(sasl) = &mut self.state else {
            return Err(ServerError::Unexpected);
        };
        let step = sasl
            .cram_context(context)
            .map_err(|()| ServerError::Unexpected)?;
        self.sasl_step(step, now);
        Ok(())
    }

    /// Answers a credential event ([`ServerEvent::CheckPassword`],
    /// [`ServerEvent::CheckToken`], [`ServerEvent::CheckExternal`],
    /// [`ServerEvent::NeedSecret`]) without checking anything, because the
    /// application will not log this user in now (its limit on failed logins for the
    /// user is reached): `-ERR [SYS/TEMP] Login unavailable, try again later`, after
    /// the failure delay and counted like a failed login. `SYS/TEMP` (RFC 3206) tells
    /// the client the problem is temporary, not its credentials: it keeps the
    /// password and tries later. Any other pending event is
    /// [`ServerError::Unexpected`].
    pub fn answer_try_later(&mut self, now: Instant) -> Result<(), ServerError> {
        match &self.state {
            State::CheckingPassword { .. } | State::ApopSecret { .. } => {}
            State::Sasl(sasl) if sasl.awaiting_answer() => {}
            _ => return Err(ServerError::Unexpected),
        }
        self.login_refused(
            now,
            Some(ResponseCode::SysTemp),
            b"Login unavailable, try again later",
        );
        Ok(())
    }

    /// Which SASL mechanism asks for the secret of a pending
    /// [`ServerEvent::NeedSecret`] (`None`: APOP, or no such event): an application
    /// that stores SCRAM verifiers answers SCRAM with
    /// [`answer_verifier`](Self::answer_verifier), one that stores CRAM-MD5 contexts
    /// answers CRAM-MD5 with [`answer_cram_context`](Self::answer_cram_context).
    pub fn secret_mechanism(&self) -> Option<crate::sasl::SaslMechanism> {
        match &self.state {
            State::Sasl(sasl) if sasl.awaiting_secret() => Some(sasl.mechanism()),
            _ => None,
        }
    }

    /// Answers [`ServerEvent::OpenMaildrop`].
    pub fn answer_open(&mut self, open: Open) -> Result<(), ServerError> {
        if !matches!(self.state, State::Open { emitted: true }) {
            return Err(ServerError::Unexpected);
        }
        match open {
            Open::Opened { count, size } => {
                if !self.marks.reset(count) {
                    self.err(
                        Some(ResponseCode::SysPerm),
                        b"Maildrop too large for this server",
                    );
                    self.state = State::Closed;
                    return Err(ServerError::TooManyMessages);
                }
                self.opened = (count, size);
                self.current = (count, size);
                self.state = State::Transaction;
                self.login_deadline = Instant(u64::MAX);
                self.stat_reply(b"Logged in, ");
            }
            Open::InUse => {
                self.err(
                    Some(ResponseCode::InUse),
                    b"Maildrop is locked by another session",
                );
                self.state = State::Authorization { user_given: false };
            }
            Open::LoginDelay => {
                self.err(Some(ResponseCode::LoginDelay), b"Logged in too recently");
                self.state = State::Authorization { user_given: false };
            }
            Open::Unavailable => {
                self.err(
                    Some(ResponseCode::SysTemp),
                    b"Maildrop unavailable, try again later",
                );
                self.state = State::Authorization { user_given: false };
            }
        }
        Ok(())
    }

    /// Answers [`ServerEvent::Size`] with the message's size in octets.
    pub fn answer_size(&mut self, size: u64) -> Result<(), ServerError> {
        let State::Listing {
            kind,
            next,
            emitted: true,
        } = self.state
        else {
            return Err(ServerError::Unexpected);
        };
        let entry = ListEntry { msg: next, size };
        match kind {
            ListingKind::ListOne => {
                let mut text = [0u8; 40];
                if let Ok(n) = entry.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
                self.state = State::Transaction;
            }
            ListingKind::ListAll => {
                let _ = self.tx.write_with(|w| entry.encode_into(w));
                self.state = State::Listing {
                    kind,
                    next: next + 1,
                    emitted: false,
                };
            }
            ListingKind::Dele => {
                self.marks.set(next, true);
                self.current.0 -= 1;
                self.current.1 = self.current.1.saturating_sub(size);
                let mut text = [0u8; 40];
                let mut w = Writer::new(&mut text);
                let _ = w.put(b"Message ");
                let _ = w.put_u64(u64::from(next));
                let _ = w.put(b" deleted");
                let n = w.len();
                self.ok(&text[..n]);
                self.state = State::Transaction;
            }
            ListingKind::UidlOne | ListingKind::UidlAll => return Err(ServerError::Unexpected),
        }
        Ok(())
    }

    /// Answers [`ServerEvent::Uid`] with the message's unique-id (1–70 octets of
    /// 0x21–0x7E, stable across sessions).
    pub fn answer_uid(&mut self, uid: &[u8]) -> Result<(), ServerError> {
        let State::Listing {
            kind,
            next,
            emitted: true,
        } = self.state
        else {
            return Err(ServerError::Unexpected);
        };
        if !is_valid_uid(uid) {
            return Err(ServerError::InvalidUid);
        }
        let entry = UidlEntry { msg: next, uid };
        match kind {
            ListingKind::UidlOne => {
                let mut text = [0u8; 100];
                if let Ok(n) = entry.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
                self.state = State::Transaction;
            }
            ListingKind::UidlAll => {
                let _ = self.tx.write_with(|w| entry.encode_into(w));
                self.state = State::Listing {
                    kind,
                    next: next + 1,
                    emitted: false,
                };
            }
            _ => return Err(ServerError::Unexpected),
        }
        Ok(())
    }

    /// Sends message bytes for [`ServerEvent::Retrieve`] (raw, as stored: line ends
    /// may be LF or CRLF), dot-stuffed and with CRLF line ends, straight into `out`,
    /// the caller's transmit buffer (the first call also writes the `+OK` line).
    ///
    /// Returns how many bytes of `chunk` were taken and how many bytes of `out` were
    /// written. Nothing taken means `out` is too small (send what it holds first;
    /// stuffing may double the input, so room for `2 × chunk` takes all of it) or
    /// reply bytes still wait in [`poll_transmit`](Self::poll_transmit), which must
    /// be sent first to keep the order.
    pub fn body(&mut self, chunk: &[u8], out: &mut [u8]) -> Result<BodyWrite, ServerError> {
        let State::Sending {
            encoder,
            top,
            started,
            ..
        } = &mut self.state
        else {
            return Err(ServerError::Unexpected);
        };
        let nothing = BodyWrite {
            taken: 0,
            written: 0,
        };
        if !self.tx.pending().is_empty() {
            return Ok(nothing);
        }
        let mut written = 0;
        if !*started {
            let mut w = Writer::new(out);
            if StatusLine::ok(b"Message follows")
                .encode_into(&mut w)
                .is_err()
            {
                return Ok(nothing);
            }
            written = w.len();
            *started = true;
        }
        if top.as_ref().is_some_and(TopFilter::done) {
            return Ok(BodyWrite {
                taken: chunk.len(),
                written,
            });
        }
        // Stuffing at most doubles the input: take what surely fits.
        let n = chunk.len().min((out.len() - written) / 2);
        if n == 0 {
            return Ok(BodyWrite { taken: 0, written });
        }
        let pass = match top {
            Some(filter) => filter.pass(&chunk[..n]),
            None => n,
        };
        let (_, encoded) = encoder.encode(&chunk[..pass], &mut out[written..]);
        written += encoded;
        let taken = if top.as_ref().is_some_and(TopFilter::done) {
            chunk.len()
        } else {
            n
        };
        Ok(BodyWrite { taken, written })
    }

    /// True when the rest of the message would be discarded (TOP has its lines):
    /// the application may stop reading and call [`body_end`](Self::body_end).
    pub fn body_done(&self) -> bool {
        matches!(&self.state, State::Sending { top: Some(f), .. } if f.done())
    }

    /// Ends the message sent with [`body`](Self::body).
    pub fn body_end(&mut self) -> Result<(), ServerError> {
        let State::Sending {
            encoder, started, ..
        } = &mut self.state
        else {
            return Err(ServerError::Unexpected);
        };
        if !*started {
            let _ = self
                .tx
                .write_with(|w| StatusLine::ok(b"Message follows").encode_into(w));
        }
        // The terminator goes to the reply queue: nothing else is queued while a
        // message is sent, so it always has room, and it follows the body bytes.
        let spare = self.tx.spare();
        let n = encoder.finish(spare).ok_or(ServerError::Unexpected)?;
        self.tx.commit(n);
        self.state = State::Transaction;
        Ok(())
    }

    /// Answers [`ServerEvent::Retrieve`] when the message cannot be read: `-ERR
    /// [SYS/TEMP]` if nothing was sent yet; otherwise the reply is already partly
    /// sent and the connection is closed, so that the client never takes a truncated
    /// message for a whole one.
    pub fn body_failed(&mut self) -> Result<(), ServerError> {
        let State::Sending { started, .. } = self.state else {
            return Err(ServerError::Unexpected);
        };
        if started {
            self.state = State::Closed;
        } else {
            self.err(Some(ResponseCode::SysTemp), b"Message unavailable");
            self.state = State::Transaction;
        }
        Ok(())
    }

    /// Answers [`ServerEvent::Update`]: `true` if every marked message was removed.
    pub fn answer_update(&mut self, removed: bool) -> Result<(), ServerError> {
        if !matches!(self.state, State::Update { emitted: true }) {
            return Err(ServerError::Unexpected);
        }
        if removed {
            self.ok(b"Logging out");
        } else {
            self.err(
                Some(ResponseCode::SysTemp),
                b"Some deleted messages not removed",
            );
        }
        self.state = State::Closed;
        Ok(())
    }

    /// Gives the server the TLS session's channel binding, its `tls-exporter` value
    /// (RFC 9266: 32 bytes exported with the label `EXPORTER-Channel-Binding` and no
    /// context), so that it offers SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS (when
    /// [`ServerConfig::mechanisms`] has them) and refuses plain SCRAM from a client
    /// that says it could have bound (a downgrade). The adapters call it after every
    /// handshake they run; after implicit TLS (port 995) the caller does.
    pub fn set_channel_binding(&mut self, tls_exporter: [u8; 32]) {
        self.channel_binding = Some(tls_exporter);
    }

    /// Answers [`ServerEvent::StartTls`]: the handshake succeeded. The session starts
    /// over in AUTHORIZATION with everything learnt in plaintext forgotten.
    pub fn tls_started(&mut self) -> Result<(), ServerError> {
        if self.tls_active || !matches!(self.state, State::StartingTls) {
            return Err(ServerError::Unexpected);
        }
        self.tls_active = true;
        self.user.clear();
        self.utf8 = false;
        self.decoder = CommandDecoder::new()
            .with_max_sasl_line(self.config.max_sasl_line)
            .with_input_capacity(self.input_capacity);
        self.state = State::Authorization { user_given: false };
        Ok(())
    }

    fn sasl_step(&mut self, step: AuthStep, now: Instant) {
        match step {
            AuthStep::Challenge => {
                let State::Sasl(sasl) = &self.state else {
                    return;
                };
                let challenge = sasl.challenge();
                let _ = self.tx.write_with(|w| {
                    w.put(b"+ ")?;
                    crate::sasl::write_base64(w, challenge)?;
                    w.put(b"\r\n")
                });
                self.decoder.set_sasl(true);
            }
            // The event is pending now (`answer_pending`).
            AuthStep::Event => self.decoder.set_sasl(false),
            AuthStep::Success => {
                self.decoder.set_sasl(false);
                if let State::Sasl(sasl) = &self.state {
                    let user = sasl.authorized_user();
                    let mut name: heapless::Vec<u8, 255> = heapless::Vec::new();
                    let _ = name.extend_from_slice(&user[..user.len().min(255)]);
                    self.user = name;
                }
                self.state = State::Open { emitted: false };
            }
            AuthStep::Failure(text) => self.auth_failed(now, text.as_bytes()),
            AuthStep::Error(text) => self.login_refused(now, None, text.as_bytes()),
        }
    }

    fn sasl_cancelled(&mut self, now: Instant) {
        self.sasl_step(AuthStep::Error("Authentication cancelled"), now);
    }

    /// A client response in an exchange; its base64 is `input[b64]`, decoded in
    /// place when the caller lent the input mutably.
    fn sasl_line(&mut self, input: &mut Input<'_>, b64: Range<usize>, now: Instant) {
        let State::Sasl(sasl) = &mut self.state else {
            self.decoder.set_sasl(false);
            return;
        };
        let step = match input {
            Input::Shared(bytes) => sasl.response(&bytes[b64]),
            Input::InPlace(bytes) => sasl.response_in_place(bytes, b64),
        };
        self.sasl_step(step, now);
    }
}

/// The bytes given to [`Server::handle_input`] or, lent mutably, to
/// [`Server::handle_input_in_place`].
enum Input<'i> {
    Shared(&'i [u8]),
    InPlace(&'i mut [u8]),
}

impl Input<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Shared(b) => b,
            Input::InPlace(b) => b,
        }
    }
}
