//! Client side of AUTH (RFC 5034).
//!
//! The exchange keeps no credentials: each line that needs them is written by a
//! call that borrows them ([`SaslClient::write_auth_command`],
//! [`SaslClient::write_response`]); between lines it holds only its step, and for
//! SCRAM its nonce and the server signature it expects.

use super::config::ClientConfig;
use super::error::ClientError;
use crate::encode::Writer;
use crate::limits::MAX_COMMAND_LINE;
#[cfg(feature = "scram")]
use crate::sasl::scram::{Binding, Hash, ScramClient, ScramError};
use crate::sasl::SaslMechanism;
use crate::sasl::{
    base64_len, base64_valid, decode_base64, write_base64, Base64Error, Base64Writer,
};

/// The longest decoded challenge the client computes an answer from (CRAM-MD5,
/// SCRAM server-first and server-final are far shorter).
const MAX_CHALLENGE: usize = 384;

/// The credentials of a SASL login, borrowed for one line.
#[derive(Clone, Copy)]
pub(crate) struct Creds<'a> {
    pub(crate) authzid: &'a [u8],
    pub(crate) user: &'a [u8],
    pub(crate) secret: &'a [u8],
    /// The TLS session's `tls-exporter` value, if any (SCRAM channel binding).
    #[cfg_attr(not(feature = "scram"), allow(dead_code))]
    pub(crate) channel_binding: Option<&'a [u8]>,
    /// The server's last CAPA offered a -PLUS mechanism (it supports channel
    /// binding, RFC 5802 §6).
    #[cfg_attr(not(feature = "scram"), allow(dead_code))]
    pub(crate) plus_offered: bool,
}

/// How a SCRAM client binds to the channel (the GS2 flag), decided when client-first
/// is written (after CAPA, which is sent before AUTH) and kept for client-final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(feature = "scram")]
enum CbFlag {
    /// `n`: no binding data.
    No,
    /// `y`: binding data, but the server offered no -PLUS variant.
    Unused,
    /// `p=tls-exporter`: a -PLUS mechanism.
    Bound,
}

/// What the next SASL line of the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The mechanism's initial response (built from the credentials).
    Initial,
    /// The user name (LOGIN).
    User,
    /// The password (LOGIN).
    Password,
    /// A response computed from the last challenge and the credentials (CRAM-MD5,
    /// SCRAM client-final).
    Answer,
    /// An empty response (after SCRAM server-final, or an XOAUTH2 error).
    Empty,
    /// `\x01` (OAUTHBEARER's answer to an error challenge).
    Ack,
    /// `*`: cancel (undecodable or unexpected challenge).
    Cancel,
}

/// A running client-side SASL exchange.
#[derive(Debug, Clone)]
pub(crate) struct SaslClient {
    mechanism: SaslMechanism,
    #[cfg(feature = "scram")]
    scram: Option<ScramClient>,
    #[cfg(feature = "scram")]
    cb_flag: Option<CbFlag>,
    next: Next,
    /// Challenges seen so far.
    step: u8,
    /// The initial response went with the AUTH command.
    sent_initial: bool,
    /// The server sent an error challenge; the final reply must be -ERR.
    failed: bool,
    /// SCRAM client-final (the proof) was sent: the next challenge is server-final.
    #[cfg(feature = "scram")]
    proof_sent: bool,
    /// The last challenge was empty (`+` alone): CRAM-MD5 answers it as it is.
    empty_challenge: bool,
}

impl SaslClient {
    /// Refuses credentials this mechanism's messages cannot carry as given
    /// ([`SaslMechanism::carries`]): the `Login` given when the line is due may differ
    /// from the one queued.
    fn check(&self, creds: &Creds<'_>) -> Result<(), ClientError> {
        if self
            .mechanism
            .carries(creds.authzid, creds.user, creds.secret)
        {
            Ok(())
        } else {
            Err(ClientError::InvalidArgument)
        }
    }

    pub(crate) fn new(
        mechanism: SaslMechanism,
        random: &[u8; 32],
    ) -> Result<SaslClient, ClientError> {
        if !mechanism.is_compiled() {
            return Err(ClientError::MechanismUnavailable);
        }
        #[cfg(feature = "scram")]
        let scram = match mechanism {
            m if m.is_scram() => {
                let hash = match m {
                    SaslMechanism::ScramSha1 | SaslMechanism::ScramSha1Plus => Hash::Sha1,
                    _ => Hash::Sha256,
                };
                // 24 printable nonce characters from 18 random bytes.
                let mut nonce = [0u8; 24];
                let mut w = Writer::new(&mut nonce);
                write_base64(&mut w, &random[..18]).map_err(|_| ClientError::BufferTooSmall)?;
                Some(ScramClient::new(hash, &nonce).map_err(scram_error)?)
            }
            _ => None,
        };
        #[cfg(not(feature = "scram"))]
        let _ = random;
        Ok(SaslClient {
            mechanism,
            #[cfg(feature = "scram")]
            scram,
            #[cfg(feature = "scram")]
            cb_flag: None,
            next: Next::Initial,
            step: 0,
            sent_initial: false,
            failed: false,
            #[cfg(feature = "scram")]
            proof_sent: false,
            empty_challenge: false,
        })
    }

