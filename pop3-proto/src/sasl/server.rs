//! AUTH (RFC 5034) and APOP on the server side.

use core::ops::Range;

use crate::encode::Writer;
use crate::sasl::scram::{Hash, Keys, ScramError, ScramServer, ScramVerifier};
use crate::sasl::{cram, ct_eq, decode_base64, write_base64};
use crate::sasl::{MechanismSet, SaslMechanism};
use crate::server::ServerEvent;

/// SCRAM iteration count the server asks for (RFC 5802 minimum recommendation).
const SCRAM_ITERATIONS: u32 = 4096;

/// What the server does after a SASL step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthStep {
    /// Send the challenge in [`SaslServer::challenge`].
    Challenge,
    /// Emit [`SaslServer::event`] and wait for the application's answer.
    Event,
    /// Authenticated as [`SaslServer::authenticated_user`].
    Success,
    /// Credentials refused.
    Failure(&'static str),
    /// Exchange aborted (cancel, bad base64, malformed message).
    Error(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Nothing,
    /// CheckPassword / CheckToken / CheckExternal was emitted.
    Verdict,
    /// NeedSecret was emitted.
    Secret,
}

/// A running SASL exchange on the server.
#[derive(Debug, Clone)]
pub(crate) struct SaslServer {
    mechanism: SaslMechanism,
    step: u8,
    awaiting: Awaiting,
    /// The last decoded client message; event fields are ranges into it.
    data: heapless::Vec<u8, 1536>,
    authzid: Range<usize>,
    user: Range<usize>,
    secret: Range<usize>,
    /// LOGIN's user name (the next message overwrites `data`).
    login_user: heapless::Vec<u8, 255>,
    challenge: heapless::Vec<u8, 384>,
    scram: Option<ScramServer>,
    scram_done: bool,
    /// The application did not know the user: the exchange runs on a fake secret and
    /// must fail at its end.
    unknown_user: bool,
    random: [u8; 32],
    /// [`ServerConfig::allow_authzid`](crate::server::ServerConfig::allow_authzid).
    allow_authzid: bool,
}

fn bytes<const N: usize>(parts: &[&[u8]]) -> heapless::Vec<u8, N> {
    let mut v = heapless::Vec::new();
    for p in parts {
        let _ = v.extend_from_slice(p);
    }
    v
}

fn scram_failure(e: ScramError) -> AuthStep {
    match e {
        ScramError::BadProof => AuthStep::Failure("Authentication failed"),
        ScramError::ChannelBinding => AuthStep::Error("Channel binding not supported"),
        ScramError::UnsupportedExtension => AuthStep::Error("SCRAM extension not supported"),
        _ => AuthStep::Error("Malformed SCRAM message"),
    }
}

impl SaslServer {
    /// Starts `AUTH mechanism [initial-response]`; `Err` is the `-ERR` text.
    pub(crate) fn start(
        mechanism: &str,
        initial_response: Option<&[u8]>,
        offered: MechanismSet,
        allow_authzid: bool,
        random: &[u8; 32],
        host: &[u8],
    ) -> Result<(SaslServer, AuthStep), &'static str> {
        let mechanism = SaslMechanism::from_name(mechanism)
            .filter(|m| offered.contains(m.bit()))
            .ok_or("Unsupported authentication mechanism")?;
        let mut sasl = SaslServer {
            mechanism,
            step: 0,
            awaiting: Awaiting::Nothing,
            data: heapless::Vec::new(),
            authzid: 0..0,
            user: 0..0,
            secret: 0..0,
            login_user: heapless::Vec::new(),
            challenge: heapless::Vec::new(),
            scram: None,
            scram_done: false,
            unknown_user: false,
            random: *random,
            allow_authzid,
        };
        let step = match (mechanism, initial_response) {
            (SaslMechanism::CramMd5, Some(_)) => return Err("Initial response not allowed"),
            (SaslMechanism::CramMd5, None) => {
                // <random.counter@host>, unique per exchange since `random` is.
                let mut hexed = [0u8; 16];
                crate::sasl::hex_into(&random[24..32], &mut hexed);
                sasl.challenge = bytes(&[b"<", &hexed, b"@", host, b">"]);
                AuthStep::Challenge
            }
            (SaslMechanism::Login, None) => {
                sasl.challenge = bytes(&[b"Username:"]);
                AuthStep::Challenge
            }
            (_, None) => AuthStep::Challenge,
            (_, Some(ir)) => {
                let ir: &[u8] = if ir == b"=" { b"" } else { ir };
                sasl.response(ir)
            }
        };
        Ok((sasl, step))
    }

    pub(crate) fn awaiting_answer(&self) -> bool {
        self.awaiting != Awaiting::Nothing
    }

    pub(crate) fn awaiting_verdict(&self) -> bool {
        self.awaiting == Awaiting::Verdict
    }

    pub(crate) fn awaiting_secret(&self) -> bool {
        self.awaiting == Awaiting::Secret
    }

    /// The user the exchange authenticated (or is about).
    pub(crate) fn authenticated_user(&self) -> &[u8] {
        match (&self.scram, self.mechanism) {
            (Some(s), _) => s.user(),
            (None, SaslMechanism::Login) => &self.login_user,
            (None, SaslMechanism::External) => &self.data[self.authzid.clone()],
            _ => &self.data[self.user.clone()],
        }
    }

    /// The user the session acts as once the exchange succeeds: PLAIN's authzid
    /// when one was given (only an empty one, one equal to the user, or one the
    /// application accepted with `allow_authzid` gets this far), else
    /// [`authenticated_user`](Self::authenticated_user).
    pub(crate) fn authorized_user(&self) -> &[u8] {
        match self.mechanism {
            SaslMechanism::Plain if !self.authzid.is_empty() => &self.data[self.authzid.clone()],
            _ => self.authenticated_user(),
        }
    }

    pub(crate) fn challenge(&self) -> &[u8] {
        &self.challenge
    }

    /// The event the application must answer now.
    pub(crate) fn event(&self) -> ServerEvent<'_> {
        let user = self.authenticated_user();
        if self.awaiting == Awaiting::Secret {
            return ServerEvent::NeedSecret {
                user,
                mechanism: Some(self.mechanism),
            };
        }
        match self.mechanism {
            SaslMechanism::XOAuth2 | SaslMechanism::OAuthBearer => ServerEvent::CheckToken {
                user,
                token: &self.data[self.secret.clone()],
            },
            SaslMechanism::External => ServerEvent::CheckExternal {
                authzid: &self.data[self.authzid.clone()],
            },
            _ => ServerEvent::CheckPassword {
                authzid: &self.data[self.authzid.clone()],
                user,
                password: &self.data[self.secret.clone()],
            },
        }
    }

    fn ask(&mut self, awaiting: Awaiting) -> AuthStep {
        self.awaiting = awaiting;
        AuthStep::Event
    }

    /// The application's answer to NeedSecret.
    pub(crate) fn secret(&mut self, secret: Option<&[u8]>) -> AuthStep {
        self.awaiting = Awaiting::Nothing;
        // An unknown user goes through the same steps, with a secret nobody knows:
        // SCRAM sends its server-first message (same salt length and iteration count,
        // the same PBKDF2 work) and fails only at the client's proof, as for a wrong
        // password, so that neither the wire nor the time tells which users exist.
        let unknown = secret.is_none();
        let fake = self.random;
        let secret = secret.unwrap_or(&fake);
        self.unknown_user = unknown;
        match (self.mechanism, self.scram.as_mut()) {
            (SaslMechanism::CramMd5, _) => {
                let expected = cram::digest(secret, &self.challenge);
                if ct_eq(&expected, &self.data[self.secret.clone()]) && !unknown {
                    AuthStep::Success
                } else {
                    AuthStep::Failure("Authentication failed")
                }
            }
            (_, Some(scram)) => {
                let hash = if self.mechanism == SaslMechanism::ScramSha1 {
                    Hash::Sha1
                } else {
                    Hash::Sha256
                };
                let salt = &self.random[..16];
                let keys = Keys::derive(hash, secret, salt, SCRAM_ITERATIONS);
                let mut nonce = [0u8; 24];
                let mut w = Writer::new(&mut nonce);
                if write_base64(&mut w, &self.random[14..32]).is_err() {
                    return AuthStep::Error("Internal error");
                }
                match scram.server_first(keys, salt, SCRAM_ITERATIONS, &nonce) {
                    Ok(msg) => {
                        self.challenge = bytes(&[msg]);
                        AuthStep::Challenge
                    }
                    Err(e) => scram_failure(e),
                }
            }
            _ => AuthStep::Error("Unexpected secret"),
        }
    }

    /// The mechanism of this exchange.
    pub(crate) fn mechanism(&self) -> SaslMechanism {
        self.mechanism
    }

    /// Answers NeedSecret of a SCRAM exchange with a stored verifier (`None`: unknown
    /// user, which runs on a fake secret like [`secret`](Self::secret)). `Err` when
    /// this is not a SCRAM exchange of the verifier's hash.
    pub(crate) fn verifier(
        &mut self,
        verifier: Option<&ScramVerifier>,
        mock_key: &[u8; 32],
    ) -> Result<AuthStep, ()> {
        let hash = match self.mechanism {
            SaslMechanism::ScramSha1 => Hash::Sha1,
            SaslMechanism::ScramSha256 => Hash::Sha256,
            _ => return Err(()),
        };
        let fake;
        let v = match verifier {
            Some(v) => v,
            None => {
                // An unknown user against stored verifiers: a made-up verifier whose
                // salt is the same at every try (a real user's stored salt is), keyed
                // by the server's secret so that nobody can predict it, and no PBKDF2
                // (a known user's costs none): the exchange looks and costs like a
                // known user's, and fails at the proof like a wrong password.
                self.unknown_user = true;
                let user = self.scram.as_ref().map_or(&[][..], |s| s.user());
                let salt = Hash::Sha256.hmac(mock_key, &[b"salt", user]);
                let keys = Hash::Sha256.hmac(mock_key, &[b"keys", user]);
                let n = if hash == Hash::Sha1 { 20 } else { 32 };
                fake = ScramVerifier {
                    hash,
                    iterations: SCRAM_ITERATIONS,
                    salt: heapless::Vec::from_slice(&salt[..16]).unwrap_or_default(),
                    stored_key: heapless::Vec::from_slice(&keys[..n]).unwrap_or_default(),
                    server_key: heapless::Vec::from_slice(&keys[..n]).unwrap_or_default(),
                };
                &fake
            }
        };
        if v.hash != hash || self.awaiting != Awaiting::Secret {
            return Err(());
        }
        self.awaiting = Awaiting::Nothing;
        self.unknown_user = verifier.is_none();
        let Some(scram) = self.scram.as_mut() else {
            return Err(());
        };
        let mut nonce = [0u8; 24];
        let mut w = Writer::new(&mut nonce);
        if write_base64(&mut w, &self.random[14..32]).is_err() {
            return Ok(AuthStep::Error("Internal error"));
        }
        Ok(
            match scram.server_first(v.keys(), &v.salt, v.iterations, &nonce) {
                Ok(msg) => {
                    self.challenge = bytes(&[msg]);
                    AuthStep::Challenge
                }
                Err(e) => scram_failure(e),
            },
        )
    }

    /// Handles one client response (still base64).
    pub(crate) fn response(&mut self, b64: &[u8]) -> AuthStep {
        let mut buf = [0u8; 1536];
        let Ok(len) = decode_base64(b64, &mut buf) else {
            return AuthStep::Error("Invalid base64");
        };
        self.data.clear();
        let _ = self.data.extend_from_slice(&buf[..len]);
        self.step = self.step.saturating_add(1);
        // Every branch that answers with a challenge sets it; CRAM-MD5 keeps its own
        // for the verification.
        match self.mechanism {
            SaslMechanism::Plain => self.plain(),
            SaslMechanism::Login => {
                if self.login_user.is_empty() && self.step == 1 {
                    if self.data.is_empty() || self.data.len() > 255 {
                        return AuthStep::Failure("Invalid user name");
                    }
                    self.login_user = bytes(&[&self.data]);
                    self.challenge = bytes(&[b"Password:"]);
                    AuthStep::Challenge
                } else {
                    self.authzid = 0..0;
                    self.secret = 0..self.data.len();
                    self.ask(Awaiting::Verdict)
                }
            }
            SaslMechanism::CramMd5 => {
                // "user SP 32-hex-digest"
                let Some(sp) = self.data.iter().rposition(|b| *b == b' ') else {
                    return AuthStep::Error("Malformed CRAM-MD5 response");
                };
                let digest = &self.data[sp + 1..];
                if sp == 0
                    || digest.len() != 32
                    || !digest
                        .iter()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return AuthStep::Error("Malformed CRAM-MD5 response");
                }
                self.user = 0..sp;
                self.secret = sp + 1..self.data.len();
                self.ask(Awaiting::Secret)
            }
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 => self.scram_step(),
            SaslMechanism::XOAuth2 => self.xoauth2(),
            SaslMechanism::OAuthBearer => self.oauthbearer(),
            SaslMechanism::External => {
                self.authzid = 0..self.data.len();
                self.ask(Awaiting::Verdict)
            }
        }
    }

    fn plain(&mut self) -> AuthStep {
        let mut fields = self.data.split(|b| *b == 0);
        let (Some(a), Some(u), Some(p), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return AuthStep::Error("Malformed PLAIN response");
        };
        if u.is_empty() || p.is_empty() || a.len() > 255 || u.len() > 255 || p.len() > 255 {
            return AuthStep::Error("Malformed PLAIN response");
        }
        // RFC 4616 §2: acting as another identity needs the application's consent.
        if !a.is_empty() && a != u && !self.allow_authzid {
            return AuthStep::Failure("Authentication failed");
        }
        self.authzid = 0..a.len();
        self.user = a.len() + 1..a.len() + 1 + u.len();
        self.secret = self.user.end + 1..self.data.len();
        self.ask(Awaiting::Verdict)
    }

    fn scram_step(&mut self) -> AuthStep {
        let hash = if self.mechanism == SaslMechanism::ScramSha1 {
            Hash::Sha1
        } else {
            Hash::Sha256
        };
        match &self.scram {
            None => match ScramServer::client_first(hash, &self.data) {
                // RFC 5802 §5.1: the authzid must be checked, and no event lets the
                // application do it: only "act as myself" is accepted.
                Ok(scram) if !scram.authzid().is_empty() && scram.authzid() != scram.user() => {
                    AuthStep::Failure("Authentication failed")
                }
                Ok(scram) => {
                    self.scram = Some(scram);
                    self.ask(Awaiting::Secret)
                }
                Err(e) => scram_failure(e),
            },
            Some(_) if self.scram_done => {
                if self.data.is_empty() {
                    AuthStep::Success
                } else {
                    AuthStep::Error("Unexpected SCRAM data")
                }
            }
            Some(_) if self.unknown_user => AuthStep::Failure("Authentication failed"),
            Some(scram) => match scram.client_final(&self.data) {
                Ok(server_final) => {
                    self.challenge = bytes(&[&server_final]);
                    self.scram_done = true;
                    AuthStep::Challenge
                }
                Err(e) => scram_failure(e),
            },
        }
    }

    fn xoauth2(&mut self) -> AuthStep {
        // user=U ^A auth=Bearer T ^A ^A
        let data = &self.data;
        let Some(rest) = data.strip_prefix(b"user=") else {
            return AuthStep::Error("Malformed XOAUTH2 response");
        };
        let Some(u_end) = rest.iter().position(|b| *b == 1) else {
            return AuthStep::Error("Malformed XOAUTH2 response");
        };
        let after = &rest[u_end + 1..];
        let Some(token) = after.strip_prefix(b"auth=Bearer ") else {
            return AuthStep::Error("Malformed XOAUTH2 response");
        };
        let Some(t_end) = token.iter().position(|b| *b == 1) else {
            return AuthStep::Error("Malformed XOAUTH2 response");
        };
        self.user = 5..5 + u_end;
        let t_start = 5 + u_end + 1 + b"auth=Bearer ".len();
        self.secret = t_start..t_start + t_end;
        self.authzid = 0..0;
        self.ask(Awaiting::Verdict)
    }

    fn oauthbearer(&mut self) -> AuthStep {
        // gs2-header ^A key=value ^A ... ^A ^A ; the user is the gs2 authzid.
        let data = &self.data;
        let Some(first) = data.iter().position(|b| *b == 1) else {
            return AuthStep::Error("Malformed OAUTHBEARER response");
        };
        let gs2 = &data[..first];
        let mut parts = gs2.splitn(3, |b| *b == b',');
        let flag = parts.next().unwrap_or(b"");
        let authzid = parts.next().unwrap_or(b"");
        if !matches!(flag, b"n" | b"y") || parts.next() != Some(b"") {
            return AuthStep::Error("Malformed OAUTHBEARER response");
        }
        self.user = match authzid {
            [] => 0..0,
            [b'a', b'=', name @ ..] => flag.len() + 3..flag.len() + 3 + name.len(),
            _ => return AuthStep::Error("Malformed OAUTHBEARER response"),
        };
        let mut offset = first + 1;
        self.secret = 0..0;
        for kv in data[first + 1..].split(|b| *b == 1) {
            if let Some(token) = kv.strip_prefix(b"auth=Bearer ") {
                let start = offset + b"auth=Bearer ".len();
                self.secret = start..start + token.len();
            }
            offset += kv.len() + 1;
        }
        if self.secret.is_empty() {
            return AuthStep::Error("Malformed OAUTHBEARER response");
        }
        self.authzid = 0..0;
        self.ask(Awaiting::Verdict)
    }
}

/// Checks an APOP digest (32 lower-case hex digits) against MD5(timestamp ‖ secret).
pub(crate) fn apop_verify(timestamp: &[u8], secret: &[u8], digest: &[u8; 32]) -> bool {
    ct_eq(&crate::sasl::apop_digest(timestamp, secret), digest)
}
