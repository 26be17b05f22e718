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
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyChunk<'a> {
    /// Message bytes, already unstuffed, borrowed from the input.
    Data(&'a [u8]),
    /// The terminating `.` line was seen; the body is complete.
    End,
}

// `Debug` prints the data as escaped text (`Data(b"line\r\n")`).
impl core::fmt::Debug for BodyChunk<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BodyChunk::Data(d) => f
                .debug_tuple("Data")
                .field(&crate::debug::Bytes(d))
                .finish(),
            BodyChunk::End => f.write_str("End"),
        }
    }
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
    // Inlined where the vector search is (x86_64, aarch64): a chunk per stuffed line
    // makes the call itself a cost at short lines. Not on the firmware's targets,
    // where it would be a second copy.
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), inline)]
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> (usize, Option<BodyChunk<'a>>) {
        // The usual entries, straight to the search: inside a line (the previous
        // input ended there), or after a stuffed dot with data after it (a line
        // end there would need the general path), the policy settled. Where the
        // search is a vector one: elsewhere the general path alone, in less code.
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if self.bare_lf != BareLf::Auto {
            match (self.state, input.first()) {
                (State::Mid, Some(_)) => return self.data_until_dot(input, 0, 0),
                (State::Dot, Some(&b)) if b != b'\r' && b != b'\n' => {
                    self.state = State::Mid;
                    return self.data_until_dot(input, 0, 0);
                }
                _ => {}
            }
        }
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
        let prev_cr = self.state == State::MidCr;
        // Where the search for a line end followed by a dot begins. Two LFs need a
        // look of their own first: under `Auto` the first one, which settles the
        // policy; under `Data` one right after a CR held from the previous input,
        // which the search below cannot see as CRLF.
        let mut from = start;
        let first_lf = match self.bare_lf {
            BareLf::Auto => memchr::memchr(b'\n', &input[start..]).map(|at| start + at),
            BareLf::Data if prev_cr && input[start] == b'\n' => Some(start),
            _ => None,
        };
        if let Some(lf) = first_lf {
            let crlf = if lf > start {
                input[lf - 1] == b'\r'
            } else {
                prev_cr
            };
            from = lf + 1;
            if self.ends_line(crlf) {
                match input.get(from) {
                    None => {
                        self.state = State::LineStart;
                        return (from, Some(BodyChunk::Data(&input[start..from])));
                    }
                    Some(b'.') => {
                        self.state = State::Dot;
                        return (from + 1, Some(BodyChunk::Data(&input[start..from])));
                    }
                    Some(_) => {}
                }
            }
        }
        self.data_until_dot(input, start, from)
    }

    /// The data from `start` in `input` up to the next stuffed dot (searched from
    /// `from`) or the end; the state inside a line (`Mid` or `MidCr`).
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), inline(always))]
    fn data_until_dot<'a>(
        &mut self,
        input: &'a [u8],
        start: usize,
        from: usize,
    ) -> (usize, Option<BodyChunk<'a>>) {
        // Only a line end followed by `.` matters: search for that, not line ends.
        let dot = match self.bare_lf {
            BareLf::Data => find_dot_line::<true>(&input[from..]).map(|at| from + at + 2),
            BareLf::LineEnd => find_dot_line::<false>(&input[from..]).map(|at| from + at + 1),
            // Still undecided: the input has no LF at all.
            BareLf::Auto => None,
        };
        if let Some(dot) = dot {
            self.state = State::Dot;
            return (dot + 1, Some(BodyChunk::Data(&input[start..dot])));
        }
        let data = &input[start..];
        // (A CRLF split after a held CR was settled above; under `Auto`, `data` has
        // no LF.)
        self.state = match (self.bare_lf, data) {
            (BareLf::Data, [.., b'\r', b'\n']) | (BareLf::LineEnd, [.., b'\n']) => State::LineStart,
            (_, [.., b'\r']) => State::MidCr,
            _ => State::Mid,
        };
        (input.len(), Some(BodyChunk::Data(data)))
    }
}

