//! Structure-aware values of the kinds `codec_roundtrip` and `grammar_roundtrip` do
//! not build (issue 27), each written by our encoder and read back by our parser:
//!
//! - response codes: every code of RFC 2449, RFC 3206 and RFC 6856, deeper
//!   (hierarchical) levels, other case, unknown codes; in a status line and alone;
//! - a whole CAPA listing of arbitrary capability values, through a client's CAPA
//!   handling: the client's events are the lines written, its `Capabilities` a
//!   model of them;
//! - SASL messages: a SCRAM exchange (client-first, server-first, client-final,
//!   server-final) with arbitrary names, nonces, salts, iteration counts and channel
//!   binding straight through `ScramClient` and `ScramServer`; and a login of every
//!   mechanism with arbitrary credentials from our client to our server, whose
//!   events must carry exactly the credentials the client was given (PLAIN, LOGIN,
//!   XOAUTH2, OAUTHBEARER, EXTERNAL), or whose check of them must pass (CRAM-MD5,
//!   SCRAM);
//! - bodies through `BodyEncoder` and `BodyDecoder` (every bare-LF policy, any read
//!   and write sizes), with `wire_size` and `WireSize` against the encoded size;
//! - deletion marks (`[u8; N]` and `Vec<u8>`) and time conversions against models.
//!
//! Whatever an encoder accepts to write, the parser must accept and read back as
//! the value; an encoder may refuse a value, never write one we cannot read.
//! `Debug` and `Display` of every value and error met are formatted too (into a
//! sink): they must not panic.
#![no_main]

use std::fmt::Write as _;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pop3_proto::client::{Capabilities, Client, ClientConfig, ClientEvent, Login, SaslMechanism};
use pop3_proto::codec::body::{wire_size, WireSize};
use pop3_proto::sasl::cram::CramMd5Context;
use pop3_proto::sasl::scram::{
    Binding, Hash, Keys, ScramClient, ScramError, ScramServer, ServerBinding,
};
use pop3_proto::sasl::MechanismSet;
use pop3_proto::server::{Marks, Open, Server, ServerConfig, ServerEvent, Tls};
use pop3_proto::time::Instant;
use pop3_proto::{
    BareLf, BodyChunk, BodyDecoder, BodyEncoder, Capability, Expire, ResponseCode, SaslMechanisms,
    Status, StatusLine,
};

#[derive(Debug, Arbitrary)]
struct Cap {
    kind: u8,
    n: u32,
    flag: bool,
    tag: Vec<u8>,
    params: Vec<u8>,
}

#[derive(Debug, Arbitrary)]
enum Input {
    /// A response code: `which` picks a known code or an unknown first level;
    /// `levels` are deeper levels; `raw` keeps their bytes as they are (else they
    /// are mapped onto `rchar`s).
    Code {
        which: u8,
        levels: Vec<Vec<u8>>,
        lower: bool,
        raw: bool,
        ok: bool,
        text: Vec<u8>,
    },
    /// A CAPA listing.
    Capa(Vec<Cap>),
    /// One SCRAM exchange through the message API.
    Scram {
        sha256: bool,
        bind: u8,
        authzid: Vec<u8>,
        user: Vec<u8>,
        password: Vec<u8>,
        client_nonce: Vec<u8>,
        server_nonce: Vec<u8>,
        salt: Vec<u8>,
        iterations: u8,
    },
    /// A login of one mechanism, client to server.
    Login {
        mechanism: u8,
        authzid: Vec<u8>,
        user: Vec<u8>,
        secret: Vec<u8>,
    },
    /// A body encoded then decoded.
    Body {
        policy: u8,
        piece: u16,
        room: u16,
        read: u16,
        raw: Vec<u8>,
    },
    /// Deletion marks: a count, then (message, mark) operations.
    Marks { count: u16, ops: Vec<(u16, bool)> },
    /// Time conversions.
    Time {
        a: u64,
        b: u64,
        secs: u64,
        nanos: u32,
    },
    /// What the crate prints: every error's `Display`, the server's events'
    /// `Debug` with an arbitrary secret, and `ClientConfig::with_host`.
    Text {
        n: u32,
        limit: u16,
        which: u8,
        name: Vec<u8>,
        secret: Vec<u8>,
        host: String,
        port: u16,
    },
}

