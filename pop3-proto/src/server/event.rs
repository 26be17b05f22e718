//! What the server asks of the application ([`ServerEvent`]) and the typed parts
//! of its answers ([`Open`], [`BodyWrite`]).

use core::fmt;

/// Something the server needs the application to do or decide. `Debug` prints
/// names as byte strings and passwords and tokens as `<redacted N bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ServerEvent<'a> {
    /// Check a cleartext password (USER/PASS, AUTH PLAIN, AUTH LOGIN). Answer with
    /// [`Server::answer_password`].
    ///
    /// `authzid` is the identity the client asks to act as (RFC 4616 §2; PLAIN
    /// only, empty otherwise). An empty `authzid`, or one equal to `user`, means
    /// "act as myself": answer `true` if `password` is `user`'s. Any other `authzid`
    /// reaches the application only when [`ServerConfig::allow_authzid`] is set (by
    /// default the server refuses it itself, as a failed login); then answer `true`
    /// only if `password` is `user`'s **and** `user` may act as `authzid` (an
    /// administrator, a delegate), because the session is then `authzid`'s:
    /// [`ServerEvent::OpenMaildrop`] names `authzid`, not `user`.
    ///
    /// [`Server::answer_password`]: crate::server::Server::answer_password
    /// [`ServerConfig::allow_authzid`]: crate::server::ServerConfig::allow_authzid
    CheckPassword {
        /// The authorization identity requested (PLAIN only; empty otherwise).
        authzid: &'a [u8],
        /// The user name (the authentication identity).
        user: &'a [u8],
        /// The password.
        password: &'a [u8],
    },
    /// Check an OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER). Answer with
    /// [`Server::answer_password`].
    ///
    /// `user` is the identity the client asks to act as (XOAUTH2's `user=`,
    /// OAUTHBEARER's authzid `a=`), and the session's user if the answer is `true`.
    /// The authentication identity is inside the token, where the server cannot
    /// see it, so this check is wholly the application's: answer `true` only if the
    /// token is valid and was issued to `user` (or its subject may act as `user`).
    /// OAUTHBEARER without `a=` gives an empty `user`, which names no maildrop:
    /// answer `false`. [`ServerConfig::allow_authzid`] does not apply here.
    ///
    /// [`Server::answer_password`]: crate::server::Server::answer_password
    /// [`ServerConfig::allow_authzid`]: crate::server::ServerConfig::allow_authzid
    CheckToken {
        /// The user the token must be for: the session's user if accepted.
        user: &'a [u8],
        /// The bearer token.
        token: &'a [u8],
    },
    /// Accept or refuse the identity the transport proved (EXTERNAL: the TLS client
    /// certificate). Answer with [`Server::answer_password`].
    ///
    /// `authzid` is the identity the client asks to act as, and the session's user
    /// if the answer is `true`. The authentication identity is the certificate's,
    /// which the server cannot see, so this check is wholly the application's:
    /// answer `true` only if the certificate is trusted and its identity is
    /// `authzid` or may act as `authzid`. An empty `authzid` asks for the
    /// certificate's own identity, but the session's user
    /// ([`ServerEvent::OpenMaildrop`]) then stays empty: answer `false` unless the
    /// maildrop does not depend on the user name. [`ServerConfig::allow_authzid`]
    /// does not apply here.
    ///
    /// [`Server::answer_password`]: crate::server::Server::answer_password
    /// [`ServerConfig::allow_authzid`]: crate::server::ServerConfig::allow_authzid
    CheckExternal {
        /// The authorization identity the client asks for (may be empty): the
        /// session's user if accepted.
        authzid: &'a [u8],
    },
    /// The shared secret of `user` is needed (APOP, CRAM-MD5, SCRAM). Answer with
    /// [`Server::answer_secret`] (the password), or for SCRAM with
    /// [`Server::answer_verifier`] (a stored verifier), for CRAM-MD5 with
    /// [`Server::answer_cram_context`] (a stored context). For an unknown user
    /// answer `None`: the client sees the same failure as for a wrong password.
    ///
    /// [`Server::answer_secret`]: crate::server::Server::answer_secret
    /// [`Server::answer_verifier`]: crate::server::Server::answer_verifier
    /// [`Server::answer_cram_context`]: crate::server::Server::answer_cram_context
    NeedSecret {
        /// The user name.
        user: &'a [u8],
        /// The SASL mechanism asking (`None`: APOP).
        mechanism: Option<crate::sasl::SaslMechanism>,
    },
    /// Credentials are good: lock and open the maildrop of `user`. Answer with
    /// [`Server::answer_open`].
    ///
    /// [`Server::answer_open`]: crate::server::Server::answer_open
    OpenMaildrop {
        /// The user the session acts as: the authorization identity when one was
        /// given and accepted, else the authenticated user.
        user: &'a [u8],
    },
    /// The size in octets of message `msg` (CRLF line ends, no stuffing) is needed.
    /// Answer with [`Server::answer_size`].
    ///
    /// [`Server::answer_size`]: crate::server::Server::answer_size
    Size {
        /// The message number (valid and not deleted).
        msg: u32,
    },
    /// The unique-id of message `msg` is needed. Answer with [`Server::answer_uid`].
    ///
    /// [`Server::answer_uid`]: crate::server::Server::answer_uid
    Uid {
        /// The message number (valid and not deleted).
        msg: u32,
    },
    /// Send message `msg` with [`Server::body`] and [`Server::body_end`]; the `+OK`
    /// is already queued. For TOP, `lines` is the number of body lines wanted: send
    /// the whole message anyway, the server cuts it (and [`Server::body_done`] tells
    /// when the rest would be discarded).
    ///
    /// [`Server::body`]: crate::server::Server::body
    /// [`Server::body_end`]: crate::server::Server::body_end
    /// [`Server::body_done`]: crate::server::Server::body_done
    Retrieve {
        /// The message number (valid and not deleted).
        msg: u32,
        /// `Some(n)` for `TOP msg n`; `Some(u32::MAX)` (also for any larger `n`)
        /// is never cut.
        lines: Option<u32>,
    },
    /// `+OK` to STLS is queued: send it, then run the TLS handshake on the
    /// connection and call [`Server::tls_started`]. Received plaintext after the
    /// STLS line was discarded (consumed) and must not be passed again.
    ///
    /// [`Server::tls_started`]: crate::server::Server::tls_started
    StartTls,
    /// QUIT in TRANSACTION: remove the messages marked deleted
    /// ([`Server::deleted`]), release the maildrop lock, and answer with
    /// [`Server::answer_update`].
    ///
    /// [`Server::deleted`]: crate::server::Server::deleted
    /// [`Server::answer_update`]: crate::server::Server::answer_update
    Update,
}

