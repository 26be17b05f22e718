//! The client's greeting and reply timeouts: `NeedInput` carries the deadline, a
//! poll past it is a typed, fatal error; a server that keeps sending never times
//! out, an idle client has no deadline.

use pop3_proto::client::{Client, ClientConfig, ClientError, DEFAULT_TIMEOUT_MS};
use pop3_proto::driver::{ClientDriver, Poll};
use pop3_proto::time::Instant;

const T0: Instant = Instant::from_millis(5_000);

fn at(ms: u64) -> Instant {
    T0.plus_millis(ms)
}

fn driver(config: ClientConfig) -> ClientDriver<[u8; 1024], [u8; 512]> {
    ClientDriver::new(Client::new(config, [3; 32]), [0; 1024], [0; 512])
}

fn feed(d: &mut ClientDriver<[u8; 1024], [u8; 512]>, bytes: &[u8]) {
    d.input()[..bytes.len()].copy_from_slice(bytes);
    d.received(bytes.len());
}

fn quiet() -> ClientConfig {
    ClientConfig {
        auto_capa: false,
        ..ClientConfig::default()
    }
}

#[test]
fn defaults_are_two_minutes() {
    let c = ClientConfig::default();
    assert_eq!(c.greeting_timeout_ms, 120_000);
    assert_eq!(c.reply_timeout_ms, 120_000);
    assert_eq!(DEFAULT_TIMEOUT_MS, 120_000);
}

#[test]
fn a_missing_greeting_times_out() {
    let mut config = quiet();
    config.greeting_timeout_ms = 30_000;
    let mut d = driver(config);
    assert_eq!(
        d.poll(T0),
        Ok(Poll::NeedInput {
            deadline: Some(at(30_000))
        })
    );
    assert_eq!(
        d.poll(at(29_999)),
        Ok(Poll::NeedInput {
            deadline: Some(at(30_000))
        })
    );
    assert_eq!(d.poll(at(30_000)), Err(ClientError::GreetingTimeout));
    assert!(d.client_ref().is_closed());
    assert_eq!(d.poll(at(30_001)), Ok(Poll::Closed));
}

#[test]
fn a_silent_reply_times_out_and_bytes_keep_it_alive() {
    let mut config = quiet();
    config.reply_timeout_ms = 10_000;
    let mut d = driver(config);
    assert!(matches!(d.poll(T0), Ok(Poll::NeedInput { .. })));
    feed(&mut d, b"+OK hello\r\n");
    assert_eq!(d.poll(at(1)), Ok(Poll::Event));
    // Idle: nothing is due, no deadline however long it stays so.
    assert_eq!(d.poll(at(2)), Ok(Poll::Idle));
    assert_eq!(d.poll(at(1_000_000)), Ok(Poll::Idle));
    // A command leaves at 1,000,000: its reply is due 10 s later.
    d.client().capa().unwrap();
    assert_eq!(d.poll(at(1_000_000)), Ok(Poll::Transmit));
    let n = d.transmit().len();
    d.transmitted(n);
    assert_eq!(
        d.poll(at(1_000_000)),
        Ok(Poll::NeedInput {
            deadline: Some(at(1_010_000))
        })
    );
    // Part of the message at 1,009,000: the clock starts again.
    feed(&mut d, b"+OK\r\nTOP\r\n");
    assert_eq!(d.poll(at(1_009_000)), Ok(Poll::Event)); // Capability(TOP)
    assert_eq!(
        d.poll(at(1_009_000)),
        Ok(Poll::NeedInput {
            deadline: Some(at(1_019_000))
        })
    );
    assert_eq!(d.poll(at(1_019_000)), Err(ClientError::ReplyTimeout));
    assert!(d.client_ref().is_closed());
}

#[test]
fn zero_means_no_limit() {
    let mut config = quiet();
    config.greeting_timeout_ms = 0;
    let mut d = driver(config);
    assert_eq!(d.poll(T0), Ok(Poll::NeedInput { deadline: None }));
    assert_eq!(
        d.poll(at(u32::MAX as u64)),
        Ok(Poll::NeedInput { deadline: None })
    );
}
