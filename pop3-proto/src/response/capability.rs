//! Capabilities (RFC 2449 §6, RFC 2595, RFC 5034, RFC 6856): one line each in the
//! reply to `CAPA`.

use crate::command::is_mechanism_name;
use crate::encode::{is_line_breaking, EncodeError, Writer};
use crate::limits::MAX_LISTING_LINE;
use crate::response::trim;

/// The `EXPIRE` policy: how long the server keeps messages after they were retrieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Expire {
    /// `NEVER`: messages stay until deleted.
    Never,
    /// Days after retrieval; `0` means the server may delete retrieved messages at UPDATE.
    Days(u32),
}

/// The mechanism list of a `SASL` capability, kept as received (an open list: names
/// this crate does not implement survive).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SaslMechanisms<'a>(&'a [u8]);

impl core::fmt::Debug for SaslMechanisms<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SaslMechanisms")
            .field(&crate::debug::Bytes(self.0))
            .finish()
    }
}

impl<'a> SaslMechanisms<'a> {
    /// A list from space-separated names (used when encoding).
    pub fn new(list: &'a [u8]) -> Self {
        SaslMechanisms(trim(list))
    }

    /// The list as it appeared on the line.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The mechanism names, skipping anything that is not a valid RFC 5034 name.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.names()
            .filter_map(|name| core::str::from_utf8(name).ok())
    }

    /// The mechanism names as bytes (no UTF-8 check: valid names are ASCII),
    /// skipping anything that is not a valid RFC 5034 name.
    pub fn names(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .split(|b| *b == b' ' || *b == b'\t')
            .filter(|name| is_mechanism_name(name))
    }

    /// True when `name` (any case) is in the list.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|m| m.eq_ignore_ascii_case(name))
    }
}

/// One capability line.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Capability<'a> {
    /// `TOP`
    Top,
    /// `USER`: USER/PASS login is available.
    User,
    /// `SASL mech...`: AUTH is available with these mechanisms.
    Sasl(SaslMechanisms<'a>),
    /// `RESP-CODES`: `-ERR` texts may start with response codes.
    RespCodes,
    /// `LOGIN-DELAY secs [USER]`: minimum seconds between logins.
    LoginDelay {
        /// The delay in seconds.
        seconds: u32,
        /// `USER` was given: the value may differ per user (AUTHORIZATION state).
        per_user: bool,
    },
    /// `PIPELINING`: the client may send several commands without waiting.
    Pipelining,
    /// `EXPIRE policy [USER]`: retention of retrieved messages.
    Expire {
        /// The policy.
        policy: Expire,
        /// `USER` was given: the value may differ per user.
        per_user: bool,
    },
    /// `UIDL`
    Uidl,
    /// `IMPLEMENTATION text`: informational only; clients must not act on it.
    Implementation(&'a [u8]),
    /// `STLS` (RFC 2595).
    Stls,
    /// `UTF8 [USER]` (RFC 6856).
    Utf8 {
        /// `USER` was given: UTF-8 user names and passwords are accepted.
        user: bool,
    },
    /// `LANG` (RFC 6856).
    Lang,
    /// `AUTH-RESP-CODE` (RFC 3206): every credential failure carries `[AUTH]`.
    AuthRespCode,
    /// Any other tag (or a known tag with parameters we cannot read), kept verbatim so
    /// that unknown capabilities never break a client.
    Other {
        /// The capability tag as sent.
        tag: &'a [u8],
        /// The parameters after the tag (may be empty).
        params: &'a [u8],
    },
}

impl core::fmt::Debug for Capability<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::Bytes;
        match *self {
            Capability::Top => f.write_str("Top"),
            Capability::User => f.write_str("User"),
            Capability::Sasl(m) => f.debug_tuple("Sasl").field(&m).finish(),
            Capability::RespCodes => f.write_str("RespCodes"),
            Capability::LoginDelay { seconds, per_user } => f
                .debug_struct("LoginDelay")
                .field("seconds", &seconds)
                .field("per_user", &per_user)
                .finish(),
            Capability::Pipelining => f.write_str("Pipelining"),
            Capability::Expire { policy, per_user } => f
                .debug_struct("Expire")
                .field("policy", &policy)
                .field("per_user", &per_user)
                .finish(),
            Capability::Uidl => f.write_str("Uidl"),
            Capability::Implementation(text) => {
                f.debug_tuple("Implementation").field(&Bytes(text)).finish()
            }
            Capability::Stls => f.write_str("Stls"),
            Capability::Utf8 { user } => f.debug_struct("Utf8").field("user", &user).finish(),
            Capability::Lang => f.write_str("Lang"),
            Capability::AuthRespCode => f.write_str("AuthRespCode"),
            Capability::Other { tag, params } => f
                .debug_struct("Other")
                .field("tag", &Bytes(tag))
                .field("params", &Bytes(params))
                .finish(),
        }
    }
}

impl<'a> Capability<'a> {
    /// Writes the capability line, CRLF included, into `out`; returns its length.
    pub fn encode_line(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.encode_into(&mut w)?;
        Ok(w.len())
    }

    pub(crate) fn encode_into(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let start = w.len();
        let user = |w: &mut Writer<'_>, per_user: bool| {
            if per_user {
                w.put(b" USER")
            } else {
                Ok(())
            }
        };
        let text = |w: &mut Writer<'_>, tag: &[u8], params: &[u8]| {
            if tag.is_empty()
                || tag[0] == b'.'
                || !tag.iter().all(|b| b.is_ascii_graphic())
                || params.iter().any(|b| is_line_breaking(*b))
                || trim(params) != params
            {
                return Err(EncodeError::InvalidArgument);
            }
            w.put(tag)?;
            if !params.is_empty() {
                w.put(b" ")?;
                w.put(params)?;
            }
            Ok(())
        };
        match *self {
            Capability::Top => w.put(b"TOP")?,
            Capability::User => w.put(b"USER")?,
            Capability::Sasl(list) => text(w, b"SASL", list.as_bytes())?,
            Capability::RespCodes => w.put(b"RESP-CODES")?,
            Capability::LoginDelay { seconds, per_user } => {
                w.put(b"LOGIN-DELAY ")?;
                w.put_u64(u64::from(seconds))?;
                user(w, per_user)?;
            }
            Capability::Pipelining => w.put(b"PIPELINING")?,
            Capability::Expire { policy, per_user } => {
                w.put(b"EXPIRE ")?;
                match policy {
                    Expire::Never => w.put(b"NEVER")?,
                    Expire::Days(days) => w.put_u64(u64::from(days))?,
                }
                user(w, per_user)?;
            }
            Capability::Uidl => w.put(b"UIDL")?,
            Capability::Implementation(name) => text(w, b"IMPLEMENTATION", name)?,
            Capability::Stls => w.put(b"STLS")?,
            Capability::Utf8 { user: u } => {
                w.put(b"UTF8")?;
                user(w, u)?;
            }
            Capability::Lang => w.put(b"LANG")?,
            Capability::AuthRespCode => w.put(b"AUTH-RESP-CODE")?,
            Capability::Other { tag, params } => text(w, tag, params)?,
        }
        w.end_line(start, MAX_LISTING_LINE)
    }
}
