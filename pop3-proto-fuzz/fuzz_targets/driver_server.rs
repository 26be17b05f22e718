//! A `ServerDriver` fed arbitrary client bytes in arbitrary pieces, driven by the
//! documented loop with arbitrary partial writes, clock jumps (past every deadline),
//! buffer sizes from the minimum up and an optional write batch. Besides "no panic":
//! every `ServerPoll` is one the loop rule allows (Transmit has bytes, Event has an
//! event, NeedInput owes nothing unless a batch is pending, Closed stays closed and
//! sends nothing more), the server never answers more status lines than it got
//! command lines, never serves a deleted or unknown message, updates only after a
//! QUIT arrived, and keeps to its buffers.
//!
//! Input layout: 8 header bytes (flags, receive and transmit buffer growth, read
//! and write piece sizes, clock step, write batch, a pseudo-random seed), then the
//! client's bytes (so that seeds are plain transcripts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3_proto::driver::{ServerDriver, ServerPoll, MIN_SERVER_RECEIVE, MIN_SERVER_TRANSMIT};
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::time::Instant;

/// No body line starts with "+OK" or "-ERR", so status lines can be counted.
const MESSAGES: [&[u8]; 5] = [
    b"Subject: a\n\nline\n.dot\n..two\n.\n",
    b"Subject: b\r\n\r\nbody\r\n",
    b"",
    b"Subject: d\n\nno newline",
    b"\r\n\n\r.\r\n",
];

/// A small generator for the piece sizes, from the input's seed byte.
struct Rng(u32);
impl Rng {
    fn next(&mut self, max: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as usize) % max.max(1)
    }
}

