//! The server state machine against exact transcripts: RFC 1939 states, message
//! numbers, UPDATE only after QUIT, CAPA by state, STLS injection, limits, timers.

mod common;

use common::app::{drive, App};
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::time::Instant;

const T0: Instant = Instant::from_millis(1_000);

fn config() -> ServerConfig {
    let mut c = ServerConfig::new("pop.example.org");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.allow_plaintext_auth = true;
    c.auth_failure_delay_ms = 0;
    c
}

fn server(config: ServerConfig) -> Server {
    Server::new(config, T0, [7; 32])
}

/// Runs a whole session in pieces of every size from 1 to 64 and checks that the
/// output is the same each time; returns it as text.
fn session(config: &ServerConfig, app: &mut App, input: &[u8]) -> String {
    let mut first: Option<(Vec<u8>, App)> = None;
    for piece in [usize::MAX, 1, 2, 3, 5, 8, 13, 64] {
        let mut a = app.clone();
        let mut s = server(config.clone());
        let out = drive(&mut s, &mut a, input, piece.min(input.len().max(1)), T0);
        match &first {
            None => first = Some((out, a)),
            Some((o, _)) => assert_eq!(
                String::from_utf8_lossy(o),
                String::from_utf8_lossy(&out),
                "pieces of {piece}"
            ),
        }
    }
    let (out, a) = first.unwrap();
    *app = a;
    String::from_utf8(out).unwrap()
}

#[test]
fn full_session_transcript() {
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"USER alice\r\nPASS wonder land\r\nSTAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\n\
RETR 1\r\nTOP 2 0\r\nTOP 1 1\r\nRETR 3\r\nDELE 1\r\nLIST 1\r\nRETR 1\r\nDELE 1\r\nSTAT\r\nLIST\r\n\
NOOP\r\nRSET\r\nDELE 2\r\nQUIT\r\n",
    );
    let size1 = app.size(1);
    assert_eq!(size1, 45);
    let expected = String::from(
        "+OK POP3 server ready\r\n\
+OK\r\n\
+OK Logged in, 3 messages (124 octets)\r\n\
+OK 3 124\r\n\
+OK Scan listing follows\r\n1 45\r\n2 43\r\n3 36\r\n.\r\n\
+OK 2 43\r\n\
+OK Unique-ID listing follows\r\n1 uid-0001\r\n2 uid-0002\r\n3 uid-0003\r\n.\r\n\
+OK 3 uid-0003\r\n\
+OK Message follows\r\nSubject: one\r\n\r\nfirst line\r\n..dot line\r\nlast\r\n.\r\n\
+OK Message follows\r\nSubject: two\r\nFrom: b@example.org\r\n\r\n.\r\n\
+OK Message follows\r\nSubject: one\r\n\r\nfirst line\r\n.\r\n\
+OK Message follows\r\nSubject: three\r\n\r\nno final newline\r\n.\r\n\
+OK Message 1 deleted\r\n\
-ERR Message is deleted\r\n\
-ERR Message is deleted\r\n\
-ERR Message is deleted\r\n\
+OK 2 79\r\n\
+OK Scan listing follows\r\n2 43\r\n3 36\r\n.\r\n\
+OK\r\n\
+OK 3 124\r\n\
+OK Message 2 deleted\r\n\
+OK Logging out\r\n",
    );
    assert_eq!(out, expected);
    assert_eq!(
        app.updated,
        Some(vec![2]),
        "UPDATE removes exactly the marked messages"
    );
}

#[test]
fn nothing_is_expunged_without_quit() {
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"USER alice\r\nPASS wonder land\r\nDELE 1\r\nDELE 2\r\n",
    );
    assert!(out.ends_with("+OK Message 2 deleted\r\n"));
    assert_eq!(app.updated, None);
}

#[test]
fn quit_in_authorization_does_not_update() {
    let mut app = App::demo();
    let out = session(&config(), &mut app, b"USER alice\r\nQUIT\r\nNOOP\r\n");
    assert_eq!(out, "+OK POP3 server ready\r\n+OK\r\n+OK Logging out\r\n");
    assert_eq!(app.updated, None);
}

