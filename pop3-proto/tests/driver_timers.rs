//! The server driver's timers and limits with exact bytes: a message that takes
//! longer than the idle timer to send is not cut; the last failed login's reply is
//! sent after its delay before the connection closes; a line longer than the
//! caller's receive buffer is refused, not waited for.

mod common;

use common::app::{App, OwnedEvent};
use pop3_proto::driver::{ServerDriver, ServerPoll as Poll};
use pop3_proto::server::{Server, ServerConfig};
use pop3_proto::time::Instant;

const T0: Instant = Instant::from_millis(1_000);
const MINUTE: u64 = 60_000;

fn config() -> ServerConfig {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.allow_plaintext_auth = true;
    c.auth_failure_delay_ms = 0;
    c
}

type Driver = ServerDriver<[u8; 512], Vec<u8>, Vec<u8>>;

fn driver(config: ServerConfig, rx: usize, tx: usize) -> Driver {
    ServerDriver::new(Server::new(config, T0, [7; 32]), vec![0; rx], vec![0; tx])
}

/// Sends what the driver has, answers events from `app` (bodies `piece` bytes at a
/// time), until it needs input or closes; returns the bytes and the last poll.
fn run(d: &mut Driver, app: &mut App, now: Instant) -> (Vec<u8>, Poll) {
    let mut sent = Vec::new();
    for _ in 0..100_000 {
        match d.poll(now).unwrap() {
            Poll::Transmit => {
                sent.extend_from_slice(d.transmit());
                let n = d.transmit().len();
                d.transmitted(n);
            }
            Poll::Event => {
                let event = OwnedEvent::from(&d.event().unwrap());
                let mut sink = Vec::new();
                event.answer(app, d.server(), now, &mut sink);
                sent.extend_from_slice(&sink);
            }
            other => return (sent, other),
        }
    }
    panic!("no progress");
}

fn send(d: &mut Driver, line: &[u8]) {
    d.input()[..line.len()].copy_from_slice(line);
    d.received(line.len());
}

/// A message read slowly for 25 minutes (past the 10-minute idle timer) arrives
/// whole; the timer runs again from the last write.
#[test]
fn a_slow_message_is_not_cut_by_the_idle_timer() {
    let mut app = App::demo();
    let body: String = (0..30)
        .map(|i| format!("line {i:02} of a slow message\r\n"))
        .collect();
    app.messages[1].raw = format!("Subject: slow\r\n\r\n{body}").into_bytes();
    let mut d = driver(config(), 1024, 64);
    run(&mut d, &mut app, T0);
    send(&mut d, b"USER alice\r\nPASS wonder land\r\n");
    run(&mut d, &mut app, T0);
    send(&mut d, b"RETR 2\r\n");
    // The client reads one 64-byte write a minute.
    let raw = app.messages[1].raw.clone();
    let mut rest = &raw[..];
    let mut sent = Vec::new();
    let mut minute = 0;
    loop {
        let now = T0.plus_millis(minute * MINUTE);
        match d.poll(now).unwrap() {
            Poll::Transmit => {
                sent.extend_from_slice(d.transmit());
                let n = d.transmit().len();
                d.transmitted(n);
                minute += 1;
            }
            Poll::Event if !rest.is_empty() => {
                let taken = d.body(rest).unwrap();
                rest = &rest[taken..];
            }
            Poll::Event => d.server().body_end().unwrap(),
            Poll::NeedInput { deadline } => {
                assert_eq!(
                    deadline,
                    Some(T0.plus_millis(minute * MINUTE + 10 * MINUTE))
                );
                break;
            }
            other => panic!("{other:?} after {minute} minutes"),
        }
        assert!(minute < 100);
    }
    assert!(minute > 10, "the transfer outlived the idle timer");
    assert_eq!(
        String::from_utf8(sent).unwrap(),
        format!("+OK Message follows\r\nSubject: slow\r\n\r\n{body}.\r\n")
    );
}

/// The failed login that reaches the bad-command limit still gets its reply, after
/// the delay, and only then is the connection closed.
#[test]
fn the_last_failed_login_is_answered_before_closing() {
    let mut c = config();
    c.auth_failure_delay_ms = 2_000;
    c.max_bad_commands = 1;
    let mut app = App::demo();
    let mut d = driver(c, 1024, 4096);
    run(&mut d, &mut app, T0);
    send(&mut d, b"USER alice\r\nPASS wrong\r\n");
    let (sent, poll) = run(&mut d, &mut app, T0);
    assert_eq!(sent, b"+OK\r\n");
    assert_eq!(
        poll,
        Poll::NeedInput {
            deadline: Some(T0.plus_millis(2_000))
        }
    );
    let (sent, poll) = run(&mut d, &mut app, T0.plus_millis(1_999));
    assert_eq!(
        (sent.len(), poll),
        (
            0,
            Poll::NeedInput {
                deadline: Some(T0.plus_millis(2_000))
            }
        )
    );
    let (sent, poll) = run(&mut d, &mut app, T0.plus_millis(2_000));
    assert_eq!(sent, b"-ERR [AUTH] Authentication failed\r\n");
    assert_eq!(poll, Poll::Closed);
}

/// A SASL line longer than the receive buffer (the SASL limit is 2048 octets, the
/// buffer 512) is answered and dropped instead of filling the buffer for good.
#[test]
fn a_line_longer_than_the_receive_buffer_is_refused() {
    let mut app = App::demo();
    let mut d = ServerDriver::new(
        Server::new(config(), T0, [7; 32]),
        [0u8; 512],
        vec![0u8; 4096],
    );
    let mut sent = Vec::new();
    let mut junk_left = 600;
    for _ in 0..1_000 {
        match d.poll(T0).unwrap() {
            Poll::Transmit => {
                sent.extend_from_slice(d.transmit());
                let n = d.transmit().len();
                d.transmitted(n);
            }
            Poll::Event => {
                let event = OwnedEvent::from(&d.event().unwrap());
                event.answer(&mut app, d.server(), T0, &mut Vec::new());
            }
            Poll::NeedInput { .. } if sent.starts_with(b"+OK POP3") && junk_left == 600 => {
                let line = b"AUTH PLAIN\r\n";
                d.input()[..line.len()].copy_from_slice(line);
                d.received(line.len());
                junk_left -= 1;
            }
            Poll::NeedInput { .. } if junk_left > 0 => {
                let input = d.input();
                assert!(!input.is_empty(), "the buffer filled up and stayed full");
                let n = input.len().min(junk_left);
                input[..n].fill(b'A');
                d.received(n);
                junk_left -= n;
            }
            Poll::NeedInput { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        String::from_utf8(sent).unwrap(),
        "+OK POP3 server ready\r\n+ \r\n-ERR Line too long\r\n"
    );
}
