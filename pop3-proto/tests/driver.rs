//! The drivers' loop rule: a loop written exactly as the `driver` docs say never waits
//! for input while it owes the peer bytes, for either role; events leave the loop as
//! tokens; the server's message bodies leave in writes of the caller's buffer size.

mod common;

use common::app::{App, OwnedEvent};
use pop3_proto::client::{Client, ClientConfig, ClientEvent, CommandKind, Login};
use pop3_proto::driver::{ClientDriver, Poll, ServerDriver, ServerPoll};
use pop3_proto::server::{Server, ServerConfig, ServerEvent};
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

/// A server driver and its application, driven the documented way.
struct Served {
    driver: ServerDriver<[u8; 512], Vec<u8>, Vec<u8>>,
    app: App,
    /// Every write the loop made (one per `Poll::Transmit`).
    writes: Vec<Vec<u8>>,
}

impl Served {
    fn new(app: App, tx: usize) -> Self {
        Served {
            driver: ServerDriver::new(
                Server::new(config(), T0, [7; 32]),
                vec![0; 1024],
                vec![0; tx],
            ),
            app,
            writes: Vec::new(),
        }
    }

    /// The loop of the docs: poll, do what it says, poll again; stops at
    /// `NeedInput` (the client's turn) or `Closed`. Returns what was sent.
    fn run(&mut self) -> (Vec<u8>, ServerPoll) {
        let start = self.writes.len();
        for _ in 0..1_000_000 {
            match self.driver.poll(T0).unwrap() {
                ServerPoll::Transmit => {
                    let bytes = self.driver.transmit().to_vec();
                    self.driver.transmitted(bytes.len());
                    self.writes.push(bytes);
                }
                ServerPoll::Event => self.answer(),
                other => return (self.writes[start..].concat(), other),
            }
        }
        panic!("the server driver does not settle");
    }

    fn answer(&mut self) {
        let event = OwnedEvent::from(&self.driver.event().expect("an event after Poll::Event"));
        if let OwnedEvent::Retrieve(msg, _) = event {
            let raw = self.app.messages[msg as usize - 1].raw.clone();
            let mut rest = &raw[..];
            while !rest.is_empty() && !self.driver.server_ref().body_done() {
                let taken = self.driver.body(rest).unwrap();
                if taken == 0 {
                    // Full: the docs say poll, which answers Transmit.
                    assert_eq!(self.driver.poll(T0).unwrap(), ServerPoll::Transmit);
                    let bytes = self.driver.transmit().to_vec();
                    self.driver.transmitted(bytes.len());
                    self.writes.push(bytes);
                }
                rest = &rest[taken..];
            }
            self.driver.server().body_end().unwrap();
            return;
        }
        let mut sink = Vec::new();
        event.answer(&mut self.app, self.driver.server(), T0, &mut sink);
        assert!(sink.is_empty());
    }

    /// The client sends `line`; the server runs until it needs input again.
    fn command(&mut self, line: &[u8]) -> String {
        let input = self.driver.input();
        input[..line.len()].copy_from_slice(line);
        self.driver.received(line.len());
        let (sent, poll) = self.run();
        assert!(
            matches!(poll, ServerPoll::NeedInput { .. } | ServerPoll::Closed),
            "{poll:?}"
        );
        String::from_utf8(sent).unwrap()
    }
}

/// A lock-step client (one command, then its whole reply) gets every reply: the
/// listing's final `.` is sent before the server asks for input. On the old loop
/// (send, then handle_input, read when nothing happened) LIST hung here.
#[test]
fn lock_step_client_gets_every_listing_end() {
    let mut s = Served::new(App::demo(), 4096);
    assert_eq!(s.run().0, b"+OK POP3 server ready\r\n");
    assert_eq!(s.command(b"USER alice\r\n"), "+OK\r\n");
    assert_eq!(
        s.command(b"PASS wonder land\r\n"),
        "+OK Logged in, 3 messages (124 octets)\r\n"
    );
    assert_eq!(
        s.command(b"LIST\r\n"),
        "+OK Scan listing follows\r\n1 45\r\n2 43\r\n3 36\r\n.\r\n"
    );
    assert_eq!(
        s.command(b"UIDL\r\n"),
        "+OK Unique-ID listing follows\r\n1 uid-0001\r\n2 uid-0002\r\n3 uid-0003\r\n.\r\n"
    );
    assert_eq!(
        s.command(b"TOP 1 0\r\n"),
        "+OK Message follows\r\nSubject: one\r\n\r\n.\r\n"
    );
    assert_eq!(s.command(b"NOOP\r\n"), "+OK\r\n");
    assert_eq!(s.command(b"LIST 2\r\n"), "+OK 2 43\r\n");
    assert_eq!(s.command(b"QUIT\r\n"), "+OK Logging out\r\n");
    assert_eq!(s.run().1, ServerPoll::Closed);
    assert_eq!(s.app.updated, Some(vec![]));
}