#[test]
fn bad_message_numbers() {
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"USER alice\r\nPASS wonder land\r\nRETR 0\r\nRETR 4\r\nRETR x\r\nTOP 1\r\nTOP 1 -1\r\nDELE\r\nLIST 9\r\nUIDL 0\r\n",
    );
    let replies: Vec<&str> = out.split("\r\n").skip(3).collect();
    assert_eq!(
        replies,
        vec![
            "-ERR There's no message 0",
            "-ERR There's no message 4",
            "-ERR Invalid number",
            "-ERR Missing argument",
            "-ERR Invalid number",
            "-ERR Missing argument",
            "-ERR There's no message 9",
            "-ERR There's no message 0",
            ""
        ]
    );
}

#[test]
fn commands_in_the_wrong_state() {
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"STAT\r\nPASS x\r\nNOOP\r\nUSER alice\r\nPASS wonder land\r\nUSER bob\r\nAPOP a b\r\nSTLS\r\nUTF8\r\n",
    );
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n\
-ERR Not allowed in AUTHORIZATION state\r\n\
-ERR No user name given\r\n\
-ERR Not allowed in AUTHORIZATION state\r\n\
+OK\r\n\
+OK Logged in, 3 messages (124 octets)\r\n\
-ERR Not allowed in TRANSACTION state\r\n\
-ERR Not allowed in TRANSACTION state\r\n\
-ERR Not allowed in TRANSACTION state\r\n\
-ERR Not allowed in TRANSACTION state\r\n"
    );
}

#[test]
fn wrong_password_and_locked_maildrop() {
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"USER alice\r\nPASS nope\r\nPASS wonder land\r\n",
    );
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n+OK\r\n-ERR [AUTH] Authentication failed\r\n-ERR No user name given\r\n"
    );
    let mut app = App::demo();
    app.open_answer = Some(Open::InUse);
    let out = session(
        &config(),
        &mut app,
        b"USER alice\r\nPASS wonder land\r\nSTAT\r\n",
    );
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n+OK\r\n-ERR [IN-USE] Maildrop is locked by another session\r\n\
-ERR Not allowed in AUTHORIZATION state\r\n"
    );
}

#[test]
fn capa_changes_with_state_and_tls() {
    let mut c = config();
    c.allow_plaintext_auth = false;
    c.tls = Tls::StartTls;
    c.implementation = "pop3-proto".try_into().unwrap();
    c.login_delay = Some(60);
    let mut app = App::demo();
    let out = session(&c, &mut app, b"CAPA\r\nUSER alice\r\n");
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n\
PIPELINING\r\nSTLS\r\nLOGIN-DELAY 60\r\nUTF8 USER\r\nLANG\r\nIMPLEMENTATION pop3-proto\r\n.\r\n\
-ERR [AUTH] Plaintext authentication disallowed on non-secure connections\r\n"
    );
}

#[test]
fn stls_discards_pipelined_plaintext() {
    let mut c = config();
    c.allow_plaintext_auth = false;
    c.tls = Tls::StartTls;
    let mut s = server(c);
    let mut app = App::demo();
    let mut out = Vec::new();
    common::app::flush(&mut s, &mut out);
    // The attacker's injected command arrives in the same segment as STLS.
    let input = b"STLS\r\nUSER evil\r\nPASS evil\r\n";
    let d = s.handle_input(input, T0).unwrap();
    assert_eq!(d.item, Some(pop3_proto::server::ServerEvent::StartTls));
    assert_eq!(d.consumed, input.len(), "plaintext after STLS is dropped");
    common::app::flush(&mut s, &mut out);
    assert_eq!(
        out,
        b"+OK POP3 server ready\r\n+OK Begin TLS negotiation now\r\n"
    );
    s.tls_started().unwrap();
    assert!(s.tls_active());
    let out = drive(
        &mut s,
        &mut app,
        b"CAPA\r\nUSER alice\r\nPASS wonder land\r\nSTAT\r\n",
        4,
        T0,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\n\
UTF8 USER\r\nLANG\r\nSASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER\r\n.\r\n+OK\r\n+OK Logged in, 3 messages (124 octets)\r\n+OK 3 124\r\n"
    );
    // STLS again is refused.
    assert_eq!(
        drive(&mut s, &mut app, b"STLS\r\n", 100, T0),
        b"-ERR Not allowed in TRANSACTION state\r\n"
    );
}

