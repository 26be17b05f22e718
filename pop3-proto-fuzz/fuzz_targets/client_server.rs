//! Our client against our server, in memory, both behind their drivers: an
//! arbitrary mailbox (bodies with dots, bare LFs and CRs, no final line end, empty
//! messages), an arbitrary login (every mechanism of the default features), arbitrary
//! commands lock-step or pipelined, arbitrary buffer sizes and arbitrary splits of
//! both byte streams. Both sides must agree with a model of the maildrop: STAT, LIST
//! and UIDL match it, every retrieved body equals the stored one after unstuffing
//! and line-end normalisation (TOP a prefix of it), commands on deleted or missing
//! messages fail and no other does, deletions happen exactly at QUIT, and neither
//! driver reports an error.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login, SaslMechanism};
use pop3_proto::driver::{
    ClientDriver, Poll, ServerDriver, ServerPoll, MIN_CLIENT_RECEIVE, MIN_CLIENT_TRANSMIT,
    MIN_SERVER_RECEIVE, MIN_SERVER_TRANSMIT,
};
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent};
use pop3_proto::time::Instant;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Op {
    Stat,
    List(Option<u8>),
    Uidl(Option<u8>),
    Retr(u8),
    Top(u8, u8),
    Dele(u8),
    Rset,
    Noop,
    Quit,
}

#[derive(Arbitrary, Debug)]
struct Input {
    messages: Vec<Vec<u8>>,
    login: u8,
    pipelined: bool,
    ops: Vec<Op>,
    c2s_piece: u8,
    s2c_piece: u8,
    body_piece: u8,
    client_rx: u8,
    client_tx: u8,
    server_rx: u8,
    server_tx: u8,
}

const LOGINS: [Login<'static>; 9] = [
    Login::UserPass {
        user: b"u",
        password: b"pass word",
    },
    Login::Apop {
        user: b"u",
        secret: b"pass word",
    },
    sasl(SaslMechanism::Plain),
    sasl(SaslMechanism::Login),
    sasl(SaslMechanism::CramMd5),
    sasl(SaslMechanism::ScramSha1),
    sasl(SaslMechanism::ScramSha256),
    sasl(SaslMechanism::XOAuth2),
    sasl(SaslMechanism::OAuthBearer),
];

const fn sasl(mechanism: SaslMechanism) -> Login<'static> {
    Login::Sasl {
        mechanism,
        authzid: b"",
        user: b"u",
        secret: b"pass word",
    }
}

/// What a client receives for a stored body: line ends normalised to CRLF and a
/// final CRLF added when missing (as tests/common/mod.rs `normalized_body`).
fn normalized(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 2);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    match out.last() {
        None | Some(b'\n') => {}
        Some(b'\r') => out.push(b'\n'),
        Some(_) => out.extend_from_slice(b"\r\n"),
    }
    out
}

fn size(raw: &[u8]) -> u64 {
    pop3_proto::codec::body::wire_size(raw)
}

/// A client event in a comparable form (message data merged).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rec {
    Stat(u32, u64),
    List(u32, u64),
    ListEnd,
    Uidl(u32, Vec<u8>),
    UidlEnd,
    Message(u32, Vec<u8>),
    Deleted(u32),
    Ok(String),
    Error(String),
    Closed,
}