/// A 4.9 MB message through a 64 KiB transmit buffer leaves in about 80 writes of
/// that size (the old server wrote 1 KiB at a time: about 5,000).
#[test]
fn message_bodies_leave_in_writes_of_the_buffer_size() {
    let mut app = App::demo();
    let line = b"0123456789 abcdefghijklmnopqrstuvwxyz 0123456789 abcdefghijklmnopqrstuvwxyz\n";
    let raw: Vec<u8> = line.repeat(65_000);
    app.messages[0].raw = raw.clone();
    let mut s = Served::new(app, 64 * 1024);
    s.run();
    s.command(b"USER alice\r\n");
    s.command(b"PASS wonder land\r\n");
    s.writes.clear();
    let sent = s.command(b"RETR 1\r\n");
    let expected_body: Vec<u8> = String::from_utf8(raw)
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    assert_eq!(
        sent.len(),
        "+OK Message follows\r\n".len() + expected_body.len() + 3
    );
    assert!(sent.ends_with("\r\n.\r\n"));
    let writes = s.writes.len();
    let bound = expected_body.len() / (64 * 1024) + 2;
    assert!(
        writes <= bound,
        "{writes} writes for {} bytes",
        expected_body.len()
    );
    assert!(s.writes[..writes - 1].iter().all(|w| w.len() > 60 * 1024));
}

/// With a write batch, the replies to pipelined RETRs leave in one write (not one
/// per message), byte for byte what the server sends without one; a reply is still
/// sent before the server asks for input (the client's partial next line) and before
/// any other event (QUIT's update) is handed out.
#[test]
fn pipelined_messages_share_a_write_with_a_write_batch() {
    let login = |batch: usize| {
        let mut s = Served::new(App::demo(), 4096);
        s.driver.set_write_batch(batch);
        s.run();
        s.command(b"USER alice\r\n");
        s.command(b"PASS wonder land\r\n");
        s.writes.clear();
        s
    };
    let (mut batched, mut unbatched) = (login(2048), login(0));
    let pipeline = b"RETR 1\r\nRETR 2\r\nRETR 3\r\nNOOP\r\nRE";
    let sent = batched.command(pipeline);
    assert_eq!(sent, unbatched.command(pipeline));
    assert!(sent.starts_with("+OK Message follows\r\nSubject: one\r\n"));
    assert!(sent.ends_with(".\r\n+OK\r\n"));
    assert_eq!(batched.writes.len(), 1);
    assert_eq!(unbatched.writes.len(), 4);

    // RETR then QUIT: the message is transmitted before the update event.
    let mut s = login(2048);
    s.driver.input()[..14].copy_from_slice(b"RETR 1\r\nQUIT\r\n");
    s.driver.received(14);
    assert_eq!(s.driver.poll(T0).unwrap(), ServerPoll::Event);
    s.answer();
    assert_eq!(s.driver.poll(T0).unwrap(), ServerPoll::Transmit);
    assert!(s.driver.transmit().ends_with(b"\r\n.\r\n"));
    let n = s.driver.transmit().len();
    s.driver.transmitted(n);
    assert_eq!(s.driver.poll(T0).unwrap(), ServerPoll::Event);
    assert_eq!(s.driver.event(), Some(ServerEvent::Update));
}

/// A scripted server for the client driver: the replies to each command, in order.
fn client_loop(
    driver: &mut ClientDriver<Vec<u8>, [u8; 512]>,
    replies: &mut Vec<&'static [u8]>,
    wire: &mut Vec<u8>,
) -> Vec<String> {
    let mut events = Vec::new();
    for _ in 0..10_000 {
        match driver.poll(T0).unwrap() {
            Poll::Transmit => {
                let bytes = driver.transmit().to_vec();
                driver.transmitted(bytes.len());
                wire.extend_from_slice(&bytes);
            }
            Poll::Event => {
                if matches!(driver.event(), Some(ClientEvent::NeedCredentials { .. })) {
                    // The only login of these tests.
                    driver
                        .credentials(&Login::UserPass {
                            user: b"u",
                            password: b"p",
                        })
                        .unwrap();
                    continue;
                }
                events.push(format!("{:?}", driver.event().unwrap()))
            }
            Poll::NeedInput { deadline } => {
                // The reply timeout (nothing arrived since T0).
                assert_eq!(deadline, Some(T0.plus_millis(120_000)));
                let reply = replies.remove(0);
                driver.input()[..reply.len()].copy_from_slice(reply);
                driver.received(reply.len());
            }
            Poll::Idle | Poll::Closed => return events,
        }
    }
    panic!("the client driver does not settle");
}

