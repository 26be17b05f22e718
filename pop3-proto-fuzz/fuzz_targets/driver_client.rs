//! A `ClientDriver` fed arbitrary server bytes in arbitrary pieces, driven by the
//! documented loop with arbitrary partial writes, clock jumps (past every deadline),
//! zero-length reads (EOF) and buffer sizes from the minimum up. Besides "no panic":
//! every `Poll` is one the loop rule allows in that state (Transmit has bytes, Event
//! has an event, NeedInput owes nothing and its deadline is ahead, Idle means idle,
//! Closed means closed and stays so with nothing more to send), an error closes the
//! client, message data comes only between MessageStart and MessageEnd of the same
//! message, and the buffers are all the memory there is.
//!
//! Input layout: 8 header bytes (flags, receive and transmit buffer growth, read and
//! write piece sizes, clock step, a pseudo-random seed, unused), 8 commands to queue
//! (as in `client_stream`), then what the server sends after a fixed greeting (so
//! that seeds are plain transcripts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login, SaslMechanism};
use pop3_proto::driver::{ClientDriver, Poll, MIN_CLIENT_RECEIVE, MIN_CLIENT_TRANSMIT};
use pop3_proto::time::Instant;

struct Rng(u32);
impl Rng {
    fn next(&mut self, max: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as usize) % max.max(1)
    }
}

