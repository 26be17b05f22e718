//! Client <-> server conversations in memory, for every command: exact events on the
//! client side, exact bytes where they matter, pipelined and lock-step.

mod common;

use common::app::App;
use common::pair::{plain_configs, Pair};
use pop3_proto::client::{ClientError, Login};

fn login(pair: &mut Pair) {
    pair.run();
    pair.login_alice(b"wonder land");
    let ev = pair.run();
    assert!(ev.contains(&"LoggedIn".to_string()), "{ev:?}");
}

#[test]
fn greeting_and_capa() {
    let (c, s) = plain_configs();
    let mut pair = Pair::new(c, s, App::demo());
    let ev = pair.run();
    assert_eq!(
        ev,
        vec![
            "Greeting(POP3 server ready, apop=false)",
            "Capability(Top)",
            "Capability(Uidl)",
            "Capability(RespCodes)",
            "Capability(AuthRespCode)",
            "Capability(Pipelining)",
            "Capability(User)",
            "Capability(Utf8 { user: true })",
            "Capability(Lang)",
            "Capability(Sasl(SaslMechanisms(b\"PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER\")))",
            "CapabilitiesEnd",
        ]
    );
    let caps = pair.client.capabilities();
    assert!(caps.known && caps.pipelining && caps.top && caps.uidl && caps.user && caps.sasl);
    assert_eq!(pair.client_wire, b"CAPA\r\n");
}

#[test]
fn every_transaction_command() {
    let (c, s) = plain_configs();
    let mut pair = Pair::new(c, s, App::demo());
    login(&mut pair);
    let cl = &mut pair.client;
    cl.stat().unwrap();
    cl.list(None).unwrap();
    cl.list(Some(2)).unwrap();
    cl.uidl(None).unwrap();
    cl.uidl(Some(3)).unwrap();
    cl.retr(1).unwrap();
    cl.top(2, 0).unwrap();
    cl.dele(1).unwrap();
    cl.retr(1).unwrap();
    cl.noop().unwrap();
    cl.rset().unwrap();
    cl.lang(None).unwrap();
    cl.lang(Some(b"en")).unwrap();
    cl.dele(3).unwrap();
    cl.quit().unwrap();
    let ev = pair.run();
    assert_eq!(
        ev,
        vec![
            "Stat(Stat { count: 3, size: 124 })",
            "List(ListEntry { msg: 1, size: 45 })",
            "List(ListEntry { msg: 2, size: 43 })",
            "List(ListEntry { msg: 3, size: 36 })",
            "ListEnd",
            "List(ListEntry { msg: 2, size: 43 })",
            "Uidl(1 uid-0001)",
            "Uidl(2 uid-0002)",
            "Uidl(3 uid-0003)",
            "UidlEnd",
            "Uidl(3 uid-0003)",
            "MessageStart { msg: 1 }",
            "Data(1, Subject: one\r\n\r\nfirst line\r\n.dot line\r\nlast\r\n)",
            "MessageEnd { msg: 1 }",
            "MessageStart { msg: 2 }",
            "Data(2, Subject: two\r\nFrom: b@example.org\r\n\r\n)",
            "MessageEnd { msg: 2 }",
            "Deleted { msg: 1 }",
            "Error(Retr 1, None, Message is deleted)",
            "Ok(Noop, )",
            "Ok(Rset, 3 124)",
            "Lang(en English)",
            "LangEnd",
            "Ok(Lang, en Language is English)",
            "Deleted { msg: 3 }",
            "Closed",
        ]
    );
    assert_eq!(pair.app.updated, Some(vec![3]));
    assert!(pair.client.is_closed());
    // With PIPELINING everything after login went in one write.
    assert_eq!(
        pair.writes.len(),
        4,
        "CAPA, USER+PASS, CAPA again after login, then the rest"
    );
    let tail = b"STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\nRETR 1\r\nTOP 2 0\r\nDELE 1\r\nRETR 1\r\nNOOP\r\nRSET\r\nLANG\r\nLANG en\r\nDELE 3\r\nQUIT\r\n";
    assert!(pair.client_wire.ends_with(tail));
}