#[test]
fn apop_login() {
    let mut c = config();
    c.apop = true;
    let mut s = server(c);
    let stamp = s.apop_timestamp().to_vec();
    // RFC 1939's form, digits.digits (Perl's Mail::Box accepts no other): 64 random
    // bits, then the clock.
    assert_eq!(stamp, b"<506381209866536711.1000@pop.example.org>");
    let digest = |secret: &[u8]| {
        use md5::{Digest, Md5};
        let mut h = Md5::new();
        h.update(&stamp);
        h.update(secret);
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut app = App::demo();
    let input = format!(
        "APOP alice {}\r\nAPOP alice {}\r\nSTAT\r\n",
        digest(b"wrong"),
        digest(b"wonder land")
    );
    let out = drive(&mut s, &mut app, input.as_bytes(), 9, T0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "+OK POP3 server ready <506381209866536711.1000@pop.example.org>\r\n-ERR [AUTH] Authentication failed\r\n\
+OK Logged in, 3 messages (124 octets)\r\n+OK 3 124\r\n"
    );
}

#[test]
fn too_many_bad_commands_close_the_session() {
    let mut c = config();
    c.max_bad_commands = 3;
    let mut app = App::demo();
    let out = session(&c, &mut app, b"FOO\r\nBAR\r\nBAZ\r\nQUIT\r\n");
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n-ERR Unknown command\r\n-ERR Unknown command\r\n-ERR Too many bad commands, closing\r\n"
    );
}

#[test]
fn over_long_command_gets_err_and_session_goes_on() {
    let mut app = App::demo();
    let mut input = b"USER ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\r\nNOOP\r\nQUIT\r\n");
    let out = session(&config(), &mut app, &input);
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n-ERR Line too long\r\n-ERR Not allowed in AUTHORIZATION state\r\n+OK Logging out\r\n"
    );
}

#[test]
fn idle_timeout_closes_without_update_and_is_at_least_ten_minutes() {
    let mut c = config();
    c.idle_timeout_ms = 1_000; // raised to the RFC minimum
    let mut s = server(c);
    let mut app = App::demo();
    drive(
        &mut s,
        &mut app,
        b"USER alice\r\nPASS wonder land\r\nDELE 1\r\n",
        100,
        T0,
    );
    assert_eq!(s.poll_timeout(), Some(T0.plus_millis(600_000)));
    s.handle_timeout(T0.plus_millis(599_999));
    assert!(!s.is_closed());
    s.handle_timeout(T0.plus_millis(600_000));
    assert!(s.is_closed());
    assert!(!s.has_transmit(), "no reply on idle close");
    assert_eq!(app.updated, None);
}

/// Before login the session has a deadline from its start (3 minutes by default),
/// which commands do not push back: a `CAPA` now and then no longer holds a slot
/// for ever (the idle timer, 10 minutes from the last command, did). It answers
/// `-ERR Login took too long` and closes; after login only the idle timer counts.
#[test]
fn a_session_that_does_not_log_in_is_closed_at_the_login_deadline() {
    assert_eq!(config().login_timeout_ms, 180_000);
    let mut s = server(config());
    let mut app = App::demo();
    let out = drive(&mut s, &mut app, b"CAPA\r\n", 100, T0);
    assert!(out.starts_with(b"+OK POP3 server ready\r\n+OK"));
    assert_eq!(s.poll_timeout(), Some(T0.plus_millis(180_000)));
    // A command every 100 s: the deadline stays where it was.
    for at in [100_000, 179_000] {
        let out = drive(&mut s, &mut app, b"NOOP\r\n", 100, T0.plus_millis(at));
        assert_eq!(out, b"-ERR Not allowed in AUTHORIZATION state\r\n");
        assert_eq!(s.poll_timeout(), Some(T0.plus_millis(180_000)));
    }
    s.handle_timeout(T0.plus_millis(179_999));
    assert!(!s.is_closed());
    s.handle_timeout(T0.plus_millis(180_000));
    assert!(s.is_closed());
    let mut out = [0u8; 64];
    let n = s.poll_transmit(&mut out);
    assert_eq!(&out[..n], b"-ERR Login took too long\r\n");

    // Logged in just before the deadline: only the idle timer is left.
    let mut s = server(config());
    drive(
        &mut s,
        &mut app,
        b"USER alice\r\nPASS wonder land\r\n",
        100,
        T0.plus_millis(179_000),
    );
    assert_eq!(s.poll_timeout(), Some(T0.plus_millis(179_000 + 600_000)));
    s.handle_timeout(T0.plus_millis(180_000));
    assert!(!s.is_closed());
}

