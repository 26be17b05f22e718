//! The body codec against the implementation it replaced (a line-by-line scan), kept
//! here verbatim as the reference: for arbitrary bytes split at arbitrary points, and
//! for arbitrary output buffer sizes, both give the same results call for call (bytes
//! consumed, chunks and where they are borrowed from, bytes written) and end in the
//! same internal state (compared through `Debug`). And a message's wire size counted
//! in pieces is that of the whole.

use pop3_proto::codec::body::{wire_size, WireSize};
use pop3_proto::{BareLf, BodyChunk, BodyDecoder, BodyEncoder};
use proptest::prelude::*;

/// The codec before the search for `\r\n.` replaced the line scan.
#[allow(clippy::all)]
mod reference {
    use pop3_proto::{BareLf, BodyChunk};

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
}

/// Bytes biased towards the ones that matter (dots, CR, LF), as single bytes and as
/// runs of text long enough for the SIMD search (16+ bytes) to take over.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => prop_oneof![Just(b'.'), Just(b'\r'), Just(b'\n')].prop_map(|b| vec![b]),
        2 => prop_oneof![
            Just(&b"\r\n."[..]),
            Just(&b"\n."[..]),
            Just(&b"\r\n.\r\n"[..]),
            Just(&b"\n.\n"[..]),
            Just(&b".\r"[..]),
        ]
        .prop_map(<[u8]>::to_vec),
        2 => any::<u8>().prop_map(|b| vec![b]),
        2 => (1usize..80).prop_map(|n| vec![b'x'; n]),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn policy() -> impl Strategy<Value = BareLf> {
    prop_oneof![
        Just(BareLf::Data),
        Just(BareLf::LineEnd),
        Just(BareLf::Auto)
    ]
}

/// A chunk as an owned value, with where its bytes lie in the input (`None` for bytes
/// that are not a piece of it: the CR the decoder holds back).
#[derive(Debug, PartialEq)]
enum Owned {
    Data(Vec<u8>, Option<usize>),
    End,
}

