//! `Debug` never prints a secret and prints byte strings as text.

mod common;

use common::app::{App, OwnedEvent};
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login, SaslMechanism};
use pop3_proto::driver::{ClientDriver, Poll, ServerDriver, ServerPoll};
use pop3_proto::server::{MechanismSet, Server, ServerConfig, ServerEvent};
use pop3_proto::time::Instant;
use pop3_proto::{BodyChunk, Command, ResponseEvent, SaslResponse, UidlEntry};

#[test]
fn secrets_are_redacted() {
    let login = Login::UserPass {
        user: b"alice",
        password: b"secret",
    };
    assert_eq!(
        format!("{login:?}"),
        r#"UserPass { user: b"alice", password: <redacted 6 bytes> }"#
    );
    let login = Login::Sasl {
        mechanism: SaslMechanism::XOAuth2,
        authzid: b"",
        user: b"alice",
        secret: b"ya29.token",
    };
    assert!(!format!("{login:?}").contains("ya29"));
    let check = ServerEvent::CheckPassword {
        authzid: b"",
        user: b"alice",
        password: b"secret",
    };
    assert_eq!(
        format!("{check:?}"),
        r#"CheckPassword { authzid: b"", user: b"alice", password: <redacted 6 bytes> }"#
    );
    let token = ServerEvent::CheckToken {
        user: b"alice",
        token: b"ya29.token",
    };
    assert!(!format!("{token:?}").contains("ya29"));
    for secret in [
        format!("{:?}", Command::Pass(b"hunter2")),
        format!("{:#?}", Command::Pass(b"hunter2")),
        format!(
            "{:?}",
            Command::Auth {
                mechanism: Some("PLAIN"),
                initial_response: Some(b"AGFsaWNlAHNlY3JldA==")
            }
        ),
        format!("{:?}", SaslResponse::Data(b"AGFsaWNlAHNlY3JldA==")),
        format!("{login:#?}"),
    ] {
        assert!(
            !secret.contains("hunter2")
                && !secret.contains("ya29")
                && !secret.contains("AGFsaWNl")
                && !secret.contains("104, 117"),
            "{secret}"
        );
    }
}

#[test]
fn bytes_print_as_escaped_text() {
    let uidl = ClientEvent::Uidl(UidlEntry {
        msg: 1,
        uid: b"000001",
    });
    assert_eq!(
        format!("{uidl:?}"),
        r#"Uidl(UidlEntry { msg: 1, uid: b"000001" })"#
    );
    let data = ClientEvent::MessageData {
        msg: 2,
        data: b"Caf\xe9 \"x\"\r\n",
    };
    assert_eq!(
        format!("{data:?}"),
        r#"MessageData { msg: 2, data: b"Caf\xe9 \"x\"\r\n" }"#
    );
    let greeting = ClientEvent::Greeting {
        text: b"POP3 ready",
        apop: false,
    };
    assert_eq!(
        format!("{greeting:?}"),
        r#"Greeting { text: b"POP3 ready", apop: false }"#
    );
    assert_eq!(
        format!("{:?}", ServerEvent::OpenMaildrop { user: b"alice" }),
        r#"OpenMaildrop { user: b"alice" }"#
    );
    assert_eq!(
        format!("{:?}", Command::User(b"alice")),
        r#"User(b"alice")"#
    );
}

const SECRET: &[u8] = b"hunter2-secret";
const TOKEN: &[u8] = b"ya29.hunter2";

/// What must never show in any `Debug` output: the secret as text, as decimal
/// bytes (derived `Debug` of a byte buffer), as base64 (LOGIN's answer, PLAIN's
/// message, XOAUTH2's message), and the server's SCRAM key as decimal bytes.
fn assert_no_secret(text: &str) {
    for leak in [
        "hunter2",
        "104, 117, 110, 116, 101, 114",
        "aHVudGVyMi1zZWNyZXQ",
        "AGFsaWNlAGh1bnRlcjItc2VjcmV0",
        "eWEyOS5odW50ZXIy",
        "Lmh1bnRlcjI",
        "109, 111, 99, 107",
    ] {
        assert!(!text.contains(leak), "{leak:?} in {text}");
    }
}

