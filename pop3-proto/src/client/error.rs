//! What can go wrong: [`ClientError`] (the client cannot go on, or refuses a
//! request), [`InvalidReply`] (a reply framed correctly but not believed), and the
//! [`CommandKind`] that both name.

use core::fmt;

use crate::codec::DecodeError;
use crate::encode::EncodeError;
use crate::response::listing::ListingError;

/// Why a reply framed correctly was not believed ([`ClientEvent::Invalid`], or
/// [`ClientError::InvalidListing`] for a line of a whole LIST or UIDL listing).
///
/// [`ClientEvent::Invalid`]: crate::client::ClientEvent::Invalid
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InvalidReply {
    /// The `+OK` text of STAT, LIST n or UIDL n, or a line of a LIST, UIDL or LANG
    /// listing, does not parse.
    Malformed(ListingError),
    /// LIST n or UIDL n was answered for another message.
    OtherMessage {
        /// The message number the server named.
        msg: u32,
    },
    /// Message number 0, or one above the highest the last STAT allows (its count
    /// plus the messages deleted before it in this session: numbers are never
    /// reassigned, RFC 1939 §6). Without a STAT, only 0 is refused.
    NumberOutOfRange {
        /// The message number the server named.
        msg: u32,
    },
    /// A line of a whole LIST or UIDL listing names a message number not above the
    /// line before it: servers list messages in ascending order, and a listing that
    /// repeats numbers could go on for ever.
    OutOfOrder {
        /// The message number the server named.
        msg: u32,
    },
}

impl core::error::Error for InvalidReply {}

impl fmt::Display for InvalidReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidReply::Malformed(e) => write!(f, "malformed reply: {e}"),
            InvalidReply::OtherMessage { msg } => {
                write!(f, "reply names another message ({msg})")
            }
            InvalidReply::NumberOutOfRange { msg } => {
                write!(f, "message number {msg} out of range")
            }
            InvalidReply::OutOfOrder { msg } => {
                write!(f, "message number {msg} out of order")
            }
        }
    }
}

/// Which command a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CommandKind {
    /// The greeting (no command).
    Greeting,
    /// CAPA
    Capa,
    /// STLS
    Stls,
    /// USER
    User,
    /// PASS
    Pass,
    /// APOP
    Apop,
    /// AUTH
    Auth,
    /// STAT
    Stat,
    /// LIST
    List,
    /// UIDL
    Uidl,
    /// RETR
    Retr,
    /// TOP
    Top,
    /// DELE
    Dele,
    /// NOOP
    Noop,
    /// RSET
    Rset,
    /// QUIT
    Quit,
    /// UTF8
    Utf8,
    /// LANG
    Lang,
}