fuzz_target!(|input: Input| {
    let mut messages = input.messages;
    messages.truncate(8);
    for m in &mut messages {
        m.truncate(1500);
    }
    let mut ops = input.ops;
    ops.truncate(24);
    let count = messages.len() as u32;
    let login = LOGINS[usize::from(input.login) % LOGINS.len()];
    let num = |n: u8| u32::from(n) % (count + 2);

    // The model: what the client must see, command by command.
    let mut expected = Vec::new();
    let mut deleted = vec![false; messages.len()];
    let live = |deleted: &[bool], n: u32| n >= 1 && n <= count && !deleted[n as usize - 1];
    let mut quit = false;
    let mut sent_ops = Vec::new();
    for op in &ops {
        sent_ops.push(*op);
        match *op {
            Op::Stat => {
                let (c, s) = (1..=count)
                    .filter(|n| live(&deleted, *n))
                    .fold((0, 0), |(c, s), n| {
                        (c + 1, s + size(&messages[n as usize - 1]))
                    });
                expected.push(Rec::Stat(c, s));
            }
            Op::List(None) | Op::Uidl(None) => {
                for n in (1..=count).filter(|n| live(&deleted, *n)) {
                    expected.push(match op {
                        Op::List(_) => Rec::List(n, size(&messages[n as usize - 1])),
                        _ => Rec::Uidl(n, format!("uid{n}").into_bytes()),
                    });
                }
                expected.push(match op {
                    Op::List(_) => Rec::ListEnd,
                    _ => Rec::UidlEnd,
                });
            }
            Op::List(Some(n)) | Op::Uidl(Some(n)) => {
                let n = num(n);
                let kind = if matches!(op, Op::List(_)) {
                    "List"
                } else {
                    "Uidl"
                };
                expected.push(if !live(&deleted, n) {
                    Rec::Error(format!("{kind} {n}"))
                } else if kind == "List" {
                    Rec::List(n, size(&messages[n as usize - 1]))
                } else {
                    Rec::Uidl(n, format!("uid{n}").into_bytes())
                });
            }
            Op::Retr(n) | Op::Top(n, _) => {
                let n = num(n);
                let kind = if matches!(op, Op::Retr(_)) {
                    "Retr"
                } else {
                    "Top"
                };
                expected.push(if live(&deleted, n) {
                    // TOP: checked as a prefix below.
                    Rec::Message(n, normalized(&messages[n as usize - 1]))
                } else {
                    Rec::Error(format!("{kind} {n}"))
                });
            }
            Op::Dele(n) => {
                let n = num(n);
                if live(&deleted, n) {
                    deleted[n as usize - 1] = true;
                    expected.push(Rec::Deleted(n));
                } else {
                    expected.push(Rec::Error(format!("Dele {n}")));
                }
            }
            Op::Rset => {
                deleted.iter_mut().for_each(|d| *d = false);
                expected.push(Rec::Ok("Rset".into()));
            }
            Op::Noop => expected.push(Rec::Ok("Noop".into())),
            Op::Quit => {
                expected.push(Rec::Closed);
                quit = true;
                break;
            }
        }
    }
    let removed: Vec<u32> = (1..=count).filter(|n| deleted[*n as usize - 1]).collect();

    let now = Instant::from_millis(1_000);
    let mut config = ServerConfig::new("fuzz.example");
    config.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    config.allow_plaintext_auth = true;
    config.apop = true;
    config.auth_failure_delay_ms = 0;
    let mut server = ServerDriver::new(
        Server::new(config, now, [9; 32]),
        vec![0u8; MIN_SERVER_RECEIVE + usize::from(input.server_rx) * 4],
        vec![0u8; MIN_SERVER_TRANSMIT + usize::from(input.server_tx) * 4],
    );
    let mut client = ClientDriver::new(
        Client::new(
            ClientConfig {
                allow_plaintext: true,
                auto_capa: input.login & 0x80 != 0,
                ..ClientConfig::default()
            },
            [3; 32],
        ),
        vec![0u8; MIN_CLIENT_RECEIVE + usize::from(input.client_rx) * 4],
        vec![0u8; MIN_CLIENT_TRANSMIT + usize::from(input.client_tx) * 4],
    );
    let mut login_queued = false;
    // Answer NeedSecret with a stored CRAM-MD5 context or SCRAM verifier.
    let stored = input.login & 0x40 != 0;
    let c2s_piece = usize::from(input.c2s_piece.max(1));
    let s2c_piece = usize::from(input.s2c_piece.max(1));
    let body_piece = usize::from(input.body_piece.max(1));
    let mut c2s: Vec<u8> = Vec::new();
    let mut s2c: Vec<u8> = Vec::new();
    let mut logged_in = false;
    let mut queued = 0;
    let mut got: Vec<Rec> = Vec::new();
    let mut in_message: Option<(u32, Vec<u8>)> = None;
    let mut updated: Option<Vec<u32>> = None;
    let mut client_closed = false;
    let mut server_closed = false;
    for _ in 0..1_000_000 {
        let mut progress = false;
        // The client: one poll.
        if !client_closed {
            match client.poll(now).expect("the client driver fails") {
                Poll::Transmit => {
                    let t = client.transmit();
                    let n = t.len().min(c2s_piece);
                    c2s.extend_from_slice(&t[..n]);
                    client.transmitted(n);
                    progress = true;
                }
                Poll::Event => {
                    progress = true;
                    let rec = match client.event().unwrap() {
                        ClientEvent::NeedCredentials { .. } => {
                            client.credentials(&login).unwrap();
                            None
                        }
                        ClientEvent::LoggedIn => {
                            logged_in = true;
                            None
                        }
                        ClientEvent::Greeting { .. }
                        | ClientEvent::Capability(_)
                        | ClientEvent::CapabilitiesEnd => None,
                        ClientEvent::Stat(s) => Some(Rec::Stat(s.count, s.size)),
                        ClientEvent::List(e) => Some(Rec::List(e.msg, e.size)),
                        ClientEvent::ListEnd => Some(Rec::ListEnd),
                        ClientEvent::Uidl(e) => Some(Rec::Uidl(e.msg, e.uid.to_vec())),
                        ClientEvent::UidlEnd => Some(Rec::UidlEnd),
                        ClientEvent::MessageStart { msg } => {
                            assert!(in_message.is_none());
                            in_message = Some((msg, Vec::new()));
                            None
                        }
                        ClientEvent::MessageData { msg, data } => {
                            let m = in_message.as_mut().expect("data outside a message");
                            assert_eq!(m.0, msg);
                            m.1.extend_from_slice(data);
                            None
                        }
                        ClientEvent::MessageEnd { msg } => {
                            let (m, body) = in_message.take().expect("end outside a message");
                            assert_eq!(m, msg);
                            Some(Rec::Message(m, body))
                        }
                        ClientEvent::Deleted { msg } => Some(Rec::Deleted(msg)),
                        ClientEvent::Ok { command, .. } => Some(Rec::Ok(format!("{command:?}"))),
                        ClientEvent::Closed => Some(Rec::Closed),
                        ClientEvent::Error { command, msg, .. } => Some(Rec::Error(format!(
                            "{command:?} {}",
                            msg.map_or("-".to_string(), |m| m.to_string())
                        ))),
                        other => panic!("unexpected client event {other:?}"),
                    };
                    if let Some(r) = rec {
                        assert!(logged_in, "{r:?} before the login ended");
                        got.push(r);
                    }
                }
                Poll::NeedInput { .. } => {
                    if !s2c.is_empty() {
                        let input = client.input();
                        let n = input.len().min(s2c_piece).min(s2c.len());
                        input[..n].copy_from_slice(&s2c[..n]);
                        client.received(n);
                        s2c.drain(..n);
                        progress = true;
                    }
                }
                Poll::Idle if !login_queued => {
                    // After the greeting (APOP needs its timestamp).
                    client.client().login(login).unwrap();
                    login_queued = true;
                    progress = true;
                }
                Poll::Idle => {
                    assert!(logged_in, "idle before the login ended");
                    if queued < sent_ops.len() {
                        let take = if input.pipelined {
                            sent_ops.len()
                        } else {
                            queued + 1
                        };
                        for op in &sent_ops[queued..take] {
                            let c = client.client();
                            match *op {
                                Op::Stat => c.stat(),
                                Op::List(n) => c.list(n.map(num)),
                                Op::Uidl(n) => c.uidl(n.map(num)),
                                Op::Retr(n) => c.retr(num(n)),
                                Op::Top(n, l) => c.top(num(n), u32::from(l % 8)),
                                Op::Dele(n) => c.dele(num(n)),
                                Op::Rset => c.rset(),
                                Op::Noop => c.noop(),
                                Op::Quit => c.quit(),
                            }
                            .expect("the client takes the command");
                        }
                        queued = take;
                        progress = true;
                    }
                }
                Poll::Closed => client_closed = true,
            }
        }
        // The server: one poll.
        if !server_closed {
            match server.poll(now).expect("the server driver fails") {
                ServerPoll::Transmit => {
                    let t = server.transmit();
                    let n = t.len().min(s2c_piece);
                    s2c.extend_from_slice(&t[..n]);
                    server.transmitted(n);
                    progress = true;
                }
                ServerPoll::Event => {
                    progress = true;
                    enum E {
                        Check(bool),
                        Secret(Option<SaslMechanism>),
                        Open,
                        Size(u32),
                        Uid(u32),
                        Retrieve(u32),
                        Update,
                    }
                    let e = match server.event().unwrap() {
                        ServerEvent::CheckPassword { user, password, .. } => {
                            E::Check(user == b"u" && password == b"pass word")
                        }
                        ServerEvent::CheckToken { user, token } => {
                            E::Check(user == b"u" && token == b"pass word")
                        }
                        ServerEvent::NeedSecret { user, mechanism } => {
                            assert_eq!(user, b"u");
                            E::Secret(mechanism)
                        }
                        ServerEvent::OpenMaildrop { .. } => E::Open,
                        ServerEvent::Size { msg } => E::Size(msg),
                        ServerEvent::Uid { msg } => E::Uid(msg),
                        ServerEvent::Retrieve { msg, .. } => E::Retrieve(msg),
                        ServerEvent::Update => E::Update,
                        other => panic!("unexpected server event {other:?}"),
                    };
                    let s = server.server();
                    match e {
                        E::Check(ok) => {
                            assert!(ok, "the server refuses good credentials");
                            s.answer_password(ok, now).unwrap()
                        }
                        E::Secret(mechanism) => answer_secret(s, mechanism, stored, now),
                        E::Open => s
                            .answer_open(Open::Opened {
                                count,
                                size: messages.iter().map(|m| size(m)).sum(),
                            })
                            .unwrap(),
                        E::Size(msg) => s.answer_size(size(&messages[msg as usize - 1])).unwrap(),
                        E::Uid(msg) => s.answer_uid(format!("uid{msg}").as_bytes()).unwrap(),
                        E::Retrieve(msg) => {
                            assert!(!s.is_deleted(msg), "deleted message {msg} served");
                            let mut rest = &messages[msg as usize - 1][..];
                            let mut rounds = 0;
                            while !rest.is_empty() && !server.server_ref().body_done() {
                                rounds += 1;
                                assert!(rounds < 100_000);
                                let taken =
                                    server.body(&rest[..rest.len().min(body_piece)]).unwrap();
                                if taken == 0 {
                                    assert_eq!(server.poll(now).unwrap(), ServerPoll::Transmit);
                                    let t = server.transmit();
                                    s2c.extend_from_slice(t);
                                    let n = t.len();
                                    server.transmitted(n);
                                }
                                rest = &rest[taken..];
                            }
                            server.server().body_end().unwrap();
                        }
                        E::Update => {
                            assert!(updated.is_none(), "a second UPDATE");
                            updated = Some(s.deleted().collect());
                            s.answer_update(true).unwrap();
                        }
                    }
                }
                ServerPoll::NeedInput { .. } => {
                    if !c2s.is_empty() {
                        let input = server.input();
                        let n = input.len().min(c2s_piece).min(c2s.len());
                        input[..n].copy_from_slice(&c2s[..n]);
                        server.received(n);
                        c2s.drain(..n);
                        progress = true;
                    }
                }
                ServerPoll::Closed => server_closed = true,
            }
        }
        if !progress {
            break;
        }
    }
    assert!(logged_in, "the login failed");
    assert!(in_message.is_none());
    // TOP answers are a prefix of the body.
    assert_eq!(
        got.len(),
        expected.len(),
        "got {got:?}\nexpected {expected:?}"
    );
    let mut retrieve = sent_ops
        .iter()
        .filter(|o| matches!(o, Op::Retr(_) | Op::Top(..)));
    for (g, e) in got.iter().zip(&expected) {
        match (g, e) {
            (Rec::Message(gm, gb), Rec::Message(em, eb)) => {
                assert_eq!(gm, em);
                match retrieve.next() {
                    Some(Op::Retr(_)) => assert_eq!(gb, eb, "RETR {gm}"),
                    _ => assert!(eb.starts_with(gb), "TOP {gm}: {gb:?} of {eb:?}"),
                }
            }
            (Rec::Error(_), Rec::Error(_)) => {
                assert_eq!(g, e);
                retrieve_skip(&mut retrieve, e);
            }
            _ => assert_eq!(g, e, "got {got:?}\nexpected {expected:?}"),
        }
    }
    if quit {
        assert!(client_closed && server_closed);
        assert_eq!(updated, Some(removed), "deletions at QUIT");
    } else {
        assert_eq!(updated, None, "UPDATE without QUIT");
    }
});

