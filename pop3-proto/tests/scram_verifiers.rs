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
    pair.login(Login::Sasl {
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
            log[0].starts_with("NeedSecret { user: b\"alice\", mechanism: Some(Scram"),
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

/// RFC 5803's form (`SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey`, as LDAP
/// stores verifiers) reads as the same verifier as Dovecot's form; damaged ones of
/// either form (a field cut off, 0 iterations, a separator of the other form) are
/// refused, never taken for something else.
#[test]
fn rfc_5803_form_reads_as_the_same_verifier() {
    for (hash, name) in [(Hash::Sha256, "SCRAM-SHA-256"), (Hash::Sha1, "SCRAM-SHA-1")] {
        let v = ScramVerifier::compute(hash, b"pencil", b"QSXCR+Q6sek8bf92", 4096);
        let mut out = [0u8; 200];
        let n = v.encode(&mut out).unwrap();
        let dovecot = std::str::from_utf8(&out[..n]).unwrap();
        let fields: Vec<&str> = dovecot[name.len() + 2..].split(',').collect();
        let rfc5803 = format!(
            "{name}${}:{}${}:{}",
            fields[0], fields[1], fields[2], fields[3]
        );
        assert_eq!(
            ScramVerifier::parse(rfc5803.as_bytes()),
            Ok(v.clone()),
            "{rfc5803}"
        );
        let cut = &rfc5803[..rfc5803.len() - 10];
        let zero = rfc5803.replacen("$4096:", "$0:", 1);
        let mixed = rfc5803.replacen(':', ",", 1);
        let dovecot_zero = dovecot.replacen("}4096,", "}0,", 1);
        for bad in [
            cut,
            &zero,
            &mixed,
            &dovecot_zero,
            &dovecot[..dovecot.len() - 10],
        ] {
            assert!(ScramVerifier::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

/// The salt in the server-first message of a login attempt.
fn salt_of(user: &[u8], key: u8) -> String {
    let (mut c, mut s) = plain_configs();
    c.allow_plaintext = true;
    s.scram_mock_key = [key; 32];
    let mut app = App::demo();
    app.verifiers = true;
    let mut pair = Pair::new(c, s, app);
    pair.run();
    pair.login(Login::Sasl {
        mechanism: SaslMechanism::ScramSha256,
        authzid: b"",
        user,
        secret: b"wrong",
    })
    .unwrap();
    pair.run();
    let wire = String::from_utf8(pair.server_wire.clone()).unwrap();
    let challenge = wire
        .split("\r\n+ ")
        .nth(1)
        .unwrap()
        .split("\r\n")
        .next()
        .unwrap();
    let mut buf = [0u8; 512];
    let n = pop3_proto::sasl::decode_base64(challenge.as_bytes(), &mut buf).unwrap();
    let first = String::from_utf8(buf[..n].to_vec()).unwrap();
    first
        .split(',')
        .find_map(|f| f.strip_prefix("s="))
        .unwrap()
        .to_string()
}

/// Against stored verifiers a known user's salt is the same at every try; an unknown
/// user's made-up salt must be too (else two tries tell the users apart), and must
/// depend on the server's secret key (else anyone could compute it).
#[test]
fn unknown_users_salt_is_as_stable_as_a_stored_one() {
    assert_eq!(salt_of(b"alice", 1), salt_of(b"alice", 2), "stored salt");
    assert_eq!(
        salt_of(b"mallory", 1),
        salt_of(b"mallory", 1),
        "made-up salt, same key"
    );
    assert_ne!(
        salt_of(b"mallory", 1),
        salt_of(b"mallory", 2),
        "made-up salt, other key"
    );
    assert_ne!(salt_of(b"mallory", 1), salt_of(b"eve", 1));
}
