//! AUTH (RFC 5034) and APOP on the server side.

use core::ops::Range;

use super::event::ServerEvent;
use crate::encode::Writer;
use crate::grammar::rfc5802::saslname_char;
use crate::sasl::scram::{Hash, Keys, ScramError, ScramServer, ScramVerifier, ServerBinding};
use crate::sasl::{cram, ct_eq, decode_base64, write_base64, Base64Error};
use crate::sasl::{MechanismSet, SaslMechanism};

/// SCRAM iteration count the server asks for (RFC 5802 minimum recommendation).
const SCRAM_ITERATIONS: u32 = 4096;

/// What the server does after a SASL step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthStep {
    /// Send the challenge in [`SaslServer::challenge`].
    Challenge,
    /// Emit [`SaslServer::event`] and wait for the application's answer.
    Event,
    /// Authenticated as [`SaslServer::authorized_user`].
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

/// Room for a client message decoded inside the session, by
/// [`Server::handle_input`](crate::server::Server::handle_input): the longest message
/// of every mechanism but the bearer tokens (PLAIN's three 255-octet fields, SCRAM's
/// client-first). The drivers decode in place in their receive buffer instead, where
/// a message may be as long as the SASL line limit.
const DECODED: usize = 768;

/// A running SASL exchange on the server. `Debug` leaves out what the client sent
/// (a PLAIN or LOGIN password, a token), the CRAM-MD5 digest and the randomness.
#[derive(Clone)]
pub(crate) struct SaslServer {
    mechanism: SaslMechanism,
    step: u8,
    awaiting: Awaiting,
    /// The last decoded client message, when it was decoded here; empty when it was
    /// decoded in place in the caller's input (`in_input`).
    data: heapless::Vec<u8, DECODED>,
    /// The event fields index the caller's input (the message was decoded in place
    /// there) rather than `data`.
    in_input: bool,
    authzid: Range<usize>,
    user: Range<usize>,
    secret: Range<usize>,
    /// The user the session will be once the exchange succeeds (LOGIN's user name,
    /// PLAIN's authzid or user, the bearer tokens' user, CRAM-MD5's user, EXTERNAL's
    /// authzid; SCRAM keeps its own): a copy, since the message it came from may be
    /// gone (LOGIN's next message, the caller's input) when the application answers.
    name: heapless::Vec<u8, 255>,
    /// CRAM-MD5's digest, kept for the application's answer.
    digest: [u8; 32],
    challenge: heapless::Vec<u8, 384>,
    scram: Option<ScramServer>,
    scram_done: bool,
    /// The application did not know the user: the exchange runs on a fake secret and
    /// must fail at its end.
    unknown_user: bool,
    random: [u8; 32],
    /// [`ServerConfig::allow_authzid`](crate::server::ServerConfig::allow_authzid).
    allow_authzid: bool,
    /// The TLS session's `tls-exporter` value when -PLUS is offered (SCRAM channel
    /// binding, RFC 9266).
    channel_binding: Option<[u8; 32]>,
}