const MECHANISMS: [SaslMechanism; 6] = [
    SaslMechanism::Plain,
    SaslMechanism::Login,
    SaslMechanism::CramMd5,
    SaslMechanism::ScramSha256,
    SaslMechanism::XOAuth2,
    SaslMechanism::OAuthBearer,
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let h = &data[..8];
    let commands = &data[8..16];
    let mut wire = b"+OK ready <1.2@fuzz>\r\n".to_vec();
    wire.extend_from_slice(&data[16..]);
    let flags = h[0];
    let rx_size = MIN_CLIENT_RECEIVE + usize::from(h[1]) * 4;
    let tx_size = MIN_CLIENT_TRANSMIT + usize::from(h[2]) * 4;
    let read_piece = usize::from(h[3].max(1));
    let write_piece = usize::from(h[4].max(1));
    let clock_step = u64::from(h[5]) * 1_000;
    let mut rng = Rng(u32::from(h[6]) * 7919 + 1);
    let client = Client::new(
        ClientConfig {
            allow_plaintext: true,
            tls: flags & 1 != 0,
            auto_capa: flags & 2 != 0,
            ..ClientConfig::default()
        },
        [7; 32],
    );
    let mut driver = ClientDriver::new(client, vec![0u8; rx_size], vec![0u8; tx_size]);
    let mut now = Instant::from_millis(1_000);
    let mut queued = commands.iter();
    let mut login: Option<Login<'static>> = None;
    let mut offset = 0;
    let mut closed = false;
    let mut sent_after_close = 0usize;
    let mut in_message: Option<u32> = None;
    let mut stalls = 0u32;
    for _ in 0..200_000 {
        // Queue the next command now and then (pipelining), or when idle.
        if !closed && (driver.client_ref().is_idle() || rng.next(3) == 0) {
            if let Some(c) = queued.next() {
                let n = u32::from(*c >> 4);
                let client = driver.client();
                let l = match c & 15 {
                    0 => client.stat().map(|_| None),
                    1 => client.list(None).map(|_| None),
                    2 => client.list(Some(n)).map(|_| None),
                    3 => client.uidl(None).map(|_| None),
                    4 => client.retr(n).map(|_| None),
                    5 => client.top(n, 2).map(|_| None),
                    6 => client.dele(n).map(|_| None),
                    7 => Ok(Some(Login::UserPass {
                        user: b"u",
                        password: b"p",
                    })),
                    8 => Ok(Some(Login::Sasl {
                        mechanism: MECHANISMS[usize::from(*c >> 4) % MECHANISMS.len()],
                        authzid: b"",
                        user: b"u",
                        secret: b"p",
                    })),
                    9 => client.capa().map(|_| None),
                    10 => client.stls().map(|_| None),
                    11 => client.lang(None).map(|_| None),
                    12 => client.rset().map(|_| None),
                    13 => Ok(Some(Login::Apop {
                        user: b"u",
                        secret: b"s",
                    })),
                    14 => client.noop().map(|_| None),
                    _ => client.quit().map(|_| None),
                };
                if let Ok(Some(l)) = l {
                    if driver.client().login(l).is_ok() {
                        login = Some(l);
                    }
                }
            }
        }
        let poll = match driver.poll(now) {
            Ok(p) => p,
            Err(e) => {
                assert!(
                    driver.client_ref().is_closed(),
                    "{e:?} left the client open"
                );
                // After an error the loop stops; polling again must not revive it.
                match driver.poll(now) {
                    Ok(Poll::Transmit) => {
                        sent_after_close += driver.transmit().len();
                    }
                    Ok(Poll::Event) | Ok(Poll::Idle) => {
                        panic!("a poll after {e:?} answers {:?}", driver.poll(now))
                    }
                    _ => {}
                }
                break;
            }
        };
        if closed {
            assert_eq!(poll, Poll::Closed, "a poll after Closed");
        }
        match poll {
            Poll::Transmit => {
                // What waits to be sent may be a PASS line or an AUTH answer: the
                // driver's Debug (the client's state, its buffers) never shows it.
                let shown = format!("{driver:?}");
                assert!(!shown.contains("80, 65, 83, 83"), "bytes in {shown}");
                let pending = driver.transmit();
                assert!(!pending.is_empty(), "Transmit without bytes");
                assert!(pending.len() <= tx_size);
                let n = if rng.next(16) == 0 {
                    stalls += 1;
                    assert!(stalls < 10_000);
                    0
                } else {
                    pending.len().min(1 + rng.next(write_piece))
                };
                driver.transmitted(n);
            }
            Poll::Event => {
                let mut start_tls = false;
                match driver.event().expect("Event without an event") {
                    ClientEvent::NeedCredentials { .. } => {
                        let l = login.expect("credentials asked without a login");
                        if driver.credentials(&l).is_err() {
                            assert!(driver.client_ref().is_closed());
                        }
                        continue;
                    }
                    ClientEvent::MessageStart { msg } => {
                        assert_eq!(in_message, None);
                        in_message = Some(msg);
                    }
                    ClientEvent::MessageData { msg, data } => {
                        assert_eq!(in_message, Some(msg));
                        assert!(data.len() <= rx_size);
                    }
                    ClientEvent::MessageEnd { msg } => {
                        assert_eq!(in_message.take(), Some(msg));
                    }
                    ClientEvent::StartTls => start_tls = true,
                    _ => {}
                }
                if start_tls {
                    let _ = driver.tls_started();
                }
            }
            Poll::NeedInput { deadline } => {
                assert!(driver.transmit().is_empty(), "NeedInput while owing bytes");
                assert!(!driver.client_ref().is_closed(), "NeedInput when closed");
                if let Some(d) = deadline {
                    assert!(now < d, "NeedInput with a deadline already passed");
                }
                if offset == wire.len() {
                    // The server is silent: jump past the deadline, or EOF (a
                    // zero-length read ends the loop, as in the adapters).
                    match deadline {
                        Some(d) if flags & 4 != 0 => {
                            now = d.plus_millis(1);
                            continue;
                        }
                        _ => {
                            driver.received(0);
                            break;
                        }
                    }
                }
                let input = driver.input();
                assert!(!input.is_empty(), "NeedInput with a full receive buffer");
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
            Poll::Idle => {
                assert!(driver.client_ref().is_idle(), "Idle when not idle");
                assert!(driver.transmit().is_empty(), "Idle while owing bytes");
                if queued.len() == 0 {
                    break;
                }
            }
            Poll::Closed => {
                assert!(driver.client_ref().is_closed(), "Closed when not closed");
                assert!(driver.transmit().is_empty(), "Closed while owing bytes");
                if closed {
                    break;
                }
                closed = true;
            }
        }
    }
    assert_eq!(sent_after_close, 0, "bytes to transmit after an error");
});
