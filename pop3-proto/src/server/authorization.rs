//! The AUTHORIZATION state (RFC 1939 §4, RFC 5034): USER/PASS, APOP, AUTH, STLS
//! and UTF8, and the application's answers to the credential events, up to the
//! opening of the maildrop.

use core::ops::Range;

use super::config::Tls;
use super::error::ServerError;
use super::event::Open;
use super::machine::{Input, Server};
use super::marks::Marks;
use super::sasl::{apop_verify, AuthStep, SaslServer};
use super::state::State;
use crate::command::Command;
use crate::response::code::ResponseCode;
use crate::response::status::StatusLine;
use crate::time::Instant;

impl<M: Marks> Server<M> {
    pub(super) fn authorization(&mut self, command: Command<'_>, now: Instant) {
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

    pub(super) fn set_user(&mut self, name: &[u8]) {
        self.user.clear();
        // A command line holds at most 250 octets of name.
        let _ = self.user.extend_from_slice(&name[..name.len().min(255)]);
    }

    pub(super) fn auth_failed(&mut self, now: Instant, text: &[u8]) {
        self.login_refused(now, Some(ResponseCode::Auth), text);
    }

    /// Ends a login attempt that did not succeed (wrong credentials, a cancelled or
    /// broken SASL exchange): `-ERR`, counted as a bad command, answered after the
    /// failure delay, so that neither guessing nor restarting an expensive exchange
    /// is free.
    pub(super) fn login_refused(
        &mut self,
        now: Instant,
        code: Option<ResponseCode<'_>>,
        text: &[u8],
    ) {
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

    /// Answers [`ServerEvent::CheckPassword`], [`ServerEvent::CheckToken`] or
    /// [`ServerEvent::CheckExternal`]: `true` if the credentials are good.
    ///
    /// [`ServerEvent::CheckPassword`]: crate::server::ServerEvent::CheckPassword
    /// [`ServerEvent::CheckToken`]: crate::server::ServerEvent::CheckToken
    /// [`ServerEvent::CheckExternal`]: crate::server::ServerEvent::CheckExternal
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
    ///
    /// [`ServerEvent::NeedSecret`]: crate::server::ServerEvent::NeedSecret
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
    ///
    /// [`ServerEvent::NeedSecret`]: crate::server::ServerEvent::NeedSecret
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
    ///
    /// [`ServerEvent::NeedSecret`]: crate::server::ServerEvent::NeedSecret
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
    ///
    /// [`ServerEvent::CheckPassword`]: crate::server::ServerEvent::CheckPassword
    /// [`ServerEvent::CheckToken`]: crate::server::ServerEvent::CheckToken
    /// [`ServerEvent::CheckExternal`]: crate::server::ServerEvent::CheckExternal
    /// [`ServerEvent::NeedSecret`]: crate::server::ServerEvent::NeedSecret
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
    ///
    /// [`ServerEvent::NeedSecret`]: crate::server::ServerEvent::NeedSecret
    pub fn secret_mechanism(&self) -> Option<crate::sasl::SaslMechanism> {
        match &self.state {
            State::Sasl(sasl) if sasl.awaiting_secret() => Some(sasl.mechanism()),
            _ => None,
        }
    }

    /// Answers [`ServerEvent::OpenMaildrop`].
    ///
    /// [`ServerEvent::OpenMaildrop`]: crate::server::ServerEvent::OpenMaildrop
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

    pub(super) fn sasl_step(&mut self, step: AuthStep, now: Instant) {
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

    pub(super) fn sasl_cancelled(&mut self, now: Instant) {
        self.sasl_step(AuthStep::Error("Authentication cancelled"), now);
    }

    /// A client response in an exchange; its base64 is `input[b64]`, decoded in
    /// place when the caller lent the input mutably.
    pub(super) fn sasl_line(&mut self, input: &mut Input<'_>, b64: Range<usize>, now: Instant) {
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
