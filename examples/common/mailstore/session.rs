//! One session's view of its mailbox: the answers to its credential checks (counted
//! against guessing), the maildrop locked and listed at login, and UPDATE.

use std::collections::HashSet;
use std::io;
use std::sync::Arc;

use pop3_proto::sasl::cram::CramMd5Context;
use pop3_proto::sasl::scram::{Hash, ScramVerifier};
use pop3_proto::sasl::SaslMechanism;
use pop3_proto::server::{Open, ServerEvent};

use super::guesses;
use super::maildirs;
use super::message::{Msg, Source};
use super::shared::Shared;
use super::users::Credential;

/// How a session answers a credential check (an event of the server's that asks
/// about a password, a token or a stored secret), whatever the adapter.
pub enum Check {
    /// CheckPassword, CheckToken, CheckExternal: good or not.
    Verdict(bool),
    /// NeedSecret: the password (`None`: unknown user, or stored in a form that
    /// cannot serve this mechanism, which then fails like a wrong password).
    Secret(Option<Vec<u8>>),
    /// NeedSecret of SCRAM: the stored verifier.
    Verifier(Option<ScramVerifier>),
    /// NeedSecret of CRAM-MD5: the stored context.
    CramContext(Option<CramMd5Context>),
    /// Any of them: refused without checking, `-ERR [SYS/TEMP]` (the user's limit on
    /// failed logins is reached).
    TryLater,
}

/// One session's view of its mailbox.
pub struct Session {
    shared: Arc<Shared>,
    /// Where the client connects from, as failed logins are counted.
    source: guesses::Source,
    locked: Option<String>,
    messages: Vec<Msg>,
    /// The user whose secret this session gave the server core (APOP, CRAM-MD5,
    /// SCRAM), which checks the digest itself and tells only success: that attempt
    /// stays a failure unless the maildrop of this user is opened.
    checking: Option<Vec<u8>>,
}

impl Session {
    fn open_maildrop(&mut self, user: &str) -> io::Result<Open> {
        if !self.shared.locks.lock().unwrap().insert(user.to_string()) {
            return Ok(Open::InUse);
        }
        self.locked = Some(user.to_string());
        self.messages = match &self.shared.root {
            None => self.shared.demo.messages(),
            Some(root) => maildirs::messages(root, user, &self.shared.sizes)?,
        };
        let size = self.messages.iter().map(|m| m.size).sum();
        Ok(Open::Opened {
            count: self.messages.len() as u32,
            size,
        })
    }

    /// Message `n` of this session (1-based; the server core checks the number).
    pub fn msg(&self, n: u32) -> &Msg {
        &self.messages[n as usize - 1]
    }

    /// A session of `shared` for a client at `peer`, nothing locked yet.
    pub fn new(shared: Arc<Shared>, peer: std::net::IpAddr) -> Session {
        Session {
            shared,
            source: peer.into(),
            locked: None,
            messages: Vec::new(),
            checking: None,
        }
    }

    /// USER/PASS, PLAIN, LOGIN: is `password` the password of `user`, who acts as
    /// itself? An `authzid` (PLAIN's) other than empty or `user` is refused: these
    /// servers have no delegation, so no one opens another user's mailbox (the
    /// server core already refuses it, as `allow_authzid` is off; this holds even
    /// if it were on).
    pub fn check_password(&self, authzid: &[u8], user: &[u8], password: &[u8]) -> bool {
        (authzid.is_empty() || authzid == user)
            && match self.credential(user) {
                Some(Credential::Password(p)) => p.as_bytes() == password,
                Some(Credential::Verifier(v)) => v.check_password(password),
                Some(Credential::CramMd5(c)) => c.check_password(password),
                None => false,
            }
    }

