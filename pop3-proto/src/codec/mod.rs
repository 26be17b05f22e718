//! Streaming framing: turning arbitrary chunks of received bytes into lines, replies,
//! commands and body data, without buffering more than one line.
//!
//! The decoders never own the received bytes. The caller keeps them in its own buffer
//! (of any size at least as large as the longest line it wants to accept), calls
//! `decode` on the unprocessed part, and drops the `consumed` prefix afterwards. An
//! event borrows from the caller's buffer, so message bodies are never copied.

pub mod body;
pub mod client;
pub mod server;

use core::fmt;

/// The result of one `decode` call: how many input bytes were used, and the item they
/// produced (`None` when more input is needed before anything can be produced).
///
/// `consumed` may be non-zero with no item (e.g. a stuffing dot that ended the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<T> {
    /// Bytes of the input that were used and must not be passed again.
    pub consumed: usize,
    /// What they produced, if anything.
    pub item: Option<T>,
}

impl<T> Decoded<T> {
    pub(crate) fn need_more() -> Self {
        Decoded {
            consumed: 0,
            item: None,
        }
    }
}

/// Why the bytes from a server could not be decoded. Errors are fatal for the
/// connection: framing is lost, so the decoder refuses further input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// A line exceeded its limit (`limit` octets, terminator included) without a line end.
    LineTooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A line that must be a status line (`+OK`/`-ERR`) is not one.
    MalformedStatus,
    /// Bytes arrived while no reply was expected.
    Unsolicited,
    /// `decode` was called after an earlier error.
    Failed,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::LineTooLong { limit } => {
                write!(f, "line longer than {limit} octets")
            }
            DecodeError::MalformedStatus => f.write_str("reply is not +OK or -ERR"),
            DecodeError::Unsolicited => {
                f.write_str("data from the server when no reply was expected")
            }
            DecodeError::Failed => f.write_str("decoder used after a fatal error"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Where the next line ends in `input`.
pub(crate) enum LineSearch {
    /// A line of `len` bytes (terminator excluded, a CR before the LF dropped) whose
    /// terminator ends at `next`.
    Found { len: usize, next: usize },
    /// No line end yet, and fewer than `limit` bytes: wait for more.
    Incomplete,
    /// No line end within `limit` bytes.
    TooLong,
}

/// Finds a line ending in LF (with or without CR) within `limit` bytes (terminator included).
pub(crate) fn find_line(input: &[u8], limit: usize) -> LineSearch {
    let window = &input[..input.len().min(limit)];
    match memchr::memchr(b'\n', window) {
        Some(lf) => {
            let len = if lf > 0 && input[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            LineSearch::Found { len, next: lf + 1 }
        }
        None if input.len() >= limit => LineSearch::TooLong,
        None => LineSearch::Incomplete,
    }
}
