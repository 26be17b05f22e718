//! `Debug` never prints a secret and prints byte strings as text.

use pop3_proto::client::{ClientEvent, Login, SaslMechanism};
use pop3_proto::server::ServerEvent;
use pop3_proto::{Command, SaslResponse, UidlEntry};

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
