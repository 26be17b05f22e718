//! Replayed sessions of broken and hostile servers against the client, driven the
//! documented way (`ClientDriver::poll`). Every transcript is exact bytes; the
//! scripted server answers each command line the client sends with the next reply
//! of its script and sends nothing else.
//!
//! The rule under test: a reply that is malformed inside its own framing (one
//! status line, one LANG listing line) fails only its command, is consumed to its
//! end, and the session stays aligned; anything that loses framing, a bad line of a
//! whole LIST or UIDL listing, or a listing longer than it can be closes the client.

use std::collections::VecDeque;

use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login, SaslMechanism};
use pop3_proto::driver::{ClientDriver, Poll};

#[path = "common/login.rs"]
#[allow(dead_code)]
mod login;
use login::OwnedLogin;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn describe(ev: &ClientEvent<'_>) -> String {
    match ev {
        ClientEvent::Greeting { text: t, apop } => format!("Greeting({}, apop={apop})", text(t)),
        ClientEvent::Uidl(u) => format!("Uidl({} {})", u.msg, text(u.uid)),
        ClientEvent::MessageData { msg, data } => format!("Data({msg}, {})", text(data)),
        ClientEvent::Ok { command, text: t } => format!("Ok({command:?}, {})", text(t)),
        ClientEvent::Error {
            command,
            msg,
            code,
            text: t,
        } => format!("Error({command:?}, {msg:?}, {code:?}, {})", text(t)),
        other => format!("{other:?}"),
    }
}

/// A client driver talking to a scripted server.
struct Scripted {
    driver: ClientDriver<Vec<u8>, Vec<u8>>,
    /// (the command line the client must send, CRLF included; the reply to it).
    script: VecDeque<(&'static [u8], &'static [u8])>,
    /// Bytes the server sent that the client has not read yet.
    to_client: Vec<u8>,
    /// Bytes per read.
    piece: usize,
    /// Everything the client sent.
    wire: Vec<u8>,
    /// The client's bytes not yet matched to a command line.
    line: Vec<u8>,
    log: Vec<String>,
    /// The login queued last (the client asks for its credentials again).
    credentials: Option<OwnedLogin>,
}

impl Scripted {
    fn new(config: ClientConfig, greeting: &'static [u8]) -> Self {
        Scripted {
            driver: ClientDriver::new(Client::new(config, [5; 32]), vec![0; 4096], vec![0; 1024]),
            script: VecDeque::new(),
            to_client: greeting.to_vec(),
            piece: usize::MAX,
            wire: Vec::new(),
            line: Vec::new(),
            log: Vec::new(),
            credentials: None,
        }
    }

    fn reply(&mut self, command: &'static [u8], reply: &'static [u8]) -> &mut Self {
        self.script.push_back((command, reply));
        self
    }

    fn client(&mut self) -> &mut Client {
        self.driver.client()
    }

    /// Queues a login and keeps its credentials to answer `NeedCredentials`.
    fn login(&mut self, login: Login<'_>) -> Result<(), pop3_proto::client::ClientError> {
        self.driver.client().login(login)?;
        self.credentials = Some(OwnedLogin::new(&login));
        Ok(())
    }

    /// The documented loop until the client is idle or closed, waits for bytes the
    /// server will never send, or returns an error (logged as `Err(..)`, and the
    /// caller may go on). Returns what was logged during this run.
    fn run(&mut self) -> Vec<String> {
        let start = self.log.len();
        for _ in 0..10_000 {
            match self.driver.poll(pop3_proto::time::Instant::from_millis(0)) {
                Err(e) => {
                    self.log.push(format!("Err({e:?})"));
                    return self.log[start..].to_vec();
                }
                Ok(Poll::Transmit) => {
                    let bytes = self.driver.transmit().to_vec();
                    self.driver.transmitted(bytes.len());
                    self.wire.extend_from_slice(&bytes);
                    self.line.extend_from_slice(&bytes);
                    while let Some(lf) = self.line.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = self.line.drain(..=lf).collect();
                        match self.script.front() {
                            Some((expected, reply)) if *expected == &line[..] => {
                                self.to_client.extend_from_slice(reply);
                                self.script.pop_front();
                            }
                            _ => self
                                .log
                                .push(format!("Unscripted({})", text(&line).trim_end())),
                        }
                    }
                }
                Ok(Poll::Event) => {
                    if matches!(
                        self.driver.event(),
                        Some(ClientEvent::NeedCredentials { .. })
                    ) {
                        if let Some(login) = &self.credentials {
                            if let Err(e) = self.driver.credentials(&login.login()) {
                                self.log.push(format!("Err({e:?})"));
                            }
                        }
                        continue;
                    }
                    let ev = describe(&self.driver.event().unwrap());
                    // Consecutive data of one message reads as one event.
                    let merge = ev.starts_with("Data(") && self.log.len() > start && {
                        let prefix = &ev[..ev.find(", ").unwrap() + 2];
                        self.log.last().is_some_and(|last| last.starts_with(prefix))
                    };
                    if merge {
                        let last = self.log.last_mut().unwrap();
                        last.pop();
                        last.push_str(&ev[ev.find(", ").unwrap() + 2..]);
                    } else {
                        self.log.push(ev);
                    }
                }
                Ok(Poll::NeedInput { .. }) => {
                    if self.to_client.is_empty() {
                        self.log.push("<waits>".into());
                        return self.log[start..].to_vec();
                    }
                    let input = self.driver.input();
                    let n = self.to_client.len().min(self.piece).min(input.len());
                    input[..n].copy_from_slice(&self.to_client[..n]);
                    self.to_client.drain(..n);
                    self.driver.received(n);
                }
                Ok(Poll::Idle) => return self.log[start..].to_vec(),
                Ok(Poll::Closed) => {
                    self.log.push("<closed>".into());
                    return self.log[start..].to_vec();
                }
            }
        }
        self.log.push("<stuck>".into());
        self.log[start..].to_vec()
    }
}

