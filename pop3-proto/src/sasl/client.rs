//! Client side of AUTH (RFC 5034) and APOP.

use crate::client::{ClientConfig, ClientError};
use crate::encode::{EncodeError, Writer};
use crate::limits::MAX_COMMAND_LINE;
use crate::sasl::scram::{Hash, ScramClient, ScramError};
use crate::sasl::SaslMechanism;
use crate::sasl::{base64_len, cram, decode_base64, write_base64, Base64Writer};

/// What the next SASL line of the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The mechanism's initial response (built from the credentials).
    Initial,
    /// The user name (LOGIN).
    User,
    /// The password (LOGIN).
    Password,
    /// A response computed from the last challenge (CRAM-MD5, SCRAM).
    Computed,
    /// An empty response (after SCRAM server-final, or an XOAUTH2 error).
    Empty,
    /// `\x01` (OAUTHBEARER's answer to an error challenge).
    Ack,
    /// `*`: cancel (undecodable or unexpected challenge).
    Cancel,
}

/// A running client-side SASL exchange. It keeps copies of the credentials until the
/// exchange ends: user and authzid up to 255 octets, secret (password or bearer
/// token) up to 2048.
#[derive(Debug, Clone)]
pub(crate) struct SaslClient {
    mechanism: SaslMechanism,
    authzid: heapless::Vec<u8, 255>,
    user: heapless::Vec<u8, 255>,
    secret: heapless::Vec<u8, 2048>,
    host: heapless::String<64>,
    port: u16,
    min_iterations: u32,
    scram: Option<ScramClient>,
    computed: heapless::Vec<u8, 512>,
    next: Next,
    /// Challenges seen so far.
    step: u8,
    /// The initial response went with the AUTH command.
    sent_initial: bool,
    /// The server sent an error challenge; the final reply must be -ERR.
    failed: bool,
}

fn copy<const N: usize>(bytes: &[u8]) -> Result<heapless::Vec<u8, N>, ClientError> {
    if bytes.contains(&0) {
        return Err(ClientError::InvalidArgument);
    }
    heapless::Vec::from_slice(bytes).map_err(|_| ClientError::CredentialTooLong)
}

impl SaslClient {
    pub(crate) fn new(
        mechanism: SaslMechanism,
        authzid: &[u8],
        user: &[u8],
        secret: &[u8],
        random: &[u8; 32],
        config: &ClientConfig,
    ) -> Result<SaslClient, ClientError> {
        let scram = match mechanism {
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 => {
                let hash = if mechanism == SaslMechanism::ScramSha1 {
                    Hash::Sha1
                } else {
                    Hash::Sha256
                };
                // 24 printable nonce characters from 18 random bytes.
                let mut nonce = [0u8; 24];
                let mut w = Writer::new(&mut nonce);
                write_base64(&mut w, &random[..18]).map_err(|_| ClientError::BufferTooSmall)?;
                Some(ScramClient::new(hash, authzid, user, &nonce).map_err(scram_error)?)
            }
            _ => None,
        };
        Ok(SaslClient {
            mechanism,
            authzid: copy(authzid)?,
            user: copy(user)?,
            secret: copy(secret)?,
            host: config.host.clone(),
            port: config.port,
            min_iterations: config.min_scram_iterations,
            scram,
            computed: heapless::Vec::new(),
            next: Next::Initial,
            step: 0,
            sent_initial: false,
            failed: false,
        })
    }

    fn client_first(&self) -> bool {
        !matches!(
            self.mechanism,
            SaslMechanism::Login | SaslMechanism::CramMd5
        )
    }

    /// Writes the raw initial response through `b`.
    fn put_initial(&self, b: &mut Base64Writer<'_, '_>) -> Result<(), EncodeError> {
        match self.mechanism {
            SaslMechanism::Plain => {
                b.put(&self.authzid)?;
                b.put(b"\0")?;
                b.put(&self.user)?;
                b.put(b"\0")?;
                b.put(&self.secret)
            }
            SaslMechanism::XOAuth2 => {
                b.put(b"user=")?;
                b.put(&self.user)?;
                b.put(b"\x01auth=Bearer ")?;
                b.put(&self.secret)?;
                b.put(b"\x01\x01")
            }
            SaslMechanism::OAuthBearer => {
                b.put(b"n,a=")?;
                b.put(&self.user)?;
                b.put(b",\x01host=")?;
                b.put(self.host.as_bytes())?;
                b.put(b"\x01port=")?;
                let mut digits = [0u8; 5];
                let mut w = Writer::new(&mut digits);
                w.put_u64(u64::from(self.port))?;
                let n = w.len();
                b.put(&digits[..n])?;
                b.put(b"\x01auth=Bearer ")?;
                b.put(&self.secret)?;
                b.put(b"\x01\x01")
            }
            SaslMechanism::External => b.put(&self.authzid),
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 => {
                let scram = self.scram.as_ref().ok_or(EncodeError::InvalidArgument)?;
                for part in scram.client_first() {
                    b.put(part)?;
                }
                Ok(())
            }
            SaslMechanism::Login | SaslMechanism::CramMd5 => Err(EncodeError::InvalidArgument),
        }
    }

