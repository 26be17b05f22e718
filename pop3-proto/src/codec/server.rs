//! The server side of the wire: decoding what a client sends.

use crate::codec::{find_line, Decoded, LineSearch};
use crate::command::{Command, CommandError, SaslResponse};
use crate::limits::{DEFAULT_MAX_SASL_LINE, MAX_COMMAND_LINE};

/// One line from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientLine<'a> {
    /// A command.
    Command(Command<'a>),
    /// A line inside an AUTH exchange.
    Sasl(SaslResponse<'a>),
}

/// Streaming decoder of client lines, for a server.
///
/// Lines end in CRLF; a bare LF is accepted too (people type commands with telnet
/// and netcat). A line over its limit is reported once as
/// [`CommandError::LineTooLong`] and discarded up to its end, without buffering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandDecoder {
    sasl: bool,
    discarding: bool,
    max_sasl_line: usize,
    /// The caller's receive buffer size: a line that cannot fit it is too long,
    /// whatever the protocol limit.
    capacity: usize,
}

impl Default for CommandDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandDecoder {
    /// A decoder of commands with the RFC 2449 limit of 255 octets.
    pub fn new() -> Self {
        CommandDecoder {
            sasl: false,
            discarding: false,
            max_sasl_line: DEFAULT_MAX_SASL_LINE,
            capacity: usize::MAX,
        }
    }

    /// Caps every line limit at `capacity`, the size of the caller's receive buffer:
    /// a line that fills the buffer without ending is then
    /// [`CommandError::LineTooLong`] instead of a wait for input that cannot come.
    pub fn with_input_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Sets the longest SASL response line accepted, terminator included.
    pub fn with_max_sasl_line(mut self, limit: usize) -> Self {
        self.max_sasl_line = limit;
        self
    }

    /// Switches between commands and SASL responses: the server turns this on after
    /// sending a `+ ` challenge and off when the exchange ends.
    pub fn set_sasl(&mut self, sasl: bool) {
        self.sasl = sasl;
    }

    /// Decodes the next line from `input`, the received bytes not yet consumed.
    ///
    /// No item means more input is needed. An item of `Err` is a line the server must
    /// answer with `-ERR`; decoding can go on with the rest of the input.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Decoded<Result<ClientLine<'a>, CommandError>> {
        if self.discarding {
            return match memchr::memchr(b'\n', input) {
                Some(lf) => {
                    self.discarding = false;
                    Decoded {
                        consumed: lf + 1,
                        item: None,
                    }
                }
                None => Decoded {
                    consumed: input.len(),
                    item: None,
                },
            };
        }
        let limit = if self.sasl {
            self.max_sasl_line
        } else {
            MAX_COMMAND_LINE
        }
        .min(self.capacity);
        match find_line(input, limit) {
            LineSearch::Found { len, next } => {
                let line = &input[..len];
                let item = if self.sasl {
                    Ok(ClientLine::Sasl(SaslResponse::parse(line)))
                } else {
                    Command::parse(line).map(ClientLine::Command)
                };
                Decoded {
                    consumed: next,
                    item: Some(item),
                }
            }
            LineSearch::Incomplete => Decoded::need_more(),
            LineSearch::TooLong => {
                // Drop the line up to its end if it is here, else all we have and the
                // rest of it as it arrives.
                let consumed = match memchr::memchr(b'\n', &input[limit..]) {
                    Some(lf) => limit + lf + 1,
                    None => {
                        self.discarding = true;
                        input.len()
                    }
                };
                Decoded {
                    consumed,
                    item: Some(Err(CommandError::LineTooLong)),
                }
            }
        }
    }
}
