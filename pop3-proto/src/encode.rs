//! Writing into caller-provided buffers.

use core::fmt;

/// Why a value could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The output buffer is too small; nothing useful was written.
    BufferTooSmall,
    /// The encoded line would be longer than the protocol allows (`limit` octets, CRLF included).
    LineTooLong {
        /// The protocol limit that was exceeded.
        limit: usize,
    },
    /// An argument is empty, or contains CR, LF, NUL or another byte its field forbids
    /// (refused so that no caller-supplied string can inject a second command).
    InvalidArgument,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall => f.write_str("output buffer too small"),
            EncodeError::LineTooLong { limit } => {
                write!(f, "line longer than the protocol limit of {limit} octets")
            }
            EncodeError::InvalidArgument => f.write_str("invalid argument"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// A cursor over a caller's output buffer.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.pos
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(EncodeError::BufferTooSmall)?;
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(EncodeError::BufferTooSmall)?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Writes `n` in decimal with 32-bit arithmetic (on 32-bit targets a 64-bit
    /// division is a library routine of about 900 bytes that the client never needs).
    pub(crate) fn put_u32(&mut self, mut n: u32) -> Result<(), EncodeError> {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&digits[i..])
    }

    pub(crate) fn put_u64(&mut self, mut n: u64) -> Result<(), EncodeError> {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&digits[i..])
    }

    /// Ends a line with CRLF and checks it against `limit` (CRLF included), counted
    /// from `line_start`.
    pub(crate) fn end_line(&mut self, line_start: usize, limit: usize) -> Result<(), EncodeError> {
        self.put(b"\r\n")?;
        if self.pos - line_start > limit {
            return Err(EncodeError::LineTooLong { limit });
        }
        Ok(())
    }
}

/// True for bytes that may never appear inside a protocol argument or text:
/// CR, LF and NUL (line and string injection).
pub(crate) fn is_line_breaking(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | 0)
}
