//! SASL lines as real deployments need them, through the server driver with exact
//! bytes: OAuth bearer tokens of 16 KiB (Microsoft 365 issues tokens of several KiB)
//! through XOAUTH2 and OAUTHBEARER reach the application whole, decoded in the
//! caller's receive buffer rather than copied into the session; a line over
//! `ServerConfig::max_sasl_line` is refused and ends the exchange.

use base64::Engine;
use pop3_proto::driver::{ServerDriver, ServerPoll as Poll};
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent};
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

fn b64(data: &[u8]) -> String {
    let mut out = vec![0u8; data.len().div_ceil(3) * 4];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(data, &mut out)
        .unwrap();
    out.truncate(n);
    String::from_utf8(out).unwrap()
}

/// A JWT-like token of `len` octets (base64url characters and dots).
fn token(len: usize, seed: u8) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    (0..len)
        .map(|i| ALPHABET[(i * 7 + usize::from(seed)) % ALPHABET.len()])
        .collect()
}

fn xoauth2(user: &str, token: &[u8]) -> Vec<u8> {
    let mut m = format!("user={user}\x01auth=Bearer ").into_bytes();
    m.extend_from_slice(token);
    m.extend_from_slice(b"\x01\x01");
    m
}

fn oauthbearer(user: &str, token: &[u8]) -> Vec<u8> {
    let mut m =
        format!("n,a={user},\x01host=pop.example.org\x01port=110\x01auth=Bearer ").into_bytes();
    m.extend_from_slice(token);
    m.extend_from_slice(b"\x01\x01");
    m
}

/// A server driver with a receive buffer of `rx` octets, fed in reads of `piece`
/// octets; every token event is answered by comparing with `valid`.
struct Session {
    driver: ServerDriver<[u8; 512], Vec<u8>, Vec<u8>>,
    valid: Vec<u8>,
    /// (user, token length, token equal to `valid`) of every CheckToken.
    checked: Vec<(String, usize, bool)>,
    piece: usize,
}

impl Session {
    fn new(config: ServerConfig, rx: usize) -> Session {
        Session {
            driver: ServerDriver::new(Server::new(config, T0, [7; 32]), vec![0; rx], vec![0; 1024]),
            valid: Vec::new(),
            checked: Vec::new(),
            piece: 1000,
        }
    }

    /// Sends `input` and runs the server until it waits for more; returns what it
    /// sent. Bounded: at most 100,000 polls.
    fn send(&mut self, input: &[u8]) -> String {
        let mut out = Vec::new();
        let mut rest = input;
        for _ in 0..100_000 {
            match self.driver.poll(T0).unwrap() {
                Poll::Transmit => {
                    let n = self.driver.transmit().len();
                    out.extend_from_slice(self.driver.transmit());
                    self.driver.transmitted(n);
                }
                Poll::Event => self.answer(),
                Poll::NeedInput { .. } if !rest.is_empty() => {
                    let buf = self.driver.input();
                    assert!(!buf.is_empty(), "the receive buffer is full");
                    let n = rest.len().min(buf.len()).min(self.piece);
                    buf[..n].copy_from_slice(&rest[..n]);
                    self.driver.received(n);
                    rest = &rest[n..];
                }
                Poll::NeedInput { .. } | Poll::Closed => return String::from_utf8(out).unwrap(),
            }
        }
        panic!("the server does not settle");
    }