fn owned(input: &[u8], chunk: Option<BodyChunk<'_>>) -> Option<Owned> {
    chunk.map(|chunk| match chunk {
        BodyChunk::Data(d) => {
            let at = (d.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
            Owned::Data(d.to_vec(), (at + d.len() <= input.len()).then_some(at))
        }
        BodyChunk::End => Owned::End,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10000))]

    /// Decoding: the same calls give the same results and states, whatever the
    /// policy and however the input arrives (a caller's buffer: unconsumed bytes
    /// stay, a new piece is appended when a call makes no progress).
    #[test]
    fn decoder_matches_the_line_scan(
        wire in bytes(),
        pieces in prop::collection::vec(1usize..48, 1..8),
        policy in policy(),
    ) {
        let mut new = BodyDecoder::new(policy);
        let mut old = reference::BodyDecoder::new(policy);
        let (mut buf, mut offset, mut piece) = (Vec::new(), 0, pieces.iter().cycle());
        loop {
            let (consumed, chunk) = new.decode(&buf);
            let got = (consumed, owned(&buf, chunk));
            let (consumed, chunk) = old.decode(&buf);
            let want = (consumed, owned(&buf, chunk));
            prop_assert_eq!(&got, &want, "input {:?}", buf);
            prop_assert_eq!(format!("{new:?}"), format!("{old:?}"), "input {:?}", buf);
            prop_assert_eq!(new.is_done(), old.is_done());
            prop_assert_eq!(new.bare_lf(), old.bare_lf());
            if new.is_done() {
                break;
            }
            buf.drain(..got.0);
            if got.0 == 0 && got.1.is_none() {
                if offset == wire.len() {
                    break;
                }
                let end = (offset + *piece.next().unwrap()).min(wire.len());
                buf.extend_from_slice(&wire[offset..end]);
                offset = end;
            }
        }
    }

    /// Decoding over long stretches without a stuffed line (long lines, reads up
    /// to 16 KiB), where the vector searches run (AVX2 on x86_64 with `std`, else
    /// SSE2 or NEON): every dot line, at any offset from a vector boundary, is
    /// found as the line scan finds it. (A first version that handed the search
    /// over after 1,024 bytes failed here on a rest shorter than a vector.)
    #[test]
    fn decoder_matches_the_line_scan_over_long_stretches(
        wire in prop::collection::vec(
            prop_oneof![
                2 => (0usize..3000).prop_map(|n| vec![b'x'; n]),
                1 => (1000usize..1040).prop_map(|n| vec![b'y'; n]),
                2 => prop_oneof![
                    Just(&b"\r\n."[..]),
                    Just(&b"\n."[..]),
                    Just(&b"\r\n"[..]),
                    Just(&b"\n"[..]),
                    Just(&b"\r\n.\r\n"[..]),
                ]
                .prop_map(<[u8]>::to_vec),
            ],
            0..12,
        )
        .prop_map(|pieces| pieces.concat()),
        read in prop_oneof![Just(16 * 1024), 1usize..5000],
        policy in policy(),
    ) {
        let mut new = BodyDecoder::new(policy);
        let mut old = reference::BodyDecoder::new(policy);
        let (mut buf, mut offset) = (Vec::new(), 0);
        loop {
            let (consumed, chunk) = new.decode(&buf);
            let got = (consumed, owned(&buf, chunk));
            let (consumed, chunk) = old.decode(&buf);
            let want = (consumed, owned(&buf, chunk));
            prop_assert_eq!(&got, &want);
            if new.is_done() {
                break;
            }
            buf.drain(..got.0);
            if got.0 == 0 && got.1.is_none() {
                if offset == wire.len() {
                    break;
                }
                let end = (offset + read).min(wire.len());
                buf.extend_from_slice(&wire[offset..end]);
                offset = end;
            }
        }
    }

    /// Encoding: the same calls with the same output room give the same bytes
    /// consumed and written, the same output and the same ending.
    #[test]
    fn encoder_matches_the_line_scan(
        raw in bytes(),
        pieces in prop::collection::vec(prop_oneof![1usize..200, 200usize..900], 1..8),
        rooms in prop::collection::vec(
            prop_oneof![0usize..8, 8usize..64, 64usize..400, 400usize..1800],
            1..8,
        ),
    ) {
        let mut new = BodyEncoder::new();
        let mut old = reference::BodyEncoder::new();
        let (mut offset, mut piece, mut room) = (0, pieces.iter().cycle(), rooms.iter().cycle());
        let (mut out_new, mut out_old) = ([0u8; 1800], [0u8; 1800]);
        let mut stalled = 0;
        while offset < raw.len() && stalled < 3 {
            let input = &raw[offset..(offset + *piece.next().unwrap()).min(raw.len())];
            let room = *room.next().unwrap();
            let got = new.encode(input, &mut out_new[..room]);
            let want = old.encode(input, &mut out_old[..room]);
            prop_assert_eq!(got, want, "input {:?} room {}", input, room);
            prop_assert_eq!(&out_new[..got.1], &out_old[..want.1]);
            prop_assert_eq!(format!("{new:?}"), format!("{old:?}"));
            offset += got.0;
            stalled = if got.0 == 0 { stalled + 1 } else { 0 };
        }
        prop_assert_eq!(new.finish_len(), old.finish_len());
        let n = new.finish(&mut out_new).unwrap();
        let m = old.finish(&mut out_old).unwrap();
        prop_assert_eq!(&out_new[..n], &out_old[..m]);
    }

    /// Sizing: a message's wire size counted in pieces is its size counted whole, and
    /// both are its length with every bare LF made CRLF and the line end it lacks.
    #[test]
    fn wire_size_in_pieces_is_the_size_of_the_whole(
        raw in bytes(),
        pieces in prop::collection::vec(1usize..100, 1..8),
    ) {
        let whole = wire_size(&raw);
        let mut counted = WireSize::new();
        let (mut offset, mut piece) = (0, pieces.iter().cycle());
        while offset < raw.len() {
            let end = (offset + *piece.next().unwrap()).min(raw.len());
            // An empty piece changes nothing.
            counted.add(&[]);
            counted.add(&raw[offset..end]);
            offset = end;
        }
        prop_assert_eq!(counted.total(), whole);
        let mut crlf = 0u64;
        for (i, &b) in raw.iter().enumerate() {
            crlf += 1 + u64::from(b == b'\n' && (i == 0 || raw[i - 1] != b'\r'));
        }
        let end = match raw.last() {
            None | Some(b'\n') => 0,
            Some(b'\r') => 1,
            Some(_) => 2,
        };
        prop_assert_eq!(whole, crlf + end);
    }
}