/// The first line end then `.` in `haystack`: `\r\n.` if `CRLF`, else `\n.`.
///
/// The decoder's hot path. memchr's SIMD "packed pair" searcher looks for the line
/// end's first byte and the dot together, so plain line ends cost nothing. With
/// `std` on x86_64 it is the AVX2 one where the CPU has it (memchr's runtime
/// detection), built once ([`avx2_finder`]): building it is a call that cannot be
/// inlined, which would cost more than searching the typical stretch between two
/// stuffed lines. Otherwise it is built here on every call, for a needle known at
/// compile time: for SSE2 (all x86_64) and NEON its two byte vectors are
/// constants. Short haystacks and other targets (the firmware's) check the bytes
/// around each LF.
#[inline(always)]
fn find_dot_line<const CRLF: bool>(haystack: &[u8]) -> Option<usize> {
    let needle: &[u8] = if CRLF { b"\r\n." } else { b"\n." };
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if let Some(avx2) = avx2_finder::<CRLF>() {
        if haystack.len() >= avx2.min_haystack_len() {
            return avx2.find(haystack, needle);
        }
    }
    #[cfg(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        all(target_arch = "aarch64", target_feature = "neon")
    ))]
    if let Some(pair) = u8::try_from(needle.len() - 1)
        .ok()
        .and_then(|last| memchr::arch::all::packedpair::Pair::with_indices(needle, 0, last))
    {
        #[cfg(target_arch = "aarch64")]
        use memchr::arch::aarch64::neon::packedpair::Finder;
        #[cfg(target_arch = "x86_64")]
        use memchr::arch::x86_64::sse2::packedpair::Finder;
        if let Some(finder) = Finder::with_pair(needle, pair) {
            if haystack.len() >= finder.min_haystack_len() {
                return finder.find(haystack, needle);
            }
        }
    }
    find_after_lf(haystack, needle)
}

/// memchr's AVX2 packed-pair searcher for `\r\n.` (`CRLF`) or `\n.`, built at
/// the first use; `None` where the CPU has no AVX2.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn avx2_finder<const CRLF: bool>() -> Option<&'static memchr::arch::x86_64::avx2::packedpair::Finder>
{
    use memchr::arch::all::packedpair::Pair;
    use memchr::arch::x86_64::avx2::packedpair::Finder;
    use std::sync::OnceLock;
    fn build(needle: &[u8]) -> Option<Finder> {
        let last = u8::try_from(needle.len() - 1).ok()?;
        Finder::with_pair(needle, Pair::with_indices(needle, 0, last)?)
    }
    static CRLF_DOT: OnceLock<Option<Finder>> = OnceLock::new();
    static LF_DOT: OnceLock<Option<Finder>> = OnceLock::new();
    if CRLF {
        CRLF_DOT.get_or_init(|| build(b"\r\n.")).as_ref()
    } else {
        LF_DOT.get_or_init(|| build(b"\n.")).as_ref()
    }
}

