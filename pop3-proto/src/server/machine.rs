//! The [`Server`] state machine: its state, the queries on it, time, the input
//! loop and the command dispatch. The commands of each state are handled in
//! `authorization` and `transaction`.

use super::config::{self, MechanismSet, ServerConfig, Tls};
use super::error::ServerError;
use super::event::ServerEvent;
use super::marks::Marks;
use super::state::{ListingKind, State};
use crate::codec::server::{ClientLine, CommandDecoder};
use crate::codec::Decoded;
use crate::command::{Command, CommandError, SaslResponse};
use crate::encode::Writer;
use crate::limits::MAX_STATUS_LINE;
use crate::response::capability::Capability;
use crate::response::code::ResponseCode;
use crate::response::status::StatusLine;
use crate::time::Instant;
use crate::txbuf::TxBuf;

/// Capacity of the server's outgoing buffer.
const TX_CAPACITY: usize = 1024;
/// Room kept free before handling a new command: the longest reply line.
const REPLY_ROOM: usize = MAX_STATUS_LINE + 8;

/// A POP3 server session.
///
/// `M` stores the deletion marks: `[u8; N]` for `8 * N` messages without an
/// allocator (default 4096 messages), or `Vec<u8>` with `std`.
///
/// `Debug` prints the session's state, not its secrets (the password being checked,
/// SASL messages, the randomness, the channel binding) nor its buffers.
#[derive(Clone)]
pub struct Server<M: Marks = [u8; 512]> {
    pub(super) config: ServerConfig,
    pub(super) decoder: CommandDecoder,
    /// The caller's receive buffer size (see `set_input_capacity`).
    pub(super) input_capacity: usize,
    pub(super) tx: TxBuf<TX_CAPACITY>,
    pub(super) state: State,
    pub(super) marks: M,
    /// The user named by USER or authenticated; 255 octets fit any command line.
    pub(super) user: heapless::Vec<u8, 255>,
    /// The APOP timestamp of the greeting, brackets included.
    pub(super) timestamp: heapless::Vec<u8, 96>,
    /// Per-session randomness from the caller (SCRAM nonce and salt).
    pub(super) random: [u8; 32],
    pub(super) tls_active: bool,
    /// The TLS session's `tls-exporter` value (RFC 9266), for SCRAM -PLUS.
    pub(super) channel_binding: Option<[u8; 32]>,
    pub(super) utf8: bool,
    pub(super) bad_commands: u32,
    pub(super) last_activity: Instant,
    /// Until when the client may log in (far future once a maildrop is open).
    pub(super) login_deadline: Instant,
    pub(super) hold_until: Option<Instant>,
    /// Messages in the maildrop at open, and their total size.
    pub(super) opened: (u32, u64),
    /// Undeleted messages and their size (what STAT reports).
    pub(super) current: (u32, u64),
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
    /// as [`Client::poll_transmit`]: the caller
    /// owns the buffer, of any size but 0 (the [`ServerDriver`] wants
    /// [`MIN_SERVER_TRANSMIT`] at least). Message bodies do not pass through here but are
    /// encoded straight into the caller's buffer by [`body`](Self::body).
    ///
    /// [`Client::poll_transmit`]: crate::client::Client::poll_transmit
    /// [`ServerDriver`]: crate::driver::ServerDriver
    /// [`MIN_SERVER_TRANSMIT`]: crate::driver::MIN_SERVER_TRANSMIT
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

    pub(super) fn idle_timeout(&self) -> u64 {
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

    pub(super) fn reply(&mut self, line: StatusLine<'_>) {
        // Replies are built from our own texts; they always fit the room kept free.
        let _ = self.tx.write_with(|w| line.encode_into(w));
    }

    pub(super) fn ok(&mut self, text: &[u8]) {
        self.reply(StatusLine::ok(text));
    }

    pub(super) fn err(&mut self, code: Option<ResponseCode<'_>>, text: &[u8]) {
        self.reply(StatusLine::err(code, text));
    }

    pub(super) fn plaintext_allowed(&self) -> bool {
        self.tls_active || self.config.allow_plaintext_auth
    }

    /// True before STLS on a server that offers it, unless plaintext logins are
    /// allowed: then no login at all is offered, since every one gives a passive
    /// observer something to attack (a password, or an APOP, CRAM-MD5 or SCRAM
    /// digest to crack offline) and TLS is one command away.
    pub(super) fn logins_wait_for_tls(&self) -> bool {
        !self.plaintext_allowed() && self.config.tls == Tls::StartTls
    }

    /// Mechanisms offered right now: none while logins wait for TLS; without TLS
    /// (none configured, plaintext not allowed) only those that send no password.
    pub(super) fn mechanisms_now(&self) -> MechanismSet {
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
    pub(super) fn bad_command(&mut self, text: &[u8]) {
        self.bad_commands += 1;
        if self.bad_commands >= self.config.max_bad_commands.max(1) {
            self.err(None, b"Too many bad commands, closing");
            self.state = State::Closed;
        } else {
            self.err(None, text);
        }
    }

    /// Counts a bad command without answering (the caller answers).
    pub(super) fn bad_command_quiet(&mut self) {
        self.bad_commands += 1;
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
    pub(super) fn answer_pending(&self) -> bool {
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
    pub(super) fn advance(
        &mut self,
        mut input: Input<'_>,
        now: Instant,
    ) -> Result<Decoded<()>, ServerError> {
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

    pub(super) fn command(&mut self, command: Command<'_>, now: Instant) {
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

    pub(super) fn capabilities(&mut self) {
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

    pub(super) fn lang(&mut self, tag: Option<&[u8]>) {
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
}

/// The bytes given to [`Server::handle_input`] or, lent mutably, to
/// [`Server::handle_input_in_place`].
pub(super) enum Input<'i> {
    Shared(&'i [u8]),
    InPlace(&'i mut [u8]),
}

impl Input<'_> {
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Input::Shared(b) => b,
            Input::InPlace(b) => b,
        }
    }
}

impl<M: Marks> core::fmt::Debug for Server<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::Bytes;
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("state", &self.state)
            .field("user", &Bytes(&self.user))
            .field("timestamp", &Bytes(&self.timestamp))
            .field("tls_active", &self.tls_active)
            .field("utf8", &self.utf8)
            .field("bad_commands", &self.bad_commands)
            .field("last_activity", &self.last_activity)
            .field("login_deadline", &self.login_deadline)
            .field("hold_until", &self.hold_until)
            .field("opened", &self.opened)
            .field("current", &self.current)
            .field("tx", &self.tx)
            .finish_non_exhaustive()
    }
}
