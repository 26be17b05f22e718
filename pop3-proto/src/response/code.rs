//! Extended response codes (RFC 2449 §8, RFC 3206, RFC 6856): the `[...]` that may
//! start the text of a status line.

use crate::encode::{EncodeError, Writer};

/// A response code. Known codes are matched case-insensitively on their leading
/// levels and deeper unknown levels are ignored, as RFC 2449 requires
/// (`[SYS/TEMP/X]` is [`ResponseCode::SysTemp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseCode<'a> {
    /// `[IN-USE]`: credentials were fine but the maildrop is locked by another session.
    InUse,
    /// `[LOGIN-DELAY]`: logged in again too soon after the last login.
    LoginDelay,
    /// `[SYS/TEMP]`: a temporary system problem; retry later without asking for a password.
    SysTemp,
    /// `[SYS/PERM]`: a permanent system problem; retrying will not help.
    SysPerm,
    /// `[AUTH]`: the credentials are wrong (RFC 3206).
    Auth,
    /// `[UTF8]`: the command needs UTF-8 mode (RFC 6856).
    Utf8,
    /// Any other code, as the text between the brackets.
    Other(&'a str),
}

/// `rchar` of RFC 2449: any VCHAR but `/` and `]`.
fn is_rchar(b: u8) -> bool {
    matches!(b, 0x21..=0x2e | 0x30..=0x5c | 0x5e..=0x7e)
}

impl<'a> ResponseCode<'a> {
    /// Parses a response code at the start of `text`; returns it and the text after it
    /// (one following space dropped). Text that does not start with a well-formed code
    /// gives `None`, and the caller keeps the whole text.
    pub fn parse_prefix(text: &'a [u8]) -> Option<(ResponseCode<'a>, &'a [u8])> {
        let inner_and_rest = text.strip_prefix(b"[")?;
        let close = inner_and_rest.iter().position(|b| *b == b']')?;
        let inner = &inner_and_rest[..close];
        let mut rest = &inner_and_rest[close + 1..];
        if inner
            .split(|b| *b == b'/')
            .any(|level| level.is_empty() || !level.iter().all(|b| is_rchar(*b)))
        {
            return None;
        }
        if let [b' ', tail @ ..] = rest {
            rest = tail;
        }
        let raw = core::str::from_utf8(inner).ok()?;
        Some((Self::from_levels(raw), rest))
    }

    fn from_levels(raw: &'a str) -> ResponseCode<'a> {
        let mut levels = raw.split('/');
        let first = levels.next().unwrap_or("");
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if is(first, "IN-USE") {
            ResponseCode::InUse
        } else if is(first, "LOGIN-DELAY") {
            ResponseCode::LoginDelay
        } else if is(first, "AUTH") {
            ResponseCode::Auth
        } else if is(first, "UTF8") {
            ResponseCode::Utf8
        } else if is(first, "SYS") {
            match levels.next() {
                Some(l) if is(l, "TEMP") => ResponseCode::SysTemp,
                Some(l) if is(l, "PERM") => ResponseCode::SysPerm,
                _ => ResponseCode::Other(raw),
            }
        } else {
            ResponseCode::Other(raw)
        }
    }

    /// The code's text between the brackets, e.g. `SYS/TEMP`.
    pub fn as_str(&self) -> &'a str {
        match self {
            ResponseCode::InUse => "IN-USE",
            ResponseCode::LoginDelay => "LOGIN-DELAY",
            ResponseCode::SysTemp => "SYS/TEMP",
            ResponseCode::SysPerm => "SYS/PERM",
            ResponseCode::Auth => "AUTH",
            ResponseCode::Utf8 => "UTF8",
            ResponseCode::Other(raw) => raw,
        }
    }

    /// Writes `[CODE]`. An [`Other`](ResponseCode::Other) code must be well-formed
    /// levels of `rchar`s.
    pub(crate) fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let raw = self.as_str();
        if raw
            .as_bytes()
            .split(|b| *b == b'/')
            .any(|level| level.is_empty() || !level.iter().all(|b| is_rchar(*b)))
        {
            return Err(EncodeError::InvalidArgument);
        }
        w.put(b"[")?;
        w.put(raw.as_bytes())?;
        w.put(b"]")
    }
}