fn plain() -> ClientConfig {
    ClientConfig {
        allow_plaintext: true,
        auto_capa: false,
        ..ClientConfig::default()
    }
}

/// Greeting and USER/PASS, lock-step (no CAPA, so no PIPELINING).
fn logged_in(greeting: &'static [u8]) -> Scripted {
    let mut s = Scripted::new(plain(), greeting);
    s.reply(b"USER alice\r\n", b"+OK\r\n")
        .reply(b"PASS secret\r\n", b"+OK logged in\r\n");
    s.run();
    s.login(Login::UserPass {
        user: b"alice",
        password: b"secret",
    })
    .unwrap();
    assert_eq!(s.run(), ["LoggedIn"]);
    s
}

fn result<T>(r: Result<T, pop3_proto::client::ClientError>) -> String {
    match r {
        Ok(_) => "Ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

// --- 1. Malformed replies inside their framing ---------------------------------------

/// `+OK 7` to STAT (no size): STAT fails, and NOOP gets its own `+OK`, QUIT its own.
/// (Was: Err(Protocol("malformed STAT reply")) with the line left in the buffer,
/// NOOP answered with `Ok(Noop, 7)`, QUIT with NOOP's `+OK`.)
#[test]
fn malformed_stat_reply_fails_only_stat() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"STAT\r\n", b"+OK 7\r\n")
        .reply(b"NOOP\r\n", b"+OK\r\n")
        .reply(b"QUIT\r\n", b"+OK bye\r\n");
    s.client().stat().unwrap();
    s.client().noop().unwrap();
    s.client().quit().unwrap();
    let mut log = s.run();
    if log.last().is_some_and(|l| l.starts_with("Err(")) {
        log.extend(s.run()); // a caller that goes on
    }
    assert_eq!(
        log,
        [
            "Invalid { command: Stat, msg: None, reason: Malformed(BadSize) }",
            "Ok(Noop, )",
            "Closed",
            "<closed>"
        ]
    );
    assert_eq!(
        s.wire,
        b"USER alice\r\nPASS secret\r\nSTAT\r\nNOOP\r\nQUIT\r\n"
    );
}

/// A bad line inside a whole LIST or UIDL listing ends the session at that line
/// (`InvalidListing`): nothing after it is read, so a listing that goes on for ever
/// behind it cannot keep the client reading. (Was: `Invalid` at the listing's end,
/// read to that end, which may never come; before that, the same line re-read
/// forever.)
#[test]
fn bad_listing_line_ends_the_session_at_that_line() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(
        b"LIST\r\n",
        b"+OK 3 messages\r\n1 120\r\nnot a number\r\n3 200\r\n.\r\n",
    )
    .reply(b"NOOP\r\n", b"+OK still here\r\n");
    s.client().list(None).unwrap();
    s.client().noop().unwrap();
    assert_eq!(
        s.run(),
        [
            "List(ListEntry { msg: 1, size: 120 })",
            "Err(InvalidListing(Malformed(BadNumber)))",
        ]
    );
    assert!(s.driver.client_ref().is_closed());
    assert_eq!(result(s.client().noop()), "WrongState");
    assert_eq!(s.run(), ["<closed>"]);
    assert_eq!(s.wire, b"USER alice\r\nPASS secret\r\nLIST\r\n");

    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"UIDL\r\n", b"+OK\r\n1 QhdPYR:00WBw1Ph7x7\r\n2\r\n.\r\n");
    s.client().uidl(None).unwrap();
    assert_eq!(
        s.run(),
        [
            "Uidl(1 QhdPYR:00WBw1Ph7x7)",
            "Err(InvalidListing(Malformed(MissingField)))",
        ]
    );
    assert!(s.driver.client_ref().is_closed());
}

