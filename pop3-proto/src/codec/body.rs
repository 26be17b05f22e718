//! Dot-unstuffing and dot-stuffing of multi-line bodies (RFC 1939 §3), streaming.
//!
//! [`BodyDecoder`] turns the bytes after a `+OK` line into the message bytes, one
//! borrowed chunk at a time, and finds the `CRLF.CRLF` terminator across any split of
//! the input. It keeps five states and no buffer. [`BodyEncoder`] does the reverse for
//! a server, into a caller's output buffer.

/// What a bare LF (one without CR before it) means inside a body.
///
/// Whatever the policy, the bytes themselves are passed on unchanged: the policy only
/// decides where lines start, hence where a stuffing dot or the terminator may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BareLf {
    /// RFC 1939: only CRLF ends a line; a bare LF is ordinary data, and only
    /// `CRLF.CRLF` ends the body.
    Data,
    /// Lenient: a bare LF also ends a line, so `LF.LF` / `LF.CRLF` end the body and a
    /// dot after a bare LF is unstuffed. For servers that send LF-only messages.
    LineEnd,
    /// Learn it from the server, reply by reply: the first line end of the reply
    /// decides. A [`ResponseDecoder`](crate::ResponseDecoder) looks at the status
    /// line before the body: `+OK` ended by a bare LF means an LF-only server
    /// ([`LineEnd`](Self::LineEnd) for this body), by CRLF an RFC 1939 one
    /// ([`Data`](Self::Data)). A [`BodyDecoder`] used on its own looks at the first
    /// line end of the body. So CRLF servers keep strict framing and LF-only servers
    /// work. The default.
    #[default]
    Auto,
}

/// One piece of a decoded body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyChunk<'a> {
    /// Message bytes, already unstuffed, borrowed from the input.
    Data(&'a [u8]),
    /// The terminating `.` line was seen; the body is complete.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line.
    LineStart,
    /// Inside a line.
    Mid,
    /// Inside a line, just after a CR.
    MidCr,
    /// A line started with `.`, which was dropped.
    Dot,
    /// A line started with `.` then CR: the end if LF follows.
    DotCr,
    /// The terminator was seen.
    Done,
}

/// Streaming decoder of a dot-stuffed multi-line body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDecoder {
    state: State,
    bare_lf: BareLf,
}

impl Default for BodyDecoder {
    fn default() -> Self {
        Self::new(BareLf::default())
    }
}

impl BodyDecoder {
    /// A decoder positioned at the start of the body (just after the `+OK` line).
    pub fn new(bare_lf: BareLf) -> Self {
        BodyDecoder {
            state: State::LineStart,
            bare_lf,
        }
    }

    /// True once the terminator has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The policy in force: [`BareLf::Auto`] until the first line end was seen.
    pub fn bare_lf(&self) -> BareLf {
        self.bare_lf
    }

    /// Whether an LF (after a CR if `crlf`) ends a line; the first LF settles
    /// [`BareLf::Auto`].
    fn ends_line(&mut self, crlf: bool) -> bool {
        match self.bare_lf {
            BareLf::Data => crlf,
            BareLf::LineEnd => true,
            BareLf::Auto => {
                self.bare_lf = if crlf { BareLf::Data } else { BareLf::LineEnd };
                true
            }
        }
    }

