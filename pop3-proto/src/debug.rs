//! `Debug` helpers: byte strings print as escaped text (`b"000001"`), secrets as
//! `<redacted>` with their length, so that a logged event leaks nothing.

use core::fmt;

/// Prints bytes as a Rust byte string literal: `b"+OK \x80"`.
pub(crate) struct Bytes<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b\"")?;
        for &b in self.0 {
            for c in core::ascii::escape_default(b) {
                fmt::Write::write_char(f, char::from(c))?;
            }
        }
        f.write_str("\"")
    }
}

/// Prints a secret as `<redacted N bytes>`.
pub(crate) struct Redacted(pub(crate) usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0)
    }
}

/// [`Bytes`] of an optional byte string.
pub(crate) fn opt(bytes: Option<&[u8]>) -> Option<Bytes<'_>> {
    bytes.map(Bytes)
}