/// Why the client cannot go on, or refuses a request.
///
/// Every error from [`Client::handle_input`] is fatal: the client is closed (see the
/// module docs). Errors from the methods that queue commands refuse only that
/// request.
///
/// [`Client::handle_input`]: crate::client::Client::handle_input
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientError {
    /// The server's bytes could not be decoded (fatal).
    Decode(DecodeError),
    /// Bytes that make no sense where they are: data when no reply is expected, a
    /// success after a failed authentication (fatal).
    Protocol(&'static str),
    /// The greeting was `-ERR` (fatal).
    Rejected,
    /// The command is not allowed in the current state.
    WrongState,
    /// Too many commands queued; handle replies first.
    QueueFull,
    /// Credentials would cross an unencrypted connection; see
    /// [`ClientConfig::allow_plaintext`].
    ///
    /// [`ClientConfig::allow_plaintext`]: crate::client::ClientConfig::allow_plaintext
    PlaintextRefused,
    /// The greeting had no APOP timestamp.
    ApopUnavailable,
    /// The server did not advertise that SASL mechanism.
    MechanismUnavailable,
    /// The last CAPA did not advertise this command (UTF8 and LANG need it, RFC
    /// 6856); wait for [`ClientEvent::CapabilitiesEnd`] before queueing them.
    ///
    /// [`ClientEvent::CapabilitiesEnd`]: crate::client::ClientEvent::CapabilitiesEnd
    NotAdvertised(CommandKind),
    /// A user name or password makes a command line longer than 255 octets.
    CredentialTooLong,
    /// The client asked for credentials ([`ClientEvent::NeedCredentials`]) and was
    /// polled again without them (fatal: the login cannot go on).
    ///
    /// [`ClientEvent::NeedCredentials`]: crate::client::ClientEvent::NeedCredentials
    CredentialsNeeded,
    /// [`Client::write_credentials`] got a [`Login`] of another method or mechanism
    /// than the one queued, or was called when no credentials were asked for.
    ///
    /// [`Client::write_credentials`]: crate::client::Client::write_credentials
    /// [`Login`]: crate::client::Login
    LoginMismatch,
    /// An argument contains CR, LF, NUL or another forbidden byte.
    InvalidArgument,
    /// The caller's output buffer is too small for the next line.
    BufferTooSmall,
    /// The SASL exchange failed on our side (bad server signature, nonce, …) (fatal).
    Sasl(&'static str),
    /// The driver's receive or transmit buffer is smaller than the role needs
    /// ([`MIN_CLIENT_RECEIVE`](crate::driver::MIN_CLIENT_RECEIVE),
    /// [`MIN_CLIENT_TRANSMIT`](crate::driver::MIN_CLIENT_TRANSMIT)) (fatal).
    BuffersTooSmall,
    /// No greeting within [`ClientConfig::greeting_timeout_ms`] (fatal).
    ///
    /// [`ClientConfig::greeting_timeout_ms`]: crate::client::ClientConfig::greeting_timeout_ms
    GreetingTimeout,
    /// A reply was due and the server sent nothing for
    /// [`ClientConfig::reply_timeout_ms`] (fatal).
    ///
    /// [`ClientConfig::reply_timeout_ms`]: crate::client::ClientConfig::reply_timeout_ms
    ReplyTimeout,
    /// A line of a whole LIST or UIDL listing was not believed (malformed, numbered
    /// out of range or out of order) (fatal): the client stops reading there, since
    /// the listing is useless and its end may never come. LIST n and UIDL n answers
    /// fail with [`ClientEvent::Invalid`] instead.
    ///
    /// [`ClientEvent::Invalid`]: crate::client::ClientEvent::Invalid
    InvalidListing(InvalidReply),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Decode(e) => write!(f, "cannot decode server reply: {e}"),
            ClientError::Protocol(what) => write!(f, "protocol violation: {what}"),
            ClientError::Rejected => f.write_str("server refused the connection"),
            ClientError::WrongState => f.write_str("command not allowed now"),
            ClientError::QueueFull => f.write_str("too many commands queued"),
            ClientError::PlaintextRefused => {
                f.write_str("refusing to send credentials over an unencrypted connection")
            }
            ClientError::ApopUnavailable => f.write_str("server offers no APOP timestamp"),
            ClientError::MechanismUnavailable => f.write_str("SASL mechanism not offered"),
            ClientError::NotAdvertised(command) => {
                write!(f, "{command:?} not advertised by the server")
            }
            ClientError::CredentialTooLong => f.write_str("credential too long"),
            ClientError::CredentialsNeeded => {
                f.write_str("the client asked for credentials and got none")
            }
            ClientError::LoginMismatch => {
                f.write_str("credentials for another login than the one queued")
            }
            ClientError::InvalidArgument => f.write_str("invalid argument"),
            ClientError::BufferTooSmall => f.write_str("output buffer too small"),
            ClientError::Sasl(what) => write!(f, "SASL: {what}"),
            ClientError::BuffersTooSmall => {
                f.write_str("driver buffers smaller than a protocol line")
            }
            ClientError::GreetingTimeout => f.write_str("no greeting from the server in time"),
            ClientError::ReplyTimeout => f.write_str("no reply from the server in time"),
            ClientError::InvalidListing(reason) => write!(f, "invalid listing: {reason}"),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<DecodeError> for ClientError {
    fn from(e: DecodeError) -> Self {
        ClientError::Decode(e)
    }
}

impl From<EncodeError> for ClientError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::BufferTooSmall => ClientError::BufferTooSmall,
            EncodeError::LineTooLong { .. } => ClientError::CredentialTooLong,
            EncodeError::InvalidArgument => ClientError::InvalidArgument,
        }
    }
}
