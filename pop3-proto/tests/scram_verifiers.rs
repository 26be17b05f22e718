//! A server that stores SCRAM verifiers (salt, iterations, StoredKey, ServerKey)
//! instead of passwords: clients log in with SCRAM-SHA-1 and -256, a wrong password
//! and an unknown user fail alike, the text form round-trips, and the verifier checks
//! a cleartext password (USER/PASS, PLAIN) without ever holding it.

mod common;

use common::app::App;
use common::pair::{plain_configs, Pair};
use pop3_proto::client::{Login, SaslMechanism};
use pop3_proto::sasl::scram::{Hash, ScramVerifier};

fn scram_login(
    mechanism: SaslMechanism,
    user: &[u8],
    password: &[u8],
) -> (bool, Vec<String>, Vec<String>) {
    let (mut c, s) = plain_configs();
    c.allow_plaintext = true;
    let mut app = App::demo();
    app.verifiers = true;
    let mut pair = Pair::new(c, s, app);
    pair.run();
    pair.client
        .login(Login::Sasl {
            mechanism,
            authzid: b"",
            user,
            secret: password,
        })
        .unwrap();
    let events = pair.run();
    (pair.client.is_logged_in(), events, pair.app.log.clone())
}

#[test]
fn scram_logins_against_stored_verifiers() {
    for mechanism in [SaslMechanism::ScramSha1, SaslMechanism::ScramSha256] {
        let (ok, events, log) = scram_login(mechanism, b"alice", b"wonder land");
        assert!(ok, "{mechanism:?}: {events:?}");
        assert!(
            log[0].starts_with("NeedSecret { user: [97, 108, 105, 99, 101], mechanism: Some(Scram"),
            "{log:?}"
        );
        let wrong = scram_login(mechanism, b"alice", b"wrong");
        let unknown = scram_login(mechanism, b"mallory", b"wrong");
        assert!(!wrong.0 && !unknown.0);
        assert_eq!(
            wrong.1.last(),
            Some(&"Error(Auth, Some(Auth), Authentication failed)".to_string())
        );
        assert_eq!(
            unknown.1.last(),
            wrong.1.last(),
            "{mechanism:?}: an unknown user fails like a wrong password"
        );
    }
}

#[test]
fn verifier_text_form_and_password_check() {
    let v = ScramVerifier::compute(Hash::Sha256, b"pencil", b"QSXCR+Q6sek8bf92", 4096);
    let mut out = [0u8; 200];
    let n = v.encode(&mut out).unwrap();
    let text = std::str::from_utf8(&out[..n]).unwrap();
    assert!(
        text.starts_with("{SCRAM-SHA-256}4096,UVNYQ1IrUTZzZWs4YmY5Mg==,"),
        "{text}"
    );
    assert_eq!(ScramVerifier::parse(&out[..n]), Ok(v.clone()));
    assert!(v.check_password(b"pencil"));
    assert!(!v.check_password(b"pencil "));
    for bad in [
        &b"{SCRAM-SHA-256}4096,c2FsdA==,AAAA"[..],
        b"{SCRAM-SHA-512}4096,c2FsdA==,AAAA,AAAA",
        b"{SCRAM-SHA-1}x,c2FsdA==,AAAA,AAAA",
        b"plain password",
    ] {
        assert!(
            ScramVerifier::parse(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}