/// The same listing read one byte at a time gives the same events.
#[test]
fn bad_listing_line_in_one_byte_reads() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.piece = 1;
    s.reply(b"LIST\r\n", b"+OK\r\n1 120\r\n1 x\r\n2 5\r\n.\r\n")
        .reply(b"NOOP\r\n", b"+OK\r\n");
    s.client().list(None).unwrap();
    s.client().noop().unwrap();
    let log = s.run();
    assert_eq!(
        log,
        [
            "List(ListEntry { msg: 1, size: 120 })",
            "Err(InvalidListing(Malformed(BadSize)))",
        ]
    );
    assert!(s.driver.client_ref().is_closed());
    // Read up to the bad line's end, not one byte further.
    assert_eq!(s.to_client, b"2 5\r\n.\r\n");
}

/// A reply to no command loses framing: the client closes, refuses every later
/// command and reads nothing more. (Was: the error came back on every poll and the
/// client stayed open.)
#[test]
fn reply_to_no_command_closes_the_client() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"NOOP\r\n", b"+OK\r\n+OK surprise\r\n");
    s.client().noop().unwrap();
    let log = s.run();
    assert_eq!(
        log,
        [
            "Ok(Noop, )",
            "Err(Protocol(\"data from the server before a command\"))"
        ]
    );
    assert!(s.driver.client_ref().is_closed());
    assert_eq!(result(s.client().noop()), "WrongState");
    assert_eq!(result(s.client().quit()), "WrongState");
    assert_eq!(s.run(), ["<closed>"]);
}

/// A SCRAM server that says `+OK` without proving it knows the password is not
/// believed, and the session is over. (Was: an error, but the client stayed open
/// with the `+OK` line still unread.)
/// A TLS client that sent AUTH SCRAM-SHA-256 (user, "pencil"), got `+ ` and sent
/// its client-first message, which the script does not match (it is deterministic
/// for a fixed random seed, whatever it is): the caller answers it.
fn scram_client_first_sent() -> Scripted {
    let config = ClientConfig {
        auto_capa: false,
        tls: true,
        ..ClientConfig::default()
    };
    let mut s = Scripted::new(config, b"+OK ready\r\n");
    s.run();
    s.login(Login::Sasl {
        mechanism: SaslMechanism::ScramSha256,
        authzid: b"",
        user: b"user",
        secret: b"pencil",
    })
    .unwrap();
    s.reply(b"AUTH SCRAM-SHA-256\r\n", b"+ \r\n");
    let log = s.run();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].starts_with("Unscripted(biwsbj11c2VyLHI9"), "{log:?}");
    assert_eq!(log[1], "<waits>");
    s
}

#[test]
fn unproven_scram_success_closes_the_client() {
    let mut s = scram_client_first_sent();
    s.to_client.extend_from_slice(b"+OK welcome\r\n");
    let log = s.run();
    assert_eq!(
        log,
        ["Err(Sasl(\"server did not prove the password\"))".to_string()]
    );
    assert!(s.driver.client_ref().is_closed());
    assert!(!s.driver.client_ref().is_logged_in());
    assert_eq!(result(s.client().stat()), "WrongState");
}

// --- 2. Injected replies after a refused STLS -----------------------------------------

/// `-ERR` to STLS followed, in the same packet, by two `+OK` lines no command asked
/// for: the client reports the refusal, then closes. A caller that goes on cannot
/// log in on the injected lines. (Was: LoggedIn on `+OK authenticated`, although
/// the server's answer to PASS was `-ERR`.)
#[test]
fn injected_replies_after_refused_stls_are_not_believed() {
    let mut s = Scripted::new(plain(), b"+OK POP3 ready\r\n");
    s.run();
    s.reply(
        b"STLS\r\n",
        b"-ERR currently unavailable\r\n+OK user accepted\r\n+OK authenticated\r\n",
    )
    .reply(b"USER alice\r\n", b"+OK\r\n")
    .reply(b"PASS secret\r\n", b"-ERR [AUTH] invalid password\r\n");
    s.client().stls().unwrap();
    let mut log = s.run();
    // A caller that goes on with a login.
    let login = s.login(Login::UserPass {
        user: b"alice",
        password: b"secret",
    });
    log.push(format!("login: {}", result(login)));
    log.extend(s.run());
    assert_eq!(
        log,
        [
            "Error(Stls, None, None, currently unavailable)",
            "Err(Protocol(\"data from the server before a command\"))",
            "login: WrongState",
            "<closed>"
        ]
    );
    assert!(!s.driver.client_ref().is_logged_in());
    assert!(s.driver.client_ref().is_closed());
    assert_eq!(s.wire, b"STLS\r\n");
}