/// A `fmt::Write` that discards: `Debug` and `Display` run, nothing is kept.
struct Sink;

impl std::fmt::Write for Sink {
    fn write_str(&mut self, _: &str) -> std::fmt::Result {
        Ok(())
    }
}

fn debug(v: &impl std::fmt::Debug) {
    let _ = write!(Sink, "{v:?}");
}

fn display(v: &impl std::fmt::Display) {
    let _ = write!(Sink, "{v}");
}

fuzz_target!(|input: Input| match input {
    Input::Code {
        which,
        levels,
        lower,
        raw,
        ok,
        text,
    } => code(which, &levels, lower, raw, ok, &text),
    Input::Capa(caps) => capa(&caps),
    Input::Scram {
        sha256,
        bind,
        authzid,
        user,
        password,
        client_nonce,
        server_nonce,
        salt,
        iterations,
    } => scram(
        sha256,
        bind,
        &authzid,
        &user,
        &password,
        &client_nonce,
        &server_nonce,
        &salt,
        iterations,
    ),
    Input::Login {
        mechanism,
        authzid,
        user,
        secret,
    } => login(mechanism, &authzid, &user, &secret),
    Input::Body {
        policy,
        piece,
        room,
        read,
        raw,
    } => body(policy, piece, room, read, &raw),
    Input::Marks { count, ops } => marks(count, &ops),
    Input::Time { a, b, secs, nanos } => time(a, b, secs, nanos),
    Input::Text {
        n,
        limit,
        which,
        name,
        secret,
        host,
        port,
    } => text(n, limit, which, &name, &secret, &host, port),
});

/// Every error prints as one non-empty line (it goes into logs and `-ERR` texts:
/// a CR or LF there would forge lines); an event's `Debug` never shows a password
/// or token (only its length); `with_host` keeps the port and at most 64 bytes of
/// the host, cut at a character boundary.
fn text(n: u32, limit: u16, which: u8, name: &[u8], secret: &[u8], host: &str, port: u16) {
    use pop3_proto::client::{ClientError, CommandKind, InvalidReply};
    use pop3_proto::server::ServerError;
    use pop3_proto::{DecodeError, ListingError};
    let one_line = |s: String| {
        assert!(!s.is_empty() && !s.contains(['\r', '\n']), "{s:?}");
    };
    let decode = [
        DecodeError::LineTooLong {
            limit: usize::from(limit),
        },
        DecodeError::MalformedStatus,
        DecodeError::Unsolicited,
        DecodeError::Failed,
    ];
    let listing = [
        ListingError::BadNumber,
        ListingError::BadSize,
        ListingError::MissingField,
    ];
    let kinds = [
        CommandKind::User,
        CommandKind::Pass,
        CommandKind::Apop,
        CommandKind::Auth,
        CommandKind::Stat,
        CommandKind::List,
        CommandKind::Uidl,
        CommandKind::Retr,
        CommandKind::Top,
        CommandKind::Dele,
        CommandKind::Noop,
        CommandKind::Rset,
        CommandKind::Quit,
        CommandKind::Utf8,
        CommandKind::Lang,
    ];
    let kind = kinds[usize::from(which) % kinds.len()];
    let client = [
        ClientError::Decode(decode[usize::from(which) % decode.len()]),
        ClientError::Protocol("protocol"),
        ClientError::Rejected,
        ClientError::WrongState,
        ClientError::QueueFull,
        ClientError::PlaintextRefused,
        ClientError::ApopUnavailable,
        ClientError::MechanismUnavailable,
        ClientError::NotAdvertised(kind),
        ClientError::CredentialTooLong,
        ClientError::CredentialsNeeded,
        ClientError::LoginMismatch,
        ClientError::InvalidArgument,
        ClientError::BufferTooSmall,
        ClientError::Sasl("sasl"),
        ClientError::BuffersTooSmall,
        ClientError::GreetingTimeout,
        ClientError::ReplyTimeout,
        ClientError::InvalidListing(InvalidReply::OutOfOrder { msg: n }),
        ClientError::InvalidListing(InvalidReply::Malformed(
            listing[usize::from(which) % listing.len()],
        )),
    ];
    for e in client {
        one_line(e.to_string());
        debug(&e);
    }
    for e in [
        InvalidReply::Malformed(listing[usize::from(which) % listing.len()]),
        InvalidReply::OtherMessage { msg: n },
        InvalidReply::NumberOutOfRange { msg: n },
        InvalidReply::OutOfOrder { msg: n },
    ] {
        one_line(e.to_string());
    }
    for e in decode {
        one_line(e.to_string());
    }
    for e in listing {
        one_line(e.to_string());
    }
    for e in [
        ServerError::Unexpected,
        ServerError::AnswerPending,
        ServerError::InvalidUid,
        ServerError::TooManyMessages,
        ServerError::BufferTooSmall,
        ServerError::BuffersTooSmall,
    ] {
        one_line(e.to_string());
        debug(&e);
    }
    // Secrets never in Debug: what prints does not depend on the secret's bytes
    // (only on its length).
    let printed = |secret: &[u8]| {
        format!(
            "{:?} {:?} {:?} {:?}",
            ServerEvent::CheckPassword {
                authzid: name,
                user: name,
                password: secret,
            },
            ServerEvent::CheckToken {
                user: name,
                token: secret,
            },
            Login::Sasl {
                mechanism: SaslMechanism::Plain,
                authzid: name,
                user: name,
                secret,
            },
            Login::UserPass {
                user: name,
                password: secret,
            },
        )
    };
    let other: Vec<u8> = secret.iter().map(|b| b ^ 0x55).collect();
    assert_eq!(printed(secret), printed(&other));
    for e in [
        ServerEvent::CheckExternal { authzid: name },
        ServerEvent::NeedSecret {
            user: name,
            mechanism: None,
        },
        ServerEvent::OpenMaildrop { user: name },
        ServerEvent::Size { msg: n },
        ServerEvent::Uid { msg: n },
        ServerEvent::Retrieve {
            msg: n,
            lines: Some(n),
        },
        ServerEvent::StartTls,
        ServerEvent::Update,
    ] {
        debug(&e);
    }
    let config = ClientConfig::default().with_host(host, port);
    assert_eq!(config.port, port);
    assert!(config.host.len() <= 64 && host.starts_with(config.host.as_str()));
    assert!(host.len() > 64 || config.host == host);
}

