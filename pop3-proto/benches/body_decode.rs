//! Body codec throughput against the practical limits of the same work, on ~50 MB
//! dot-stuffed messages with 36-, 100- and 1000-byte average lines (one line in 16
//! starting with a dot):
//!
//! - `BodyDecoder` (unstuffing, terminator search, borrowed chunks), fed 16 KiB reads,
//!   with `BareLf::Data` (what `Auto` becomes on a CRLF server) and `BareLf::LineEnd`;
//! - a plain memchr line scan (every LF, compare the line with `.` CRLF);
//! - a `memchr::memmem` search for `\r\n.` (the lines the decoder must act on);
//! - `BodyEncoder` (stuffing, LF→CRLF) over the unstuffed message, in 16 KiB pieces;
//! - `memcpy` of the unstuffed message.
//!
//! Decoder rows count wire bytes, encoder and memcpy rows message bytes. The rows run
//! interleaved, round after round, so a busy machine slows them alike (the readers of
//! the wire first, then the writers), each timed run right after an untimed one of the
//! same row; ratios are the median of the per-round ratios, MB/s the median round
//! (10^6 bytes per second), best the fastest.
//!
//! Run: `cargo bench -p pop3-proto --bench body_decode --features std` (a std
//! target as applications build it: memchr with `std` selects AVX2 at run time, for
//! the baselines and for the decoder's search alike). Without `--features std`
//! every row uses SSE2 on x86_64, as a build without `std` does.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pop3_proto::{BareLf, BodyChunk, BodyDecoder, BodyEncoder};

/// Size of one simulated network read (and one encoder input piece).
const READ: usize = 16 * 1024;
/// Size of the messages.
const SIZE: usize = 50_000_000;
/// Timed rounds per line length.
const ROUNDS: usize = 21;

/// A deterministic ~50 MB message of printable lines averaging `avg_line` bytes with
/// their CRLF, one in 16 starting with a dot; and the same dot-stuffed and terminated
/// as a server sends it.
fn message(avg_line: usize) -> (Vec<u8>, Vec<u8>) {
    let mut raw = Vec::with_capacity(SIZE + 4096);
    let mut x: u32 = 0x1234_5678;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    // Text lengths uniform in 0..=2 * (avg - 2): mean avg - 2, plus CRLF.
    let spread = 2 * (avg_line as u32 - 2) + 1;
    while raw.len() < SIZE {
        let r = next();
        let len = (r % spread) as usize;
        if (r >> 16) % 16 == 0 {
            raw.push(b'.');
        }
        // Printable text; a line starts with a dot only where chosen above.
        raw.extend(
            (0..len).map(|i| match b' ' + ((r as usize + i * 7) % 94) as u8 + 1 {
                b'.' if i == 0 => b',',
                c => c,
            }),
        );
        raw.extend_from_slice(b"\r\n");
    }
    let mut wire = vec![0; raw.len() + raw.len() / 8 + 8];
    let mut encoder = BodyEncoder::new();
    let (consumed, mut written) = encoder.encode(&raw, &mut wire);
    assert_eq!(consumed, raw.len());
    written += encoder.finish(&mut wire[written..]).unwrap();
    wire.truncate(written);
    (raw, wire)
}

/// Decodes `wire` fed in 16 KiB reads; returns the data bytes (checked once against
/// the message).
fn decode_all(wire: &[u8], policy: BareLf, mut sink: impl FnMut(&[u8])) -> usize {
    let mut decoder = BodyDecoder::new(policy);
    let mut total = 0;
    for read in wire.chunks(READ) {
        let mut rest = read;
        while !rest.is_empty() {
            let (consumed, chunk) = decoder.decode(rest);
            match chunk {
                Some(BodyChunk::Data(d)) => {
                    total += d.len();
                    sink(d);
                }
                Some(BodyChunk::End) => return total,
                None => {}
            }
            rest = &rest[consumed..];
        }
    }
    total
}

/// Baseline: find every line end with memchr and compare the line with `.` CRLF.
fn memchr_lines(wire: &[u8]) -> usize {
    let mut lines = 0;
    let mut start = 0;
    for lf in memchr::memchr_iter(b'\n', wire) {
        if &wire[start..=lf] == b".\r\n" {
            return lines;
        }
        lines += 1;
        start = lf + 1;
    }
    lines
}

/// Limit: find only the line ends followed by a dot (stuffed lines and the
/// terminator) with one `memmem` searcher over the whole message.
fn memmem_dots(wire: &[u8]) -> usize {
    let finder = memchr::memmem::Finder::new(b"\r\n.");
    let mut dots = 0;
    for at in finder.find_iter(wire) {
        if wire[at + 3..].starts_with(b"\r\n") {
            return dots;
        }
        dots += 1;
    }
    dots
}