/// [`find_dot_line`] without vectors: the bytes around each LF. One copy for both
/// needles (the firmware's targets use nothing else).
fn find_after_lf(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let lf_in_needle = needle.len() - 2;
    memchr::memchr_iter(b'\n', haystack)
        .filter_map(|lf| lf.checked_sub(lf_in_needle))
        .find(|&at| haystack.get(at..at + needle.len()) == Some(needle))
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
    ///
    /// The bulk goes 64 bytes at a time: a block with nothing to rewrite is one
    /// 64-byte move; in a block with up to eight bytes to rewrite (a bare LF, as in
    /// mail stored with LF line ends, or a dot starting a line), each stretch
    /// between them is one 64-byte move that the next overwrites, with the inserted
    /// byte after it. The general path takes over where a block has more (short
    /// lines, dots close together) for the next 256 bytes, and at the end of the
    /// input or of the room.
    pub fn encode(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        // The first byte on the general path: the blocks look at the byte before
        // theirs, which from then on is in `input`.
        let (mut i, mut o) = self.encode_general(input.get(..1).unwrap_or(&[]), out);
        loop {
            // (With nothing encoded yet, `i - 1` wraps and there is no window.)
            let start = i;
            while let (Some(window), Some(dst)) = (
                input.get(i.wrapping_sub(1)..i + 2 * BLOCK),
                out.get_mut(o..o + 3 * BLOCK),
            ) {
                let (Ok(window), Ok(dst)) = (window.try_into(), dst.try_into()) else {
                    break;
                };
                let (taken, written) = fast_block(window, dst);
                i += taken;
                o += written;
                if taken < BLOCK {
                    break;
                }
            }
            if i > start {
                // The state is the last byte the blocks took.
                self.line_start = input[i - 1] == b'\n';
                self.prev_cr = input[i - 1] == b'\r';
            }
            if i == 0 || input.len() < i + 2 * BLOCK || out.len() < o + 3 * BLOCK {
                break;
            }
            // A block with more to rewrite: the general path for a stretch, then the
            // blocks again.
            let end = (i + 256).min(input.len());
            let (consumed, written) = self.encode_general(&input[i..end], &mut out[o..]);
            i += consumed;
            o += written;
            if i < end {
                // The room ran out.
                return (i, o);
            }
        }
        let (consumed, written) = self.encode_general(&input[i..], &mut out[o..]);
        (i + consumed, o + written)
    }

    /// The general path of [`encode`](Self::encode): up to the next byte to rewrite
    /// at a time, as far as the room goes.
    fn encode_general(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let (mut i, mut o) = (0, 0);
        while i < input.len() {
            // Everything up to the next byte to rewrite goes out unchanged.
            let before = match (self.line_start, self.prev_cr) {
                (true, _) => b'\n',
                (false, true) => b'\r',
                (false, false) => 0,
            };
            let n = copy_clean(&input[i..], &mut out[o..], before);
            if n > 0 {
                let last = input[i + n - 1];
                self.line_start = last == b'\n';
                self.prev_cr = last == b'\r';
                i += n;
                o += n;
            }
            if i == input.len() || o == out.len() {
                break;
            }
            // A dot starting a line is doubled; a bare LF becomes CRLF.
            let (rewrite, line_start): (&[u8; 2], bool) = match input[i] {
                b'.' => (b"..", false),
                _ => (b"\r\n", true),
            };
            let Some(dst) = out.get_mut(o..o + 2) else {
                break;
            };
            dst.copy_from_slice(rewrite);
            o += 2;
            i += 1;
            self.line_start = line_start;
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

/// Whether a [`BodyEncoder`] rewrites byte `b` after `prev`: a dot starting a line, or
/// an LF without CR before it.
fn rewritten(prev: u8, b: u8) -> bool {
    (b == b'.' && prev == b'\n') || (b == b'\n' && prev != b'\r')
}

/// The size of [`BodyEncoder`]'s blocks.
const BLOCK: usize = 64;

/// Rewritten bytes a block may have for [`fast_block`]; more go the general path
/// (one 64-byte move per rewrite is cheap for long lines, not for a run of LFs).
const BLOCK_REWRITES: usize = 8;

/// One 64-byte block into `dst` (192 bytes); returns `(taken, written)`. `window` is
/// the byte before the block, the block and the 64 bytes after it (129).
///
/// Each byte is compared with the one before it, 64 at a time, in code the compiler
/// turns into SIMD compares (as [`copy_clean`] does). A block with nothing to
/// rewrite is one move. Otherwise, for each byte to rewrite, in order, the stretch
/// from the previous one up to it is one 64-byte move (what goes past the stretch is
/// overwritten by the next), then the inserted byte: CR before a bare LF, a second
/// dot before a dot starting a line; the byte itself starts the next stretch. After
/// [`BLOCK_REWRITES`] the block stops where its next rewrite is (taken < 64).
#[inline(always)]
fn fast_block(window: &[u8; 2 * BLOCK + 1], dst: &mut [u8; 3 * BLOCK]) -> (usize, usize) {
    let (prev, cur) = (&window[..BLOCK], &window[1..BLOCK + 1]);
    let mut hits = [0u8; BLOCK];
    for k in 0..BLOCK {
        let (p, b) = (prev[k], cur[k]);
        let eq = |x: u8, y: u8| 0u8.wrapping_sub(u8::from(x == y));
        hits[k] = eq(b, b'.') & eq(p, b'\n') | eq(b, b'\n') & !eq(p, b'\r');
    }
    if hits.iter().fold(0, |any, &hit| any | hit) == 0 {
        return if stretch(window, 0, dst, 0) {
            (BLOCK, BLOCK)
        } else {
            (0, 0)
        };
    }
    // The flags a word at a time, lowest byte first (no SIMD mask extraction in
    // portable code: a word's trailing zeros find its first flag).
    let (mut from, mut o, mut rewrites) = (0, 0, 0);
    for (k, word) in hits.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        let mut flags = word & 0x8080_8080_8080_8080;
        while flags != 0 {
            let p = k * 8 + flags.trailing_zeros() as usize / 8;
            if rewrites == BLOCK_REWRITES || !stretch(window, from, dst, o) {
                // Stop before the byte at `from`, taking back its inserted byte:
                // the general path rewrites it again.
                return (from, o - usize::from(rewrites > 0));
            }
            o += p - from;
            let Some(slot) = dst.get_mut(o) else {
                return (p, o);
            };
            *slot = if cur[p] == b'.' { b'.' } else { b'\r' };
            o += 1;
            from = p;
            rewrites += 1;
            flags &= flags - 1;
        }
    }
    if !stretch(window, from, dst, o) {
        return (from, o - usize::from(rewrites > 0));
    }
    (BLOCK, o + BLOCK - from)
}

/// For [`fast_block`]: moves the 64 bytes from `from` in the block (at `1 + from` in
/// `window`) to `to` in `dst`; false if either has not that many.
#[inline(always)]
fn stretch(
    window: &[u8; 2 * BLOCK + 1],
    from: usize,
    dst: &mut [u8; 3 * BLOCK],
    to: usize,
) -> bool {
    match (
        window.get(1 + from..1 + from + BLOCK),
        dst.get_mut(to..to + BLOCK),
    ) {
        (Some(src), Some(d)) => {
            d.copy_from_slice(src);
            true
        }
        _ => false,
    }
}

/// Copies the start of `input` that a [`BodyEncoder`] passes on unchanged into `out`,
/// up to the first byte it rewrites or as far as `out` has room; returns its length.
/// `before` is the byte before `input` (`\n` at a line start).
///
/// The encoder's hot path: 32-byte blocks are checked whole, each byte against the one
/// before it, in code the compiler turns into SIMD compares, and copied as they pass;
/// only in a block with a hit is the first one looked for.
fn copy_clean(input: &[u8], out: &mut [u8], before: u8) -> usize {
    const BLOCK: usize = 32;
    let len = input.len().min(out.len());
    match input.first() {
        Some(&b) if len > 0 && !rewritten(before, b) => out[0] = b,
        _ => return 0,
    }
    let mut at = 1;
    while let (Some(window), Some(dst)) =
        (input.get(at - 1..at + BLOCK), out.get_mut(at..at + BLOCK))
    {
        let (prev, cur) = (&window[..BLOCK], &window[1..]);
        // `rewritten` as 0 or 0xff per byte: so it vectorizes (with `bool`s it does
        // not), into compares whose results are such masks already.
        let mut hits = [0u8; BLOCK];
        for k in 0..BLOCK {
            let (p, b) = (prev[k], cur[k]);
            let eq = |x: u8, y: u8| 0u8.wrapping_sub(u8::from(x == y));
            hits[k] = eq(b, b'.') & eq(p, b'\n') | eq(b, b'\n') & !eq(p, b'\r');
        }
        if hits.iter().fold(0, |any, &hit| any | hit) != 0 {
            // The first hit: the first nonzero byte, read as little-endian words.
            let clean = hits
                .chunks_exact(8)
                .map(|word| {
                    u64::from_le_bytes([
                        word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
                    ])
                })
                .enumerate()
                .find(|(_, word)| *word != 0)
                .map_or(BLOCK, |(w, word)| {
                    w * 8 + word.trailing_zeros() as usize / 8
                });
            copy_short(&mut dst[..clean], &cur[..clean]);
            return at + clean;
        }
        dst.copy_from_slice(cur);
        at += BLOCK;
    }
    let end = (at..len)
        .find(|&k| rewritten(input[k - 1], input[k]))
        .unwrap_or(len);
    out[at..end].copy_from_slice(&input[at..end]);
    end
}

/// `dst.copy_from_slice(src)`; up to 32 bytes in two overlapping fixed-size moves
/// instead of a call to `memcpy`.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    match n {
        33.. => dst.copy_from_slice(src),
        16.. => {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        }
        8.. => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        4.. => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        _ => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
    }
}