/// Pipelined RETR/DELE refusals name their message: no bookkeeping by the caller.
#[test]
fn pipelined_refusals_name_their_message() {
    let config = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    let mut driver = ClientDriver::new(Client::new(config, [1; 32]), vec![0; 600], [0; 512]);
    let mut wire = Vec::new();
    let mut replies: Vec<&'static [u8]> = vec![
        b"+OK ready\r\n",
        b"+OK\r\nPIPELINING\r\nUSER\r\n.\r\n",
        b"+OK\r\n+OK in\r\n",
        // PIPELINING again after login: the three replies below answer three
        // commands sent together (without it only RETR would be in flight, and the
        // other two replies would be bytes no command asked for).
        b"+OK\r\nPIPELINING\r\n.\r\n",
        b"-ERR [SYS/TEMP] no such message\r\n+OK deleted\r\n-ERR Message 3 is already deleted\r\n",
    ];
    client_loop(&mut driver, &mut replies, &mut wire);
    driver
        .client()
        .login(pop3_proto::client::Login::UserPass {
            user: b"u",
            password: b"p",
        })
        .unwrap();
    client_loop(&mut driver, &mut replies, &mut wire);
    driver.client().retr(2).unwrap();
    driver.client().dele(2).unwrap();
    driver.client().dele(3).unwrap();
    let events = client_loop(&mut driver, &mut replies, &mut wire);
    assert_eq!(
        String::from_utf8(wire).unwrap(),
        "CAPA\r\nUSER u\r\nPASS p\r\nCAPA\r\nRETR 2\r\nDELE 2\r\nDELE 3\r\n"
    );
    assert_eq!(
        events,
        [
            "Error { command: Retr, msg: Some(2), code: Some(SysTemp), text: b\"no such message\" }",
            "Deleted { msg: 2 }",
            "Error { command: Dele, msg: Some(3), code: None, text: b\"Message 3 is already deleted\" }",
        ]
    );
}

/// An event token outlives the borrow of the receive buffer and turns back into
/// the same event.
#[test]
fn event_tokens_resolve_to_the_same_events() {
    let mut client = Client::new(ClientConfig::default(), [1; 32]);
    let input = b"+OK POP3 <1.2@x> ready\r\n";
    let d = client.handle_input_token(input).unwrap();
    assert_eq!(d.consumed, input.len());
    let token = d.item.unwrap();
    // The client is free again: queue something while holding the token.
    client.noop().unwrap_err();
    assert_eq!(
        token.event(input),
        ClientEvent::Greeting {
            text: b"POP3 <1.2@x> ready",
            apop: true
        }
    );
    let _ = CommandKind::Noop;
    let _ = ServerEvent::Update;
}

/// STLS: the `+OK` leaves before the event asks for the handshake, and plaintext
/// sent behind STLS is dropped. (A first cut of the driver handed out the event
/// first: the client never saw `+OK` and both sides waited.)
#[test]
fn stls_reply_leaves_before_the_handshake_event() {
    let mut c = config();
    c.tls = pop3_proto::server::Tls::StartTls;
    let mut driver: ServerDriver<[u8; 512], Vec<u8>, Vec<u8>> =
        ServerDriver::new(Server::new(c, T0, [7; 32]), vec![0; 1024], vec![0; 4096]);
    assert_eq!(driver.poll(T0).unwrap(), ServerPoll::Transmit);
    let n = driver.transmit().len();
    driver.transmitted(n);
    assert!(matches!(
        driver.poll(T0).unwrap(),
        ServerPoll::NeedInput { .. }
    ));
    let line = b"STLS\r\nUSER injected\r\n";
    driver.input()[..line.len()].copy_from_slice(line);
    driver.received(line.len());
    assert_eq!(driver.poll(T0).unwrap(), ServerPoll::Transmit);
    assert_eq!(driver.transmit(), b"+OK Begin TLS negotiation now\r\n");
    driver.transmitted(31);
    assert_eq!(driver.poll(T0).unwrap(), ServerPoll::Event);
    assert_eq!(driver.event(), Some(ServerEvent::StartTls));
    driver.tls_started().unwrap();
    assert!(matches!(
        driver.poll(T0).unwrap(),
        ServerPoll::NeedInput { .. }
    ));
    assert!(driver.server_ref().tls_active());
}

/// A transmit buffer too small for the `+OK` line of a message is a typed error, not
/// a loop that never progresses (at the first poll: see `buffer_sizes`); 32 octets
/// are enough.
#[test]
fn tiny_transmit_buffers_work_or_fail_clearly() {
    let mut s = Served::new(App::demo(), 8);
    assert_eq!(
        s.driver.poll(T0),
        Err(pop3_proto::server::ServerError::BuffersTooSmall)
    );
    let mut s = Served::new(App::demo(), 32);
    s.run();
    s.command(b"USER alice\r\n");
    s.command(b"PASS wonder land\r\n");
    let input = s.driver.input();
    input[..8].copy_from_slice(b"RETR 2\r\n");
    s.driver.received(8);
    assert_eq!(s.driver.poll(T0).unwrap(), ServerPoll::Event);
    assert!(s.driver.body(b"Subject: two\r\n").unwrap() > 0);
}