/// The secret as a password, or (stored) as what a server keeps instead: a CRAM-MD5
/// context or a SCRAM verifier, each round-tripped through its text form first.
fn answer_secret(s: &mut Server, mechanism: Option<SaslMechanism>, stored: bool, now: Instant) {
    use pop3_proto::sasl::cram::CramMd5Context;
    use pop3_proto::sasl::scram::{Hash, ScramVerifier};
    let password = b"pass word";
    match mechanism {
        Some(SaslMechanism::CramMd5) if stored => {
            let context = CramMd5Context::compute(password);
            let again = CramMd5Context::parse(&context.encode()).expect("a context parses");
            assert_eq!(again.to_bytes(), context.to_bytes());
            assert_eq!(
                CramMd5Context::from_bytes(&context.to_bytes()).to_bytes(),
                context.to_bytes()
            );
            assert!(again.check_password(password) && !again.check_password(b"other"));
            s.answer_cram_context(Some(&again), now).unwrap();
        }
        Some(m @ (SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256)) if stored => {
            let hash = if m == SaslMechanism::ScramSha1 {
                Hash::Sha1
            } else {
                Hash::Sha256
            };
            let verifier = ScramVerifier::compute(hash, password, b"salt of the user", 4096);
            let mut text = [0u8; 512];
            let n = verifier.encode(&mut text).expect("a verifier encodes");
            let again = ScramVerifier::parse(&text[..n]).expect("a verifier parses");
            assert!(again.check_password(password) && !again.check_password(b"other"));
            s.answer_verifier(Some(&again), now).unwrap();
        }
        _ => s.answer_secret(Some(password), now).unwrap(),
    }
}

/// A refused RETR or TOP uses up its place among the message commands.
fn retrieve_skip<'a>(it: &mut impl Iterator<Item = &'a Op>, e: &Rec) {
    if let Rec::Error(s) = e {
        if s.starts_with("Retr") || s.starts_with("Top") {
            it.next();
        }
    }
}
