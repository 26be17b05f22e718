//! The [`Client`] state machine: its state, the queries on it, and the transmit
//! side (which queued commands leave now, and their lines). The commands that
//! queue are in `commands`, the handling of replies in `reply`.

use super::caps::Capabilities;
use super::config::ClientConfig;
use super::error::{ClientError, InvalidReply};
use super::pending::{Entry, Pending, MAX_QUEUED};
use super::sasl::SaslClient;
use crate::codec::client::{Expect, ResponseDecoder};
use crate::command::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Greeting,
    Authorization,
    Transaction,
    Closed,
}

/// A POP3 client session.
///
/// `Debug` prints the session's state, not its randomness nor its channel binding.
#[derive(Clone)]
pub struct Client {
    pub(super) config: ClientConfig,
    pub(super) decoder: ResponseDecoder,
    pub(super) queue: heapless::Deque<Entry, MAX_QUEUED>,
    pub(super) phase: Phase,
    pub(super) caps: Capabilities,
    pub(super) tls_active: bool,
    pub(super) timestamp: heapless::Vec<u8, 96>,
    pub(super) sasl: Option<SaslClient>,
    pub(super) random: [u8; 32],
    /// A SASL line waits to be sent (the response to the last challenge).
    pub(super) sasl_line_ready: bool,
    /// The next command to send carries credentials: nothing leaves until
    /// `write_credentials`.
    pub(super) creds_blocked: bool,
    /// STLS was accepted: nothing is sent or read until `tls_started`.
    pub(super) awaiting_tls: bool,
    /// The LANG listing being received failed: its remaining lines are skipped, and
    /// this is reported at its end. (A bad LIST or UIDL line is fatal at once.)
    pub(super) invalid: Option<InvalidReply>,
    /// Lines of the multi-line reply being received, to bound those the caller did
    /// not ask to stream: CAPA ([`MAX_CAPA_LINES`]), LANG ([`MAX_LANG_LINES`]), and a
    /// whole LIST or UIDL past the highest message number STAT allows.
    ///
    /// [`MAX_CAPA_LINES`]: crate::client::MAX_CAPA_LINES
    /// [`MAX_LANG_LINES`]: crate::client::MAX_LANG_LINES
    pub(super) lines: u32,
    /// The last message number of the whole LIST or UIDL being received: the next
    /// must be higher.
    pub(super) last_msg: u32,
    /// The highest message number, from the last STAT (count + deleted before it).
    pub(super) max_msg: Option<u32>,
    /// DELE accepted since login or the last RSET.
    pub(super) deleted: u32,
    /// The TLS session's `tls-exporter` value (RFC 9266), for SCRAM -PLUS.
    pub(super) channel_binding: Option<[u8; 32]>,
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
            last_msg: 0,
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
    ///
    /// [`ClientEvent::StartTls`]: crate::client::ClientEvent::StartTls
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && !self.sasl_line_ready && self.phase != Phase::Greeting
    }

    /// True if the connection is encrypted.
    pub fn tls_active(&self) -> bool {
        self.tls_active
    }

    /// True between STLS's `+OK` ([`ClientEvent::StartTls`]) and
    /// [`tls_started`](Self::tls_started): the transport awaits its TLS handshake.
    ///
    /// [`ClientEvent::StartTls`]: crate::client::ClientEvent::StartTls
    pub fn awaiting_tls(&self) -> bool {
        self.awaiting_tls && self.phase != Phase::Closed
    }

    pub(super) fn push(&mut self, pending: Pending) -> Result<(), ClientError> {
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

    pub(super) fn require(&self, phase: Phase) -> Result<(), ClientError> {
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
    pub(super) fn decide_initial_response(&mut self, i: usize, entry: Entry) -> Entry {
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

    pub(super) fn encode(
        &mut self,
        pending: &Pending,
        out: &mut [u8],
    ) -> Result<usize, ClientError> {
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
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("decoder", &self.decoder)
            .field("queue", &self.queue)
            .field("phase", &self.phase)
            .field("caps", &self.caps)
            .field("tls_active", &self.tls_active)
            .field("timestamp", &crate::debug::Bytes(&self.timestamp))
            .field("sasl", &self.sasl)
            .field("sasl_line_ready", &self.sasl_line_ready)
            .field("creds_blocked", &self.creds_blocked)
            .field("awaiting_tls", &self.awaiting_tls)
            .field("invalid", &self.invalid)
            .field("lines", &self.lines)
            .field("last_msg", &self.last_msg)
            .field("max_msg", &self.max_msg)
            .field("deleted", &self.deleted)
            .finish_non_exhaustive()
    }
}