// --- 3. Nothing between STLS and the handshake ----------------------------------------

/// Commands cannot be queued behind an unanswered STLS: after `-ERR` no APOP went
/// out in plaintext. (Was: APOP sent after the refusal, session logged in without
/// TLS.)
#[test]
fn nothing_queued_behind_stls_leaves_after_a_refusal() {
    let mut s = Scripted::new(
        plain(),
        b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
    );
    s.run();
    s.reply(b"STLS\r\n", b"-ERR TLS not available\r\n").reply(
        b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n",
        b"+OK maildrop has 1 message (369 octets)\r\n",
    );
    s.client().stls().unwrap();
    let queued = s.login(Login::Apop {
        user: b"mrose",
        secret: b"tanstaaf",
    });
    assert_eq!(result(queued), "WrongState");
    assert_eq!(s.run(), ["Error(Stls, None, None, TLS not available)"]);
    assert!(!s.driver.client_ref().is_logged_in());
    assert_eq!(s.wire, b"STLS\r\n");
}

/// After `+OK` to STLS nothing is sent and nothing is queued until the handshake;
/// plaintext the server sent behind its `+OK` is discarded by the client itself,
/// not read as the reply to the CAPA that follows the handshake. (Was: the APOP
/// queued behind STLS left before the handshake.)
#[test]
fn nothing_leaves_between_stls_ok_and_the_handshake() {
    let config = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    let mut s = Scripted::new(
        config,
        b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
    );
    s.reply(b"CAPA\r\n", b"+OK\r\nSTLS\r\nPIPELINING\r\n.\r\n");
    s.run();
    s.reply(
        b"STLS\r\n",
        b"+OK Begin TLS negotiation\r\n+OK\r\nUSER\r\nPIPELINING\r\n.\r\n",
    );
    s.client().stls().unwrap();
    let queued = s.login(Login::Apop {
        user: b"mrose",
        secret: b"tanstaaf",
    });
    let mut log = vec![format!("queued: {}", result(queued))];
    log.extend(s.run());
    log.push(format!("noop: {}", result(s.client().noop())));
    log.push(format!("quit: {}", result(s.client().quit())));
    log.extend(s.run());
    assert_eq!(
        log,
        [
            "queued: WrongState",
            "StartTls",
            "noop: WrongState",
            "quit: WrongState"
        ]
    );
    assert_eq!(s.wire, b"CAPA\r\nSTLS\r\n");
    // The handshake (simulated): CAPA is queued again; its reply is the real one.
    s.reply(b"CAPA\r\n", b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n");
    s.driver.tls_started().unwrap();
    let log = s.run();
    assert_eq!(
        log,
        [
            "Capability(User)",
            "Capability(Sasl(SaslMechanisms(b\"PLAIN\")))",
            "CapabilitiesEnd"
        ]
    );
    let caps = s.driver.client_ref().capabilities();
    assert!(caps.known && caps.user && !caps.pipelining);
    assert!(s.driver.client_ref().tls_active());
    assert_eq!(s.wire, b"CAPA\r\nSTLS\r\nCAPA\r\n");
}

/// The core itself drops what was received in plaintext behind `+OK` to STLS: the
/// StartTls event consumes all of its input, and input offered before
/// `tls_started` is consumed and ignored.
#[test]
fn core_discards_plaintext_after_stls_ok() {
    let mut client = Client::new(plain(), [1; 32]);
    let mut out = [0u8; 256];
    client.handle_input(b"+OK hi\r\n").unwrap();
    client.stls().unwrap();
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"STLS\r\n");
    let input = b"+OK go ahead\r\n+OK\r\nPIPELINING\r\n.\r\n";
    let d = client.handle_input(input).unwrap();
    assert_eq!(d.item, Some(ClientEvent::StartTls));
    assert_eq!(d.consumed, input.len());
    let d = client.handle_input(b"+OK more plaintext\r\n").unwrap();
    assert_eq!((d.consumed, d.item), (20, None));
    assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
    client.tls_started().unwrap();
    let n = client.poll_transmit(&mut out).unwrap();
    assert_eq!(&out[..n], b"");
    assert!(client.tls_active());
    // tls_started only after StartTls.
    assert_eq!(
        result(client.tls_started()),
        "WrongState",
        "a second tls_started"
    );
}

// --- 4. Message numbers ---------------------------------------------------------------