    fn answer(&mut self) {
        let event = self.driver.event().expect("an event after Poll::Event");
        match event {
            ServerEvent::CheckToken { user, token } => {
                let ok = token == self.valid.as_slice();
                self.checked
                    .push((String::from_utf8_lossy(user).into_owned(), token.len(), ok));
                self.driver.server().answer_password(ok, T0).unwrap();
            }
            ServerEvent::OpenMaildrop { user } => {
                assert_eq!(user, b"alice");
                self.driver
                    .server()
                    .answer_open(Open::Opened { count: 0, size: 0 })
                    .unwrap();
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
}

/// A 16 KiB token through XOAUTH2 and OAUTHBEARER, sent as the continuation line
/// (RFC 5034 forbids an initial response over 255 octets): the application sees the
/// whole token, and the session is alice's. A wrong token of the same size fails
/// like a wrong password. The old server refused any SASL line over 2,048 octets.
#[test]
fn a_16_kib_token_logs_in_through_xoauth2_and_oauthbearer() {
    let good = token(16 * 1024, 1);
    for (mechanism, message) in [
        ("XOAUTH2", xoauth2 as fn(&str, &[u8]) -> Vec<u8>),
        ("OAUTHBEARER", oauthbearer),
    ] {
        // A receive buffer as the std adapters size it: the default limit fits.
        let mut s = Session::new(config(), 24 * 1024);
        s.valid = good.clone();
        assert_eq!(s.send(b""), "+OK POP3 server ready\r\n");
        let line = format!("{}\r\n", b64(&message("alice", &good)));
        assert!(line.len() > 21_000, "{}", line.len());
        assert_eq!(s.send(format!("AUTH {mechanism}\r\n").as_bytes()), "+ \r\n");
        assert_eq!(
            s.send(line.as_bytes()),
            "+OK Logged in, 0 messages (0 octets)\r\n",
            "{mechanism}"
        );
        assert_eq!(s.checked, [("alice".to_string(), 16 * 1024, true)]);

        let mut s = Session::new(config(), 24 * 1024);
        s.valid = good.clone();
        s.send(b"");
        let wrong = token(16 * 1024, 2);
        let line = format!("AUTH {mechanism}\r\n{}\r\n", b64(&message("alice", &wrong)));
        assert_eq!(
            s.send(line.as_bytes()),
            "+ \r\n-ERR [AUTH] Authentication failed\r\n",
            "{mechanism}"
        );
        assert_eq!(s.checked, [("alice".to_string(), 16 * 1024, false)]);
        assert_eq!(s.send(b"USER alice\r\n"), "+OK\r\n", "a command again");
    }
}

/// `ServerConfig::max_sasl_line` is the limit, CRLF included: a line of exactly
/// that length logs in, one octet more is `-ERR Line too long`, asks the
/// application nothing and ends the exchange (the next line is a command again).
#[test]
fn a_line_over_the_configured_limit_is_refused_and_ends_the_exchange() {
    let good = token(3000, 3);
    let line = format!("{}\r\n", b64(&xoauth2("alice", &good)));
    for (limit, reply) in [
        (line.len(), "+OK Logged in, 0 messages (0 octets)\r\n"),
        (line.len() - 1, "-ERR Line too long\r\n"),
    ] {
        let mut c = config();
        c.max_sasl_line = limit;
        let mut s = Session::new(c, 24 * 1024);
        s.valid = good.clone();
        s.send(b"AUTH XOAUTH2\r\n");
        assert_eq!(s.send(line.as_bytes()), reply, "limit {limit}");
        if limit < line.len() {
            assert!(s.checked.is_empty(), "the application was asked nothing");
            assert_eq!(s.send(b"USER alice\r\n"), "+OK\r\n", "a command again");
        }
    }
}

/// The default limit is 24 KiB: a 16 KiB token fits (above), a 20 KiB one (27 KiB of
/// base64) does not, however large the receive buffer.
#[test]
fn the_default_limit_is_24_kib() {
    assert_eq!(ServerConfig::new("x").max_sasl_line, 24 * 1024);
    let big = token(20 * 1024, 4);
    let mut s = Session::new(config(), 64 * 1024);
    s.valid = big.clone();
    s.send(b"");
    let line = format!(
        "AUTH OAUTHBEARER\r\n{}\r\n",
        b64(&oauthbearer("alice", &big))
    );
    assert_eq!(s.send(line.as_bytes()), "+ \r\n-ERR Line too long\r\n");
    assert!(s.checked.is_empty());
    assert_eq!(s.send(b"USER alice\r\n"), "+OK\r\n");
}

/// A receive buffer smaller than the limit lowers it to the buffer's size: the line
/// is refused rather than waited for.
#[test]
fn a_smaller_receive_buffer_lowers_the_limit() {
    let good = token(16 * 1024, 5);
    let mut s = Session::new(config(), 8 * 1024);
    s.valid = good.clone();
    s.send(b"");
    let line = format!("AUTH XOAUTH2\r\n{}\r\n", b64(&xoauth2("alice", &good)));
    assert_eq!(s.send(line.as_bytes()), "+ \r\n-ERR Line too long\r\n");
    assert!(s.checked.is_empty());
    assert_eq!(s.send(b"USER alice\r\n"), "+OK\r\n");
}

/// Decoding in place keeps base64 strict: padding inside the text is refused even
/// where it ends one of the blocks decoded at a time, and so is a bad character far
/// into a long line.
#[test]
fn base64_decoded_in_place_is_as_strict() {
    let mut padded_inside = "A".repeat(252);
    padded_inside.push_str("QQ==QUJD");
    let mut bad_char = b64(&xoauth2("alice", &token(4000, 6)));
    bad_char.replace_range(5000..5001, "*");
    for line in [padded_inside, bad_char] {
        let mut s = Session::new(config(), 24 * 1024);
        s.send(b"");
        let input = format!("AUTH XOAUTH2\r\n{line}\r\nUSER alice\r\n");
        assert_eq!(
            s.send(input.as_bytes()),
            "+ \r\n-ERR Invalid base64\r\n+OK\r\n"
        );
        assert!(s.checked.is_empty());
    }
}

/// Tokens of every length modulo 3 (no, one and two `=` of padding) and across the
/// 256-character blocks of the in-place decoding arrive intact.
#[test]
fn tokens_of_every_padding_arrive_intact() {
    for len in (1000..1006).chain([16 * 1024 - 1, 16 * 1024 + 1]) {
        let good = token(len, 7);
        let mut s = Session::new(config(), 24 * 1024);
        s.piece = 333;
        s.valid = good.clone();
        s.send(b"");
        let line = format!("AUTH XOAUTH2\r\n{}\r\n", b64(&xoauth2("alice", &good)));
        assert_eq!(
            s.send(line.as_bytes()),
            "+ \r\n+OK Logged in, 0 messages (0 octets)\r\n",
            "{len}"
        );
        assert_eq!(s.checked, [("alice".to_string(), len, true)]);
    }
}

/// OAUTHBEARER's user is the gs2 header's authzid, a `saslname` (RFC 7628 §3.1,
/// RFC 5801 §4): `=2C` and `=3D` reach the application as `,` and `=`; any other
/// `=` is a malformed response, asking the application nothing. (Was: the escapes
/// reached the application as written.)
#[test]
fn oauthbearer_unescapes_the_saslname_of_its_user() {
    let good = token(64, 4);
    let mut s = Session::new(config(), 4096);
    s.valid = token(64, 5);
    s.send(b"");
    let line = format!(
        "AUTH OAUTHBEARER {}\r\n",
        b64(&oauthbearer("a=2Cb=3Dc", &good))
    );
    assert_eq!(
        s.send(line.as_bytes()),
        "-ERR [AUTH] Authentication failed\r\n"
    );
    assert_eq!(s.checked, [("a,b=c".to_string(), 64, false)]);

    let mut s = Session::new(config(), 4096);
    s.send(b"");
    let line = format!("AUTH OAUTHBEARER {}\r\n", b64(&oauthbearer("a=2Xb", &good)));
    assert_eq!(
        s.send(line.as_bytes()),
        "-ERR Malformed OAUTHBEARER response\r\n"
    );
    assert!(s.checked.is_empty());
}
