//! Client side of AUTH in a build without the `sasl` feature: no exchange can
//! start ([`SaslClient::new`] refuses every mechanism), and the type has no values,
//! so none of the SASL code is compiled into the client.

use super::config::ClientConfig;
use super::error::ClientError;
use crate::sasl::SaslMechanism;

/// The credentials of a SASL login, borrowed for one line.
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub(crate) struct Creds<'a> {
    pub(crate) authzid: &'a [u8],
    pub(crate) user: &'a [u8],
    pub(crate) secret: &'a [u8],
    pub(crate) channel_binding: Option<&'a [u8]>,
    pub(crate) plus_offered: bool,
}

/// No SASL exchange exists in this build.
#[derive(Debug, Clone)]
pub(crate) enum SaslClient {}

impl SaslClient {
    pub(crate) fn new(
        _mechanism: SaslMechanism,
        _random: &[u8; 32],
    ) -> Result<SaslClient, ClientError> {
        Err(ClientError::MechanismUnavailable)
    }

    pub(crate) fn mechanism(&self) -> SaslMechanism {
        match *self {}
    }

    pub(crate) fn needs_credentials(&self) -> bool {
        match *self {}
    }

    pub(crate) fn has_initial_response(&self) -> bool {
        match *self {}
    }

    pub(crate) fn write_auth_command(
        &mut self,
        _: Option<&Creds<'_>>,
        _: &ClientConfig,
        _: &mut [u8],
    ) -> Result<usize, ClientError> {
        match *self {}
    }

    pub(crate) fn challenge(&mut self, _: &[u8]) -> Result<bool, ClientError> {
        match *self {}
    }

    pub(crate) fn write_response(
        &mut self,
        _: Option<&Creds<'_>>,
        _: &[u8],
        _: &ClientConfig,
        _: &mut [u8],
    ) -> Result<usize, ClientError> {
        match *self {}
    }

    pub(crate) fn check_success(&self) -> Result<(), ClientError> {
        match *self {}
    }
}
