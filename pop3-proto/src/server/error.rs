//! [`ServerError`]: misuse of the server API by the application.

use core::fmt;

/// Misuse of the server API by the application (never caused by the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerError {
    /// An `answer_*` method was called that does not match the pending event.
    Unexpected,
    /// `handle_input` was called while an event is still unanswered.
    AnswerPending,
    /// The unique-id given is not 1–70 octets of 0x21–0x7E.
    InvalidUid,
    /// The maildrop storage ([`Marks`]) cannot hold that many messages.
    ///
    /// [`Marks`]: crate::server::Marks
    TooManyMessages,
    /// The transmit buffer cannot hold even the `+OK` line of a message (21 octets)
    /// when empty: give the driver a larger one.
    BufferTooSmall,
    /// The driver's receive or transmit buffer is smaller than the role needs
    /// ([`MIN_SERVER_RECEIVE`](crate::driver::MIN_SERVER_RECEIVE),
    /// [`MIN_SERVER_TRANSMIT`](crate::driver::MIN_SERVER_TRANSMIT)).
    BuffersTooSmall,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerError::Unexpected => "answer does not match the pending event",
            ServerError::AnswerPending => "an event is still unanswered",
            ServerError::InvalidUid => "invalid unique-id",
            ServerError::TooManyMessages => "maildrop larger than the deletion-mark storage",
            ServerError::BufferTooSmall => "transmit buffer too small for a reply line",
            ServerError::BuffersTooSmall => "driver buffers smaller than a protocol line",
        })
    }
}

impl core::error::Error for ServerError {}
