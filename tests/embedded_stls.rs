//! The embedded adapters' STLS upgrade step by value (`ClientConn::start_tls`,
//! `AsyncClientConn::start_tls`: the transport goes into the handshake and comes back
//! as another type) against Dovecot's STLS, with rustls as the TLS stack on the host.
//! The in-place forms are what the firmware uses (tests/firmware_qemu.rs).

mod support;

use std::net::TcpStream;
use std::time::Duration;

use embedded_io_adapters::std::FromStd;
use embedded_io_adapters::tokio_1::FromTokio;
use pop3_proto::client::{Client, ClientConfig, ClientError, ClientEvent, Login};
use pop3_proto::embedded::{AsyncClientConn, ClientConn, Error};
use support::*;

fn login() -> Login<'static> {
    Login::UserPass {
        user: DOVECOT_USER.as_bytes(),
        password: DOVECOT_PASSWORD.as_bytes(),
    }
}

/// Blocking: greeting and CAPA in clear, STLS, the by-value upgrade to rustls, then
/// USER/PASS (refused in clear: `allow_plaintext` is off) and every message, the same
/// bytes as stored. Before STLS's `+OK` the upgrade is refused without touching the
/// transport.
#[test]
fn blocking_start_tls_by_value_against_dovecot() {
    let d = Dovecot::start(&messages());
    let tls_config = pop3_proto::tls::client_config(Some(&d.cert.ca)).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut conn: ClientConn<_, 1024, 512> = ClientConn::new(
        FromStd::new(tcp),
        Client::new(ClientConfig::default(), [3; 32]),
    );
    conn.run(|_| {}).unwrap();
    assert!(conn.client().capabilities().stls);
    // No STLS accepted yet: refused, and the handshake is not run.
    let mut called = false;
    let refused = conn.start_tls(|s| {
        called = true;
        Ok::<_, std::io::Error>(s)
    });
    assert!(matches!(
        refused,
        Err(Error::Client(ClientError::WrongState))
    ));
    assert!(!called);
    // start_tls took the connection: a new one for the real upgrade.
    let tcp = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut conn: ClientConn<_, 1024, 512> = ClientConn::new(
        FromStd::new(tcp),
        Client::new(ClientConfig::default(), [3; 32]),
    );
    conn.run(|_| {}).unwrap();
    conn.client().stls().unwrap();
    let mut started = false;
    conn.run(|e| started |= matches!(e, ClientEvent::StartTls))
        .unwrap();
    assert!(started);
    let mut conn = conn
        .start_tls(|plain| {
            pop3_proto::tls::NetStream::client_tls(plain.into_inner(), tls_config, "localhost")
                .map(FromStd::new)
        })
        .unwrap();
    assert!(conn.client().tls_active());
    let mut logged_in = false;
    conn.login(login(), |e| logged_in |= matches!(e, ClientEvent::LoggedIn))
        .unwrap();
    assert!(logged_in);
    for n in 1..=messages().len() as u32 {
        conn.client().retr(n).unwrap();
    }
    conn.client().quit().unwrap();
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    conn.run(|e| match e {
        ClientEvent::MessageStart { .. } => bodies.push(Vec::new()),
        ClientEvent::MessageData { data, .. } => bodies.last_mut().unwrap().extend_from_slice(data),
        _ => {}
    })
    .unwrap();
    let bodies: Vec<Vec<u8>> = bodies.iter().map(|m| to_lf(m)).collect();
    assert_eq!(bodies, messages());
}

/// Async (tokio through embedded-io-adapters): the same upgrade with a future, then
/// every message.
#[test]
fn async_start_tls_by_value_against_dovecot() {
    let d = Dovecot::start(&messages());
    let tls_config = pop3_proto::tls::client_config(Some(&d.cert.ca)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bodies = rt.block_on(async {
        let work = async {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", d.port))
                .await
                .unwrap();
            let mut conn: AsyncClientConn<_, 1024, 512> = AsyncClientConn::new(
                FromTokio::new(tcp),
                Client::new(ClientConfig::default(), [4; 32]),
            );
            conn.run(|_| {}).await.unwrap();
            conn.client().stls().unwrap();
            let mut started = false;
            conn.run(|e| started |= matches!(e, ClientEvent::StartTls))
                .await
                .unwrap();
            assert!(started);
            let mut conn = conn
                .start_tls(|plain| async move {
                    pop3_proto::tokio::TokioStream::client_tls(
                        plain.into_inner(),
                        tls_config,
                        "localhost",
                    )
                    .await
                    .map(FromTokio::new)
                })
                .await
                .unwrap();
            assert!(conn.client().tls_active());
            let mut logged_in = false;
            conn.login(login(), |e| logged_in |= matches!(e, ClientEvent::LoggedIn))
                .await
                .unwrap();
            assert!(logged_in);
            for n in 1..=messages().len() as u32 {
                conn.client().retr(n).unwrap();
            }
            conn.client().quit().unwrap();
            let mut bodies: Vec<Vec<u8>> = Vec::new();
            conn.run(|e| match e {
                ClientEvent::MessageStart { .. } => bodies.push(Vec::new()),
                ClientEvent::MessageData { data, .. } => {
                    bodies.last_mut().unwrap().extend_from_slice(data)
                }
                _ => {}
            })
            .await
            .unwrap();
            bodies
        };
        tokio::time::timeout(Duration::from_secs(30), work)
            .await
            .expect("bounded in time")
    });
    let bodies: Vec<Vec<u8>> = bodies.iter().map(|m| to_lf(m)).collect();
    assert_eq!(bodies, messages());
}
