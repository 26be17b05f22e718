//! CRAM-MD5 from stored contexts, as Dovecot stores them (`{CRAM-MD5}` and 64 hex
//! digits: the HMAC-MD5 inner and outer states after the key block), never the
//! password: the context of a password is Dovecot's (vectors from
//! `doveadm pw -s CRAM-MD5 -p …`), answers the RFC 2195 example, and logs in a
//! correct digest through the server core, with exact bytes; a wrong digest and an
//! unknown user fail the same way as with a password.

use pop3_proto::sasl::cram::{self, CramMd5Context};
use pop3_proto::sasl::SaslMechanism;
use pop3_proto::server::{Open, Server, ServerConfig, ServerError, ServerEvent};
use pop3_proto::time::Instant;

const T0: Instant = Instant::from_millis(1_000);

/// (password, `doveadm pw -s CRAM-MD5 -p password` with Dovecot 2.3)
const DOVECOT: [(&str, &str); 5] = [
    (
        "",
        "{CRAM-MD5}00747cf2ffaf11c5ea4a64979c3901fc1d20dee13f480bb598f7d8575b23e61b",
    ),
    (
        "secret",
        "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56",
    ),
    (
        "wonder land",
        "{CRAM-MD5}ff593f5d98df64e39f587de80b2605f1d94737059c08315d633ef89d378c3f4c",
    ),
    (
        "tanstaaftanstaaf",
        "{CRAM-MD5}d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b",
    ),
    // Over the 64-octet HMAC block: the key is MD5(password).
    (
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "{CRAM-MD5}52197db948d0932512a61b183e7d05b04e94d60a3bb0d00f92d3df52a5d275ca",
    ),
];

#[test]
fn contexts_are_dovecots() {
    for (password, stored) in DOVECOT {
        let context = CramMd5Context::compute(password.as_bytes());
        assert_eq!(
            std::str::from_utf8(&context.encode()).unwrap(),
            stored,
            "{password}"
        );
        assert_eq!(CramMd5Context::parse(stored.as_bytes()), Ok(context));
        // Upper-case hex reads the same.
        let upper = format!("{{CRAM-MD5}}{}", stored[10..].to_ascii_uppercase());
        assert_eq!(CramMd5Context::parse(upper.as_bytes()), Ok(context));
        // A context checks the password it came from, and no other.
        assert!(context.check_password(password.as_bytes()));
        assert!(!context.check_password(b"wrong"));
    }
    for bad in [
        &b"cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"[..],
        b"{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b5",
        b"{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b566",
        b"{CRAM-MD5}zd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56",
        b"{SCRAM-SHA-256}4096,c2FsdA==,AAAA,AAAA",
        b"secret",
    ] {
        assert!(CramMd5Context::parse(bad).is_err(), "{bad:?}");
    }
    // The context is a secret: Debug does not print it.
    let debug = format!("{:?}", CramMd5Context::compute(b"secret"));
    assert!(!debug.contains("cd3b"), "{debug}");
}

/// The RFC 2195 example, from the context instead of the password; the same digest
/// as HMAC-MD5 with the password for challenges of any length.
#[test]
fn a_context_digests_like_the_password() {
    let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
    let context = CramMd5Context::compute(b"tanstaaftanstaaf");
    assert_eq!(
        &context.digest(challenge),
        b"b913a602c7eda7a495b4e6e7334d3890"
    );
    for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 200] {
        let challenge: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        for password in [&b""[..], b"pw", &[b'k'; 64], &[b'k'; 65]] {
            assert_eq!(
                CramMd5Context::compute(password).digest(&challenge),
                cram::digest(password, &challenge),
                "challenge {len}, password {}",
                password.len()
            );
        }
    }
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            out.push(match i <= chunk.len() {
                true => char::from(A[(n >> (18 - 6 * i) & 63) as usize]),
                false => '=',
            });
        }
    }
    out
}

fn flush(s: &mut Server) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    for _ in 0..100 {
        let n = s.poll_transmit(&mut buf);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).unwrap()
}

/// `AUTH CRAM-MD5` as `user` answering with `password`'s digest; the server's
/// NeedSecret is answered with `stored` (`None`: unknown user). Returns what the
/// server sent after the greeting.
fn cram_login(user: &str, password: &[u8], stored: Option<CramMd5Context>) -> String {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.auth_failure_delay_ms = 0;
    let mut s = Server::new(c, T0, [7; 32]);
    flush(&mut s);
    let d = s.handle_input(b"AUTH CRAM-MD5\r\n", T0).unwrap();
    assert_eq!((d.consumed, d.item), (15, None));
    let mut sent = flush(&mut s);
    // The challenge: <hex of the session's random@host>.
    let challenge = b"<0707070707070707@pop.example.org>";
    assert_eq!(sent, format!("+ {}\r\n", b64(challenge)));
    let digest = cram::digest(password, challenge);
    let mut response = format!("{user} ").into_bytes();
    response.extend_from_slice(&digest);
    let line = format!("{}\r\n", b64(&response));
    let d = s.handle_input(line.as_bytes(), T0).unwrap();
    assert_eq!(
        d.item,
        Some(ServerEvent::NeedSecret {
            user: user.as_bytes(),
            mechanism: Some(SaslMechanism::CramMd5),
        })
    );
    assert_eq!(s.secret_mechanism(), Some(SaslMechanism::CramMd5));
    // A SCRAM verifier is no answer to CRAM-MD5.
    assert_eq!(
        s.answer_verifier(None, T0).unwrap_err(),
        ServerError::Unexpected
    );
    s.answer_cram_context(stored.as_ref(), T0).unwrap();
    let d = s.handle_input(b"", T0).unwrap();
    if d.item == Some(ServerEvent::OpenMaildrop { user: b"alice" }) {
        s.answer_open(Open::Opened { count: 0, size: 0 }).unwrap();
    }
    sent.push_str(&flush(&mut s));
    sent
}

/// A stored context logs in a correct digest and refuses a wrong one; an unknown
/// user (`None`) fails exactly like a wrong password (no tell).
#[test]
fn a_stored_context_answers_cram_md5() {
    let (_, text) = DOVECOT.iter().find(|(pw, _)| *pw == "wonder land").unwrap();
    let stored = CramMd5Context::parse(text.as_bytes()).unwrap();
    let challenge = "+ PDA3MDcwNzA3MDcwNzA3MDdAcG9wLmV4YW1wbGUub3JnPg==\r\n";
    assert_eq!(
        cram_login("alice", b"wonder land", Some(stored)),
        format!("{challenge}+OK Logged in, 0 messages (0 octets)\r\n")
    );
    let failed = format!("{challenge}-ERR [AUTH] Authentication failed\r\n");
    assert_eq!(cram_login("alice", b"wonder lan", Some(stored)), failed);
    assert_eq!(cram_login("mallory", b"wonder land", None), failed);
}

/// `answer_cram_context` answers only CRAM-MD5's NeedSecret.
#[test]
fn a_context_answers_nothing_else() {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.apop = true;
    c.allow_plaintext_auth = true;
    let mut s = Server::new(c, T0, [7; 32]);
    let context = CramMd5Context::compute(b"pw");
    assert_eq!(
        s.answer_cram_context(Some(&context), T0),
        Err(ServerError::Unexpected)
    );
    s.handle_input(b"APOP alice 0123456789abcdef0123456789abcdef\r\n", T0)
        .unwrap();
    assert_eq!(
        s.answer_cram_context(Some(&context), T0),
        Err(ServerError::Unexpected)
    );
}
