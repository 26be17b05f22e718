//! Buffers too small for the role are a clear error at the first `poll`, for both
//! drivers and both buffers: never a spin (a zero-length transmit buffer), never a
//! `NeedInput` with an empty `input()` that a read loop takes for EOF.

use pop3_proto::client::{Client, ClientConfig, ClientError};
use pop3_proto::driver::{
    ClientDriver, Poll, ServerDriver, ServerPoll, MIN_CLIENT_RECEIVE, MIN_CLIENT_TRANSMIT,
    MIN_SERVER_RECEIVE, MIN_SERVER_TRANSMIT,
};
use pop3_proto::server::{Server, ServerConfig, ServerError};
use pop3_proto::time::Instant;

const T0: Instant = Instant::from_millis(0);

fn client(rx: usize, tx: usize) -> Result<Poll, ClientError> {
    let c = Client::new(ClientConfig::default(), [1; 32]);
    let mut d = ClientDriver::new(c, vec![0u8; rx], vec![0u8; tx]);
    d.poll(T0)
}

fn server(rx: usize, tx: usize) -> Result<ServerPoll, ServerError> {
    let s = Server::new(ServerConfig::new("pop.example.org"), T0, [1; 32]);
    let mut d = ServerDriver::new(s, vec![0u8; rx], vec![0u8; tx]);
    // At most a few polls: a driver that spins would never return an error.
    for _ in 0..10 {
        match d.poll(T0)? {
            ServerPoll::Transmit => {
                let n = d.transmit().len();
                d.transmitted(n);
            }
            other => return Ok(other),
        }
    }
    panic!("the server driver spins");
}

#[test]
fn the_minimums_are_the_protocol_lines() {
    assert_eq!(MIN_CLIENT_RECEIVE, 512); // a status or listing line
    assert_eq!(MIN_CLIENT_TRANSMIT, 255); // a command line
    assert_eq!(MIN_SERVER_RECEIVE, 255); // a command line
    assert_eq!(MIN_SERVER_TRANSMIT, 32); // a reply leaves in pieces
}

#[test]
fn a_client_with_a_small_buffer_fails_at_the_first_poll() {
    for (rx, tx) in [(0, 512), (511, 512), (512, 0), (512, 254), (0, 0)] {
        assert_eq!(
            client(rx, tx),
            Err(ClientError::BuffersTooSmall),
            "receive {rx}, transmit {tx}"
        );
    }
    assert!(matches!(client(512, 255), Ok(Poll::NeedInput { .. })));
}

#[test]
fn a_server_with_a_small_buffer_fails_at_the_first_poll() {
    // `Vec::with_capacity(4096)` is a zero-length buffer.
    let empty: Vec<u8> = Vec::with_capacity(4096);
    assert_eq!(empty.len(), 0);
    for (rx, tx) in [(1024, 0), (1024, 31), (0, 1024), (254, 1024), (0, 0)] {
        assert_eq!(
            server(rx, tx),
            Err(ServerError::BuffersTooSmall),
            "receive {rx}, transmit {tx}"
        );
    }
    assert!(matches!(server(255, 32), Ok(ServerPoll::NeedInput { .. })));
}
