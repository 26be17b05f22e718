//! Body decoding throughput: `BodyDecoder` (dot-unstuffing and terminator search)
//! against a plain memchr line scan of the same bytes, on a 50 MB dot-stuffed message
//! fed in 16 KiB reads.
//!
//! Run: `cargo bench -p pop3-proto --bench body_decode`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pop3_proto::{BodyChunk, BodyDecoder, BodyEncoder};

/// Size of one simulated network read.
const READ: usize = 16 * 1024;

/// A deterministic ~50 MB message: lines of 0–200 bytes of printable text, one in 16
/// starting with a dot, dot-stuffed and terminated as a server would send it.
fn stuffed_message() -> Vec<u8> {
    let mut raw = Vec::with_capacity(50_000_000);
    let mut x: u32 = 0x1234_5678;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    while raw.len() < 50_000_000 {
        let r = next();
        let len = (r % 200) as usize;
        if r % 16 == 0 {
            raw.push(b'.');
        }
        raw.extend((0..len).map(|i| b' ' + ((r as usize + i * 7) % 94) as u8 + 1));
        raw.extend_from_slice(b"\r\n");
    }
    let mut wire = vec![0; raw.len() + raw.len() / 8 + 8];
    let mut encoder = BodyEncoder::new();
    let (consumed, mut written) = encoder.encode(&raw, &mut wire);
    assert_eq!(consumed, raw.len());
    written += encoder.finish(&mut wire[written..]).unwrap();
    wire.truncate(written);
    wire
}

fn decode_all(wire: &[u8]) -> usize {
    let mut decoder = BodyDecoder::default();
    let mut total = 0;
    for read in wire.chunks(READ) {
        let mut rest = read;
        while !rest.is_empty() {
            let (consumed, chunk) = decoder.decode(rest);
            match chunk {
                Some(BodyChunk::Data(d)) => total += black_box(d).len(),
                Some(BodyChunk::End) => return total,
                None => {}
            }
            rest = &rest[consumed..];
        }
    }
    total
}

/// The baseline: find every line end with memchr and compare the line with `.` CRLF.
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

fn bench(c: &mut Criterion) {
    let wire = stuffed_message();
    let mut group = c.benchmark_group("body_50MB");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.sample_size(20);
    group.bench_function("BodyDecoder", |b| b.iter(|| decode_all(black_box(&wire))));
    group.bench_function("memchr_line_scan", |b| {
        b.iter(|| memchr_lines(black_box(&wire)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