#[test]
fn failed_login_reply_is_delayed() {
    let mut c = config();
    c.auth_failure_delay_ms = 2_000;
    let mut s = server(c);
    let mut app = App::demo();
    let out = drive(
        &mut s,
        &mut app,
        b"USER alice\r\nPASS bad\r\nNOOP\r\n",
        100,
        T0,
    );
    assert_eq!(out, b"+OK POP3 server ready\r\n+OK\r\n");
    assert_eq!(s.poll_timeout(), Some(T0.plus_millis(2_000)));
    assert!(s
        .handle_input(b"USER alice\r\n", T0.plus_millis(1_999))
        .unwrap()
        .item
        .is_none());
    s.handle_timeout(T0.plus_millis(2_000));
    assert_eq!(sent(&mut s), b"-ERR [AUTH] Authentication failed\r\n");
}

#[test]
fn lang_and_utf8() {
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"LANG\r\nLANG fr\r\nLANG *\r\nUTF8\r\nUSER \xff\r\n",
    );
    assert_eq!(
        out.as_bytes(),
        b"+OK POP3 server ready\r\n+OK Language listing follows\r\nen English\r\n.\r\n-ERR Unsupported language\r\n\
+OK en Language is English\r\n+OK UTF8 enabled\r\n-ERR [UTF8] User name is not UTF-8\r\n"
    );
}

#[test]
fn answers_that_do_not_match_are_refused() {
    use pop3_proto::server::ServerError;
    let mut s = server(config());
    assert_eq!(s.answer_size(1), Err(ServerError::Unexpected));
    assert_eq!(s.answer_update(true), Err(ServerError::Unexpected));
    assert_eq!(s.body(b"x", &mut [0; 64]), Err(ServerError::Unexpected));
    let d = s
        .handle_input(b"USER alice\r\nPASS wonder land\r\n", T0)
        .unwrap();
    assert_eq!(d.consumed, 12);
    let d = s.handle_input(b"PASS wonder land\r\n", T0).unwrap();
    assert!(matches!(
        d.item,
        Some(pop3_proto::server::ServerEvent::CheckPassword { .. })
    ));
    assert_eq!(
        s.handle_input(b"", T0).unwrap_err(),
        ServerError::AnswerPending
    );
}

#[test]
fn maildrop_larger_than_the_mark_storage_is_refused() {
    let mut s = Server::with_marks(config(), T0, [0; 32], [0u8; 1]);
    let d = s.handle_input(b"USER alice\r\n", T0).unwrap();
    assert_eq!(d.consumed, 12);
    let d = s.handle_input(b"PASS wonder land\r\n", T0).unwrap();
    assert!(d.item.is_some());
    s.answer_password(true, T0).unwrap();
    let d = s.handle_input(b"", T0).unwrap();
    assert!(d.item.is_some());
    assert_eq!(
        s.answer_open(Open::Opened {
            count: 9,
            size: 900
        }),
        Err(pop3_proto::server::ServerError::TooManyMessages)
    );
    assert!(s.is_closed());
    assert_eq!(
        sent(&mut s),
        b"+OK POP3 server ready\r\n+OK\r\n-ERR [SYS/PERM] Maildrop too large for this server\r\n"
    );
}

