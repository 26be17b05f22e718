//! The adapters run over any stream of their kind, so that a backend can be tested
//! in memory: the blocking server and client over a `UnixStream` pair (no TLS,
//! optional timeouts), the tokio server and client over `tokio::io::duplex`.

use std::os::unix::net::UnixStream;

use pop3_proto::blocking::{self, Answer, Backend};
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent, Tls};

const MESSAGE: &[u8] = b"Subject: hi\r\n\r\n.dot\r\n";

struct OneMessage;

impl Backend for OneMessage {
    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_> {
        match event {
            ServerEvent::CheckPassword { user, password, .. } => {
                Answer::Verdict(user == b"alice" && password == b"secret")
            }
            ServerEvent::OpenMaildrop { .. } => Answer::Open(Open::Opened {
                count: 1,
                size: MESSAGE.len() as u64,
            }),
            ServerEvent::Retrieve { .. } => Answer::MessageBytes(MESSAGE),
            ServerEvent::Size { .. } => Answer::Size(MESSAGE.len() as u64),
            _ => Answer::Verdict(false),
        }
    }

    fn update(&mut self, _deleted: &[u32]) -> bool {
        true
    }
}

fn server_config() -> ServerConfig {
    let mut c = ServerConfig::new("pop.example.org");
    c.allow_plaintext_auth = true; // in memory, not the Internet
    c
}

fn client() -> Client {
    let config = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    Client::new(config, [5; 32])
}

/// Logs in, fetches message 1 and quits through the blocking client.
fn fetch(conn: &mut blocking::ClientConn<UnixStream>) -> Vec<u8> {
    let login = Login::UserPass {
        user: b"alice",
        password: b"secret",
    };
    conn.login(login, |_| {}).unwrap();
    conn.client().retr(1).unwrap();
    conn.client().quit().unwrap();
    let mut body = Vec::new();
    conn.run(|e| {
        if let ClientEvent::MessageData { data, .. } = e {
            body.extend_from_slice(data)
        }
    })
    .unwrap();
    body
}

#[test]
fn blocking_server_and_client_over_a_unix_stream() {
    for timeouts in [false, true] {
        let (a, b) = UnixStream::pair().unwrap();
        let session = std::thread::spawn(move || {
            let server = Server::new(server_config(), blocking::now(), [6; 32]);
            let conn = blocking::ServerConn::new(a, server);
            let mut conn = if timeouts { conn.with_timeouts() } else { conn };
            conn.serve(&mut OneMessage)
        });
        let mut conn = blocking::ClientConn::new(b, client());
        if timeouts {
            conn = conn.with_timeouts();
        }
        assert_eq!(fetch(&mut conn), MESSAGE);
        session.join().unwrap().unwrap();
    }
}

#[test]
fn a_server_that_offers_stls_over_a_stream_without_tls_is_refused_at_once() {
    let (a, _b) = UnixStream::pair().unwrap();
    let mut config = server_config();
    config.tls = Tls::StartTls;
    let server = Server::new(config, blocking::now(), [6; 32]);
    let e = blocking::ServerConn::new(a, server)
        .serve(&mut OneMessage)
        .unwrap_err();
    assert!(e.to_string().contains("STLS"), "{e}");
}

struct AsyncOneMessage;

impl pop3_proto::tokio::AsyncBackend for AsyncOneMessage {
    async fn answer(&mut self, event: ServerEvent<'_>) -> pop3_proto::tokio::AsyncAnswer {
        use pop3_proto::tokio::AsyncAnswer;
        match event {
            ServerEvent::CheckPassword { user, password, .. } => {
                AsyncAnswer::Verdict(user == b"alice" && password == b"secret")
            }
            ServerEvent::OpenMaildrop { .. } => AsyncAnswer::Open(Open::Opened {
                count: 1,
                size: MESSAGE.len() as u64,
            }),
            ServerEvent::Retrieve { .. } => AsyncAnswer::MessageBytes(Box::new(MESSAGE)),
            ServerEvent::Size { .. } => AsyncAnswer::Size(MESSAGE.len() as u64),
            _ => AsyncAnswer::Verdict(false),
        }
    }