    fn initial_len(&self) -> usize {
        match self.mechanism {
            SaslMechanism::Plain => self.authzid.len() + self.user.len() + self.secret.len() + 2,
            SaslMechanism::XOAuth2 => self.user.len() + self.secret.len() + 21,
            SaslMechanism::OAuthBearer => {
                self.user.len() + self.host.len() + self.secret.len() + 40
            }
            SaslMechanism::External => self.authzid.len(),
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 => self
                .scram
                .as_ref()
                .map_or(0, |s| s.client_first().iter().map(|p| p.len()).sum()),
            SaslMechanism::Login | SaslMechanism::CramMd5 => 0,
        }
    }

    /// True if `AUTH NAME initial-response` fits in 255 octets (RFC 5034 §4).
    pub(crate) fn initial_response_fits(&self) -> bool {
        self.client_first()
            && "AUTH  \r\n".len()
                + self.mechanism.name().len()
                + base64_len(self.initial_len()).max(1)
                <= MAX_COMMAND_LINE
    }

    /// Writes `AUTH NAME [initial-response]` CRLF.
    pub(crate) fn write_auth_command(
        &mut self,
        ir: bool,
        out: &mut [u8],
    ) -> Result<usize, ClientError> {
        let mut w = Writer::new(out);
        w.put(b"AUTH ")?;
        w.put(self.mechanism.name().as_bytes())?;
        if ir && self.client_first() {
            w.put(b" ")?;
            if self.initial_len() == 0 {
                w.put(b"=")?;
            } else {
                let mut b = Base64Writer::new(&mut w);
                self.put_initial(&mut b)?;
                b.finish()?;
            }
            self.sent_initial = true;
            self.next = Next::Computed;
        }
        w.put(b"\r\n")?;
        Ok(w.len())
    }

    /// Handles a `+ ` challenge (base64 text).
    pub(crate) fn challenge(&mut self, b64: &[u8]) -> Result<(), ClientError> {
        let mut data = [0u8; 1536];
        let Ok(len) = decode_base64(b64, &mut data) else {
            // RFC 5034: an undecodable challenge is answered with `*`.
            self.next = Next::Cancel;
            return Ok(());
        };
        let data = &data[..len];
        self.step = self.step.saturating_add(1);
        let first = self.step == 1 && !self.sent_initial;
        self.next = match self.mechanism {
            SaslMechanism::Login => match self.step {
                1 => Next::User,
                2 => Next::Password,
                _ => Next::Cancel,
            },
            SaslMechanism::CramMd5 if self.step == 1 => {
                let digest = cram::digest(&self.secret, data);
                self.computed.clear();
                let ok = self.computed.extend_from_slice(&self.user).is_ok()
                    && self.computed.push(b' ').is_ok()
                    && self.computed.extend_from_slice(&digest).is_ok();
                if ok {
                    Next::Computed
                } else {
                    return Err(ClientError::CredentialTooLong);
                }
            }
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 if first => Next::Initial,
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 => {
                let scram = self
                    .scram
                    .as_mut()
                    .ok_or(ClientError::Sasl("no SCRAM state"))?;
                if scram.is_verified() {
                    Next::Cancel
                } else if self.computed.is_empty() {
                    scram
                        .server_first(data, &self.secret, self.min_iterations, &mut self.computed)
                        .map_err(scram_error)?;
                    Next::Computed
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
        Ok(())
    }

    /// Writes the SASL line answering the last challenge.
    pub(crate) fn write_response(&mut self, out: &mut [u8]) -> Result<usize, ClientError> {
        let mut w = Writer::new(out);
        match self.next {
            Next::Cancel => w.put(b"*")?,
            Next::Empty => {}
            Next::Ack => write_base64(&mut w, b"\x01")?,
            Next::User => write_base64(&mut w, &self.user)?,
            Next::Password => write_base64(&mut w, &self.secret)?,
            Next::Computed => write_base64(&mut w, &self.computed)?,
            Next::Initial => {
                let mut b = Base64Writer::new(&mut w);
                self.put_initial(&mut b)?;
                b.finish()?;
                if self.mechanism.is_scram() {
                    // The next challenge is server-first.
                    self.sent_initial = true;
                }
            }
        }
        w.put(b"\r\n")?;
        Ok(w.len())
    }

    /// The server said `+OK`: for SCRAM the server must have proved itself first.
    pub(crate) fn check_success(&self) -> Result<(), ClientError> {
        if self.failed {
            return Err(ClientError::Protocol("+OK after an authentication error"));
        }
        match &self.scram {
            Some(s) if !s.is_verified() => {
                Err(ClientError::Sasl("server did not prove the password"))
            }
            _ => Ok(()),
        }
    }
}

fn scram_error(e: ScramError) -> ClientError {
    ClientError::Sasl(match e {
        ScramError::Malformed => "malformed SCRAM message",
        ScramError::NonceMismatch => "SCRAM nonce mismatch",
        ScramError::UnsupportedExtension => "SCRAM extension (m=) not supported",
        ScramError::WeakIterationCount => "SCRAM iteration count too low",
        ScramError::ExcessiveIterationCount => "SCRAM iteration count too high",
        ScramError::ChannelBinding => "SCRAM channel binding not supported",
        ScramError::BadProof => "SCRAM server signature is wrong",
        ScramError::ServerError => "SCRAM error from the server",
        ScramError::TooLong => "SCRAM message too long",
    })
}