/// RFC 1939: `TOP msg n` takes any non-negative n; past the body's last line the
/// whole message is sent (as Dovecot does). Counts beyond 32 bits saturate; the
/// message number is checked as for every other command.
#[test]
fn top_accepts_any_line_count() {
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"USER alice\r\nPASS wonder land\r\nTOP 1 4294967296\r\nTOP 1 99999999999999999999999999\r\n\
TOP 1 4294967295\r\nTOP 3 4294967296\r\nTOP 0 4294967296\r\nTOP 4 4294967296\r\nTOP 1 -1\r\n\
TOP 1 x\r\nTOP 1 1x\r\nTOP x 4294967296\r\nTOP 4294967296 1\r\nDELE 2\r\nTOP 2 4294967296\r\n",
    );
    let whole1 =
        "+OK Message follows\r\nSubject: one\r\n\r\nfirst line\r\n..dot line\r\nlast\r\n.\r\n";
    let whole3 = "+OK Message follows\r\nSubject: three\r\n\r\nno final newline\r\n.\r\n";
    let expected = format!(
        "+OK POP3 server ready\r\n+OK\r\n+OK Logged in, 3 messages (124 octets)\r\n\
{whole1}{whole1}{whole1}{whole3}\
-ERR There's no message 0\r\n\
-ERR There's no message 4\r\n\
-ERR Invalid number\r\n\
-ERR Invalid number\r\n\
-ERR Invalid number\r\n\
-ERR Invalid number\r\n\
-ERR Invalid number\r\n\
+OK Message 2 deleted\r\n\
-ERR Message is deleted\r\n"
    );
    assert_eq!(out, expected);
}

/// RFC 4616 §2: PLAIN's authorization identity is honoured, never ignored. By
/// default only "act as myself" (empty, or equal to the user) is accepted; another
/// one fails like a wrong password (Dovecot: `-ERR [AUTH] Authentication failed.`)
/// without asking the application.
#[test]
fn plain_authzid_of_another_user_is_refused() {
    // "bob\0alice\0wonder land": alice's password, asking to act as bob.
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"AUTH PLAIN Ym9iAGFsaWNlAHdvbmRlciBsYW5k\r\nSTAT\r\n",
    );
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n-ERR [AUTH] Authentication failed\r\n\
-ERR Not allowed in AUTHORIZATION state\r\n"
    );
    assert!(
        app.log.is_empty(),
        "the application is not asked: {:?}",
        app.log
    );
    // "alice\0alice\0wonder land" and "\0alice\0wonder land": acting as oneself.
    for ir in [
        "YWxpY2UAYWxpY2UAd29uZGVyIGxhbmQ=",
        "AGFsaWNlAHdvbmRlciBsYW5k",
    ] {
        let mut app = App::demo();
        let out = session(
            &config(),
            &mut app,
            format!("AUTH PLAIN {ir}\r\nSTAT\r\n").as_bytes(),
        );
        assert_eq!(
            out,
            "+OK POP3 server ready\r\n+OK Logged in, 3 messages (124 octets)\r\n+OK 3 124\r\n"
        );
        let open = format!("{:?}", ServerEvent::OpenMaildrop { user: b"alice" });
        assert!(app.log.contains(&open), "{:?}", app.log);
    }
    // The refusal is a failed login: delayed like a wrong password.
    let mut c = config();
    c.auth_failure_delay_ms = 2_000;
    let mut s = server(c);
    let mut app = App::demo();
    let out = drive(
        &mut s,
        &mut app,
        b"AUTH PLAIN Ym9iAGFsaWNlAHdvbmRlciBsYW5k\r\n",
        100,
        T0,
    );
    assert_eq!(out, b"+OK POP3 server ready\r\n");
    assert_eq!(s.poll_timeout(), Some(T0.plus_millis(2_000)));
    s.handle_timeout(T0.plus_millis(2_000));
    assert_eq!(sent(&mut s), b"-ERR [AUTH] Authentication failed\r\n");
}