/// LIST n and UIDL n must be answered for n. (Was: `List { msg: 99 }`.)
#[test]
fn list_n_and_uidl_n_answers_must_name_n() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"LIST 1\r\n", b"+OK 99 1024\r\n")
        .reply(b"UIDL 1\r\n", b"+OK 2 QhdPYR:00WBw1Ph7x7\r\n")
        .reply(b"LIST 2\r\n", b"+OK 2 200\r\n")
        .reply(b"UIDL 2\r\n", b"+OK 2 QhdPYR:00WBw1Ph7x7\r\n");
    s.client().list(Some(1)).unwrap();
    s.client().uidl(Some(1)).unwrap();
    s.client().list(Some(2)).unwrap();
    s.client().uidl(Some(2)).unwrap();
    let mut log = s.run();
    while log.last().is_some_and(|l| l.starts_with("Err(")) && log.len() < 20 {
        log.extend(s.run());
    }
    assert_eq!(
        log,
        [
            "Invalid { command: List, msg: Some(1), reason: OtherMessage { msg: 99 } }",
            "Invalid { command: Uidl, msg: Some(1), reason: OtherMessage { msg: 2 } }",
            "List(ListEntry { msg: 2, size: 200 })",
            "Uidl(2 QhdPYR:00WBw1Ph7x7)",
        ]
    );
}

/// LIST n / UIDL n answers numbered 0, or above what STAT allows, fail their
/// command (`Invalid`), and the session goes on.
#[test]
fn listing_numbers_are_checked_against_stat() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"STAT\r\n", b"+OK 2 320\r\n")
        .reply(b"LIST 0\r\n", b"+OK 0 100\r\n")
        .reply(b"UIDL 2\r\n", b"+OK 2 b\r\n")
        .reply(b"DELE 1\r\n", b"+OK\r\n")
        .reply(b"STAT\r\n", b"+OK 1 200\r\n")
        .reply(b"LIST 2\r\n", b"+OK 2 200\r\n")
        .reply(b"LIST 3\r\n", b"+OK 3 10\r\n");
    s.client().stat().unwrap();
    s.client().list(Some(0)).unwrap();
    s.client().uidl(Some(2)).unwrap();
    s.client().dele(1).unwrap();
    s.client().stat().unwrap();
    s.client().list(Some(2)).unwrap();
    s.client().list(Some(3)).unwrap();
    assert_eq!(
        s.run(),
        [
            "Stat(Stat { count: 2, size: 320 })",
            "Invalid { command: List, msg: Some(0), reason: NumberOutOfRange { msg: 0 } }",
            "Uidl(2 b)",
            "Deleted { msg: 1 }",
            // One message left, but message 2 keeps its number (RFC 1939 §6).
            "Stat(Stat { count: 1, size: 200 })",
            "List(ListEntry { msg: 2, size: 200 })",
            "Invalid { command: List, msg: Some(3), reason: NumberOutOfRange { msg: 3 } }",
        ]
    );
    assert!(s.driver.client_ref().is_logged_in());
}

/// Whole-listing entries numbered 0, or above what STAT allows (a huge count does
/// not keep the client reading past the bad line), end the session at that line
/// (`InvalidListing`). (Was: `Invalid` only at the listing's end, read to that end.)
#[test]
fn whole_listing_numbers_out_of_range_end_the_session() {
    /// (STAT's reply or none, the listing command, its reply, the log).
    type Case = (
        &'static [u8],
        &'static [u8],
        &'static [u8],
        &'static [&'static str],
    );
    let cases: [Case; 4] = [
        (
            b"",
            b"LIST\r\n",
            b"+OK\r\n0 100\r\n1 100\r\n.\r\n",
            &["Err(InvalidListing(NumberOutOfRange { msg: 0 }))"],
        ),
        (
            b"+OK 2 320\r\n",
            b"LIST\r\n",
            b"+OK\r\n1 120\r\n50000000 1\r\n2 200\r\n.\r\n",
            &[
                "Stat(Stat { count: 2, size: 320 })",
                "List(ListEntry { msg: 1, size: 120 })",
                "Err(InvalidListing(NumberOutOfRange { msg: 50000000 }))",
            ],
        ),
        (
            b"+OK 2 320\r\n",
            b"UIDL\r\n",
            b"+OK\r\n1 a\r\n4294967295 z\r\n.\r\n",
            &[
                "Stat(Stat { count: 2, size: 320 })",
                "Uidl(1 a)",
                "Err(InvalidListing(NumberOutOfRange { msg: 4294967295 }))",
            ],
        ),
        (
            b"+OK 4294967295 0\r\n",
            b"UIDL\r\n",
            b"+OK\r\n0 a\r\n1 a\r\n2 b\r\n3 c\r\n4 d\r\n5 e\r\n",
            &[
                "Stat(Stat { count: 4294967295, size: 0 })",
                "Err(InvalidListing(NumberOutOfRange { msg: 0 }))",
            ],
        ),
    ];
    for (stat, command, reply, want) in cases {
        let mut s = logged_in(b"+OK POP3 ready\r\n");
        if !stat.is_empty() {
            s.reply(b"STAT\r\n", stat);
            s.client().stat().unwrap();
        }
        s.reply(command, reply).reply(b"NOOP\r\n", b"+OK\r\n");
        if command == b"LIST\r\n" {
            s.client().list(None).unwrap();
        } else {
            s.client().uidl(None).unwrap();
        }
        s.client().noop().unwrap();
        assert_eq!(s.run(), want, "{}", text(reply));
        assert!(s.driver.client_ref().is_closed());
        assert_eq!(s.run(), ["<closed>"]);
        let sent = [
            &b"USER alice\r\nPASS secret\r\n"[..],
            if stat.is_empty() { b"" } else { b"STAT\r\n" },
            command,
        ]
        .concat();
        assert_eq!(s.wire, sent);
    }
}

