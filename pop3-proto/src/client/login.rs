//! How to log in ([`Login`]): the method and the credentials, which the client
//! never keeps (it asks for them when their line is due).

use core::fmt;

use super::caps::Capabilities;
use super::sasl::Creds;
use crate::sasl::{MechanismSet, SaslMechanism};

/// How to log in, with the credentials.
///
/// The client keeps no copy of them: [`Client::login`] checks and queues the login,
/// and when a line that carries them is due the client asks for them again with
/// [`ClientEvent::NeedCredentials`], answered with the same `Login` through
/// [`Client::write_credentials`] (or [`ClientDriver::credentials`]). So a token of
/// any length can be sent, and the credentials stay where the caller keeps them.
///
/// [`ClientDriver::credentials`]: crate::driver::ClientDriver::credentials
/// [`Client::login`]: crate::client::Client::login
/// [`ClientEvent::NeedCredentials`]: crate::client::ClientEvent::NeedCredentials
/// [`Client::write_credentials`]: crate::client::Client::write_credentials
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Login<'a> {
    /// USER and PASS (cleartext).
    UserPass {
        /// The user name.
        user: &'a [u8],
        /// The password.
        password: &'a [u8],
    },
    /// APOP: the password never crosses the wire, but MD5 is broken; only when the
    /// greeting carried a valid timestamp.
    Apop {
        /// The user name.
        user: &'a [u8],
        /// The shared secret.
        secret: &'a [u8],
    },
    /// AUTH with a SASL mechanism.
    Sasl {
        /// The mechanism.
        mechanism: SaslMechanism,
        /// The authorization identity (usually empty: act as `user`).
        authzid: &'a [u8],
        /// The user name (authentication identity).
        user: &'a [u8],
        /// The password, or the bearer token for XOAUTH2 / OAUTHBEARER; unused by EXTERNAL.
        secret: &'a [u8],
    },
}

/// Passwords, secrets and tokens print as `<redacted N bytes>`, names as byte
/// strings.
impl fmt::Debug for Login<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::debug::{Bytes, Redacted};
        match *self {
            Login::UserPass { user, password } => f
                .debug_struct("UserPass")
                .field("user", &Bytes(user))
                .field("password", &Redacted(password.len()))
                .finish(),
            Login::Apop { user, secret } => f
                .debug_struct("Apop")
                .field("user", &Bytes(user))
                .field("secret", &Redacted(secret.len()))
                .finish(),
            Login::Sasl {
                mechanism,
                authzid,
                user,
                secret,
            } => f
                .debug_struct("Sasl")
                .field("mechanism", &mechanism)
                .field("authzid", &Bytes(authzid))
                .field("user", &Bytes(user))
                .field("secret", &Redacted(secret.len()))
                .finish(),
        }
    }
}

/// The credentials of `login` for the SASL exchange of `mechanism`, with what the
/// session knows: its channel binding, and whether the server's last CAPA offered a
/// -PLUS mechanism (it supports binding, RFC 5802 §6). `None` when `login` is not
/// that exchange's.
pub(super) fn sasl_creds<'a>(
    login: &Login<'a>,
    mechanism: SaslMechanism,
    channel_binding: &'a Option<[u8; 32]>,
    caps: &Capabilities,
) -> Option<Creds<'a>> {
    let Login::Sasl {
        mechanism: asked,
        authzid,
        user,
        secret,
    } = *login
    else {
        return None;
    };
    (asked == mechanism).then(|| Creds {
        authzid,
        user,
        secret,
        channel_binding: channel_binding.as_ref().map(|c| &c[..]),
        plus_offered: caps.mechanisms.contains(MechanismSet::SCRAM_SHA_1_PLUS)
            || caps.mechanisms.contains(MechanismSet::SCRAM_SHA_256_PLUS),
    })
}