/// The known codes' texts, in `ResponseCode` order.
const KNOWN: [&str; 6] = [
    "IN-USE",
    "LOGIN-DELAY",
    "SYS/TEMP",
    "SYS/PERM",
    "AUTH",
    "UTF8",
];
/// Unknown first levels (and near misses of known ones).
const UNKNOWN: [&str; 6] = ["X-OTHER", "SYS", "SYS/OTHER", "IN-USED", "AUTH-", "UTF-8"];

/// What a code's text reads as: RFC 2449 matches the leading levels of known codes
/// case-insensitively and ignores deeper ones.
fn model_code(s: &str) -> ResponseCode<'_> {
    let mut levels = s.split('/');
    let first = levels.next().unwrap_or("");
    let second = levels.next();
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match (first, second) {
        (f, _) if is(f, "IN-USE") => ResponseCode::InUse,
        (f, _) if is(f, "LOGIN-DELAY") => ResponseCode::LoginDelay,
        (f, _) if is(f, "AUTH") => ResponseCode::Auth,
        (f, _) if is(f, "UTF8") => ResponseCode::Utf8,
        (f, Some(t)) if is(f, "SYS") && is(t, "TEMP") => ResponseCode::SysTemp,
        (f, Some(p)) if is(f, "SYS") && is(p, "PERM") => ResponseCode::SysPerm,
        _ => ResponseCode::Other(s),
    }
}

/// A byte of `resp-level` (`rchar`: VCHAR but `/` and `]`; RFC 2449 lets in DEL,
/// which the crate refuses on purpose).
fn rchar(b: u8) -> u8 {
    match 0x21 + b % 0x5e {
        b'/' => b'-',
        b']' => b'_',
        c => c,
    }
}

