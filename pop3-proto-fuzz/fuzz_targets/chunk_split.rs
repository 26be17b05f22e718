//! Differential: decoding server bytes in one piece and byte by byte must give the
//! same events (data merged) and the same error, for every reply shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3_proto::{BareLf, DecodeError, Expect, ResponseDecoder, ResponseEvent};

#[derive(Debug, PartialEq)]
enum Ev {
    Status(bool, Option<String>, Vec<u8>),
    Challenge(Vec<u8>),
    Line(Vec<u8>),
    Data(Vec<u8>),
    End,
}

fn run(
    expects: &[Expect],
    wire: &[u8],
    piece: usize,
    bare_lf: BareLf,
) -> (Vec<Ev>, Option<DecodeError>) {
    let mut dec = ResponseDecoder::new().with_bare_lf(bare_lf);
    let mut expects = expects.iter();
    let mut events: Vec<Ev> = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut offset = 0;
    loop {
        if dec.is_idle() {
            match expects.next() {
                Some(e) => {
                    dec.expect(*e);
                }
                None => return (events, None),
            }
        }
        let d = match dec.decode(&buf) {
            Ok(d) => d,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                return (events, Some(e));
            }
        };
        // Bounded memory: a status or listing line never needs more than its limit.
        assert!(buf.len() <= 2048 + piece, "buffer grew to {}", buf.len());
        let progressed = d.consumed > 0 || d.item.is_some();
        if let Some(ev) = d.item {
            let ev = match ev {
                ResponseEvent::Status(s) => Ev::Status(
                    s.is_ok(),
                    s.code.map(|c| c.as_str().to_owned()),
                    s.text.to_vec(),
                ),
                ResponseEvent::Challenge(c) => Ev::Challenge(c.to_vec()),
                ResponseEvent::Line(l) => Ev::Line(l.to_vec()),
                ResponseEvent::Data(d) => Ev::Data(d.to_vec()),
                ResponseEvent::End => Ev::End,
            };
            match (events.last_mut(), ev) {
                (Some(Ev::Data(last)), Ev::Data(new)) => last.extend_from_slice(&new),
                (_, Ev::Data(new)) if new.is_empty() => {}
                (_, ev) => events.push(ev),
            }
        }
        assert!(d.consumed <= buf.len());
        buf.drain(..d.consumed);
        if !progressed {
            if offset == wire.len() {
                return (events, None);
            }
            let end = (offset + piece).min(wire.len());
            buf.extend_from_slice(&wire[offset..end]);
            offset = end;
        }
    }
}

fuzz_target!(|input: (Vec<u8>, u8, Vec<u8>)| {
    let (shapes, policy, wire) = input;
    let expects: Vec<Expect> = shapes
        .iter()
        .take(16)
        .map(|b| match b % 4 {
            0 => Expect::Status,
            1 => Expect::Listing,
            2 => Expect::Body,
            _ => Expect::Sasl,
        })
        .collect();
    let policy = match policy % 3 {
        0 => BareLf::Data,
        1 => BareLf::LineEnd,
        _ => BareLf::Auto,
    };
    let whole = run(&expects, &wire, wire.len().max(1), policy);
    let bytewise = run(&expects, &wire, 1, policy);
    // An over-long line is found at the limit either way; other errors must agree.
    assert_eq!(whole, bytewise);
});