    async fn update(&mut self, _deleted: &[u32]) -> bool {
        true
    }
}

#[tokio::test]
async fn tokio_server_and_client_over_duplex() {
    let (a, b) = tokio::io::duplex(1024);
    let server = Server::new(server_config(), pop3_proto::tokio::now(), [6; 32]);
    let session =
        tokio::spawn(
            async move { pop3_proto::tokio::serve(a, server, &mut AsyncOneMessage).await },
        );
    let mut conn = pop3_proto::tokio::ClientConn::new(b, client());
    let login = Login::UserPass {
        user: b"alice",
        password: b"secret",
    };
    conn.login(login, |_| {}).await.unwrap();
    conn.client().retr(1).unwrap();
    conn.client().quit().unwrap();
    let mut body = Vec::new();
    while let Some(e) = conn.next().await.unwrap() {
        if let ClientEvent::MessageData { data, .. } = e {
            body.extend_from_slice(data)
        }
    }
    assert_eq!(body, MESSAGE);
    session.await.unwrap().unwrap();
}

/// The embedded adapters' error is an error type (`?` into `Box<dyn Error>`).
#[test]
fn embedded_errors_are_errors() {
    let e: pop3_proto::embedded::Error<std::io::ErrorKind> =
        pop3_proto::embedded::Error::Client(pop3_proto::client::ClientError::ReplyTimeout);
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert_eq!(boxed.to_string(), "no reply from the server in time");
    assert!(boxed.source().is_some());
}

/// The embedded server's answers print a secret redacted and a UID as text (the
/// derived `Debug` printed the password's bytes).
#[test]
fn embedded_answers_print_no_secret() {
    use pop3_proto::embedded::Answer;
    assert_eq!(
        format!("{:?}", Answer::Secret(Some(b"hunter2"))),
        "Secret(Some(<redacted 7 bytes>))"
    );
    assert_eq!(format!("{:?}", Answer::Secret(None)), "Secret(None)");
    assert_eq!(
        format!("{:?}", Answer::Uid(b"uid-0001")),
        r#"Uid(b"uid-0001")"#
    );
}

/// The embedded client's timeouts run on the clock it is given: a transport whose
/// reads time out and a server that never greets end `next()` with the typed error.
#[test]
fn embedded_client_gives_up_on_a_silent_server() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CLOCK: AtomicU64 = AtomicU64::new(0);
    struct Silent;
    impl embedded_io::ErrorType for Silent {
        type Error = embedded_io::ErrorKind;
    }
    impl embedded_io::Read for Silent {
        fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
            CLOCK.fetch_add(1_000, Ordering::Relaxed); // a 1 s read timeout
            Err(embedded_io::ErrorKind::TimedOut)
        }
    }
    impl embedded_io::Write for Silent {
        fn write(&mut self, b: &[u8]) -> Result<usize, Self::Error> {
            Ok(b.len())
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
    let config = ClientConfig {
        greeting_timeout_ms: 5_000,
        ..ClientConfig::default()
    };
    let mut conn: pop3_proto::embedded::ClientConn<_, 512, 256> =
        pop3_proto::embedded::ClientConn::new(Silent, Client::new(config, [1; 32]))
            .with_clock(|| pop3_proto::time::Instant::from_millis(CLOCK.load(Ordering::Relaxed)));
    let r = conn.next(|_| ());
    assert!(
        matches!(
            r,
            Err(pop3_proto::embedded::Error::Client(
                pop3_proto::client::ClientError::GreetingTimeout
            ))
        ),
        "{r:?}"
    );
    assert_eq!(CLOCK.load(Ordering::Relaxed), 5_000);
}