    /// Decodes the next chunk from `input`.
    ///
    /// Returns the bytes consumed and, if any, a chunk: message data borrowed from
    /// `input` (or a static `"\r"` held back from the previous call), or
    /// [`BodyChunk::End`], after which the rest of `input` belongs to the next reply.
    /// Data runs as far as possible: a chunk ends only at a stuffed dot or at the end
    /// of `input`. Call again with the unconsumed rest until it is empty.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> (usize, Option<BodyChunk<'a>>) {
        let mut i = 0;
        // Settle the states that drop or hold bytes at the start.
        loop {
            let Some(&b) = input.get(i) else {
                return (i, None);
            };
            let state = self.state;
            match state {
                State::Done => return (0, None),
                State::LineStart if b == b'.' => {
                    i += 1;
                    self.state = State::Dot;
                }
                State::Dot if b == b'\r' => {
                    i += 1;
                    self.state = State::DotCr;
                }
                State::Dot | State::DotCr
                    if b == b'\n' && self.ends_line(state == State::DotCr) =>
                {
                    self.state = State::Done;
                    return (i + 1, Some(BodyChunk::End));
                }
                State::DotCr => {
                    // `.` CR then something else: the CR was data (the dot was stuffing).
                    self.state = State::MidCr;
                    return (i, Some(BodyChunk::Data(b"\r")));
                }
                State::LineStart | State::Dot => {
                    self.state = State::Mid;
                    break;
                }
                State::Mid | State::MidCr => break,
            }
        }
        let start = i;
        let mut prev_cr = self.state == State::MidCr;
        loop {
            let Some(offset) = memchr::memchr(b'\n', &input[i..]) else {
                self.state = if input.last() == Some(&b'\r') {
                    State::MidCr
                } else {
                    State::Mid
                };
                return (input.len(), Some(BodyChunk::Data(&input[start..])));
            };
            let lf = i + offset;
            let crlf = if lf > i {
                input[lf - 1] == b'\r'
            } else {
                prev_cr
            };
            let line_end = self.ends_line(crlf);
            i = lf + 1;
            prev_cr = false;
            if line_end {
                match input.get(i) {
                    None => {
                        self.state = State::LineStart;
                        return (i, Some(BodyChunk::Data(&input[start..i])));
                    }
                    Some(b'.') => {
                        self.state = State::Dot;
                        return (i + 1, Some(BodyChunk::Data(&input[start..i])));
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// Streaming dot-stuffer for a server sending a message body.
///
/// Line ends are normalised to CRLF (a bare LF, as in Maildir files, becomes CRLF),
/// a `.` starting a line is doubled, and [`finish`](Self::finish) adds the CRLF a
/// message without a final line end needs, then `.` CRLF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyEncoder {
    line_start: bool,
    prev_cr: bool,
}

impl Default for BodyEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyEncoder {
    /// An encoder at the start of a message.
    pub fn new() -> Self {
        BodyEncoder {
            line_start: true,
            prev_cr: false,
        }
    }

    /// Encodes as much of `input` as fits into `out`; returns `(consumed, written)`.
    /// Call again with the rest of the input once `out` has been sent.
    pub fn encode(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let (mut i, mut o) = (0, 0);
        while i < input.len() {
            if self.line_start && input[i] == b'.' {
                let Some(dst) = out.get_mut(o..o + 2) else {
                    break;
                };
                dst.copy_from_slice(b"..");
                o += 2;
                i += 1;
                self.line_start = false;
                continue;
            }
            let run_end = memchr::memchr(b'\n', &input[i..]).map_or(input.len(), |off| i + off);
            let n = (run_end - i).min(out.len() - o);
            if n > 0 {
                out[o..o + n].copy_from_slice(&input[i..i + n]);
                self.prev_cr = input[i + n - 1] == b'\r';
                self.line_start = false;
                i += n;
                o += n;
            }
            if i < run_end || run_end == input.len() {
                break;
            }
            // At an LF: make sure it is preceded by CR.
            let end: &[u8] = if self.prev_cr { b"\n" } else { b"\r\n" };
            let Some(dst) = out.get_mut(o..o + end.len()) else {
                break;
            };
            dst.copy_from_slice(end);
            o += end.len();
            i += 1;
            self.line_start = true;
            self.prev_cr = false;
        }
        (i, o)
    }

    /// Bytes [`finish`](Self::finish) will write: the missing line end, if any, and `.` CRLF.
    pub fn finish_len(&self) -> usize {
        match (self.line_start, self.prev_cr) {
            (true, _) => 3,
            (false, true) => 4,
            (false, false) => 5,
        }
    }

    /// Writes the end of the body into `out` and returns its length; `out` must hold
    /// [`finish_len`](Self::finish_len) bytes (5 always suffice). Returns `None` if it
    /// does not, having written nothing.
    pub fn finish(&mut self, out: &mut [u8]) -> Option<usize> {
        let tail: &[u8] = match (self.line_start, self.prev_cr) {
            (true, _) => b".\r\n",
            (false, true) => b"\n.\r\n",
            (false, false) => b"\r\n.\r\n",
        };
        out.get_mut(..tail.len())?.copy_from_slice(tail);
        *self = BodyEncoder::new();
        Some(tail.len())
    }
}

/// The size a message has on the wire once line ends are CRLF (what `LIST` must
/// report): stuffing excluded, the line end [`BodyEncoder::finish`] adds included.
pub fn wire_size(message: &[u8]) -> u64 {
    let mut size = message.len() as u64;
    for lf in memchr::memchr_iter(b'\n', message) {
        if lf == 0 || message[lf - 1] != b'\r' {
            size += 1;
        }
    }
    match message.last() {
        None | Some(b'\n') => {}
        Some(b'\r') => size += 1,
        Some(_) => size += 2,
    }
    size
}
