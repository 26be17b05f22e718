//! Any chunking of any valid stream gives the same events and bytes (proptest).
//!
//! A stream of replies is generated as a model, encoded with this crate's encoders,
//! and decoded once whole and once split at arbitrary points; both must equal the
//! model. The same holds for client command streams on the server side.

mod common;

use common::{decode_commands, decode_replies, normalized_body, Ev};
use pop3_proto::{
    BareLf, BodyChunk, BodyDecoder, BodyEncoder, Command, Expect, ListEntry, ResponseDecoder,
    SaslResponse, StatusLine, UidlEntry,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Reply {
    /// A single-line status reply.
    Status(bool, Vec<u8>),
    /// A listing with these (msg, size) and (msg, uid) lines.
    Listing(Vec<(u32, u64)>, Vec<(u32, String)>),
    /// A body (raw message bytes; may contain anything).
    Body(Vec<u8>),
    /// `-ERR` to a multi-line command.
    ErrBody(Vec<u8>),
    /// A SASL challenge.
    Challenge(String),
}

fn status_text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("text", |b| !matches!(b, b'\r' | b'\n' | 0 | b'[')),
        0..60,
    )
}

/// Message bytes biased towards the interesting ones: dots, CR, LF.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![4 => Just(b'.'), 4 => Just(b'\r'), 4 => Just(b'\n'), 6 => any::<u8>()],
        0..400,
    )
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (any::<bool>(), status_text()).prop_map(|(ok, t)| Reply::Status(ok, t)),
        (
            prop::collection::vec((any::<u32>(), any::<u64>()), 0..5),
            prop::collection::vec((any::<u32>(), "[!-~]{1,70}"), 0..5)
        )
            .prop_map(|(l, u)| Reply::Listing(l, u)),
        body().prop_map(Reply::Body),
        status_text().prop_map(Reply::ErrBody),
        "[A-Za-z0-9+/]{0,200}={0,2}".prop_map(Reply::Challenge),
    ]
}

