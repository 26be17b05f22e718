//! The server core against abusive or careless clients, with exact bytes: nothing an
//! eavesdropper could crack before TLS, cancelled or broken SASL exchanges paid like
//! failed logins, a too-long SASL line ending the exchange, and unknown users that
//! look like known ones under SCRAM.

mod common;

use common::app::{drive, App};
use common::pair::{plain_configs, Pair};
use pop3_proto::client::{Login, SaslMechanism};
use pop3_proto::server::{Server, ServerConfig, Tls};
use pop3_proto::time::Instant;

const T0: Instant = Instant::from_millis(1_000);

fn tls_configured() -> ServerConfig {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.tls = Tls::StartTls;
    c.apop = true;
    c.auth_failure_delay_ms = 0;
    c
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap()
}

/// With TLS configured and plaintext not allowed, nothing before STLS can be cracked
/// offline: no APOP timestamp in the greeting, no SASL in CAPA, CRAM-MD5 and APOP
/// refused. After the handshake every mechanism is offered.
#[test]
fn no_crackable_login_before_tls() {
    let mut s = Server::new(tls_configured(), T0, [7; 32]);
    let mut app = App::demo();
    let out = drive(
        &mut s,
        &mut app,
        b"CAPA\r\nAUTH CRAM-MD5\r\nAPOP alice 0123456789abcdef0123456789abcdef\r\n",
        1000,
        T0,
    );
    assert_eq!(
        text(out),
        "+OK POP3 server ready\r\n+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n\
AUTH-RESP-CODE\r\nPIPELINING\r\nSTLS\r\nUTF8 USER\r\nLANG\r\n.\r\n\
-ERR Unsupported authentication mechanism\r\n-ERR APOP not available\r\n"
    );
    assert!(s.apop_timestamp().is_empty());
    let d = s.handle_input(b"STLS\r\n", T0).unwrap();
    assert_eq!(d.item, Some(pop3_proto::server::ServerEvent::StartTls));
    let mut out = Vec::new();
    common::app::flush(&mut s, &mut out);
    assert_eq!(text(out), "+OK Begin TLS negotiation now\r\n");
    s.tls_started().unwrap();
    let out = text(drive(&mut s, &mut app, b"CAPA\r\n", 1000, T0));
    assert!(out.contains("\r\nUSER\r\n"), "{out}");
    assert!(
        out.contains(
            "\r\nSASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER\r\n"
        ),
        "{out}"
    );
}

/// `*` ends an exchange like a failed login: `-ERR` after the failure delay, and it
/// counts toward the bad-command limit, so restarting SCRAM (a PBKDF2 each time) is
/// not free.
#[test]
fn cancelled_sasl_is_a_failed_login() {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.allow_plaintext_auth = true;
    c.auth_failure_delay_ms = 2_000;
    c.max_bad_commands = 2;
    let mut s = Server::new(c, T0, [7; 32]);
    let mut app = App::demo();
    let out = drive(&mut s, &mut app, b"AUTH PLAIN\r\n*\r\n", 1000, T0);
    assert_eq!(
        text(out),
        "+OK POP3 server ready\r\n+ \r\n",
        "the -ERR waits"
    );
    assert_eq!(s.poll_timeout(), Some(T0.plus_millis(2_000)));
    s.handle_timeout(T0.plus_millis(2_000));
    let t1 = T0.plus_millis(2_000);
    let out = drive(&mut s, &mut app, b"AUTH LOGIN\r\n*\r\n", 1000, t1);
    assert_eq!(
        text(out),
        "-ERR Authentication cancelled\r\n+ VXNlcm5hbWU6\r\n"
    );
    s.handle_timeout(t1.plus_millis(2_000));
    let out = drive(&mut s, &mut app, b"", 1000, t1.plus_millis(2_000));
    assert_eq!(text(out), "-ERR Authentication cancelled\r\n");
    assert!(s.is_closed(), "two cancels reach the limit of 2");
}