#[test]
fn lock_step_without_pipelining() {
    let (mut c, s) = plain_configs();
    c.auto_capa = false;
    let mut pair = Pair::new(c, s, App::demo());
    pair.piece = 3;
    pair.run();
    pair.login_alice(b"wonder land");
    pair.client.stat().unwrap();
    pair.client.retr(2).unwrap();
    pair.run();
    // Only one command in flight at a time: one write per command.
    let writes: Vec<&[u8]> = pair.writes.iter().map(Vec::as_slice).collect();
    assert_eq!(
        writes,
        vec![
            &b"USER alice\r\n"[..],
            b"PASS wonder land\r\n",
            b"STAT\r\n",
            b"RETR 2\r\n"
        ]
    );
    assert_eq!(
        pair.bodies,
        vec![(
            2,
            b"Subject: two\r\nFrom: b@example.org\r\n\r\nbody\r\n".to_vec()
        )]
    );
}

#[test]
fn failed_login_and_commands_queued_behind_it() {
    // Pipelined: the commands behind the login went out with it and are refused.
    let (c, s) = plain_configs();
    let mut pair = Pair::new(c, s, App::demo());
    pair.run();
    pair.login_alice(b"nope");
    pair.client.stat().unwrap();
    pair.client.retr(1).unwrap();
    assert_eq!(
        pair.run(),
        vec![
            "Error(Pass, Some(Auth), Authentication failed)",
            "Error(Stat, None, Not allowed in AUTHORIZATION state)",
            "Error(Retr 1, None, Not allowed in AUTHORIZATION state)"
        ]
    );
    assert!(!pair.client.is_logged_in());
    // Lock-step: they are dropped unsent.
    let (mut c, s) = plain_configs();
    c.auto_capa = false;
    let mut pair = Pair::new(c, s, App::demo());
    pair.run();
    pair.login_alice(b"nope");
    pair.client.stat().unwrap();
    pair.client.retr(1).unwrap();
    assert_eq!(
        pair.run(),
        vec!["Error(Pass, Some(Auth), Authentication failed)"]
    );
    assert!(pair.client.is_idle());
    assert_eq!(pair.client_wire, b"USER alice\r\nPASS nope\r\n");
}

#[test]
fn cleartext_refused_without_tls_unless_allowed() {
    let (mut c, s) = plain_configs();
    c.allow_plaintext = false;
    let mut pair = Pair::new(c, s, App::demo());
    pair.run();
    assert_eq!(
        pair.login(Login::UserPass {
            user: b"alice",
            password: b"x"
        }),
        Err(ClientError::PlaintextRefused)
    );
    assert_eq!(
        pair.login(Login::UserPass {
            user: b"al\r\nice",
            password: b"x"
        }),
        Err(ClientError::PlaintextRefused)
    );
}

#[test]
fn stls_then_login_then_recapa() {
    let (mut c, mut s) = plain_configs();
    c.allow_plaintext = false;
    s.allow_plaintext_auth = false;
    s.tls = pop3_proto::server::Tls::StartTls;
    let mut pair = Pair::new(c, s, App::demo());
    pair.run();
    assert!(pair.client.capabilities().stls);
    assert!(!pair.client.capabilities().user);
    pair.client.stls().unwrap();
    let ev = pair.run();
    assert_eq!(ev.first().map(String::as_str), Some("StartTls"));
    assert!(pair.client.tls_active());
    assert!(
        pair.client.capabilities().user,
        "re-CAPA after TLS shows USER"
    );
    assert!(!pair.client.capabilities().stls);
    pair.login_alice(b"wonder land");
    let ev = pair.run();
    assert!(ev.contains(&"LoggedIn".to_string()));
    assert!(pair.client.capabilities().known, "re-CAPA after login");
    assert!(
        pair.client_wire
            .windows(6)
            .filter(|w| w == b"CAPA\r\n")
            .count()
            == 3
    );
}

#[test]
fn apop_round_trip() {
    let (c, mut s) = plain_configs();
    s.apop = true;
    let mut pair = Pair::new(c, s, App::demo());
    let ev = pair.run();
    assert!(ev[0].ends_with("apop=true)"), "{ev:?}");
    pair.login(Login::Apop {
        user: b"alice",
        secret: b"wonder land",
    })
    .unwrap();
    let ev = pair.run();
    assert!(ev.contains(&"LoggedIn".to_string()), "{ev:?}");
    let line = String::from_utf8(pair.client_wire.clone()).unwrap();
    assert!(line.contains("APOP alice "), "{line}");
    assert!(
        !line.contains("wonder"),
        "the secret never crosses the wire"
    );
}