/// Encodes the replies as a server would and returns the wire bytes, what the
/// client must expect for each, and the events it must see.
fn encode(replies: &[Reply]) -> (Vec<u8>, Vec<Expect>, Vec<Ev>) {
    let mut wire = Vec::new();
    let mut expects = Vec::new();
    let mut events = Vec::new();
    let mut line = [0u8; 1024];
    for reply in replies {
        match reply {
            Reply::Status(ok, text) => {
                let s = if *ok {
                    StatusLine::ok(text)
                } else {
                    StatusLine::err(None, text)
                };
                let n = s.encode(&mut line).unwrap();
                wire.extend_from_slice(&line[..n]);
                expects.push(Expect::Status);
                events.push(if *ok {
                    Ev::ok(text)
                } else {
                    Ev::err(None, text)
                });
            }
            Reply::ErrBody(text) => {
                let n = StatusLine::err(None, text).encode(&mut line).unwrap();
                wire.extend_from_slice(&line[..n]);
                expects.push(Expect::Body);
                events.push(Ev::err(None, text));
            }
            Reply::Listing(list, uids) => {
                wire.extend_from_slice(b"+OK\r\n");
                events.push(Ev::ok(b""));
                for (msg, size) in list {
                    let n = ListEntry {
                        msg: *msg,
                        size: *size,
                    }
                    .encode_line(&mut line)
                    .unwrap();
                    wire.extend_from_slice(&line[..n]);
                    events.push(Ev::Line(line[..n - 2].to_vec()));
                }
                for (msg, uid) in uids {
                    let n = UidlEntry {
                        msg: *msg,
                        uid: uid.as_bytes(),
                    }
                    .encode_line(&mut line)
                    .unwrap();
                    wire.extend_from_slice(&line[..n]);
                    events.push(Ev::Line(line[..n - 2].to_vec()));
                }
                wire.extend_from_slice(b".\r\n");
                expects.push(Expect::Listing);
                events.push(Ev::End);
            }
            Reply::Body(raw) => {
                wire.extend_from_slice(b"+OK message follows\r\n");
                let mut enc = BodyEncoder::new();
                let mut rest = &raw[..];
                // A small output buffer, so the encoder's own resumption is exercised.
                let mut out = [0u8; 13];
                while !rest.is_empty() {
                    let (consumed, written) = enc.encode(rest, &mut out);
                    wire.extend_from_slice(&out[..written]);
                    rest = &rest[consumed..];
                }
                let n = enc.finish(&mut out).unwrap();
                wire.extend_from_slice(&out[..n]);
                expects.push(Expect::Body);
                events.push(Ev::ok(b"message follows"));
                let body = normalized_body(raw);
                if !body.is_empty() {
                    events.push(Ev::Data(body));
                }
                events.push(Ev::End);
            }
            Reply::Challenge(c) => {
                wire.extend_from_slice(b"+ ");
                wire.extend_from_slice(c.as_bytes());
                wire.extend_from_slice(b"\r\n");
                expects.push(Expect::Sasl);
                events.push(Ev::Challenge(c.as_bytes().to_vec()));
            }
        }
    }
    (wire, expects, events)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_chunking_gives_the_same_replies(
        replies in prop::collection::vec(reply(), 1..8),
        pieces in prop::collection::vec(1usize..64, 1..16),
        lenient in any::<bool>(),
    ) {
        let (wire, expects, expected) = encode(&replies);
        let policy = if lenient { BareLf::LineEnd } else { BareLf::Data };
        let whole = decode_replies(
            &mut ResponseDecoder::new().with_bare_lf(policy), &expects, &wire, &[usize::MAX]).unwrap();
        prop_assert_eq!(&whole.0, &expected);
        prop_assert!(whole.1.is_empty());
        let split = decode_replies(
            &mut ResponseDecoder::new().with_bare_lf(policy), &expects, &wire, &pieces).unwrap();
        prop_assert_eq!(&split.0, &expected);
        prop_assert!(split.1.is_empty());
    }

    #[test]
    fn any_chunking_gives_the_same_commands(
        cmds in prop::collection::vec((0u32..5, "[a-z]{1,10}", any::<u32>()), 1..20),
        pieces in prop::collection::vec(1usize..32, 1..8),
    ) {
        let mut wire = Vec::new();
        let mut buf = [0u8; 256];
        let mut sasl = false;
        for (kind, word, n) in &cmds {
            let len = if sasl {
                sasl = false;
                SaslResponse::Data(word.as_bytes()).encode(&mut buf, 2048).unwrap()
            } else {
                let c = match kind {
                    0 => Command::User(word.as_bytes()),
                    1 => Command::Pass(word.as_bytes()),
                    2 => Command::Retr(*n),
                    3 => Command::Top { msg: *n, lines: n / 2 },
                    _ => { sasl = true; Command::Auth { mechanism: Some("PLAIN"), initial_response: None } }
                };
                c.encode(&mut buf).unwrap()
            };
            wire.extend_from_slice(&buf[..len]);
        }
        // Cancel a pending exchange so both decoders end in the same mode.
        if sasl { wire.extend_from_slice(b"*\r\n"); }
        let whole = decode_commands(&wire, &[usize::MAX]);
        prop_assert_eq!(whole.len(), cmds.len() + usize::from(sasl));
        prop_assert_eq!(decode_commands(&wire, &pieces), whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary (also non-conformant) body bytes: one-shot and split decoding agree.
    #[test]
    fn any_chunking_of_raw_body_bytes_agrees(
        raw in body(),
        pieces in prop::collection::vec(1usize..16, 1..8),
        lenient in any::<bool>(),
    ) {
        let mut wire = b"+OK\r\n".to_vec();
        wire.extend_from_slice(&raw);
        wire.extend_from_slice(b"\r\n.\r\n");
        let policy = if lenient { BareLf::LineEnd } else { BareLf::Data };
        let whole = decode_replies(
            &mut ResponseDecoder::new().with_bare_lf(policy), &[Expect::Body], &wire, &[usize::MAX]).unwrap();
        let split = decode_replies(
            &mut ResponseDecoder::new().with_bare_lf(policy), &[Expect::Body], &wire, &pieces).unwrap();
        prop_assert_eq!(whole.0, split.0);
    }
}

/// A body decoded by a lone [`BodyDecoder`], fed in pieces: the data, whether the
/// terminator was seen, and the bytes consumed.
fn decode_body(policy: BareLf, wire: &[u8], pieces: &[usize]) -> (Vec<u8>, bool, usize) {
    let mut decoder = BodyDecoder::new(policy);
    let (mut data, mut buf, mut used) = (Vec::new(), Vec::new(), 0);
    let (mut offset, mut piece) = (0, pieces.iter().cycle());
    loop {
        let (consumed, chunk) = decoder.decode(&buf);
        let (progress, end) = match chunk {
            Some(BodyChunk::End) => (true, true),
            Some(BodyChunk::Data(d)) => {
                data.extend_from_slice(d);
                (true, false)
            }
            None => (consumed > 0, false),
        };
        buf.drain(..consumed);
        used += consumed;
        match (progress, end) {
            (_, true) => return (data, true, used),
            (true, false) => {}
            (false, _) if offset == wire.len() => return (data, false, used),
            (false, _) => {
                let end = (offset + *piece.next().unwrap()).min(wire.len());
                buf.extend_from_slice(&wire[offset..end]);
                offset = end;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// `BareLf::Auto` on a lone body decoder: split decoding agrees with one-shot,
    /// and both equal the fixed policy its first line end selects (a CR before the
    /// first LF: RFC 1939 framing; otherwise LF-only).
    #[test]
    fn auto_body_policy_is_its_first_line_end(
        raw in body(),
        pieces in prop::collection::vec(1usize..16, 1..8),
    ) {
        let whole = decode_body(BareLf::Auto, &raw, &[usize::MAX]);
        prop_assert_eq!(&decode_body(BareLf::Auto, &raw, &pieces), &whole);
        let crlf = match raw.iter().position(|b| *b == b'\n') {
            Some(lf) => lf > 0 && raw[lf - 1] == b'\r',
            None => true,
        };
        let fixed = if crlf { BareLf::Data } else { BareLf::LineEnd };
        prop_assert_eq!(&decode_body(fixed, &raw, &[usize::MAX]), &whole);
    }
}