/// In a whole LIST or UIDL listing the message numbers must increase (every real
/// server lists them in order): a repeated or lower number ends the session at that
/// line (`InvalidListing(OutOfOrder)`), so that a listing without STAT's count, or
/// with a huge one, can only name numbers that grow. (Was: read as long as the
/// server sent.)
#[test]
fn whole_listing_numbers_must_increase() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"LIST\r\n", b"+OK\r\n1 10\r\n3 30\r\n3 30\r\n4 40\r\n.\r\n");
    s.client().list(None).unwrap();
    assert_eq!(
        s.run(),
        [
            "List(ListEntry { msg: 1, size: 10 })",
            "List(ListEntry { msg: 3, size: 30 })",
            "Err(InvalidListing(OutOfOrder { msg: 3 }))",
        ]
    );
    assert!(s.driver.client_ref().is_closed());

    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"STAT\r\n", b"+OK 4294967295 0\r\n").reply(
        b"UIDL\r\n",
        b"+OK\r\n1 a\r\n2 b\r\n1 a\r\n2 b\r\n1 a\r\n2 b\r\n",
    );
    s.client().stat().unwrap();
    s.client().uidl(None).unwrap();
    assert_eq!(
        s.run(),
        [
            "Stat(Stat { count: 4294967295, size: 0 })",
            "Uidl(1 a)",
            "Uidl(2 b)",
            "Err(InvalidListing(OutOfOrder { msg: 1 }))",
        ]
    );
    assert!(s.driver.client_ref().is_closed());

    // Each listing starts again from 1; gaps (deleted messages) are fine.
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"LIST\r\n", b"+OK\r\n2 20\r\n5 50\r\n.\r\n")
        .reply(b"UIDL\r\n", b"+OK\r\n1 a\r\n2 b\r\n.\r\n");
    s.client().list(None).unwrap();
    s.client().uidl(None).unwrap();
    assert_eq!(
        s.run(),
        [
            "List(ListEntry { msg: 2, size: 20 })",
            "List(ListEntry { msg: 5, size: 50 })",
            "ListEnd",
            "Uidl(1 a)",
            "Uidl(2 b)",
            "UidlEnd",
        ]
    );
}

/// A whole LIST or UIDL may have no more lines than STAT allows messages, whatever
/// they say: one more ends the session (`Protocol`), so that a listing that never
/// ends cannot keep the client reading. A CAPA listing past 256 lines likewise.
/// (Was: read to the end, which may never come.)
#[test]
fn listings_longer_than_they_can_be_end_the_session() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"STAT\r\n", b"+OK 2 320\r\n")
        .reply(b"UIDL\r\n", b"+OK\r\n1 a\r\n2 b\r\n3 c\r\n4 d\r\n");
    s.client().stat().unwrap();
    s.client().uidl(None).unwrap();
    assert_eq!(
        s.run(),
        [
            "Stat(Stat { count: 2, size: 320 })",
            "Uidl(1 a)",
            "Uidl(2 b)",
            "Err(Protocol(\"listing longer than STAT's count\"))",
        ]
    );
    assert!(s.driver.client_ref().is_closed());

    let mut s = Scripted::new(plain(), b"+OK POP3 ready\r\n");
    s.run();
    let capa: &'static [u8] = Box::leak(
        [&b"+OK\r\n"[..], &b"X-LINE\r\n".repeat(300)]
            .concat()
            .into_boxed_slice(),
    );
    s.reply(b"CAPA\r\n", capa);
    s.client().capa().unwrap();
    let log = s.run();
    assert_eq!(log.len(), 257, "{:?}", &log[log.len() - 2..]);
    assert_eq!(log[256], "Err(Protocol(\"CAPA listing too long\"))");
    assert!(s.driver.client_ref().is_closed());
}