#[test]
fn in_use_maildrop_is_a_typed_error() {
    let (c, s) = plain_configs();
    let mut app = App::demo();
    app.open_answer = Some(pop3_proto::server::Open::InUse);
    let mut pair = Pair::new(c, s, app);
    pair.run();
    pair.login_alice(b"wonder land");
    assert_eq!(
        pair.run(),
        vec!["Error(Pass, Some(InUse), Maildrop is locked by another session)"]
    );
}

#[test]
fn same_conversation_in_every_piece_size() {
    let mut reference: Option<(Vec<String>, Vec<u8>)> = None;
    for piece in [1, 2, 3, 7, 64, usize::MAX] {
        let (c, s) = plain_configs();
        let mut pair = Pair::new(c, s, App::demo());
        pair.piece = piece;
        login(&mut pair);
        pair.client.uidl(None).unwrap();
        for m in 1..=3 {
            pair.client.retr(m).unwrap();
        }
        pair.client.quit().unwrap();
        pair.run();
        let got = (pair.events.clone(), pair.server_wire.clone());
        match &reference {
            None => reference = Some(got),
            Some(r) => assert_eq!(r, &got, "piece {piece}"),
        }
    }
}

#[test]
fn capa_refused_falls_back_to_probing() {
    use pop3_proto::client::{Client, ClientConfig, ClientEvent, CommandKind};
    let mut client = Client::new(
        ClientConfig {
            allow_plaintext: true,
            ..ClientConfig::default()
        },
        [0; 32],
    );
    client.handle_input(b"+OK hello\r\n").unwrap();
    let mut out = [0u8; 256];
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"CAPA\r\n");
    let d = client.handle_input(b"-ERR unknown command\r\n").unwrap();
    assert_eq!(
        d.item,
        Some(ClientEvent::Error {
            command: CommandKind::Capa,
            msg: None,
            code: None,
            text: b"unknown command"
        })
    );
    assert!(!client.capabilities().known);
    // The session goes on; commands are sent one at a time (no PIPELINING known).
    let login = Login::UserPass {
        user: b"u",
        password: b"p",
    };
    client.login(login).unwrap();
    assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
    let n = client.write_credentials(&login, &[], &mut out).unwrap();
    assert_eq!(&out[..n], b"USER u\r\n");
    // UIDL probing: -ERR is a typed, non-fatal error.
    client.handle_input(b"+OK\r\n").unwrap();
    assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
    client.write_credentials(&login, &[], &mut out).unwrap();
    client.handle_input(b"+OK logged in\r\n").unwrap();
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"CAPA\r\n", "re-CAPA after login");
    client.handle_input(b"-ERR no\r\n").unwrap();
    client.uidl(None).unwrap();
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"UIDL\r\n");
    let d = client.handle_input(b"-ERR UIDL not supported\r\n").unwrap();
    assert!(matches!(
        d.item,
        Some(ClientEvent::Error {
            command: CommandKind::Uidl,
            ..
        })
    ));
    assert!(client.is_logged_in());
}

#[test]
fn response_codes_reach_the_caller() {
    use pop3_proto::server::Open;
    for (answer, expected) in [
        (
            Open::LoginDelay,
            "Error(Pass, Some(LoginDelay), Logged in too recently)",
        ),
        (
            Open::Unavailable,
            "Error(Pass, Some(SysTemp), Maildrop unavailable, try again later)",
        ),
    ] {
        let (c, s) = plain_configs();
        let mut app = App::demo();
        app.open_answer = Some(answer);
        let mut pair = Pair::new(c, s, app);
        pair.run();
        pair.login_alice(b"wonder land");
        assert_eq!(pair.run(), vec![expected]);
    }
}

#[test]
fn utf8_mode() {
    let (c, s) = plain_configs();
    let mut pair = Pair::new(c, s, App::demo());
    pair.run();
    pair.client.utf8().unwrap();
    assert_eq!(pair.run(), vec!["Ok(Utf8, UTF8 enabled)"]);
    pair.login(Login::UserPass {
        user: "alice".as_bytes(),
        password: "wonder land".as_bytes(),
    })
    .unwrap();
    assert!(pair.run().contains(&"LoggedIn".to_string()));
}