/// Encodes `raw` in 16 KiB pieces into `out`; returns the bytes written.
fn encode_all(raw: &[u8], out: &mut [u8]) -> usize {
    let mut encoder = BodyEncoder::new();
    let mut written = 0;
    for piece in raw.chunks(READ) {
        let (consumed, n) = encoder.encode(piece, &mut out[written..]);
        debug_assert_eq!(consumed, piece.len());
        written += n;
    }
    written + encoder.finish(&mut out[written..]).unwrap()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run(avg_line: usize) {
    let (raw, wire) = message(avg_line);
    let mut out = vec![0u8; wire.len() + 16];

    // Correctness once, outside the timing.
    for policy in [BareLf::Data, BareLf::LineEnd, BareLf::Auto] {
        let mut decoded = Vec::with_capacity(raw.len());
        decode_all(&wire, policy, |d| decoded.extend_from_slice(d));
        assert!(decoded == raw, "{policy:?} decoding differs");
    }
    let n = encode_all(&raw, &mut out);
    assert!(out[..n] == wire[..], "encoding differs");
    let dot_lines = memmem_dots(&wire);
    let lines = memchr_lines(&wire);
    assert!(dot_lines * 12 < lines && dot_lines * 20 > lines);

    // memcpy and the encoder write into the same (already touched) buffer.
    let out = std::cell::RefCell::new(out);
    type Row<'a> = (&'static str, usize, Box<dyn FnMut() + 'a>);
    let mut rows: Vec<Row> = Vec::new();
    let w = &wire;
    let r = &raw;
    rows.push((
        "BodyDecoder Data",
        w.len(),
        Box::new(move || {
            black_box(decode_all(black_box(w), BareLf::Data, |d| {
                black_box(d);
            }));
        }),
    ));
    rows.push((
        "BodyDecoder LineEnd",
        w.len(),
        Box::new(move || {
            black_box(decode_all(black_box(w), BareLf::LineEnd, |d| {
                black_box(d);
            }));
        }),
    ));
    rows.push((
        "memchr line scan",
        w.len(),
        Box::new(move || {
            black_box(memchr_lines(black_box(w)));
        }),
    ));
    rows.push((
        "memmem \\r\\n. search",
        w.len(),
        Box::new(move || {
            black_box(memmem_dots(black_box(w)));
        }),
    ));
    let o = &out;
    rows.push((
        "memcpy",
        r.len(),
        Box::new(move || {
            let mut out = o.borrow_mut();
            out[..r.len()].copy_from_slice(black_box(r));
            black_box(&mut out[..]);
        }),
    ));
    rows.push((
        "BodyEncoder",
        r.len(),
        Box::new(move || {
            let mut out = o.borrow_mut();
            black_box(encode_all(black_box(r), &mut out));
        }),
    ));

    // Two phases, rows interleaved round after round within each: the readers of the
    // wire, then the writers (memcpy, encoder), whose 50 MB of stores would leave the
    // wire colder for whichever reader came next (the messages fit in this machine's
    // L3). Each timed run follows an untimed run of the same row.
    let mut times = vec![Vec::with_capacity(ROUNDS); rows.len()];
    for phase in [0..4, 4..rows.len()] {
        for _ in 0..ROUNDS {
            for k in phase.clone() {
                (rows[k].2)();
                let start = Instant::now();
                (rows[k].2)();
                times[k].push(start.elapsed());
            }
        }
    }

    let mbps = |k: usize, t: Duration| rows[k].1 as f64 / t.as_secs_f64() / 1e6;
    // Median over rounds of row k's speed relative to row `base` in the same round.
    let ratio = |k: usize, base: usize| {
        let mut v: Vec<f64> = (0..ROUNDS)
            .map(|i| times[base][i].as_secs_f64() / times[k][i].as_secs_f64())
            .collect();
        median(&mut v)
    };
    let (line_scan, memmem, memcpy) = (2, 3, 4);
    println!(
            "\n{} MB ({} MB unstuffed), {avg_line}-byte average lines, {dot_lines} of {lines} lines stuffed; {ROUNDS} rounds",
        wire.len() / 1_000_000,
        raw.len() / 1_000_000
    );
    println!(
        "  {:<22} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "row", "MB/s", "best", "/line scan", "/memmem", "/memcpy"
    );
    for (k, row) in rows.iter().enumerate() {
        let mut speeds: Vec<f64> = times[k].iter().map(|t| mbps(k, *t)).collect();
        let med = median(&mut speeds);
        let best = speeds[speeds.len() - 1];
        let rel = |base: usize, applies: bool| {
            if applies {
                format!("{:.2}x", ratio(k, base))
            } else {
                String::from("-")
            }
        };
        let decode_row = row.1 == wire.len();
        println!(
            "  {:<22} {:>9.0} {:>9.0} {:>10} {:>10} {:>10}",
            row.0,
            med,
            best,
            rel(line_scan, decode_row),
            rel(memmem, decode_row),
            rel(memcpy, !decode_row),
        );
    }
}

fn main() {
    // Numeric arguments select line lengths: `cargo bench ... -- 36 1000`.
    let lengths: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let lengths = if lengths.is_empty() {
        vec![36, 100, 1000]
    } else {
        lengths
    };
    for avg_line in lengths {
        run(avg_line);
    }
}