    /// XOAUTH2, OAUTHBEARER: is `token` one of `user`'s (`--bearer-tokens`)? Compared
    /// in time independent of where the first difference is.
    pub fn check_token(&self, user: &[u8], token: &[u8]) -> bool {
        let known = std::str::from_utf8(user)
            .ok()
            .and_then(|u| self.shared.tokens.get(u));
        known.is_some_and(|t| {
            t.len() == token.len()
                && t.bytes().zip(token).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    }

    fn credential(&self, user: &[u8]) -> Option<&Credential> {
        std::str::from_utf8(user)
            .ok()
            .and_then(|u| self.shared.users.get(u))
    }

    /// The shared secret of `user` (APOP, CRAM-MD5, SCRAM), if the user exists and
    /// has a password (a stored verifier serves SCRAM only).
    pub fn secret(&self, user: &[u8]) -> Option<Vec<u8>> {
        match self.credential(user) {
            Some(Credential::Password(p)) => Some(p.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// The stored SCRAM verifier of `user` for `mechanism`, if that is how the user
    /// is stored (`Some(None)`: stored otherwise, or unknown, for this mechanism:
    /// answer with [`secret`](Self::secret) instead when `None`).
    pub fn verifier(
        &self,
        user: &[u8],
        mechanism: Option<SaslMechanism>,
    ) -> Option<Option<ScramVerifier>> {
        let hash = match mechanism? {
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha1Plus => Hash::Sha1,
            SaslMechanism::ScramSha256 | SaslMechanism::ScramSha256Plus => Hash::Sha256,
            _ => return None,
        };
        match self.credential(user) {
            Some(Credential::Verifier(v)) => Some((v.hash == hash).then(|| v.clone())),
            _ => None,
        }
    }

    /// The stored CRAM-MD5 context of `user` for `mechanism`, if that is how the
    /// user is stored and `mechanism` is CRAM-MD5 (answer with
    /// [`secret`](Self::secret) instead when `None`).
    pub fn cram_context(
        &self,
        user: &[u8],
        mechanism: Option<SaslMechanism>,
    ) -> Option<CramMd5Context> {
        match (mechanism?, self.credential(user)) {
            (SaslMechanism::CramMd5, Some(Credential::CramMd5(c))) => Some(*c),
            _ => None,
        }
    }

    /// The answer to a credential check, `None` for any other event: a password or
    /// token compared, or the stored secret that serves the mechanism asking; or,
    /// once the user name has had too many failures lately, a refusal without any
    /// of that.
    pub fn check(&mut self, event: &ServerEvent<'_>) -> Option<Check> {
        let user = match *event {
            ServerEvent::CheckPassword { user, .. }
            | ServerEvent::CheckToken { user, .. }
            | ServerEvent::NeedSecret { user, .. } => user,
            ServerEvent::CheckExternal { authzid } => authzid,
            _ => return None,
        };
        // An earlier digest login of this session that did not open the maildrop
        // stays a failure.
        self.checking = None;
        if !self.shared.guesses.attempt(user, self.source) {
            return Some(Check::TryLater);
        }
        Some(match *event {
            ServerEvent::CheckPassword {
                authzid,
                user,
                password,
            } => self.verdict(user, self.check_password(authzid, user, password)),
            ServerEvent::CheckToken { user, token } => {
                self.verdict(user, self.check_token(user, token))
            }
            ServerEvent::CheckExternal { authzid } => self.verdict(authzid, false),
            ServerEvent::NeedSecret { user, mechanism } => {
                self.checking = Some(user.to_vec());
                if let Some(verifier) = self.verifier(user, mechanism) {
                    Check::Verifier(verifier)
                } else if let Some(context) = self.cram_context(user, mechanism) {
                    Check::CramContext(Some(context))
                } else {
                    Check::Secret(self.secret(user))
                }
            }
            _ => return None,
        })
    }

    /// A verdict on `user`'s credentials: a good one was no failure.
    fn verdict(&self, user: &[u8], ok: bool) -> Check {
        if ok {
            self.shared.guesses.succeeded(user, self.source);
        }
        Check::Verdict(ok)
    }

    /// Locks and opens the mailbox of `user`, who just logged in.
    pub fn open(&mut self, user: &[u8]) -> Open {
        if self.checking.take().is_some_and(|u| u == user) {
            self.shared.guesses.succeeded(user, self.source);
        }
        let user = String::from_utf8_lossy(user).into_owned();
        match self.open_maildrop(&user) {
            Ok(open) => open,
            Err(e) => {
                eprintln!("pop3d: cannot open mailbox of {user}: {e}");
                // The lock taken for this failed open goes at once: a later login of
                // this session as someone else must not strand it.
                self.release();
                self.messages.clear();
                Open::Unavailable
            }
        }
    }

    /// UPDATE: removes the messages numbered `deleted` and releases the maildrop
    /// lock; `true` if all went.
    pub fn update(&mut self, deleted: &[u32]) -> bool {
        let mut all = true;
        let gone: HashSet<&str> = deleted.iter().map(|n| self.msg(*n).uid.as_str()).collect();
        for n in deleted {
            if let Source::File(file) = &self.msg(*n).source {
                self.shared.sizes.forget(&file.id);
                if let Err(e) = file.remove() {
                    eprintln!("pop3d: cannot remove {}: {e}", file.path().display());
                    all = false;
                }
            }
        }
        if self.shared.root.is_none() {
            self.shared.demo.remove(&gone);
        }
        // UPDATE ends with the lock released (RFC 1939 §6), before the `+OK` to
        // QUIT leaves: a client that logs in again right after it finds the
        // maildrop free (`closed` would release it only after the reply was sent).
        self.release();
        all
    }

    /// The session ended: releases the mailbox lock.
    pub fn release(&mut self) {
        if let Some(user) = self.locked.take() {
            self.shared.locks.lock().unwrap().remove(&user);
        }
    }
}