    /// The mechanism.
    pub(crate) fn mechanism(&self) -> SaslMechanism {
        self.mechanism
    }

    fn client_first(&self) -> bool {
        !matches!(
            self.mechanism,
            SaslMechanism::Login | SaslMechanism::CramMd5
        )
    }

    /// True if the mechanism starts with the client (an initial response is
    /// possible).
    pub(crate) fn has_initial_response(&self) -> bool {
        self.client_first()
    }

    /// True if the next line (the answer to the last challenge) needs the
    /// credentials.
    pub(crate) fn needs_credentials(&self) -> bool {
        matches!(
            self.next,
            Next::Initial | Next::User | Next::Password | Next::Answer
        )
    }

    /// Writes the raw initial response through `b`.
    fn put_initial(
        &self,
        creds: &Creds<'_>,
        config: &ClientConfig,
        b: &mut Base64Writer<'_, '_>,
    ) -> Result<(), ClientError> {
        match self.mechanism {
            SaslMechanism::Plain => {
                b.put(creds.authzid)?;
                b.put(b"\0")?;
                b.put(creds.user)?;
                b.put(b"\0")?;
                b.put(creds.secret)?;
            }
            SaslMechanism::XOAuth2 => {
                b.put(b"user=")?;
                b.put(creds.user)?;
                b.put(b"\x01auth=Bearer ")?;
                b.put(creds.secret)?;
                b.put(b"\x01\x01")?;
            }
            SaslMechanism::OAuthBearer => {
                // gs2-header's authzid is a saslname (RFC 7628 §3.1, RFC 5801
                // §4): `,` and `=` escaped.
                b.put(b"n,a=")?;
                for piece in crate::sasl::saslname_pieces(creds.user) {
                    b.put(piece)?;
                }
                b.put(b",\x01host=")?;
                b.put(config.host.as_bytes())?;
                b.put(b"\x01port=")?;
                let mut digits = [0u8; 5];
                let mut w = Writer::new(&mut digits);
                w.put_u32(u32::from(config.port))?;
                let n = w.len();
                b.put(&digits[..n])?;
                b.put(b"\x01auth=Bearer ")?;
                b.put(creds.secret)?;
                b.put(b"\x01\x01")?;
            }
            SaslMechanism::External => b.put(creds.authzid)?,
            #[cfg(feature = "scram")]
            m if m.is_scram() => {
                let scram = self.scram.as_ref().ok_or(ClientError::InvalidArgument)?;
                let mut first = [0u8; 2 * MAX_CHALLENGE];
                let n = scram
                    .client_first(&self.binding(creds)?, creds.authzid, creds.user, &mut first)
                    .map_err(scram_error)?;
                b.put(&first[..n])?;
            }
            _ => return Err(ClientError::InvalidArgument),
        }
        Ok(())
    }

    fn initial_len(&self, creds: &Creds<'_>, config: &ClientConfig) -> usize {
        let (authzid, user, secret) = (creds.authzid.len(), creds.user.len(), creds.secret.len());
        match self.mechanism {
            SaslMechanism::Plain => authzid + user + secret + 2,
            SaslMechanism::XOAuth2 => user + secret + 21,
            SaslMechanism::OAuthBearer => 3 * user + config.host.len() + secret + 40,
            SaslMechanism::External => authzid,
            // An upper bound: escaping may triple a name.
            SaslMechanism::ScramSha1
            | SaslMechanism::ScramSha256
            | SaslMechanism::ScramSha1Plus
            | SaslMechanism::ScramSha256Plus => 3 * (authzid + user) + 56,
            SaslMechanism::Login | SaslMechanism::CramMd5 => 0,
        }
    }

    /// True if `AUTH NAME initial-response` fits in 255 octets (RFC 5034 §4).
    pub(crate) fn initial_response_fits(&self, creds: &Creds<'_>, config: &ClientConfig) -> bool {
        self.client_first()
            && "AUTH  \r\n".len()
                + self.mechanism.name().len()
                + base64_len(self.initial_len(creds, config)).max(1)
                <= MAX_COMMAND_LINE
    }