/// With `allow_authzid` the application decides: it sees the authzid in
/// CheckPassword, and when it accepts, the session is the authzid's (OpenMaildrop
/// names bob, not alice). SCRAM stays refused: it has no verdict event.
#[test]
fn plain_authzid_allowed_by_the_application_opens_the_authzid_maildrop() {
    let mut c = config();
    c.allow_authzid = true;
    // The test application checks alice's password and lets her act as anyone.
    let mut app = App::demo();
    let out = session(
        &c,
        &mut app,
        b"AUTH PLAIN Ym9iAGFsaWNlAHdvbmRlciBsYW5k\r\nSTAT\r\n",
    );
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n+OK Logged in, 3 messages (124 octets)\r\n+OK 3 124\r\n"
    );
    let check = ServerEvent::CheckPassword {
        authzid: b"bob",
        user: b"alice",
        password: b"wonder land",
    };
    let open = ServerEvent::OpenMaildrop { user: b"bob" };
    assert_eq!(app.log[..2], [format!("{check:?}"), format!("{open:?}")]);
    // A wrong password is still a failed login, whatever the authzid.
    // "bob\0alice\0wrong"
    let out = session(&c, &mut App::demo(), b"AUTH PLAIN Ym9iAGFsaWNlAHdyb25n\r\n");
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n-ERR [AUTH] Authentication failed\r\n"
    );
    // "n,a=bob,n=alice,r=nonce"
    let out = session(
        &c,
        &mut App::demo(),
        b"AUTH SCRAM-SHA-256 bixhPWJvYixuPWFsaWNlLHI9bm9uY2U=\r\n",
    );
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n-ERR [AUTH] Authentication failed\r\n"
    );
}

/// SCRAM's gs2 header may name an authorization identity too (`n,a=bob,`); SCRAM
/// has no verdict event to let the application approve it, so another user's is
/// always refused before the secret is even asked for.
#[test]
fn scram_authzid_of_another_user_is_refused() {
    // "n,a=bob,n=alice,r=nonce"
    let mut app = App::demo();
    let out = session(
        &config(),
        &mut app,
        b"AUTH SCRAM-SHA-256 bixhPWJvYixuPWFsaWNlLHI9bm9uY2U=\r\n",
    );
    assert_eq!(
        out,
        "+OK POP3 server ready\r\n-ERR [AUTH] Authentication failed\r\n"
    );
    assert!(app.log.is_empty(), "{:?}", app.log);
    // "n,a=alice,n=alice,r=nonce": acting as oneself goes on to server-first
    // ("r=nonce...").
    let out = session(
        &config(),
        &mut App::demo(),
        b"AUTH SCRAM-SHA-256 bixhPWFsaWNlLG49YWxpY2Uscj1ub25jZQ==\r\n",
    );
    assert!(
        out.starts_with("+OK POP3 server ready\r\n+ cj1ub25jZ"),
        "{out}"
    );
}

/// Everything the server has to send now.
fn sent<M: pop3_proto::server::Marks>(s: &mut Server<M>) -> Vec<u8> {
    let mut out = Vec::new();
    common::app::flush(s, &mut out);
    out
}

/// `ServerConfig::new` offers what a password check answers: PLAIN and LOGIN (with
/// USER), never a mechanism that asks for a stored secret or a token; the others
/// appear once the application opts in.
#[test]
fn default_config_offers_only_what_a_password_check_answers() {
    use pop3_proto::server::MechanismSet;
    let mut c = ServerConfig::new("pop.example.org");
    c.tls = Tls::Implicit;
    let mut app = App::demo();
    let out = session(&c, &mut app, b"CAPA\r\n");
    assert!(out.contains("\r\nSASL PLAIN LOGIN\r\n"), "{out}");
    assert!(
        out.contains("\r\nUSER\r\n") || out.contains(" USER\r\n"),
        "{out}"
    );
    c.mechanisms = c
        .mechanisms
        .with(MechanismSet::SCRAM)
        .with(MechanismSet::CRAM_MD5)
        .with(MechanismSet::TOKENS);
    let out = session(&c, &mut app, b"CAPA\r\n");
    assert!(
        out.contains(
            "\r\nSASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER\r\n"
        ),
        "{out}"
    );
}