/// A SASL line over the limit ends the exchange: the next line is a command again,
/// not SASL data.
#[test]
fn too_long_sasl_line_ends_the_exchange() {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.allow_plaintext_auth = true;
    c.auth_failure_delay_ms = 0;
    let mut s = Server::new(c, T0, [7; 32]);
    let mut app = App::demo();
    let mut input = b"AUTH PLAIN\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'A', 3_000));
    input.extend_from_slice(b"\r\nUSER alice\r\n");
    let out = drive(&mut s, &mut app, &input, 1000, T0);
    assert_eq!(
        text(out),
        "+OK POP3 server ready\r\n+ \r\n-ERR Line too long\r\n+OK\r\n"
    );
}

/// SCRAM for a user the application does not know looks like SCRAM with a wrong
/// password: a server-first challenge, then `-ERR [AUTH]` after the client's proof
/// (the old server failed at once, which told an attacker the user does not exist).
#[test]
fn scram_unknown_user_looks_like_a_wrong_password() {
    let shape = |user: &[u8], password: &[u8]| {
        let (mut c, s) = plain_configs();
        c.allow_plaintext = true;
        let mut pair = Pair::new(c, s, App::demo());
        pair.run();
        pair.login(Login::Sasl {
            mechanism: SaslMechanism::ScramSha256,
            authzid: b"",
            user,
            secret: password,
        })
        .unwrap();
        let events = pair.run();
        let wire = String::from_utf8(pair.server_wire.clone()).unwrap();
        let after_auth = wire
            .split_once("SASL")
            .map_or("", |(_, rest)| rest)
            .to_string();
        let challenges = after_auth.matches("\r\n+ ").count();
        (challenges, events.last().cloned().unwrap_or_default())
    };
    let known = shape(b"alice", b"wrong");
    let unknown = shape(b"mallory", b"wrong");
    assert_eq!(
        known,
        (
            1,
            "Error(Auth, Some(Auth), Authentication failed)".to_string()
        )
    );
    assert_eq!(unknown, known);
}

/// An application that will not check credentials now (its guessing limit for the
/// user is reached) answers any credential event with `answer_try_later`:
/// `-ERR [SYS/TEMP]`, after the failure delay and counted like a failed login, the
/// same for USER/PASS, a SASL verdict and a SASL secret.
#[test]
fn try_later_refuses_a_login_without_checking_it() {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.allow_plaintext_auth = true;
    c.auth_failure_delay_ms = 2_000;
    c.max_bad_commands = 3;
    let mut s = Server::new(c, T0, [7; 32]);
    let mut out = Vec::new();
    common::app::flush(&mut s, &mut out);
    let refused = "-ERR [SYS/TEMP] Login unavailable, try again later\r\n";
    let mut now = T0;
    for (i, input) in [
        &b"USER alice\r\nPASS anything\r\n"[..],
        b"AUTH PLAIN AGFsaWNlAGFueXRoaW5n\r\n",
        b"AUTH CRAM-MD5\r\n",
    ]
    .into_iter()
    .enumerate()
    {
        let mut rest = input;
        let mut sent = Vec::new();
        for _ in 0..10 {
            let d = s.handle_input(rest, now).unwrap();
            rest = &rest[d.consumed..];
            if d.item.is_some() {
                break;
            }
            common::app::flush(&mut s, &mut sent);
            if i == 2 && rest.is_empty() {
                // CRAM-MD5's challenge, then alice's response.
                rest = b"YWxpY2UgMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\r\n";
            }
        }
        assert!(s.event().is_some(), "{i}: a credential event");
        assert_eq!(s.answer_try_later(now), Ok(()));
        common::app::flush(&mut s, &mut sent);
        let sent = text(sent);
        assert!(!sent.contains("-ERR"), "{i}: the refusal waits: {sent}");
        assert_eq!(s.poll_timeout(), Some(now.plus_millis(2_000)), "{i}");
        now = now.plus_millis(2_000);
        s.handle_timeout(now);
        let mut later = Vec::new();
        common::app::flush(&mut s, &mut later);
        assert_eq!(text(later), refused, "{i}");
    }
    assert!(
        s.is_closed(),
        "three refusals reach the limit of 3 bad commands"
    );
    assert_eq!(
        s.answer_try_later(now),
        Err(pop3_proto::server::ServerError::Unexpected)
    );
}