    /// Writes `AUTH NAME [initial-response]` CRLF: with the initial response when
    /// `creds` are given and it fits in the command line.
    pub(crate) fn write_auth_command(
        &mut self,
        creds: Option<&Creds<'_>>,
        config: &ClientConfig,
        out: &mut [u8],
    ) -> Result<usize, ClientError> {
        let mut w = Writer::new(out);
        w.put(b"AUTH ")?;
        w.put(self.mechanism.name().as_bytes())?;
        if let Some(creds) = creds.filter(|c| self.initial_response_fits(c, config)) {
            self.check(creds)?;
            #[cfg(feature = "scram")]
            self.decide_binding(creds);
            w.put(b" ")?;
            if self.initial_len(creds, config) == 0 {
                w.put(b"=")?;
            } else {
                let mut b = Base64Writer::new(&mut w);
                self.put_initial(creds, config, &mut b)?;
                b.finish()?;
            }
            self.sent_initial = true;
        }
        w.put(b"\r\n")?;
        Ok(w.len())
    }

    /// Handles a `+ ` challenge (base64 text). Returns true if the answer needs the
    /// credentials (then it is computed from this same challenge text by
    /// [`write_response`](Self::write_response)).
    pub(crate) fn challenge(&mut self, b64: &[u8]) -> Result<bool, ClientError> {
        let mut data = [0u8; MAX_CHALLENGE];
        // Only CRAM-MD5 and SCRAM read the challenge; for them a longer one is
        // refused below (SCRAM) or cancelled (CRAM-MD5). A longer one is checked for
        // validity without a buffer for it.
        let (len, too_long) = match decode_base64(b64, &mut data) {
            Ok(len) => (len, false),
            Err(Base64Error::TooLong) if base64_valid(b64) => (0, true),
            Err(_) => {
                // RFC 5034: an undecodable challenge is answered with `*`.
                self.next = Next::Cancel;
                return Ok(false);
            }
        };
        #[cfg(feature = "scram")]
        let data = &data[..len];
        #[cfg(not(feature = "scram"))]
        let _ = (data, len);
        self.empty_challenge = b64.is_empty();
        self.step = self.step.saturating_add(1);
        let first = self.step == 1 && !self.sent_initial;
        self.next = match self.mechanism {
            SaslMechanism::Login => match self.step {
                1 => Next::User,
                2 => Next::Password,
                _ => Next::Cancel,
            },
            SaslMechanism::CramMd5 if self.step == 1 && !too_long => Next::Answer,
            // Too long to answer, or a second challenge: RFC 5034 `*`.
            SaslMechanism::CramMd5 => Next::Cancel,
            m if first && m.scram_pair().is_some() => Next::Initial,
            #[cfg(feature = "scram")]
            m if m.is_scram() => {
                let scram = self
                    .scram
                    .as_mut()
                    .ok_or(ClientError::Sasl("no SCRAM state"))?;
                if too_long {
                    return Err(scram_error(ScramError::TooLong));
                }
                if scram.is_verified() || (!self.proof_sent && data.is_empty()) {
                    // Verified already, or an empty server-first message that
                    // cannot be answered: RFC 5034's `*`, the server's reply decides.
                    Next::Cancel
                } else if !self.proof_sent {
                    // Server-first: client-final is computed with the password.
                    Next::Answer
                } else {
                    scram.server_final(data).map_err(scram_error)?;
                    Next::Empty
                }
            }
            _ if first => Next::Initial,
            SaslMechanism::XOAuth2 => {
                // An error challenge (JSON): acknowledge with an empty line, -ERR follows.
                self.failed = true;
                Next::Empty
            }
            SaslMechanism::OAuthBearer => {
                self.failed = true;
                Next::Ack
            }
            _ => Next::Cancel,
        };
        Ok(self.needs_credentials())
    }