/// The hash of a SCRAM mechanism (plain or -PLUS).
fn scram_hash(mechanism: SaslMechanism) -> Option<Hash> {
    match mechanism {
        SaslMechanism::ScramSha1 | SaslMechanism::ScramSha1Plus => Some(Hash::Sha1),
        SaslMechanism::ScramSha256 | SaslMechanism::ScramSha256Plus => Some(Hash::Sha256),
        _ => None,
    }
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
        ScramError::ChannelBindingMismatch => AuthStep::Failure("Channel bindings do not match"),
        ScramError::Downgrade => AuthStep::Failure("Channel binding downgrade"),
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
        channel_binding: Option<&[u8; 32]>,
    ) -> Result<(SaslServer, AuthStep), &'static str> {
        let mechanism = SaslMechanism::from_name(mechanism)
            .filter(|m| offered.contains(m.bit()))
            .ok_or("Unsupported authentication mechanism")?;
        let mut sasl = SaslServer {
            mechanism,
            step: 0,
            awaiting: Awaiting::Nothing,
            data: heapless::Vec::new(),
            in_input: false,
            authzid: 0..0,
            user: 0..0,
            secret: 0..0,
            name: heapless::Vec::new(),
            digest: [0; 32],
            challenge: heapless::Vec::new(),
            scram: None,
            scram_done: false,
            unknown_user: false,
            random: *random,
            allow_authzid,
            // Kept only when -PLUS is offered (the offered list says whether it is).
            channel_binding: channel_binding
                .filter(|_| {
                    offered.contains(MechanismSet::SCRAM_SHA_1_PLUS)
                        || offered.contains(MechanismSet::SCRAM_SHA_256_PLUS)
                })
                .copied(),
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

    /// The user the session acts as once the exchange succeeds: PLAIN's authzid
    /// when one was given (only an empty one, one equal to the user, or one the
    /// application accepted with `allow_authzid` gets this far), else the
    /// authenticated user.
    pub(crate) fn authorized_user(&self) -> &[u8] {
        match &self.scram {
            Some(s) => s.user(),
            None => &self.name,
        }
    }

    pub(crate) fn challenge(&self) -> &[u8] {
        &self.challenge
    }

    /// One field of the last client message: in the session, or in `input` when the
    /// message was decoded in place there (`None` if `input` is not that input).
    fn field<'a>(&'a self, input: &'a [u8], range: &Range<usize>) -> Option<&'a [u8]> {
        match self.in_input {
            true => input.get(range.clone()),
            false => self.data.get(range.clone()),
        }
    }

    /// The event the application must answer now; `input` is the caller's input that
    /// held the last client message (see
    /// [`Server::event_in`](crate::server::Server::event_in)).
    pub(crate) fn event<'a>(&'a self, input: &'a [u8]) -> Option<ServerEvent<'a>> {
        if self.awaiting == Awaiting::Secret {
            return Some(ServerEvent::NeedSecret {
                user: self.authorized_user(),
                mechanism: Some(self.mechanism),
            });
        }
        Some(match self.mechanism {
            SaslMechanism::XOAuth2 | SaslMechanism::OAuthBearer => ServerEvent::CheckToken {
                user: &self.name,
                token: self.field(input, &self.secret)?,
            },
            SaslMechanism::External => ServerEvent::CheckExternal {
                authzid: &self.name,
            },
            SaslMechanism::Login => ServerEvent::CheckPassword {
                authzid: b"",
                user: &self.name,
                password: self.field(input, &self.secret)?,
            },
            _ => ServerEvent::CheckPassword {
                authzid: self.field(input, &self.authzid)?,
                user: self.field(input, &self.user)?,
                password: self.field(input, &self.secret)?,
            },
        })
    }

    fn ask(&mut self, awaiting: Awaiting) -> AuthStep {
        self.awaiting = awaiting;
        AuthStep::Event
    }

    /// The application's answer to NeedSecret. SCRAM's salt is keyed by the
    /// server's `mock_key` and the user name, known or not: the same at every try,
    /// as a stored verifier's salt is, so that with passwords, verifiers or both no
    /// user's salt behaves differently from an unknown name's.
    pub(crate) fn secret(&mut self, secret: Option<&[u8]>, mock_key: &[u8; 32]) -> AuthStep {
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
                if ct_eq(&expected, &self.digest) && !unknown {
                    AuthStep::Success
                } else {
                    AuthStep::Failure("Authentication failed")
                }
            }
            (_, Some(scram)) => {
                let Some(hash) = scram_hash(self.mechanism) else {
                    return AuthStep::Error("Unexpected secret");
                };
                let keyed = Hash::Sha256.hmac(mock_key, &[b"salt", scram.user()]);
                let salt = &keyed[..16];
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

    /// Answers NeedSecret of a CRAM-MD5 exchange with a stored context (`None`:
    /// unknown user, which gets the same work on a context nobody has and the same
    /// failure as a wrong password). `Err` when this is not a CRAM-MD5 exchange
    /// waiting for its secret.
    pub(crate) fn cram_context(
        &mut self,
        context: Option<&cram::CramMd5Context>,
    ) -> Result<AuthStep, ()> {
        if self.mechanism != SaslMechanism::CramMd5 || self.awaiting != Awaiting::Secret {
            return Err(());
        }
        self.awaiting = Awaiting::Nothing;
        let fake;
        let stored = match context {
            Some(c) => c,
            None => {
                fake = cram::CramMd5Context::compute(&self.random);
                &fake
            }
        };
        let expected = stored.digest(&self.challenge);
        Ok(if ct_eq(&expected, &self.digest) && context.is_some() {
            AuthStep::Success
        } else {
            AuthStep::Failure("Authentication failed")
        })
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
        let hash = scram_hash(self.mechanism).ok_or(())?;
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

    /// Handles one client response (still base64), decoded into the session: an
    /// initial response, or a line given to
    /// [`Server::handle_input`](crate::server::Server::handle_input). A message too
    /// long for the session's room is refused like a line over the limit.
    pub(crate) fn response(&mut self, b64: &[u8]) -> AuthStep {
        let mut data = core::mem::take(&mut self.data);
        let _ = data.resize(DECODED, 0);
        self.in_input = false;
        let step = match decode_base64(b64, &mut data) {
            Ok(len) => {
                data.truncate(len);
                self.message(&data)
            }
            Err(e) => {
                data.clear();
                AuthStep::Error(match e {
                    Base64Error::TooLong => "Line too long",
                    Base64Error::Invalid => "Invalid base64",
                })
            }
        };
        self.data = data;
        step
    }

    /// Handles one client response whose base64 is `input[b64]`, decoded in place
    /// there: the event fields then index `input`, which the caller keeps until the
    /// event is answered (the driver's receive buffer), so that a message as long as
    /// the line limit (a 16 KiB bearer token) costs the session no memory.
    pub(crate) fn response_in_place(&mut self, input: &mut [u8], b64: Range<usize>) -> AuthStep {
        let Some(encoded) = input.get_mut(b64.clone()) else {
            return AuthStep::Error("Internal error");
        };
        let Ok(len) = decode_base64_in_place(encoded) else {
            return AuthStep::Error("Invalid base64");
        };
        self.data.clear();
        self.in_input = true;
        let at = b64.start;
        let step = self.message(&input[at..at + len]);
        for range in [&mut self.authzid, &mut self.user, &mut self.secret] {
            *range = range.start + at..range.end + at;
        }
        step
    }

    /// One decoded client message: sets the event fields (ranges into `msg`) and the
    /// copies that must outlive it.
    fn message(&mut self, msg: &[u8]) -> AuthStep {
        self.step = self.step.saturating_add(1);
        (self.authzid, self.user, self.secret) = (0..0, 0..0, 0..0);
        // Every branch that answers with a challenge sets it; CRAM-MD5 keeps its own
        // for the verification.
        match self.mechanism {
            SaslMechanism::Plain => self.plain(msg),
            SaslMechanism::Login => {
                if self.name.is_empty() && self.step == 1 {
                    if msg.is_empty() || !self.set_name(msg) {
                        return AuthStep::Failure("Invalid user name");
                    }
                    self.challenge = bytes(&[b"Password:"]);
                    AuthStep::Challenge
                } else {
                    self.secret = 0..msg.len();
                    self.ask(Awaiting::Verdict)
                }
            }
            SaslMechanism::CramMd5 => {
                // "user SP 32-hex-digest"
                let Some(sp) = msg.iter().rposition(|b| *b == b' ') else {
                    return AuthStep::Error("Malformed CRAM-MD5 response");
                };
                let digest = &msg[sp + 1..];
                if sp == 0
                    || digest.len() != 32
                    || !digest
                        .iter()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                    || !self.set_name(&msg[..sp])
                {
                    return AuthStep::Error("Malformed CRAM-MD5 response");
                }
                self.digest.copy_from_slice(digest);
                self.ask(Awaiting::Secret)
            }
            SaslMechanism::ScramSha1
            | SaslMechanism::ScramSha256
            | SaslMechanism::ScramSha1Plus
            | SaslMechanism::ScramSha256Plus => self.scram_step(msg),
            SaslMechanism::XOAuth2 => self.xoauth2(msg),
            SaslMechanism::OAuthBearer => self.oauthbearer(msg),
            SaslMechanism::External => {
                if !self.set_name(msg) {
                    return AuthStep::Error("Malformed EXTERNAL response");
                }
                self.ask(Awaiting::Verdict)
            }
        }
    }

    /// Keeps `name` as the session's user to be; false if it is over 255 octets (no
    /// command could name such a user, and no maildrop is named so).
    fn set_name(&mut self, name: &[u8]) -> bool {
        self.name.clear();
        self.name.extend_from_slice(name).is_ok()
    }

    /// `saslname` (RFC 5801 §4; OAUTHBEARER's gs2 authzid, RFC 7628 §3.1) into the
    /// name: `=2C` is `,`, `=3D` is `=`, any other `=` refused.
    fn set_saslname(&mut self, mut name: &[u8]) -> bool {
        self.name.clear();
        while !name.is_empty() {
            let Ok((rest, octet)) = saslname_char(name) else {
                return false;
            };
            if self.name.push(octet).is_err() {
                return false;
            }
            name = rest;
        }
        true
    }

    fn plain(&mut self, msg: &[u8]) -> AuthStep {
        let mut fields = msg.split(|b| *b == 0);
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
        self.set_name(if a.is_empty() { u } else { a });
        self.authzid = 0..a.len();
        self.user = a.len() + 1..a.len() + 1 + u.len();
        self.secret = self.user.end + 1..msg.len();
        self.ask(Awaiting::Verdict)
    }

    fn scram_step(&mut self, msg: &[u8]) -> AuthStep {
        let Some(hash) = scram_hash(self.mechanism) else {
            return AuthStep::Error("Internal error");
        };
        // RFC 5802 §6: -PLUS must bind to this session; plain SCRAM from a client
        // that could have bound (`y`) while -PLUS is offered is a downgrade.
        let binding = match (self.mechanism.is_plus(), &self.channel_binding) {
            (true, Some(data)) => ServerBinding::TlsExporter(data),
            (true, None) => return AuthStep::Error("Channel binding not available"),
            (false, Some(_)) => ServerBinding::UnboundPlusOffered,
            (false, None) => ServerBinding::Unbound,
        };
        match &self.scram {
            None => match ScramServer::client_first_bound(hash, msg, binding) {
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
                if msg.is_empty() {
                    AuthStep::Success
                } else {
                    AuthStep::Error("Unexpected SCRAM data")
                }
            }
            Some(_) if self.unknown_user => AuthStep::Failure("Authentication failed"),
            Some(scram) => match scram.client_final(msg) {
                Ok(server_final) => {
                    self.challenge = bytes(&[&server_final]);
                    self.scram_done = true;
                    AuthStep::Challenge
                }
                Err(e) => scram_failure(e),
            },
        }
    }

    fn xoauth2(&mut self, msg: &[u8]) -> AuthStep {
        // user=U ^A auth=Bearer T ^A ^A
        const MALFORMED: AuthStep = AuthStep::Error("Malformed XOAUTH2 response");
        let Some(rest) = msg.strip_prefix(b"user=") else {
            return MALFORMED;
        };
        let Some(u_end) = rest.iter().position(|b| *b == 1) else {
            return MALFORMED;
        };
        let after = &rest[u_end + 1..];
        let Some(token) = after.strip_prefix(b"auth=Bearer ") else {
            return MALFORMED;
        };
        let Some(t_end) = token.iter().position(|b| *b == 1) else {
            return MALFORMED;
        };
        if !self.set_name(&rest[..u_end]) {
            return MALFORMED;
        }
        self.user = 5..5 + u_end;
        let t_start = 5 + u_end + 1 + b"auth=Bearer ".len();
        self.secret = t_start..t_start + t_end;
        self.ask(Awaiting::Verdict)
    }

    fn oauthbearer(&mut self, msg: &[u8]) -> AuthStep {
        // gs2-header ^A key=value ^A ... ^A ^A ; the user is the gs2 authzid.
        const MALFORMED: AuthStep = AuthStep::Error("Malformed OAUTHBEARER response");
        let Some(first) = msg.iter().position(|b| *b == 1) else {
            return MALFORMED;
        };
        let gs2 = &msg[..first];
        let mut parts = gs2.splitn(3, |b| *b == b',');
        let flag = parts.next().unwrap_or(b"");
        let authzid = parts.next().unwrap_or(b"");
        if !matches!(flag, b"n" | b"y") || parts.next() != Some(b"") {
            return MALFORMED;
        }
        let user = match authzid {
            [] => &[][..],
            [b'a', b'=', name @ ..] => name,
            _ => return MALFORMED,
        };
        if !self.set_saslname(user) {
            return MALFORMED;
        }
        self.user = flag.len() + 3..flag.len() + 3 + user.len();
        let mut offset = first + 1;
        for kv in msg[first + 1..].split(|b| *b == 1) {
            if let Some(token) = kv.strip_prefix(b"auth=Bearer ") {
                let start = offset + b"auth=Bearer ".len();
                self.secret = start..start + token.len();
            }
            offset += kv.len() + 1;
        }
        if self.secret.is_empty() {
            return MALFORMED;
        }
        self.ask(Awaiting::Verdict)
    }
}

/// Decodes strict, padded base64 in place (the same rules as
/// [`decode_base64`](crate::sasl::decode_base64)): the data ends up at the start of
/// `buf`; returns its length. Each block is decoded before its bytes are overwritten,
/// since the output (3 octets per 4 characters) never overtakes the input.
fn decode_base64_in_place(buf: &mut [u8]) -> Result<usize, Base64Error> {
    // Padding may only end the text: a block boundary must not hide a `=` in the
    // middle, which decoding the whole at once would refuse.
    if !buf.len().is_multiple_of(4) || buf[..buf.len().saturating_sub(2)].contains(&b'=') {
        return Err(Base64Error::Invalid);
    }
    let mut block = [0u8; 192];
    let (mut read, mut written) = (0, 0);
    while read < buf.len() {
        let end = (read + 256).min(buf.len());
        let n = decode_base64(&buf[read..end], &mut block)?;
        buf[written..written + n].copy_from_slice(&block[..n]);
        written += n;
        read = end;
    }
    Ok(written)
}

/// Checks an APOP digest (32 lower-case hex digits) against MD5(timestamp ‖ secret).
pub(crate) fn apop_verify(timestamp: &[u8], secret: &[u8], digest: &[u8; 32]) -> bool {
    ct_eq(&crate::sasl::apop_digest(timestamp, secret), digest)
}

impl core::fmt::Debug for SaslServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaslServer")
            .field("mechanism", &self.mechanism)
            .field("step", &self.step)
            .field("awaiting", &self.awaiting)
            .field("name", &crate::debug::Bytes(&self.name))
            .field("unknown_user", &self.unknown_user)
            .field("scram", &self.scram)
            .finish_non_exhaustive()
    }
}