fn code(which: u8, levels: &[Vec<u8>], lower: bool, raw: bool, ok: bool, text: &[u8]) {
    let base = match usize::from(which) % 12 {
        i @ 0..6 => KNOWN[i],
        i => UNKNOWN[i - 6],
    };
    let mut s = if lower {
        base.to_ascii_lowercase()
    } else {
        base.to_string()
    };
    for level in levels.iter().take(4) {
        s.push('/');
        if raw {
            s.push_str(&String::from_utf8_lossy(level));
        } else {
            s.extend(level.iter().take(16).map(|&b| char::from(rchar(b))));
        }
    }
    let value = ResponseCode::Other(&s);
    let expected = model_code(&s);
    debug(&value);
    let line = StatusLine {
        status: if ok { Status::Ok } else { Status::Err },
        code: Some(value),
        text,
    };
    let mut out = [0u8; 1024];
    let Ok(n) = line.encode(&mut out) else {
        // Refused: the code is no `resp-levels` (only possible from raw bytes or
        // an empty level), or the text breaks the line, or it is too long.
        assert!(
            raw || levels.iter().take(4).any(|l| l.is_empty()) || n_too_long(&s, text),
            "{s:?} {text:?} refused"
        );
        return;
    };
    let parsed = StatusLine::parse(&out[..n - 2]).expect("our status line parses");
    debug(&parsed);
    assert_eq!(parsed.status, line.status);
    assert_eq!(parsed.code, Some(expected), "{s:?}");
    assert_eq!(parsed.text, text);
    // The code alone, at the start of a text.
    let (alone, rest) =
        ResponseCode::parse_prefix(&out[if ok { 4 } else { 5 }..n - 2]).expect("code parses");
    assert_eq!(alone, expected);
    assert_eq!(rest, text);
    assert_eq!(alone.as_str().len(), expected.as_str().len());
}

fn n_too_long(code: &str, text: &[u8]) -> bool {
    code.len() + text.len() + 9 > 512 || text.iter().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Capability `kind` built from the fields (as `grammar_roundtrip`).
fn capability(c: &Cap) -> Capability<'_> {
    let (n, flag) = (c.n, c.flag);
    match c.kind % 14 {
        0 => Capability::Top,
        1 => Capability::User,
        2 => Capability::Sasl(SaslMechanisms::new(&c.params)),
        3 => Capability::RespCodes,
        4 => Capability::LoginDelay {
            seconds: n,
            per_user: flag,
        },
        5 => Capability::Pipelining,
        6 => Capability::Expire {
            policy: if n.is_multiple_of(2) {
                Expire::Never
            } else {
                Expire::Days(n)
            },
            per_user: flag,
        },
        7 => Capability::Uidl,
        8 => Capability::Implementation(&c.params),
        9 => Capability::Stls,
        10 => Capability::Utf8 { user: flag },
        11 => Capability::Lang,
        12 => Capability::AuthRespCode,
        _ => Capability::Other {
            tag: &c.tag,
            params: &c.params,
        },
    }
}