/// A LANG listing (RFC 6856) is not a stream the client asked for either: past 256
/// lines (`MAX_LANG_LINES`) it ends the session (`Protocol`). (Was: no bound.)
#[test]
fn lang_listing_past_256_lines_ends_the_session() {
    assert_eq!(pop3_proto::client::MAX_LANG_LINES, 256);
    let mut s = Scripted::new(plain(), b"+OK POP3 ready\r\n");
    s.run();
    let lang: &'static [u8] = Box::leak(
        [&b"+OK\r\n"[..], &b"en English\r\n".repeat(300)]
            .concat()
            .into_boxed_slice(),
    );
    s.reply(b"CAPA\r\n", b"+OK\r\nUSER\r\nLANG\r\n.\r\n")
        .reply(b"LANG\r\n", lang);
    s.client().capa().unwrap();
    assert_eq!(
        s.run(),
        ["Capability(User)", "Capability(Lang)", "CapabilitiesEnd"]
    );
    s.client().lang(None).unwrap();
    let log = s.run();
    assert_eq!(log.len(), 257, "{:?}", &log[log.len() - 2..]);
    let en = "Lang(LangEntry { tag: b\"en\", description: b\"English\" })";
    assert!(log[..256].iter().all(|l| l == en), "{:?}", &log[..2]);
    assert_eq!(log[256], "Err(Protocol(\"LANG listing too long\"))");
    assert!(s.driver.client_ref().is_closed());
}

// --- 5. Servers that end lines with a bare LF -----------------------------------------

/// An LF-only server works with the default configuration: each body ends at its
/// `.` line. (Was: MessageStart, then nothing until the read timeout.)
#[test]
fn lf_only_server_works_by_default() {
    let mut s = Scripted::new(plain(), b"+OK POP3 ready\n");
    s.reply(b"USER alice\r\n", b"+OK\n")
        .reply(b"PASS secret\r\n", b"+OK logged in\n")
        .reply(
            b"RETR 1\r\n",
            b"+OK message follows\nSubject: one\n\n..dot\nlast\n.\n",
        )
        .reply(b"RETR 2\r\n", b"+OK 9 octets\nSubject: two\n\nbody\n.\n")
        .reply(b"QUIT\r\n", b"+OK bye\n");
    s.run();
    s.login(Login::UserPass {
        user: b"alice",
        password: b"secret",
    })
    .unwrap();
    s.client().retr(1).unwrap();
    s.client().retr(2).unwrap();
    s.client().quit().unwrap();
    assert_eq!(
        s.run(),
        [
            "LoggedIn",
            "MessageStart { msg: 1 }",
            "Data(1, Subject: one\n\n.dot\nlast\n)",
            "MessageEnd { msg: 1 }",
            "MessageStart { msg: 2 }",
            "Data(2, Subject: two\n\nbody\n)",
            "MessageEnd { msg: 2 }",
            "Closed",
            "<closed>"
        ]
    );
}

/// A CRLF server keeps RFC 1939 framing under the default: a bare LF inside its
/// message is data, and `LF . LF` does not end the body.
#[test]
fn crlf_server_keeps_strict_framing_by_default() {
    let mut s = logged_in(b"+OK POP3 ready\r\n");
    s.reply(b"RETR 1\r\n", b"+OK\r\nline one\n.\nstill body\r\n.\r\n")
        .reply(b"NOOP\r\n", b"+OK\r\n");
    s.client().retr(1).unwrap();
    s.client().noop().unwrap();
    assert_eq!(
        s.run(),
        [
            "MessageStart { msg: 1 }",
            "Data(1, line one\n.\nstill body\r\n)",
            "MessageEnd { msg: 1 }",
            "Ok(Noop, )",
        ]
    );
}

// --- 6. UTF8 and LANG only when advertised --------------------------------------------

/// Gmail's CAPA lists neither UTF8 nor LANG: both are refused locally and never
/// sent. (Was: `UTF8` and `LANG en` went out.)
#[test]
fn utf8_and_lang_only_when_advertised() {
    let config = ClientConfig {
        allow_plaintext: true,
        ..ClientConfig::default()
    };
    let mut s = Scripted::new(
        config,
        b"+OK Gpop ready for requests from 192.0.2.1 a1mb\r\n",
    );
    s.reply(
        b"CAPA\r\n",
        b"+OK Capability list follows\r\nUSER\r\nRESP-CODES\r\nEXPIRE 0\r\nLOGIN-DELAY 300\r\nTOP\r\nUIDL\r\nX-GOOGLE-RICO\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n.\r\n",
    );
    s.run();
    assert!(s.driver.client_ref().capabilities().known);
    let utf8 = result(s.client().utf8());
    let lang = result(s.client().lang(Some(b"en")));
    let list = result(s.client().lang(None));
    assert_eq!(
        [utf8, lang, list],
        [
            "NotAdvertised(Utf8)",
            "NotAdvertised(Lang)",
            "NotAdvertised(Lang)"
        ]
    );
    assert_eq!(s.run(), Vec::<String>::new());
    assert_eq!(s.wire, b"CAPA\r\n");
}