    /// Writes the SASL line answering the last challenge (`b64`, its text); `creds`
    /// when [`needs_credentials`](Self::needs_credentials).
    pub(crate) fn write_response(
        &mut self,
        creds: Option<&Creds<'_>>,
        b64: &[u8],
        config: &ClientConfig,
        out: &mut [u8],
    ) -> Result<usize, ClientError> {
        let mut w = Writer::new(out);
        let creds = match (self.needs_credentials(), creds) {
            (true, Some(c)) => {
                self.check(c)?;
                *c
            }
            (true, None) => return Err(ClientError::CredentialsNeeded),
            (false, _) => Creds {
                authzid: &[],
                user: &[],
                secret: &[],
                channel_binding: None,
                plus_offered: false,
            },
        };
        match self.next {
            Next::Cancel => w.put(b"*")?,
            Next::Empty => {}
            Next::Ack => write_base64(&mut w, b"\x01")?,
            Next::User => write_base64(&mut w, creds.user)?,
            Next::Password => write_base64(&mut w, creds.secret)?,
            Next::Answer => {
                // CRAM-MD5 answers an empty challenge too (its digest is of the
                // empty string; older servers send a bare `+`); SCRAM's empty one
                // was cancelled above. Otherwise an answer is computed from the
                // challenge received: a caller that lost it gets an error.
                if b64.is_empty() && !self.empty_challenge {
                    return Err(ClientError::Sasl("the challenge to answer is missing"));
                }
                let mut data = [0u8; MAX_CHALLENGE];
                let len = decode_base64(b64, &mut data)
                    .map_err(|_| ClientError::Sasl("challenge changed"))?;
                let data = &data[..len];
                #[cfg(not(any(feature = "cram-md5", feature = "scram")))]
                let _ = data;
                #[cfg(feature = "cram-md5")]
                if self.mechanism == SaslMechanism::CramMd5 {
                    let digest = crate::sasl::cram::digest(creds.secret, data);
                    let mut b = Base64Writer::new(&mut w);
                    b.put(creds.user)?;
                    b.put(b" ")?;
                    b.put(&digest)?;
                    b.finish()?;
                }
                #[cfg(feature = "scram")]
                if self.mechanism.is_scram() {
                    let binding = self.binding(&creds)?;
                    let scram = self
                        .scram
                        .as_mut()
                        .ok_or(ClientError::Sasl("no SCRAM state"))?;
                    let mut msg = [0u8; MAX_CHALLENGE];
                    let n = scram
                        .server_first(
                            &binding,
                            creds.authzid,
                            creds.user,
                            data,
                            creds.secret,
                            config.min_scram_iterations,
                            &mut msg,
                        )
                        .map_err(scram_error)?;
                    write_base64(&mut w, &msg[..n])?;
                    self.proof_sent = true;
                }
            }
            Next::Initial => {
                #[cfg(feature = "scram")]
                self.decide_binding(&creds);
                let mut b = Base64Writer::new(&mut w);
                self.put_initial(&creds, config, &mut b)?;
                b.finish()?;
                self.sent_initial = true;
            }
        }
        w.put(b"\r\n")?;
        Ok(w.len())
    }

    /// Decides the GS2 flag when client-first is written (RFC 5802 §6): `p` for
    /// -PLUS; `y` when the client could bind but the server offered no -PLUS (a
    /// server that does support binding then sees the downgrade); `n` otherwise.
    #[cfg(feature = "scram")]
    fn decide_binding(&mut self, creds: &Creds<'_>) {
        if self.cb_flag.is_none() && self.mechanism.is_scram() {
            self.cb_flag = Some(if self.mechanism.is_plus() {
                CbFlag::Bound
            } else if creds.channel_binding.is_some() && !creds.plus_offered {
                CbFlag::Unused
            } else {
                CbFlag::No
            });
        }
    }

    /// The SCRAM binding for this exchange: the flag chosen for client-first, with
    /// the session's data when bound.
    #[cfg(feature = "scram")]
    fn binding<'a>(&self, creds: &Creds<'a>) -> Result<Binding<'a>, ClientError> {
        Ok(match self.cb_flag {
            None | Some(CbFlag::No) => Binding::None,
            Some(CbFlag::Unused) => Binding::Unused,
            Some(CbFlag::Bound) => Binding::TlsExporter(
                creds
                    .channel_binding
                    .ok_or(ClientError::MechanismUnavailable)?,
            ),
        })
    }

    /// The server said `+OK`: for SCRAM the server must have proved itself first.
    pub(crate) fn check_success(&self) -> Result<(), ClientError> {
        if self.failed {
            return Err(ClientError::Protocol("+OK after an authentication error"));
        }
        #[cfg(feature = "scram")]
        if self.scram.as_ref().is_some_and(|s| !s.is_verified()) {
            return Err(ClientError::Sasl("server did not prove the password"));
        }
        Ok(())
    }
}

#[cfg(feature = "scram")]
fn scram_error(e: ScramError) -> ClientError {
    ClientError::Sasl(match e {
        ScramError::Malformed => "malformed SCRAM message",
        ScramError::NonceMismatch => "SCRAM nonce mismatch",
        ScramError::UnsupportedExtension => "SCRAM extension (m=) not supported",
        ScramError::WeakIterationCount => "SCRAM iteration count too low",
        ScramError::ExcessiveIterationCount => "SCRAM iteration count too high",
        ScramError::ChannelBinding => "SCRAM channel binding not supported",
        ScramError::ChannelBindingMismatch => "SCRAM channel bindings do not match",
        ScramError::Downgrade => "SCRAM channel binding downgrade",
        ScramError::BadProof => "SCRAM server signature is wrong",
        ScramError::ServerError => "SCRAM error from the server",
        ScramError::TooLong => "SCRAM message too long",
    })
}