/// What a client records from a listing, written out field by field.
fn model_caps(caps: &[Capability<'_>]) -> Capabilities {
    let mut m = Capabilities {
        known: true,
        ..Capabilities::default()
    };
    for c in caps {
        match *c {
            Capability::Top => m.top = true,
            Capability::User => m.user = true,
            Capability::Uidl => m.uidl = true,
            Capability::Pipelining => m.pipelining = true,
            Capability::RespCodes => m.resp_codes = true,
            Capability::AuthRespCode => m.auth_resp_code = true,
            Capability::Stls => m.stls = true,
            Capability::Utf8 { user } => m.utf8 = Some(user),
            Capability::Lang => m.lang = true,
            Capability::LoginDelay { seconds, .. } => m.login_delay = Some(seconds),
            Capability::Expire { policy, .. } => m.expire = Some(policy),
            Capability::Sasl(list) => {
                m.sasl = true;
                // Any white space between names, as the client takes it.
                for name in list.names() {
                    if let Some(mech) = SaslMechanism::from_name_bytes(name) {
                        m.mechanisms = m.mechanisms.with(mech.bit());
                    }
                }
            }
            Capability::Implementation(_) | Capability::Other { .. } => {}
        }
    }
    m
}

fn capa(caps: &[Cap]) {
    // The server's replies: greeting, then the CAPA listing the client asks for.
    let mut wire = b"+OK ready\r\n+OK Capability list follows\r\n".to_vec();
    let mut written = Vec::new();
    let mut line = [0u8; 1024];
    for c in caps.iter().take(24) {
        let v = capability(c);
        debug(&v);
        if let Ok(n) = v.encode_line(&mut line) {
            assert!(!line[..n - 2].contains(&b'\n') && !line[..n - 2].contains(&b'\r'));
            if n > pop3_proto::limits::MAX_LISTING_LINE {
                continue;
            }
            wire.extend_from_slice(&line[..n]);
            written.push((v, wire.len() - n, n - 2));
        }
    }
    wire.extend_from_slice(b".\r\n");
    let config = ClientConfig {
        tls: true,
        ..ClientConfig::default()
    };
    let mut client = Client::new(config, [1; 32]);
    let mut rest = &wire[..];
    let mut got = Vec::new();
    let mut tx = [0u8; 512];
    let mut ended = false;
    while !rest.is_empty() {
        let d = client.handle_input(rest).expect("our listing is read");
        match d.item {
            Some(ClientEvent::Capability(c)) => got.push(c),
            Some(ClientEvent::CapabilitiesEnd) => ended = true,
            Some(e) => debug(&e),
            None => assert!(d.consumed > 0, "stuck"),
        }
        rest = &rest[d.consumed..];
        while client.poll_transmit(&mut tx).expect("transmit") > 0 {}
    }
    assert!(ended);
    assert_eq!(got.len(), written.len());
    for (g, (v, at, len)) in got.iter().zip(&written) {
        debug(g);
        match v {
            // An Other whose tag names a known capability reads as that one.
            Capability::Other { .. } => {
                assert_eq!(*g, Capability::parse(&wire[*at..at + len]))
            }
            _ => assert_eq!(g, v),
        }
    }
    let caps = client.capabilities();
    debug(caps);
    assert_eq!(*caps, model_caps(&got));
}

#[allow(clippy::too_many_arguments)]
fn scram(
    sha256: bool,
    bind: u8,
    authzid: &[u8],
    user: &[u8],
    password: &[u8],
    client_nonce: &[u8],
    server_nonce: &[u8],
    salt: &[u8],
    iterations: u8,
) {
    let hash = if sha256 { Hash::Sha256 } else { Hash::Sha1 };
    let iterations = u32::from(iterations % 4) + 1;
    let exporter = [0x5a; 32];
    let (binding, server_binding) = match bind % 3 {
        0 => (Binding::None, ServerBinding::Unbound),
        1 => (Binding::Unused, ServerBinding::Unbound),
        _ => (
            Binding::TlsExporter(&exporter),
            ServerBinding::TlsExporter(&exporter),
        ),
    };
    let client = match ScramClient::new(hash, client_nonce) {
        Ok(c) => c,
        Err(e) => {
            display(&e);
            assert!(
                client_nonce.is_empty()
                    || client_nonce.len() > 48
                    || client_nonce
                        .iter()
                        .any(|b| !(0x21..=0x7e).contains(b) || *b == b',')
            );
            return;
        }
    };
    let mut client = client;
    let mut first = [0u8; 1024];
    let Ok(n) = client.client_first(&binding, authzid, user, &mut first) else {
        return;
    };
    let first = &first[..n];
    let mut server = match ScramServer::client_first_bound(hash, first, server_binding) {
        Ok(s) => s,
        // An empty user name has no `saslname`; names past 255 bytes are not kept.
        Err(e) => {
            display(&e);
            assert!(
                user.is_empty() || (matches!(e, ScramError::TooLong) && first.len() > 255),
                "{:?} refused: {e:?}",
                String::from_utf8_lossy(first)
            );
            return;
        }
    };
    debug(&server);
    assert_eq!(server.user(), user);
    assert_eq!(server.authzid(), authzid);
    let keys = Keys::derive(hash, password, salt, iterations);
    debug(&keys);
    let server_first = match server.server_first(keys, salt, iterations, server_nonce) {
        Ok(m) => m.to_vec(),
        Err(e) => {
            display(&e);
            return;
        }
    };
    let mut fin = [0u8; 1024];
    let n = match client.server_first(
        &binding,
        authzid,
        user,
        &server_first,
        password,
        1,
        &mut fin,
    ) {
        Ok(n) => n,
        Err(e) => {
            // Refused only where the server was given what its API rules out (a
            // server nonce that is empty or not printable without `,`), or past the
            // client's bounds (a salt of 128 bytes; messages of fixed capacity).
            let printable = |b: &u8| (0x21..=0x7e).contains(b) && *b != b',';
            assert!(
                server_nonce.is_empty()
                    || !server_nonce.iter().all(printable)
                    || salt.len() > 128
                    || matches!(e, ScramError::TooLong),
                "{e:?} on {:?}",
                String::from_utf8_lossy(&server_first)
            );
            return;
        }
    };
    let server_final = server
        .client_final(&fin[..n])
        .expect("our client-final is accepted");
    client
        .server_final(&server_final)
        .expect("our server-final is verified");
    assert!(client.is_verified());
    debug(&client);
}

const MECHANISMS: [SaslMechanism; 8] = [
    SaslMechanism::Plain,
    SaslMechanism::Login,
    SaslMechanism::CramMd5,
    SaslMechanism::ScramSha1,
    SaslMechanism::ScramSha256,
    SaslMechanism::XOAuth2,
    SaslMechanism::OAuthBearer,
    SaslMechanism::External,
];

/// A server event as owned data.
#[derive(Debug, PartialEq)]
enum Seen {
    Password(Vec<u8>, Vec<u8>, Vec<u8>),
    Token(Vec<u8>, Vec<u8>),
    External(Vec<u8>),
    Secret(Vec<u8>),
    Open(Vec<u8>),
    Other(String),
}

fn login(mechanism: u8, authzid: &[u8], user: &[u8], secret: &[u8]) {
    let mechanism = MECHANISMS[usize::from(mechanism) % MECHANISMS.len()];
    // What the mechanism's messages cannot carry, the client must refuse: an
    // authzid where there is no field for it (LOGIN, CRAM-MD5, XOAUTH2,
    // OAUTHBEARER), 0x01 in a token mechanism's user or token (its field separator).
    let uncarriable = (!authzid.is_empty()
        && matches!(
            mechanism,
            SaslMechanism::Login
                | SaslMechanism::CramMd5
                | SaslMechanism::XOAuth2
                | SaslMechanism::OAuthBearer
        ))
        || (matches!(
            mechanism,
            SaslMechanism::XOAuth2 | SaslMechanism::OAuthBearer
        ) && (user.contains(&1) || secret.contains(&1)));
    let now = Instant::from_millis(0);
    let mut config = ServerConfig::new("fuzz").with_implementation("structured fuzz target");
    config.tls = Tls::Implicit;
    config.mechanisms = MechanismSet::ALL.without(MechanismSet::PLUS);
    config.allow_authzid = true;
    config.auth_failure_delay_ms = 0;
    let mut server = Server::new(config, now, [7; 32]);
    let client_config = ClientConfig {
        tls: true,
        min_scram_iterations: 1,
        ..ClientConfig::default()
    };
    let mut client = Client::new(client_config, [9; 32]);
    let login = Login::Sasl {
        mechanism,
        authzid,
        user,
        secret,
    };
    debug(&login);
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    let mut queued = false;
    let mut logged_in = false;
    let mut seen = Vec::new();
    let mut log = Vec::new();
    for _ in 0..64 {
        let mut progress = false;
        loop {
            let n = server.poll_transmit(&mut buf);
            if n == 0 {
                break;
            }
            s2c.extend_from_slice(&buf[..n]);
            log.push(format!("S: {:?}", String::from_utf8_lossy(&buf[..n])));
        }
        // The client reads what the server sent (and asks for credentials without
        // input).
        loop {
            let d = match client.handle_input(&s2c) {
                Ok(d) => d,
                Err(e) => panic!("client: {e:?} on {:?}", String::from_utf8_lossy(&s2c)),
            };
            let consumed = d.consumed;
            let mut credentials = None;
            let none = d.item.is_none();
            match d.item {
                Some(ClientEvent::NeedCredentials { challenge }) => {
                    credentials = Some(challenge.to_vec())
                }
                Some(ClientEvent::LoggedIn) => logged_in = true,
                Some(ClientEvent::Error { .. }) => return,
                Some(e) => debug(&e),
                None => {}
            }
            s2c.drain(..consumed);
            if let Some(challenge) = credentials {
                match client.write_credentials(&login, &challenge, &mut buf) {
                    Ok(n) => {
                        c2s.extend_from_slice(&buf[..n]);
                        log.push(format!("C: {:?}", String::from_utf8_lossy(&buf[..n])));
                    }
                    // The client refuses credentials it cannot send.
                    Err(e) => {
                        display(&e);
                        return;
                    }
                }
            }
            progress |= consumed > 0 || !none;
            if consumed == 0 && none {
                break;
            }
        }
        if logged_in {
            break;
        }
        if !queued && client.is_idle() {
            if let Err(e) = client.login(login) {
                display(&e);
                return;
            }
            assert!(
                !uncarriable,
                "the client queued a login it cannot send as given"
            );
            queued = true;
            progress = true;
        }
        loop {
            let mut n = client.poll_transmit(&mut buf).expect("client transmit");
            if n == 0 && client.wants_credentials() {
                // A command that carries them (AUTH with an initial response).
                match client.write_credentials(&login, b"", &mut buf) {
                    Ok(m) => n = m,
                    Err(e) => {
                        display(&e);
                        return;
                    }
                }
            }
            if n == 0 {
                break;
            }
            c2s.extend_from_slice(&buf[..n]);
            log.push(format!("C: {:?}", String::from_utf8_lossy(&buf[..n])));
            progress = true;
        }
        // The server reads what the client sent (and goes on after an answer
        // without input).
        loop {
            let d = server.handle_input(&c2s, now).expect("server input");
            let consumed = d.consumed;
            let event = d.item.map(|e| {
                debug(&e);
                match e {
                    ServerEvent::CheckPassword {
                        authzid,
                        user,
                        password,
                    } => Seen::Password(authzid.to_vec(), user.to_vec(), password.to_vec()),
                    ServerEvent::CheckToken { user, token } => {
                        Seen::Token(user.to_vec(), token.to_vec())
                    }
                    ServerEvent::CheckExternal { authzid } => Seen::External(authzid.to_vec()),
                    ServerEvent::NeedSecret { user, .. } => Seen::Secret(user.to_vec()),
                    ServerEvent::OpenMaildrop { user } => Seen::Open(user.to_vec()),
                    other => Seen::Other(format!("{other:?}")),
                }
            });
            c2s.drain(..consumed);
            progress |= consumed > 0 || event.is_some();
            match &event {
                Some(Seen::Password(..) | Seen::Token(..) | Seen::External(_)) => {
                    server.answer_password(true, now).unwrap()
                }
                // CRAM-MD5 from a stored context half the time, through its text
                // form.
                Some(Seen::Secret(_))
                    if mechanism == SaslMechanism::CramMd5 && secret.len() % 2 == 1 =>
                {
                    let context = CramMd5Context::compute(secret);
                    debug(&context);
                    let again = CramMd5Context::parse(&context.encode()).expect("a context parses");
                    assert!(again.check_password(secret));
                    if let Err(e) = CramMd5Context::parse(authzid) {
                        display(&e);
                    }
                    server.answer_cram_context(Some(&again), now).unwrap()
                }
                Some(Seen::Secret(_)) => server.answer_secret(Some(secret), now).unwrap(),
                Some(Seen::Open(_)) => server
                    .answer_open(Open::Opened { count: 0, size: 0 })
                    .unwrap(),
                Some(Seen::Other(e)) => panic!("unexpected server event {e}"),
                None if consumed == 0 => break,
                None => {}
            }
            if let Some(e) = event {
                seen.push(e);
            }
        }
        if !progress {
            break;
        }
    }
    // What the server read is what the client was given.
    // The maildrop opened is the authorization identity's, if one was given.
    let (a, u, s) = (authzid.to_vec(), user.to_vec(), secret.to_vec());
    let open = Seen::Open(if a.is_empty() { u.clone() } else { a.clone() });
    let expected: &[Seen] = &match mechanism {
        SaslMechanism::Plain | SaslMechanism::Login => vec![Seen::Password(a, u, s), open],
        SaslMechanism::XOAuth2 | SaslMechanism::OAuthBearer => vec![Seen::Token(u, s), open],
        SaslMechanism::External => vec![Seen::External(a.clone()), Seen::Open(a)],
        _ => vec![Seen::Secret(u), open],
    };
    assert!(logged_in, "login failed: seen {seen:?}\n{log:#?}");
    assert_eq!(seen, expected);
}

fn body(policy: u8, piece: u16, room: u16, read: u16, raw: &[u8]) {
    let policy = [BareLf::Data, BareLf::LineEnd, BareLf::Auto][usize::from(policy) % 3];
    let piece = usize::from(piece).max(1);
    let room = usize::from(room % 512).max(5);
    let read = usize::from(read).max(1);
    // Encoding: pieces of the message into an output of `room` bytes at a time.
    let mut encoder = BodyEncoder::new();
    debug(&encoder);
    let mut wire = Vec::new();
    let mut out = vec![0u8; room];
    let mut sizer = WireSize::new();
    for p in raw.chunks(piece) {
        sizer.add(p);
        let mut rest = p;
        while !rest.is_empty() {
            let (consumed, written) = encoder.encode(rest, &mut out);
            assert!(consumed > 0 || written > 0 || room < 2, "no progress");
            wire.extend_from_slice(&out[..written]);
            rest = &rest[consumed..];
        }
    }
    let n = encoder.finish_len();
    assert_eq!(encoder.finish(&mut out), Some(n));
    wire.extend_from_slice(&out[..n]);
    // The normalised message: what every decoder policy must give back.
    let mut normal = Vec::with_capacity(raw.len() + 2);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            normal.push(b'\r');
        }
        normal.push(b);
    }
    match normal.last() {
        None | Some(b'\n') => {}
        Some(b'\r') => normal.push(b'\n'),
        Some(_) => normal.extend_from_slice(b"\r\n"),
    }
    assert_eq!(wire_size(raw), normal.len() as u64);
    assert_eq!(sizer.total(), normal.len() as u64);
    let stuffed = normal
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'.' && (i == 0 || normal[i - 1] == b'\n'))
        .count();
    assert_eq!(wire.len(), normal.len() + stuffed + 3);
    // Decoding in reads of `read` bytes, with what follows the body after it.
    wire.extend_from_slice(b"+OK next");
    let mut decoder = BodyDecoder::new(policy);
    let mut decoded = Vec::new();
    let mut at = 0;
    let mut ended = false;
    while at < wire.len() && !ended {
        let end = (at + read).min(wire.len());
        let mut rest = &wire[at..end];
        while !rest.is_empty() {
            let (consumed, chunk) = decoder.decode(rest);
            match chunk {
                Some(BodyChunk::Data(d)) => decoded.extend_from_slice(d),
                Some(BodyChunk::End) => {
                    ended = true;
                    at += consumed;
                    break;
                }
                None => assert!(consumed > 0 || rest.is_empty(), "stuck"),
            }
            at += consumed;
            rest = &rest[consumed..];
        }
    }
    debug(&decoder);
    assert!(ended && decoder.is_done());
    assert_eq!(&wire[at..], b"+OK next");
    assert_eq!(decoded, normal);
    if policy == BareLf::Auto && !normal.is_empty() {
        assert_eq!(decoder.bare_lf(), BareLf::Data);
    }
}

