//! The embedded-io-async adapter on tokio (through embedded-io-adapters) against a
//! real server: Dovecot on loopback. Same messages, same bytes as the blocking path.

mod support;

use embedded_io_adapters::tokio_1::FromTokio;
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login, SaslMechanism};
use pop3_proto::embedded::AsyncClientConn;
use support::*;

#[test]
fn async_adapter_on_tokio_fetches_from_dovecot() {
    let d = Dovecot::start(&messages());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fetched: Vec<Vec<u8>> = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", d.port))
            .await
            .unwrap();
        let config = ClientConfig {
            allow_plaintext: true,
            ..ClientConfig::default()
        };
        // A small receive buffer on purpose: bodies stream through it.
        let mut conn: AsyncClientConn<_, 1024, 512> =
            AsyncClientConn::new(FromTokio::new(tcp), Client::new(config, [9; 32]));
        let work = async {
            conn.run(|_| {}).await.unwrap();
            let login = Login::Sasl {
                mechanism: SaslMechanism::CramMd5,
                authzid: b"",
                user: DOVECOT_USER.as_bytes(),
                secret: DOVECOT_PASSWORD.as_bytes(),
            };
            let mut logged_in = false;
            conn.login(login, |e| logged_in |= matches!(e, ClientEvent::LoggedIn))
                .await
                .unwrap();
            assert!(logged_in);
            for n in 1..=5 {
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
        tokio::time::timeout(std::time::Duration::from_secs(30), work)
            .await
            .expect("bounded in time")
    });
    let fetched: Vec<Vec<u8>> = fetched.iter().map(|m| to_lf(m)).collect();
    assert_eq!(fetched, messages());
}
