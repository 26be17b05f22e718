//! Helpers shared by the integration tests: drive the decoders like a real caller
//! (a growing receive buffer fed in pieces) and collect owned events.
#![allow(dead_code)]

pub mod app;
pub mod login;
pub mod pair;

use pop3_proto::{
    ClientLine, Command, CommandDecoder, CommandError, DecodeError, Expect, ResponseCode,
    ResponseDecoder, ResponseEvent, SaslResponse, Status,
};

/// An owned [`ResponseEvent`], with consecutive data chunks merged so that streams
/// decoded with different splits compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Status {
        ok: bool,
        code: Option<String>,
        text: Vec<u8>,
    },
    Challenge(Vec<u8>),
    Line(Vec<u8>),
    Data(Vec<u8>),
    End,
}

impl Ev {
    pub fn ok(text: &[u8]) -> Ev {
        Ev::Status {
            ok: true,
            code: None,
            text: text.to_vec(),
        }
    }

    pub fn err(code: Option<&str>, text: &[u8]) -> Ev {
        Ev::Status {
            ok: false,
            code: code.map(str::to_owned),
            text: text.to_vec(),
        }
    }

    fn from_event(event: ResponseEvent<'_>) -> Ev {
        match event {
            ResponseEvent::Status(s) => Ev::Status {
                ok: s.status == Status::Ok,
                code: s.code.map(|c: ResponseCode<'_>| c.as_str().to_owned()),
                text: s.text.to_vec(),
            },
            ResponseEvent::Challenge(c) => Ev::Challenge(c.to_vec()),
            ResponseEvent::Line(l) => Ev::Line(l.to_vec()),
            ResponseEvent::Data(d) => Ev::Data(d.to_vec()),
            ResponseEvent::End => Ev::End,
        }
    }
}

fn push(events: &mut Vec<Ev>, ev: Ev) {
    if let (Ev::Data(new), Some(Ev::Data(last))) = (&ev, events.last_mut()) {
        last.extend_from_slice(new);
        return;
    }
    if ev == Ev::Data(Vec::new()) {
        return;
    }
    events.push(ev);
}

/// Decodes `wire` delivered in pieces of the given sizes (cycled; the last piece
/// takes the rest), announcing `expects` in order as each reply starts. Returns the
/// events and the bytes left unconsumed, or the first error.
pub fn decode_replies(
    decoder: &mut ResponseDecoder,
    expects: &[Expect],
    wire: &[u8],
    pieces: &[usize],
) -> Result<(Vec<Ev>, Vec<u8>), DecodeError> {
    let mut expects = expects.iter();
    let mut events = Vec::new();
    let mut buf = Vec::new();
    let mut offset: usize = 0;
    let mut sizes = pieces.iter().cycle();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 10_000_000, "decoder does not make progress");
        let size = sizes.next().copied().unwrap_or(wire.len()).max(1);
        let end = offset.saturating_add(size).min(wire.len());
        buf.extend_from_slice(&wire[offset..end]);
        offset = end;
        loop {
            if decoder.is_idle() {
                match expects.next() {
                    Some(e) => assert!(decoder.expect(*e)),
                    None => return Ok((events, buf.split_off(0))),
                }
            }
            let decoded = decoder.decode(&buf)?;
            let progressed = decoded.consumed > 0 || decoded.item.is_some();
            if let Some(ev) = decoded.item {
                push(&mut events, Ev::from_event(ev));
            }
            buf.drain(..decoded.consumed);
            if !progressed {
                break;
            }
        }
        if offset == wire.len() {
            // All input delivered and no further progress.
            return Ok((events, buf));
        }
    }
}

/// Owned form of one decoded client line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Command(String),
    Sasl(Option<Vec<u8>>),
    Error(CommandError),
}

/// Decodes client bytes delivered in pieces; `Command`s are kept as their Debug text.
/// The decoder switches to SASL mode after `AUTH mechanism` and back after a `*`
/// cancel, as a server would.
pub fn decode_commands(wire: &[u8], pieces: &[usize]) -> Vec<Line> {
    let mut decoder = CommandDecoder::new();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut offset: usize = 0;
    let mut sizes = pieces.iter().cycle();
    while offset < wire.len() {
        let size = sizes.next().copied().unwrap_or(wire.len()).max(1);
        let end = offset.saturating_add(size).min(wire.len());
        buf.extend_from_slice(&wire[offset..end]);
        offset = end;
        loop {
            let decoded = decoder.decode(&buf);
            let progressed = decoded.consumed > 0 || decoded.item.is_some();
            match decoded.item {
                Some(Ok(ClientLine::Command(c))) => {
                    if let Command::Auth {
                        mechanism: Some(_), ..
                    } = c
                    {
                        decoder.set_sasl(true);
                    }
                    out.push(Line::Command(format!("{c:?}")));
                }
                Some(Ok(ClientLine::Sasl(SaslResponse::Cancel))) => {
                    decoder.set_sasl(false);
                    out.push(Line::Sasl(None));
                }
                Some(Ok(ClientLine::Sasl(SaslResponse::Data(d)))) => {
                    out.push(Line::Sasl(Some(d.to_vec())))
                }
                Some(Err(e)) => out.push(Line::Error(e)),
                None => {}
            }
            buf.drain(..decoded.consumed);
            if !progressed {
                break;
            }
        }
    }
    out
}

/// What a client receives for a body sent with `BodyEncoder`: line ends normalised to
/// CRLF and a final CRLF added when missing.
pub fn normalized_body(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 2);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    match out.last() {
        None | Some(b'\n') => {}
        Some(b'\r') => out.push(b'\n'),
        Some(_) => out.extend_from_slice(b"\r\n"),
    }
    out
}
