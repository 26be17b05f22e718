//! A login with owned credentials: the client keeps none, so a test harness keeps
//! them to answer `ClientEvent::NeedCredentials`.

use pop3_proto::client::{Login, SaslMechanism};

/// A [`Login`] with owned credentials.
#[derive(Debug, Clone)]
pub enum OwnedLogin {
    UserPass(Vec<u8>, Vec<u8>),
    Apop(Vec<u8>, Vec<u8>),
    Sasl(SaslMechanism, Vec<u8>, Vec<u8>, Vec<u8>),
}

impl OwnedLogin {
    pub fn new(login: &Login<'_>) -> OwnedLogin {
        match *login {
            Login::UserPass { user, password } => {
                OwnedLogin::UserPass(user.into(), password.into())
            }
            Login::Apop { user, secret } => OwnedLogin::Apop(user.into(), secret.into()),
            Login::Sasl {
                mechanism,
                authzid,
                user,
                secret,
            } => OwnedLogin::Sasl(mechanism, authzid.into(), user.into(), secret.into()),
        }
    }

    pub fn login(&self) -> Login<'_> {
        match self {
            OwnedLogin::UserPass(user, password) => Login::UserPass { user, password },
            OwnedLogin::Apop(user, secret) => Login::Apop { user, secret },
            OwnedLogin::Sasl(mechanism, authzid, user, secret) => Login::Sasl {
                mechanism: *mechanism,
                authzid,
                user,
                secret,
            },
        }
    }
}