impl fmt::Debug for ServerEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::debug::{Bytes, Redacted};
        match *self {
            ServerEvent::CheckPassword {
                authzid,
                user,
                password,
            } => f
                .debug_struct("CheckPassword")
                .field("authzid", &Bytes(authzid))
                .field("user", &Bytes(user))
                .field("password", &Redacted(password.len()))
                .finish(),
            ServerEvent::CheckToken { user, token } => f
                .debug_struct("CheckToken")
                .field("user", &Bytes(user))
                .field("token", &Redacted(token.len()))
                .finish(),
            ServerEvent::CheckExternal { authzid } => f
                .debug_struct("CheckExternal")
                .field("authzid", &Bytes(authzid))
                .finish(),
            ServerEvent::NeedSecret { user, mechanism } => f
                .debug_struct("NeedSecret")
                .field("user", &Bytes(user))
                .field("mechanism", &mechanism)
                .finish(),
            ServerEvent::OpenMaildrop { user } => f
                .debug_struct("OpenMaildrop")
                .field("user", &Bytes(user))
                .finish(),
            ServerEvent::Size { msg } => f.debug_struct("Size").field("msg", &msg).finish(),
            ServerEvent::Uid { msg } => f.debug_struct("Uid").field("msg", &msg).finish(),
            ServerEvent::Retrieve { msg, lines } => f
                .debug_struct("Retrieve")
                .field("msg", &msg)
                .field("lines", &lines)
                .finish(),
            ServerEvent::StartTls => f.write_str("StartTls"),
            ServerEvent::Update => f.write_str("Update"),
        }
    }
}

// defmt as `Debug`: names as text, a password or token by its length only.
#[cfg(feature = "defmt")]
impl defmt::Format for ServerEvent<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            ServerEvent::CheckPassword {
                authzid,
                user,
                password,
            } => defmt::write!(
                f,
                "CheckPassword {{ authzid: {=[u8]:a}, user: {=[u8]:a}, password: <redacted {=usize} bytes> }}",
                authzid,
                user,
                password.len()
            ),
            ServerEvent::CheckToken { user, token } => defmt::write!(
                f,
                "CheckToken {{ user: {=[u8]:a}, token: <redacted {=usize} bytes> }}",
                user,
                token.len()
            ),
            ServerEvent::CheckExternal { authzid } => {
                defmt::write!(f, "CheckExternal {{ authzid: {=[u8]:a} }}", authzid)
            }
            ServerEvent::NeedSecret { user, mechanism } => defmt::write!(
                f,
                "NeedSecret {{ user: {=[u8]:a}, mechanism: {} }}",
                user,
                mechanism
            ),
            ServerEvent::OpenMaildrop { user } => {
                defmt::write!(f, "OpenMaildrop {{ user: {=[u8]:a} }}", user)
            }
            ServerEvent::Size { msg } => defmt::write!(f, "Size {{ msg: {=u32} }}", msg),
            ServerEvent::Uid { msg } => defmt::write!(f, "Uid {{ msg: {=u32} }}", msg),
            ServerEvent::Retrieve { msg, lines } => {
                defmt::write!(f, "Retrieve {{ msg: {=u32}, lines: {} }}", msg, lines)
            }
            ServerEvent::StartTls => defmt::write!(f, "StartTls"),
            ServerEvent::Update => defmt::write!(f, "Update"),
        }
    }
}

/// What [`Server::body`] did.
///
/// [`Server::body`]: crate::server::Server::body
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BodyWrite {
    /// Bytes of the chunk taken (sent, or cut by TOP).
    pub taken: usize,
    /// Bytes written into the caller's buffer.
    pub written: usize,
}

/// The outcome of opening a maildrop, for [`Server::answer_open`].
///
/// [`Server::answer_open`]: crate::server::Server::answer_open
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Open {
    /// Locked and opened: `count` messages of `size` octets in total.
    Opened {
        /// Number of messages (numbered 1..=count for this session).
        count: u32,
        /// Their total size in octets.
        size: u64,
    },
    /// Another session holds the lock (`-ERR [IN-USE]`).
    InUse,
    /// The user logged in too recently (`-ERR [LOGIN-DELAY]`).
    LoginDelay,
    /// The maildrop cannot be opened now (`-ERR [SYS/TEMP]`).
    Unavailable,
}
