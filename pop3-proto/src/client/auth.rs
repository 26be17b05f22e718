//! Client side of AUTH (RFC 5034) and APOP.
//!
//! Placeholder until the SASL mechanisms land.

use crate::client::{ClientConfig, ClientError};
use crate::server::config::MechanismSet;

/// A SASL mechanism the client can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SaslMechanism {
    /// PLAIN (RFC 4616).
    Plain,
    /// LOGIN (obsolete draft, still common).
    Login,
    /// CRAM-MD5 (RFC 2195).
    CramMd5,
    /// SCRAM-SHA-1 (RFC 5802).
    ScramSha1,
    /// SCRAM-SHA-256 (RFC 7677).
    ScramSha256,
    /// XOAUTH2 (Google, Microsoft).
    XOAuth2,
    /// OAUTHBEARER (RFC 7628).
    OAuthBearer,
    /// EXTERNAL (RFC 4422): the TLS client certificate.
    External,
}

impl SaslMechanism {
    /// The bit of this mechanism in a [`MechanismSet`].
    pub fn bit(self) -> MechanismSet {
        match self {
            SaslMechanism::Plain => MechanismSet::PLAIN,
            SaslMechanism::Login => MechanismSet::LOGIN,
            SaslMechanism::CramMd5 => MechanismSet::CRAM_MD5,
            SaslMechanism::ScramSha1 => MechanismSet::SCRAM_SHA_1,
            SaslMechanism::ScramSha256 => MechanismSet::SCRAM_SHA_256,
            SaslMechanism::XOAuth2 => MechanismSet::XOAUTH2,
            SaslMechanism::OAuthBearer => MechanismSet::OAUTHBEARER,
            SaslMechanism::External => MechanismSet::EXTERNAL,
        }
    }
}

/// A running client-side SASL exchange.
#[derive(Debug, Clone)]
pub(crate) struct SaslClient {}

impl SaslClient {
    pub(crate) fn new(
        _mechanism: SaslMechanism,
        _authzid: &[u8],
        _user: &[u8],
        _secret: &[u8],
        _random: &[u8; 32],
        _config: &ClientConfig,
    ) -> Result<SaslClient, ClientError> {
        Err(ClientError::MechanismUnavailable)
    }

    pub(crate) fn initial_response_fits(&self) -> bool {
        false
    }

    pub(crate) fn write_auth_command(
        &mut self,
        _ir: bool,
        _out: &mut [u8],
    ) -> Result<usize, ClientError> {
        Err(ClientError::MechanismUnavailable)
    }

    pub(crate) fn challenge(&mut self, _b64: &[u8]) -> Result<(), ClientError> {
        Err(ClientError::MechanismUnavailable)
    }

    pub(crate) fn write_response(&mut self, _out: &mut [u8]) -> Result<usize, ClientError> {
        Err(ClientError::MechanismUnavailable)
    }

    pub(crate) fn check_success(&self) -> Result<(), ClientError> {
        Ok(())
    }
}

/// The APOP digest: lower-case hex of MD5(timestamp ‖ secret).
pub(crate) fn apop_digest(timestamp: &[u8], secret: &[u8]) -> [u8; 32] {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(timestamp);
    h.update(secret);
    let sum = h.finalize();
    let mut out = [0u8; 32];
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in sum.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}
