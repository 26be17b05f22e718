//! The client side of the wire: decoding what a server sends.

use crate::codec::body::{BareLf, BodyChunk, BodyDecoder};
use crate::codec::{find_line, DecodeError, Decoded, LineSearch};
#[doc(inline)]
pub use crate::command::Expect;
use crate::limits::{DEFAULT_MAX_SASL_LINE, MAX_LISTING_LINE, MAX_STATUS_LINE};
use crate::response::status::{Status, StatusLine};

/// One thing the server said. `Debug` prints bytes as escaped text.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseEvent<'a> {
    /// A status line. After `+OK` to a [`Listing`](Expect::Listing) or
    /// [`Body`](Expect::Body), lines or data follow until [`End`](Self::End).
    Status(StatusLine<'a>),
    /// A SASL challenge: the base64 text after `+ ` (possibly empty).
    Challenge(&'a [u8]),
    /// One line of a listing, unstuffed, without its line end.
    Line(&'a [u8]),
    /// Body bytes, unstuffed, line ends included.
    Data(&'a [u8]),
    /// The end of a multi-line reply.
    End,
}

impl core::fmt::Debug for ResponseEvent<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::Bytes;
        match self {
            ResponseEvent::Status(s) => f.debug_tuple("Status").field(s).finish(),
            ResponseEvent::Challenge(c) => f.debug_tuple("Challenge").field(&Bytes(c)).finish(),
            ResponseEvent::Line(l) => f.debug_tuple("Line").field(&Bytes(l)).finish(),
            ResponseEvent::Data(d) => f.debug_tuple("Data").field(&Bytes(d)).finish(),
            ResponseEvent::End => f.write_str("End"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Head(Expect),
    Listing,
    Body(BodyDecoder),
    Failed,
}

/// Streaming decoder of server replies, for a client.
///
/// Tell it what to expect before each reply with [`expect`](Self::expect) (commands
/// know: [`Command::expect`](crate::Command::expect)), then feed it the received bytes
/// with [`decode`](Self::decode). With pipelining, call `expect` for the next reply
/// after the previous one ended ([`is_idle`](Self::is_idle)); the bytes that follow the
/// end of a reply are left unconsumed for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseDecoder {
    state: State,
    bare_lf: BareLf,
    max_sasl_line: usize,
}

impl Default for ResponseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseDecoder {
    /// A decoder expecting nothing yet, with [`BareLf::Auto`] (each body framed as its
    /// status line ended: CRLF as RFC 1939 says, a bare LF for LF-only servers) and
    /// the default SASL line limit.
    pub fn new() -> Self {
        ResponseDecoder {
            state: State::Idle,
            bare_lf: BareLf::Auto,
            max_sasl_line: DEFAULT_MAX_SASL_LINE,
        }
    }

    /// Chooses what a bare LF means inside bodies (see [`BareLf`]; with
    /// [`BareLf::Auto`] the `+OK` line before each body decides).
    pub fn with_bare_lf(mut self, policy: BareLf) -> Self {
        self.bare_lf = policy;
        self
    }

    /// Sets the longest SASL challenge line accepted, terminator included.
    pub fn with_max_sasl_line(mut self, limit: usize) -> Self {
        self.max_sasl_line = limit;
        self
    }

    /// True when the previous reply is complete (or none was expected yet).
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    /// Announces the shape of the next reply. Returns `false` (and changes nothing) if
    /// the current reply is not complete yet or the decoder has failed.
    pub fn expect(&mut self, expect: Expect) -> bool {
        if self.state != State::Idle {
            return false;
        }
        self.state = State::Head(expect);
        true
    }

    /// Decodes the next event from `input`, the received bytes not yet consumed.
    ///
    /// `Ok` with no item means more input is needed (`consumed` is then 0 unless body
    /// bytes were dropped). Lines must arrive whole within their limit: 512 octets for
    /// status and listing lines, the SASL limit for challenges. Message bodies have no
    /// line limit at all.
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Decoded<ResponseEvent<'a>>, DecodeError> {
        let result = self.step(input);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    fn step<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<ResponseEvent<'a>>, DecodeError> {
        match self.state {
            State::Failed => Err(DecodeError::Failed),
            State::Idle if input.is_empty() => Ok(Decoded::need_more()),
            State::Idle => Err(DecodeError::Unsolicited),
            State::Head(expect) => {
                let limit = match expect {
                    Expect::Sasl => self.max_sasl_line.max(MAX_STATUS_LINE),
                    _ => MAX_STATUS_LINE,
                };
                let (len, next) = match find_line(input, limit) {
                    LineSearch::Found { len, next } => (len, next),
                    LineSearch::Incomplete => return Ok(Decoded::need_more()),
                    LineSearch::TooLong => return Err(DecodeError::LineTooLong { limit }),
                };
                let line = &input[..len];
                let event = match StatusLine::parse(line) {
                    Some(status) => {
                        if status.status == Status::Err
                            && matches!(expect, Expect::Listing | Expect::Body)
                        {
                            // -ERR to a multi-line command has no body.
                            self.state = State::Idle;
                        } else if next > MAX_STATUS_LINE && expect == Expect::Sasl {
                            return Err(DecodeError::LineTooLong {
                                limit: MAX_STATUS_LINE,
                            });
                        } else {
                            self.state = match expect {
                                Expect::Status | Expect::Sasl => State::Idle,
                                Expect::Listing => State::Listing,
                                Expect::Body => {
                                    // Auto: a status line ended by a bare LF comes from
                                    // an LF-only server, and so does the body after it.
                                    let policy = match self.bare_lf {
                                        BareLf::Auto if next == len + 1 => BareLf::LineEnd,
                                        BareLf::Auto => BareLf::Data,
                                        policy => policy,
                                    };
                                    State::Body(BodyDecoder::new(policy))
                                }
                            };
                        }
                        ResponseEvent::Status(status)
                    }
                    None if expect == Expect::Sasl && line.first() == Some(&b'+') => {
                        let challenge = match &line[1..] {
                            [b' ', rest @ ..] => rest,
                            rest => rest,
                        };
                        self.state = State::Idle;
                        ResponseEvent::Challenge(challenge)
                    }
                    None => return Err(DecodeError::MalformedStatus),
                };
                Ok(Decoded {
                    consumed: next,
                    item: Some(event),
                })
            }
            State::Listing => match find_line(input, MAX_LISTING_LINE) {
                LineSearch::Found { len, next } => {
                    let line = &input[..len];
                    let item = match line {
                        b"." => {
                            self.state = State::Idle;
                            ResponseEvent::End
                        }
                        [b'.', rest @ ..] => ResponseEvent::Line(rest),
                        _ => ResponseEvent::Line(line),
                    };
                    Ok(Decoded {
                        consumed: next,
                        item: Some(item),
                    })
                }
                LineSearch::Incomplete => Ok(Decoded::need_more()),
                LineSearch::TooLong => Err(DecodeError::LineTooLong {
                    limit: MAX_LISTING_LINE,
                }),
            },
            State::Body(mut body) => {
                let (consumed, chunk) = body.decode(input);
                self.state = if body.is_done() {
                    State::Idle
                } else {
                    State::Body(body)
                };
                Ok(Decoded {
                    consumed,
                    item: chunk.map(|c| match c {
                        BodyChunk::Data(d) => ResponseEvent::Data(d),
                        BodyChunk::End => ResponseEvent::End,
                    }),
                })
            }
        }
    }
}