/// The size a message has on the wire once line ends are CRLF (what `LIST` must
/// report): stuffing excluded, the line end [`BodyEncoder::finish`] adds included.
/// For a message read in pieces, [`WireSize`] gives the same without holding it.
pub fn wire_size(message: &[u8]) -> u64 {
    let mut size = WireSize::new();
    size.add(message);
    size.total()
}

/// [`wire_size`] of a message that arrives in pieces (a file read a buffer at a
/// time), so that sizing a message takes a buffer's memory, not the message's: give
/// [`add`](Self::add) every piece in order, then read [`total`](Self::total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireSize {
    /// Bytes so far, plus one per bare LF so far.
    size: u64,
    /// The last byte so far (`None` before the first): whether an LF at the start of
    /// the next piece is bare, and what the message's end needs.
    last: Option<u8>,
}

impl WireSize {
    /// Nothing counted yet (an empty message: 0).
    pub const fn new() -> Self {
        WireSize {
            size: 0,
            last: None,
        }
    }

    /// Counts the next `piece` of the message.
    pub fn add(&mut self, piece: &[u8]) {
        let Some(&last) = piece.last() else {
            return;
        };
        self.size += piece.len() as u64;
        for lf in memchr::memchr_iter(b'\n', piece) {
            let before = match lf {
                0 => self.last,
                _ => Some(piece[lf - 1]),
            };
            if before != Some(b'\r') {
                self.size += 1;
            }
        }
        self.last = Some(last);
    }

    /// The wire size of everything added, with the line end the message lacks, if
    /// any (CRLF, or LF after a final CR).
    pub fn total(&self) -> u64 {
        self.size
            + match self.last {
                None | Some(b'\n') => 0,
                Some(b'\r') => 1,
                Some(_) => 2,
            }
    }
}
