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

impl<'a> ResponseCode<'a> {
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
        if !is_resp_levels(raw.as_bytes()) {
            return Err(EncodeError::InvalidArgument);
        }
        w.put(b"[")?;
        w.put(raw.as_bytes())?;
        w.put(b"]")
    }
}

/// `rchar = %x21-2E / %x30-5C / %x5E-7E` (RFC 2449 §9: any VCHAR but `/` and
/// `]`), the octets of a response code's levels. The grammar reads codes with it.
pub(crate) fn is_rchar(b: u8) -> bool {
    matches!(b, 0x21..=0x2e | 0x30..=0x5c | 0x5e..=0x7e)
}

/// True when `raw` is `resp-level *("/" resp-level)`, `resp-level = 1*rchar`
/// (RFC 2449 §9): what [`ResponseCode::encode`] may write between the brackets.
fn is_resp_levels(raw: &[u8]) -> bool {
    raw.split(|b| *b == b'/')
        .all(|level| !level.is_empty() && level.iter().all(|b| is_rchar(*b)))
}