/// Our client driver against our server driver in memory, logging in with `login`
/// then QUIT; `Debug` of both drivers (and so of `Client`, `Server`, their SASL
/// and SCRAM state and their buffers) is taken, plain and pretty, after every
/// poll. Returns the client's events.
fn every_step_printed(login: Login<'_>) -> Vec<String> {
    const T0: Instant = Instant::from_millis(1_000);
    let mut sconf = ServerConfig::new("pop.example.org");
    sconf.mechanisms = MechanismSet::ALL.without(MechanismSet::EXTERNAL);
    sconf.allow_plaintext_auth = true;
    sconf.auth_failure_delay_ms = 0;
    sconf.scram_mock_key = *b"mock-key-mock-key-mock-key-mock-";
    let cconf = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    let mut app = App::demo();
    app.users = vec![(b"alice".to_vec(), SECRET.to_vec())];
    app.tokens = vec![(b"alice".to_vec(), TOKEN.to_vec())];
    let mut client = ClientDriver::new(Client::new(cconf, [3; 32]), vec![0; 4096], vec![0; 4096]);
    let mut server = ServerDriver::new(
        Server::new(sconf, T0, [9; 32]),
        vec![0; 32768],
        vec![0; 4096],
    );
    client.client().login(login).unwrap();
    client.client().stat().unwrap();
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    let mut events = Vec::new();
    let mut quit = false;
    for _ in 0..10_000 {
        assert_no_secret(&format!("{client:?}{client:#?}{server:?}{server:#?}"));
        let mut progress = false;
        match client.poll(T0).unwrap() {
            Poll::Transmit => {
                c2s.extend_from_slice(client.transmit());
                let n = client.transmit().len();
                client.transmitted(n);
                progress = true;
            }
            Poll::Event => {
                let event = client.event().unwrap();
                assert_no_secret(&format!("{event:?}{event:#?}"));
                if matches!(event, ClientEvent::NeedCredentials { .. }) {
                    client.credentials(&login).unwrap();
                } else {
                    events.push(format!("{event:?}"));
                }
                progress = true;
            }
            Poll::Idle if !quit => {
                client.client().quit().unwrap();
                quit = true;
                progress = true;
            }
            Poll::NeedInput { .. } | Poll::Idle if !s2c.is_empty() => {
                let n = s2c.len().min(client.input().len());
                client.input()[..n].copy_from_slice(&s2c[..n]);
                client.received(n);
                s2c.drain(..n);
                progress = true;
            }
            Poll::Closed => return events,
            _ => {}
        }
        assert_no_secret(&format!("{client:?}{client:#?}"));
        match server.poll(T0).unwrap() {
            ServerPoll::Transmit => {
                s2c.extend_from_slice(server.transmit());
                let n = server.transmit().len();
                server.transmitted(n);
                progress = true;
            }
            ServerPoll::Event => {
                let event = server.event().unwrap();
                assert_no_secret(&format!("{event:?}{event:#?}{server:?}"));
                let event = OwnedEvent::from(&event);
                let mut sink = Vec::new();
                event.answer(&mut app, server.server(), T0, &mut sink);
                progress = true;
            }
            ServerPoll::NeedInput { .. } if !c2s.is_empty() => {
                let n = c2s.len().min(server.input().len());
                server.input()[..n].copy_from_slice(&c2s[..n]);
                server.received(n);
                c2s.drain(..n);
                progress = true;
            }
            _ => {}
        }
        assert!(
            progress || !c2s.is_empty() || !s2c.is_empty(),
            "stuck: {events:?}"
        );
    }
    panic!("the pair does not settle: {events:?}");
}

/// Every login our client and server speak, printed at every step of both drivers:
/// the password, the token and the SCRAM key never show (they did, as decimal
/// bytes, through the drivers' buffers, the password being checked, the SASL
/// state's decoded message and `ServerConfig::scram_mock_key`).
#[test]
fn drivers_print_no_secret_at_any_step() {
    let sasl = |mechanism, secret| Login::Sasl {
        mechanism,
        authzid: b"",
        user: b"alice",
        secret,
    };
    for login in [
        Login::UserPass {
            user: b"alice",
            password: SECRET,
        },
        sasl(SaslMechanism::Plain, SECRET),
        sasl(SaslMechanism::Login, SECRET),
        sasl(SaslMechanism::CramMd5, SECRET),
        sasl(SaslMechanism::ScramSha256, SECRET),
        sasl(SaslMechanism::XOAuth2, TOKEN),
        sasl(SaslMechanism::OAuthBearer, TOKEN),
    ] {
        let events = every_step_printed(login);
        assert!(
            events.iter().any(|e| e.starts_with("LoggedIn")),
            "{login:?}: {events:?}"
        );
        assert!(
            events.iter().any(|e| e.starts_with("Stat")),
            "{login:?}: {events:?}"
        );
    }
}

/// The decoders' events print their bytes as text.
#[test]
fn decoder_events_print_bytes_as_text() {
    assert_eq!(
        format!("{:?}", BodyChunk::Data(b"line\r\n")),
        r#"Data(b"line\r\n")"#
    );
    assert_eq!(
        format!("{:?}", ResponseEvent::Challenge(b"PDE4OTYu")),
        r#"Challenge(b"PDE4OTYu")"#
    );
    assert_eq!(
        format!("{:?}", ResponseEvent::Line(b"1 120")),
        r#"Line(b"1 120")"#
    );
    let mut config = ServerConfig::new("pop.example.org");
    config.scram_mock_key = [0xab; 32];
    let text = format!("{config:?}");
    assert!(
        text.contains("scram_mock_key: <redacted 32 bytes>") && !text.contains("171"),
        "{text}"
    );
}
