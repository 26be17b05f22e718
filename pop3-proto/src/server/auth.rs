//! AUTH (RFC 5034) and APOP on the server side.
//!
//! Placeholder until the SASL mechanisms land: AUTH answers `-ERR`.

use crate::encode::{EncodeError, Writer};
use crate::server::config::MechanismSet;
use crate::server::ServerEvent;

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
    /// Exchange aborted (cancel, bad base64).
    Error(&'static str),
}

/// A running SASL exchange.
#[derive(Debug, Clone)]
pub(crate) struct SaslServer {}

impl SaslServer {
    pub(crate) fn start(
        _mechanism: &str,
        _initial_response: Option<&[u8]>,
        _offered: MechanismSet,
        _random: &[u8; 32],
    ) -> Result<(SaslServer, AuthStep), &'static str> {
        Err("Unsupported authentication mechanism")
    }

    pub(crate) fn awaiting_answer(&self) -> bool {
        false
    }

    pub(crate) fn awaiting_verdict(&self) -> bool {
        false
    }

    pub(crate) fn awaiting_secret(&self) -> bool {
        false
    }

    pub(crate) fn authenticated_user(&self) -> &[u8] {
        b""
    }

    pub(crate) fn challenge(&self) -> &[u8] {
        b""
    }

    pub(crate) fn event(&self) -> ServerEvent<'_> {
        ServerEvent::Update
    }

    pub(crate) fn secret(&mut self, _secret: Option<&[u8]>) -> AuthStep {
        AuthStep::Failure("Authentication failed")
    }

    pub(crate) fn response(&mut self, _b64: &[u8]) -> AuthStep {
        AuthStep::Error("Authentication failed")
    }
}

/// The space-separated names of `set`, written into `out`; returns the length.
pub(crate) fn mechanism_list(set: MechanismSet, out: &mut [u8]) -> usize {
    const NAMES: [(MechanismSet, &str); 8] = [
        (MechanismSet::PLAIN, "PLAIN"),
        (MechanismSet::LOGIN, "LOGIN"),
        (MechanismSet::CRAM_MD5, "CRAM-MD5"),
        (MechanismSet::SCRAM_SHA_1, "SCRAM-SHA-1"),
        (MechanismSet::SCRAM_SHA_256, "SCRAM-SHA-256"),
        (MechanismSet::XOAUTH2, "XOAUTH2"),
        (MechanismSet::OAUTHBEARER, "OAUTHBEARER"),
        (MechanismSet::EXTERNAL, "EXTERNAL"),
    ];
    let mut w = Writer::new(out);
    for (bit, name) in NAMES {
        if set.contains(bit) {
            if w.len() > 0 {
                let _ = w.put(b" ");
            }
            let _ = w.put(name.as_bytes());
        }
    }
    w.len()
}

/// Checks an APOP digest (32 lower-case hex digits) against MD5(timestamp ‖ secret).
pub(crate) fn apop_verify(timestamp: &[u8], secret: &[u8], digest: &[u8; 32]) -> bool {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(timestamp);
    h.update(secret);
    let sum = h.finalize();
    let mut expect = [0u8; 32];
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in sum.iter().enumerate() {
        expect[2 * i] = DIGITS[usize::from(b >> 4)];
        expect[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    expect
        .iter()
        .zip(digest)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Writes `data` base64-encoded.
pub(crate) fn base64_into(data: &[u8], w: &mut Writer<'_>) -> Result<(), EncodeError> {
    use base64::Engine;
    let mut out = [0u8; 1024];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(data, &mut out)
        .map_err(|_| EncodeError::BufferTooSmall)?;
    w.put(&out[..n])
}
