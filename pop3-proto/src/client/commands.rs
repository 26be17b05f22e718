//! The requests a caller makes of the [`Client`]: queueing commands (one method
//! per POP3 command), the login and its credentials, STLS and channel binding.

use super::caps::Capabilities;
use super::error::{ClientError, CommandKind};
use super::login::{sasl_creds, Login};
use super::machine::{Client, Phase};
use super::pending::Pending;
use super::sasl::SaslClient;
use crate::command::Command;
use crate::encode::EncodeError;
use crate::sasl::MechanismSet;

impl Client {
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
    ///
    /// [`ClientEvent::StartTls`]: crate::client::ClientEvent::StartTls
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
    ///
    /// [`ClientEvent::NeedCredentials`]: crate::client::ClientEvent::NeedCredentials
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
                if !mechanism.carries(authzid, user, secret) {
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
    ///
    /// [`ClientEvent::NeedCredentials`]: crate::client::ClientEvent::NeedCredentials
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
    ///
    /// [`ClientEvent::NeedCredentials`]: crate::client::ClientEvent::NeedCredentials
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
    ///
    /// A whole listing (`None`) must number its messages in ascending order, each
    /// within what the last STAT allows; a bad line ends the session there
    /// ([`ClientError::InvalidListing`]). Queue STAT first: it also bounds the
    /// listing by its count plus the messages deleted before it (one line more is
    /// [`ClientError::Protocol`]); without it, only the ascending order bounds the
    /// listing.
    pub fn list(&mut self, msg: Option<u32>) -> Result<(), ClientError> {
        self.require(Phase::Transaction)?;
        self.push(Pending::List(msg))
    }

    /// Queues UIDL (all messages, or one). A whole listing is checked and bounded as
    /// [`list`](Self::list)'s is: queue STAT first.
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
}
