//! The client adapters' timeouts: a server that never answers ends `next()` with a
//! typed error (tokio, blocking over TCP), and tokio's and the embedded-io-async
//! client's `next()` are cancel-safe: they may be wrapped in `tokio::time::timeout`
//! and called again without losing or repeating a byte.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use pop3_proto::client::{Client, ClientConfig, ClientError, ClientEvent};
use pop3_proto::tokio::{ClientConn, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(ms: u32) -> ClientConfig {
    ClientConfig {
        greeting_timeout_ms: ms,
        reply_timeout_ms: ms,
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn tokio_next_gives_up_on_a_silent_server() {
    let (ours, _server) = tokio::io::duplex(1024);
    let mut conn = ClientConn::new(ours, Client::new(config(200), [1; 32]));
    let start = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), conn.next())
        .await
        .expect("next() must give up by itself");
    assert!(
        matches!(r, Err(Error::Client(ClientError::GreetingTimeout))),
        "{r:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(190));
}

#[tokio::test]
async fn tokio_next_gives_up_on_a_reply_that_never_comes() {
    let (ours, mut server) = tokio::io::duplex(1024);
    let mut conn = ClientConn::new(ours, Client::new(config(200), [1; 32]));
    server.write_all(b"+OK ready\r\n").await.unwrap();
    let greeting = conn.next().await.unwrap();
    assert!(matches!(greeting, Some(ClientEvent::Greeting { .. })));
    // CAPA leaves (auto_capa) and nothing answers it.
    let r = tokio::time::timeout(Duration::from_secs(10), conn.next())
        .await
        .expect("next() must give up by itself");
    assert!(
        matches!(r, Err(Error::Client(ClientError::ReplyTimeout))),
        "{r:?}"
    );
}

/// A server that trickles its greeting a byte at a time, reads the client's command
/// line slowly, a byte at a time, and trickles its CAPA reply; returns what it read.
async fn trickling_server(mut server: tokio::io::DuplexStream) -> Vec<u8> {
    for b in b"+OK trickled greeting\r\n" {
        server.write_all(&[*b]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // CAPA arrives through the 4-byte pipe while the client is cancelled.
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut b = [0u8; 1];
        server.read_exact(&mut b).await.unwrap();
        got.push(b[0]);
    }
    for b in b"+OK\r\nTOP\r\nUIDL\r\n.\r\n" {
        server.write_all(&[*b]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    got
}

/// Calls `$conn.next()` under a 2 ms timeout again and again until the session
/// ends (bounded to 20 s); the events as text, and how often `next()` was dropped.
/// A macro, as the two adapters' `next()` are inherent methods with their own
/// error types.
macro_rules! next_under_timeouts {
    ($conn:expr) => {{
        let mut events = Vec::new();
        let mut cancelled = 0;
        let give_up = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < give_up, "no progress: {events:?}");
            match tokio::time::timeout(Duration::from_millis(2), $conn.next()).await {
                Err(_) => cancelled += 1,
                Ok(Ok(Some(ClientEvent::Greeting { text, .. }))) => {
                    events.push(format!("Greeting {}", String::from_utf8_lossy(text)))
                }
                Ok(Ok(Some(e))) => events.push(format!("{e:?}")),
                Ok(Ok(None)) => break,
                Ok(Err(e)) => panic!("{e:?}"),
            }
        }
        (events, cancelled)
    }};
}

/// What the trickling server's session must give whatever drops `next()`: every
/// command byte once, every event whole and once.
async fn assert_trickled_session(
    events: Vec<String>,
    cancelled: u32,
    peer: tokio::task::JoinHandle<Vec<u8>>,
) {
    assert!(cancelled > 5, "the test must cancel next() ({cancelled})");
    let got = tokio::time::timeout(Duration::from_secs(5), peer).await;
    assert_eq!(got.expect("the server got its bytes").unwrap(), b"CAPA\r\n");
    assert_eq!(
        events,
        [
            "Greeting trickled greeting",
            "Capability(Top)",
            "Capability(Uidl)",
            "CapabilitiesEnd"
        ]
    );
}

/// `next()` under a 2 ms timeout, called again and again: a server that trickles
/// its greeting a byte at a time and reads slowly through a 4-byte pipe gets every
/// command byte once, and the client every reply byte.
#[tokio::test]
async fn tokio_next_is_cancel_safe() {
    let (ours, server) = tokio::io::duplex(4);
    let mut conn = ClientConn::new(ours, Client::new(ClientConfig::default(), [1; 32]));
    let peer = tokio::spawn(trickling_server(server));
    let (events, cancelled) = next_under_timeouts!(conn);
    assert_trickled_session(events, cancelled, peer).await;
}

#[test]
fn blocking_next_gives_up_on_a_silent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut sink = Vec::new();
        let _ = tcp.read_to_end(&mut sink);
    });
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut conn = pop3_proto::blocking::ClientConn::new(tcp, Client::new(config(300), [1; 32]))
        .with_timeouts();
    let start = Instant::now();
    let r = conn.next(|_| ());
    assert!(
        matches!(
            r,
            Err(pop3_proto::blocking::Error::Client(
                ClientError::GreetingTimeout
            ))
        ),
        "{r:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(290));
    assert!(start.elapsed() < Duration::from_secs(10));
    drop(conn);
    silent.join().unwrap();
}

/// The async embedded client enforces its timeouts with the executor's timer it is
/// given (`next_within`): here tokio's, through `embedded-io-adapters`.
#[tokio::test]
async fn embedded_async_next_within_gives_up_on_a_silent_server() {
    use embedded_io_adapters::tokio_1::FromTokio;
    use pop3_proto::embedded::{AsyncClientConn, Error as EmbeddedError};
    let (ours, _server) = tokio::io::duplex(1024);
    let mut conn: AsyncClientConn<_, 1024, 512> =
        AsyncClientConn::new(FromTokio::new(ours), Client::new(config(200), [1; 32]))
            .with_clock(pop3_proto::tokio::now);
    let start = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        conn.next_within(tokio::time::sleep),
    )
    .await
    .expect("next_within() must give up by itself");
    assert!(
        matches!(r, Err(EmbeddedError::Client(ClientError::GreetingTimeout))),
        "{r:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(190));
}

/// The embedded-io-async client's `next()` is cancel-safe too (as documented): over
/// tokio through `embedded-io-adapters`, the same trickling server and the same
/// 2 ms timeout that drops `next()` mid-greeting, mid-command and mid-reply; every
/// command byte arrives once, and every event comes whole and once.
#[tokio::test]
async fn embedded_async_next_is_cancel_safe() {
    use embedded_io_adapters::tokio_1::FromTokio;
    use pop3_proto::embedded::AsyncClientConn;
    let (ours, server) = tokio::io::duplex(4);
    let mut conn: AsyncClientConn<_, 1024, 512> = AsyncClientConn::new(
        FromTokio::new(ours),
        Client::new(ClientConfig::default(), [1; 32]),
    );
    let peer = tokio::spawn(trickling_server(server));
    let (events, cancelled) = next_under_timeouts!(conn);
    assert_trickled_session(events, cancelled, peer).await;
}
