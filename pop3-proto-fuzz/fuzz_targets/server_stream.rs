//! Arbitrary client bytes, in arbitrary pieces, into a server backed by an in-memory
//! maildrop. Besides "no panic": no output line over 512 octets, no deleted message
//! ever served, UPDATE only right after QUIT, bounded input buffering, and the
//! server's `Debug` in every state it reaches never shows the password's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::time::Instant;

const MESSAGES: [&[u8]; 4] = [
    b"Subject: a\n\nline\n.dot\n",
    b"Subject: b\r\n\r\nbody\r\n",
    b"",
    b"Subject: d\n\nno newline",
];

fuzz_target!(|input: (u8, u8, Vec<u8>)| {
    let (flags, piece, wire) = input;
    let mut config = ServerConfig::new("fuzz.example");
    config.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    config.allow_plaintext_auth = flags & 1 != 0;
    config.apop = flags & 2 != 0;
    config.tls = if flags & 4 != 0 {
        Tls::StartTls
    } else {
        Tls::None
    };
    config.auth_failure_delay_ms = 0;
    let piece = usize::from(piece.max(1));
    let now = Instant::from_millis(0);
    let mut server = Server::new(config, now, [1; 32]);
    let mut out: Vec<u8> = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut offset = 0;
    let mut last_line: Vec<u8> = Vec::new();
    let mut rounds = 0u32;
    loop {
        rounds += 1;
        assert!(rounds < 200_000, "no progress");
        drain(&mut server, &mut out);
        if server.is_closed() {
            break;
        }
        let before = buf.clone();
        let d = server
            .handle_input(&buf, now)
            .expect("the driver answers every event");
        let consumed = d.consumed;
        if consumed > 0 {
            last_line = before[..consumed].to_vec();
        }
        // The event as text, and whether its credentials are the user's ("pw"),
        // taken while it borrows the input.
        let item = d.item.map(|e| {
            let right = match e {
                ServerEvent::CheckPassword { password, .. } => password == b"pw",
                ServerEvent::CheckToken { token, .. } => token == b"pw",
                ServerEvent::CheckExternal { .. } => true,
                _ => false,
            };
            (format!("{e:?}"), right)
        });
        let Some((event, right)) = item else {
            buf.drain(..consumed);
            if consumed == 0 {
                if server.has_transmit() {
                    continue;
                }
                if offset == wire.len() {
                    break;
                }
                let end = (offset + piece).min(wire.len());
                buf.extend_from_slice(&wire[offset..end]);
                offset = end;
                assert!(
                    buf.len() <= 2048 + piece,
                    "input buffer grew to {}",
                    buf.len()
                );
            }
            continue;
        };
        buf.drain(..consumed);
        // Re-decode the event kind from its Debug form (the borrow ended above).
        if event.starts_with("CheckPassword")
            || event.starts_with("CheckToken")
            || event.starts_with("CheckExternal")
        {
            assert!(!shows_pw(&event), "a secret in {event}");
            server.answer_password(right, now).unwrap();
        } else if event.starts_with("NeedSecret") {
            server.answer_secret(Some(b"pw"), now).unwrap();
        } else if event.starts_with("OpenMaildrop") {
            let size = MESSAGES
                .iter()
                .map(|m| pop3_proto::codec::body::wire_size(m))
                .sum();
            server.answer_open(Open::Opened { count: 4, size }).unwrap();
        } else if let Some(msg) = event.strip_prefix("Size { msg: ") {
            let msg: u32 = msg.trim_end_matches(" }").parse().unwrap();
            assert!((1..=4).contains(&msg) && !server.is_deleted(msg));
            server
                .answer_size(pop3_proto::codec::body::wire_size(
                    MESSAGES[msg as usize - 1],
                ))
                .unwrap();
        } else if let Some(msg) = event.strip_prefix("Uid { msg: ") {
            let msg: u32 = msg.trim_end_matches(" }").parse().unwrap();
            assert!((1..=4).contains(&msg) && !server.is_deleted(msg));
            server.answer_uid(format!("u{msg}").as_bytes()).unwrap();
        } else if let Some(rest) = event.strip_prefix("Retrieve { msg: ") {
            let msg: u32 = rest.split(',').next().unwrap().parse().unwrap();
            assert!((1..=4).contains(&msg), "message number {msg} out of range");
            assert!(!server.is_deleted(msg), "deleted message {msg} served");
            let mut body = MESSAGES[msg as usize - 1];
            // A small transmit buffer, so that bodies take many calls.
            let mut tx = [0u8; 600];
            while !body.is_empty() && !server.body_done() {
                drain(&mut server, &mut out);
                let w = server.body(body, &mut tx).unwrap();
                out.extend_from_slice(&tx[..w.written]);
                assert!(w.taken > 0, "a free 600-byte buffer takes body bytes");
                body = &body[w.taken.min(body.len())..];
            }
            server.body_end().unwrap();
        } else if event == "StartTls" {
            drain(&mut server, &mut out);
            server.tls_started().unwrap();
        } else if event == "Update" {
            let line = String::from_utf8_lossy(&last_line)
                .trim()
                .to_ascii_uppercase();
            assert_eq!(line, "QUIT", "UPDATE after {line:?}");
            server.answer_update(true).unwrap();
        } else {
            panic!("unknown event {event}");
        }
        let shown = format!("{server:?}");
        assert!(!shows_pw(&shown), "a secret in {shown}");
    }
    for line in out.split(|b| *b == b'\n') {
        assert!(line.len() < 512, "output line of {} octets", line.len());
    }
});

/// Whether a `Debug` text shows the password "pw" as bytes (a derived `Debug`
/// of a byte buffer prints `112, 119`).
fn shows_pw(text: &str) -> bool {
    text.contains("112, 119")
}

/// Moves every reply byte the server has into `out`.
fn drain(server: &mut Server, out: &mut Vec<u8>) {
    let mut tx = [0u8; 256];
    loop {
        let n = server.poll_transmit(&mut tx);
        if n == 0 {
            return;
        }
        out.extend_from_slice(&tx[..n]);
    }
}