/// An event copied out of the driver's receive buffer.
#[derive(Debug)]
enum Owned {
    Check(bool),
    Secret,
    Open,
    Size(u32),
    Uid(u32),
    Retrieve(u32),
    StartTls,
    Update,
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let h = &data[..8];
    let wire = &data[8..];
    let flags = h[0];
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
    config.auth_failure_delay_ms = if flags & 8 != 0 { 0 } else { 2_000 };
    let rx_size = MIN_SERVER_RECEIVE + usize::from(h[1]) * 4;
    let tx_size = MIN_SERVER_TRANSMIT + usize::from(h[2]) * 8;
    let read_piece = usize::from(h[3].max(1));
    let write_piece = usize::from(h[4].max(1));
    let clock_step = u64::from(h[5]) * 1_000;
    let mut rng = Rng(u32::from(h[7]) * 7919 + 1);
    let mut now = Instant::from_millis(1_000);
    let mut driver = ServerDriver::new(
        Server::new(config, now, [1; 32]),
        vec![0u8; rx_size],
        vec![0u8; tx_size],
    );
    let batch = if flags & 16 != 0 {
        usize::from(h[6]) * 16
    } else {
        0
    };
    driver.set_write_batch(batch);
    let mut out: Vec<u8> = Vec::new();
    let mut offset = 0;
    let mut closed = false;
    let mut idle_polls = 0u32;
    for _ in 0..200_000 {
        let poll = match driver.poll(now) {
            Ok(p) => p,
            Err(e) => panic!("the server driver fails with {e:?} on a loop that follows the rule"),
        };
        if closed {
            assert_eq!(poll, ServerPoll::Closed, "a poll after Closed");
        }
        match poll {
            ServerPoll::Transmit => {
                let pending = driver.transmit();
                assert!(!pending.is_empty(), "Transmit without bytes");
                assert!(pending.len() <= tx_size);
                // An arbitrary partial write, sometimes none at all.
                let n = if rng.next(16) == 0 {
                    0
                } else {
                    pending.len().min(1 + rng.next(write_piece))
                };
                out.extend_from_slice(&pending[..n]);
                driver.transmitted(n);
                if n == 0 {
                    idle_polls += 1;
                    assert!(idle_polls < 10_000);
                }
            }
            ServerPoll::Event => {
                let event = match driver.event().expect("Event without an event") {
                    ServerEvent::CheckPassword { password, .. } => Owned::Check(password == b"pw"),
                    ServerEvent::CheckToken { token, .. } => Owned::Check(token == b"pw"),
                    ServerEvent::CheckExternal { .. } => Owned::Check(true),
                    ServerEvent::NeedSecret { .. } => Owned::Secret,
                    ServerEvent::OpenMaildrop { .. } => Owned::Open,
                    ServerEvent::Size { msg } => Owned::Size(msg),
                    ServerEvent::Uid { msg } => Owned::Uid(msg),
                    ServerEvent::Retrieve { msg, .. } => Owned::Retrieve(msg),
                    ServerEvent::StartTls => Owned::StartTls,
                    ServerEvent::Update => Owned::Update,
                };
                // Waiting for this answer, the session may hold the password
                // ("pw") it asks about: its Debug, buffers included, must not show it.
                let shown = format!("{driver:?}");
                assert!(!shown.contains("112, 119"), "a secret in {shown}");
                let server = driver.server();
                match event {
                    Owned::Check(ok) => server.answer_password(ok, now).unwrap(),
                    Owned::Secret => server.answer_secret(Some(b"pw"), now).unwrap(),
                    Owned::Open => {
                        let size = MESSAGES
                            .iter()
                            .map(|m| pop3_proto::codec::body::wire_size(m))
                            .sum();
                        server
                            .answer_open(Open::Opened {
                                count: MESSAGES.len() as u32,
                                size,
                            })
                            .unwrap()
                    }
                    Owned::Size(msg) | Owned::Uid(msg) | Owned::Retrieve(msg) => {
                        assert!(
                            (1..=MESSAGES.len() as u32).contains(&msg),
                            "message {msg} out of range"
                        );
                        assert!(!server.is_deleted(msg), "deleted message {msg} served");
                        let body = MESSAGES[msg as usize - 1];
                        match event {
                            Owned::Size(_) => server
                                .answer_size(pop3_proto::codec::body::wire_size(body))
                                .unwrap(),
                            Owned::Uid(_) => {
                                server.answer_uid(format!("u{msg}").as_bytes()).unwrap()
                            }
                            _ => {
                                let mut rest = body;
                                let mut rounds = 0;
                                while !rest.is_empty() && !driver.server_ref().body_done() {
                                    rounds += 1;
                                    assert!(rounds < 100_000, "body makes no progress");
                                    let piece = &rest[..rest.len().min(1 + rng.next(64))];
                                    let taken = driver.body(piece).unwrap();
                                    if taken == 0 {
                                        // Full: poll says Transmit, write it all.
                                        assert_eq!(driver.poll(now).unwrap(), ServerPoll::Transmit);
                                        let pending = driver.transmit();
                                        assert!(!pending.is_empty());
                                        out.extend_from_slice(pending);
                                        let n = pending.len();
                                        driver.transmitted(n);
                                    }
                                    rest = &rest[taken..];
                                }
                                driver.server().body_end().unwrap();
                            }
                        }
                    }
                    Owned::StartTls => driver.tls_started().unwrap(),
                    Owned::Update => {
                        let got = String::from_utf8_lossy(&wire[..offset]).to_ascii_uppercase();
                        assert!(got.contains("QUIT"), "UPDATE without a QUIT");
                        server.answer_update(true).unwrap();
                    }
                }
            }
            ServerPoll::NeedInput { deadline } => {
                if batch == 0 {
                    assert!(driver.transmit().is_empty(), "NeedInput while owing bytes");
                }
                if let Some(d) = deadline {
                    assert!(now < d, "NeedInput with a deadline already passed");
                }
                if offset == wire.len() {
                    // The client is silent: jump past the deadline (if any), else EOF.
                    match deadline {
                        Some(d) if flags & 32 != 0 => {
                            now = d.plus_millis(1);
                            idle_polls += 1;
                            assert!(idle_polls < 10_000);
                            continue;
                        }
                        _ => break,
                    }
                }
                let input = driver.input();
                let n = input
                    .len()
                    .min(1 + rng.next(read_piece))
                    .min(wire.len() - offset);
                input[..n].copy_from_slice(&wire[offset..offset + n]);
                driver.received(n);
                offset += n;
                if rng.next(4) == 0 {
                    now = now.plus_millis(clock_step);
                }
            }
            ServerPoll::Closed => {
                assert!(driver.transmit().is_empty(), "Closed while owing bytes");
                if closed {
                    break;
                }
                closed = true;
            }
        }
    }
    // One reply per command line (plus the greeting, plus one for a last line cut
    // short, plus the login deadline's, which answers no line): SASL
    // continuations ("+ ") and listing lines are not status lines.
    let replies = out
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(b"+OK") || l.starts_with(b"-ERR"))
        .count();
    let deadline = usize::from(out.ends_with(b"-ERR Login took too long\r\n"));
    let lines = wire[..offset].iter().filter(|b| **b == b'\n').count();
    assert!(
        replies <= lines + 2 + deadline,
        "{replies} replies to {lines} lines: {:?}",
        String::from_utf8_lossy(&out)
    );
    for line in out.split(|b| *b == b'\n') {
        assert!(line.len() < 512, "output line of {} octets", line.len());
    }
});