fn marks(count: u16, ops: &[(u16, bool)]) {
    let count = u32::from(count % 200);
    let mut fixed = [0u8; 8];
    let mut growable: Vec<u8> = Vec::new();
    assert_eq!(fixed.reset(count), count <= 64);
    assert!(growable.reset(count));
    let mut model = vec![false; 257];
    for &(msg, mark) in ops.iter().take(64) {
        let msg = u32::from(msg % 257);
        fixed.set(msg, mark);
        growable.set(msg, mark);
        if msg >= 1 {
            model[msg as usize] = mark;
        }
        for m in 0..=256u32 {
            let want = m >= 1 && model[m as usize];
            assert_eq!(fixed.get(m), want && m <= 64, "[u8; 8] {m}");
            assert_eq!(
                growable.get(m),
                want && m <= count.div_ceil(8) * 8,
                "Vec {m}"
            );
        }
    }
}

fn time(a: u64, b: u64, secs: u64, nanos: u32) {
    use core::time::Duration;
    let x = Instant::from_millis(a);
    let y = Instant(b);
    debug(&x);
    assert_eq!(x.as_millis(), a);
    assert_eq!(x.plus_millis(b).as_millis(), a.saturating_add(b));
    assert_eq!(x.as_duration(), Duration::from_millis(a));
    assert_eq!(
        x.saturating_duration_since(y),
        Duration::from_millis(a.saturating_sub(b))
    );
    let d = Duration::new(secs, nanos % 1_000_000_000);
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    assert_eq!(Instant::from_duration(d).as_millis(), ms);
    assert_eq!((x + d).as_millis(), a.saturating_add(ms));
    assert_eq!(Instant::from_duration(x.as_duration()), x);
    assert_eq!(x.cmp(&y), a.cmp(&b));
}