// --- 7. APOP timestamps ---------------------------------------------------------------

/// Timestamps without `@` (poplib's test server sends `<timestamp>`, K-9's tests
/// `<a>`) allow APOP; the digest covers the brackets (RFC 1939 §7).
#[test]
fn apop_with_short_timestamps() {
    for (greeting, line) in [
        (
            &b"+OK dummy pop3 server ready. <timestamp>\r\n"[..],
            &b"APOP user cbe901c02fdb8bdd261048c748338937\r\n"[..],
        ),
        (
            b"+OK abc<a>abcd\r\n",
            b"APOP user fba2080b11b4c8c10e0ee828fc4e1069\r\n",
        ),
    ] {
        let mut client = Client::new(plain(), [1; 32]);
        let d = client.handle_input(greeting).unwrap();
        assert!(
            matches!(d.item, Some(ClientEvent::Greeting { apop: true, .. })),
            "{:?}",
            d.item
        );
        let secret: &[u8] = if line.starts_with(b"APOP user cbe") {
            b"secret"
        } else {
            b"pass"
        };
        let login = Login::Apop {
            user: b"user",
            secret,
        };
        client.login(login).unwrap();
        let mut out = [0u8; 256];
        // The client keeps no secret: it asks for it when the APOP line is due.
        assert_eq!(client.poll_transmit(&mut out).unwrap(), 0);
        assert!(client.wants_credentials());
        let n = client.write_credentials(&login, &[], &mut out).unwrap();
        assert_eq!(text(&out[..n]), text(line));
    }
}

/// Still at most one timestamp per greeting, of printable characters: two
/// candidates, a space or nothing inside the brackets mean no APOP.
#[test]
fn apop_timestamp_policy_edges() {
    for greeting in [
        &b"+OK <a> <b>\r\n"[..],
        b"+OK <a b>\r\n",
        b"+OK <>\r\n",
        b"+OK <a\x01>\r\n",
        b"+OK <unterminated\r\n",
    ] {
        let mut client = Client::new(plain(), [1; 32]);
        let d = client.handle_input(greeting).unwrap();
        assert!(
            matches!(d.item, Some(ClientEvent::Greeting { apop: false, .. })),
            "{}: {:?}",
            text(greeting),
            d.item
        );
        assert_eq!(
            result(client.login(Login::Apop {
                user: b"u",
                secret: b"s"
            })),
            "ApopUnavailable"
        );
    }
}

// --- Round 3 ---------------------------------------------------------------------------

/// CRAM-MD5 with an empty challenge (`+` alone, or `+ `): the client answers with the
/// digest of the empty challenge, as the earlier client did, and the server's verdict
/// decides. (Was: nothing sent, `Err(Sasl("the challenge to answer is missing"))`, and
/// the session stuck.) The digest is HMAC-MD5("secret", "") in hex.
#[test]
fn cram_md5_with_an_empty_challenge_is_answered() {
    for challenge in [&b"+\r\n"[..], b"+ \r\n"] {
        let mut s = Scripted::new(plain(), b"+OK ready\r\n");
        s.run();
        s.login(Login::Sasl {
            mechanism: SaslMechanism::CramMd5,
            authzid: b"",
            user: b"alice",
            secret: b"secret",
        })
        .unwrap();
        s.script.push_back((b"AUTH CRAM-MD5\r\n", challenge));
        s.reply(
            b"YWxpY2UgNWM4ZGIwM2YwNGNlYzBmNDNiY2IwNjAwMjM5MTQxOTA=\r\n",
            b"+OK welcome\r\n",
        );
        assert_eq!(s.run(), ["LoggedIn"], "{}", text(challenge));
    }
}

/// SCRAM with an empty server-first message cannot be answered: the client cancels
/// with `*` (RFC 5034) and the login fails with the server's reply, never a silent
/// stop.
#[test]
fn scram_with_an_empty_challenge_is_cancelled() {
    let mut s = scram_client_first_sent();
    s.to_client.extend_from_slice(b"+ \r\n");
    s.reply(b"*\r\n", b"-ERR [AUTH] cancelled\r\n");
    assert_eq!(s.run(), ["Error(Auth, None, Some(Auth), cancelled)"]);
    assert!(!s.driver.client_ref().is_closed());
}
