//! SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS over real TLS (rustls), with the
//! `tls-exporter` channel binding (RFC 9266), each role checked against an
//! independent implementation: OpenSSL's exporter (`openssl s_client` /
//! `s_server -keymatexport`) and Python's hashlib/hmac for the SCRAM arithmetic
//! (tests/support/scram_plus_*.py). Dovecot 2.3 (Debian 12) has no -PLUS, so it
//! cannot be the peer here.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pop3_proto::blocking::{ClientConn, StartTls};
use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login, SaslMechanism};
use pop3_proto::tls::{client_config, NetStream};
use support::*;

const PLUS: [SaslMechanism; 2] = [SaslMechanism::ScramSha1Plus, SaslMechanism::ScramSha256Plus];

fn script(name: &str) -> String {
    format!("{}/tests/support/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Logs in with `mechanism` over `stream` (TLS running); returns the login's events
/// and whether the client got LoggedIn.
fn login(stream: NetStream, mechanism: SaslMechanism, user: &str, password: &str) -> Vec<String> {
    let cb = stream
        .channel_binding()
        .expect("a TLS session has a tls-exporter value");
    let config = ClientConfig {
        tls: true,
        ..ClientConfig::default()
    };
    let mut conn = ClientConn::new(stream, Client::new(config, rand32()));
    // Implicit TLS: the caller hands the binding over (STLS: start_tls does).
    conn.client().set_channel_binding(cb);
    conn.run(|_| {}).unwrap();
    let mut events = Vec::new();
    conn.login(
        Login::Sasl {
            mechanism,
            authzid: b"",
            user: user.as_bytes(),
            secret: password.as_bytes(),
        },
        |e| events.push(format!("{e:?}")),
    )
    .unwrap();
    conn.client().quit().unwrap();
    conn.run(|_| {}).unwrap();
    events
}

fn rand32() -> [u8; 32] {
    let mut r = [0u8; 32];
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_le_bytes();
    r[..16].copy_from_slice(&t);
    r
}

/// The independent server (OpenSSL + Python) for alice / "wonder land" with
/// `extra` arguments, listening: its port, process and output.
fn independent_server(
    cert: &TestCert,
    extra: &[&str],
) -> (
    u16,
    std::process::Child,
    BufReader<std::process::ChildStdout>,
) {
    let port = free_port();
    let mut server = Command::new("timeout")
        .args(["60", "python3", &script("scram_plus_server.py")])
        .arg(port.to_string())
        .arg(&cert.cert)
        .arg(&cert.key)
        .args(["alice", "wonder land"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "listening");
    (port, server, out)
}

/// Our client (rustls) against the independent server (OpenSSL + Python): the
/// server checks that our proof is bound to its TLS session, we check its signature.
#[test]
fn our_client_against_an_independent_plus_server() {
    require("python3");
    require("openssl");
    let dir = temp_dir("scram-plus-server");
    let cert = test_cert(&dir);
    for mechanism in PLUS {
        let (port, mut server, mut out) = independent_server(&cert, &[]);
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let tls = client_config(Some(&cert.ca)).unwrap();
        let stream = NetStream::client_tls(tcp, tls, "localhost").unwrap();
        let events = login(stream, mechanism, "alice", "wonder land");
        assert!(
            events.iter().any(|e| e == "LoggedIn"),
            "{mechanism:?}: {events:?}"
        );
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        // Bounded: the script runs under `timeout 60`.
        let status = server.wait().unwrap();
        assert!(status.success(), "{mechanism:?}: {rest}");
        assert_eq!(rest.trim(), "logged in");
    }
}

/// The independent client (OpenSSL + Python) against pop3d and tokio_pop3d over
/// pop3s: it logs in with -PLUS; with binding data that is not its session's (a
/// relay) it is refused with the server's reason.
#[test]
fn an_independent_plus_client_against_our_servers() {
    require("python3");
    require("openssl");
    for bin in ["pop3d", "tokio_pop3d"] {
        let (_server, _cert, tls_port) = start_server_tls(bin, &messages()[..2]);
        for (mechanism, tamper, expected) in [
            ("SCRAM-SHA-256-PLUS", "", "+OK Logged in, 2 messages"),
            ("SCRAM-SHA-1-PLUS", "", "+OK Logged in, 2 messages"),
            (
                "SCRAM-SHA-256-PLUS",
                "tamper",
                "-ERR [AUTH] Channel bindings do not match",
            ),
        ] {
            let started = Instant::now();
            let out = Command::new("timeout")
                .args(["60", "python3", &script("scram_plus_client.py")])
                .args(["127.0.0.1", &tls_port.to_string(), "carol", "pw of carol"])
                .arg(mechanism)
                .arg(tamper)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{bin} {mechanism} {tamper}: {stdout}");
            assert!(
                stdout.trim().starts_with(expected),
                "{bin} {mechanism} {tamper}: {stdout}"
            );
            assert!(started.elapsed() < Duration::from_secs(60));
        }
    }
}

/// Our client against our servers, over STLS (the adapter hands the binding over
/// after the handshake) and over pop3s: -PLUS is offered only under TLS.
#[test]
fn our_client_against_our_servers_over_stls_and_pop3s() {
    for bin in ["pop3d", "tokio_pop3d"] {
        let (server, cert, tls_port) = start_server_tls(bin, &messages()[..2]);
        let tls = client_config(Some(&cert.ca)).unwrap();
        for mechanism in PLUS {
            // pop3s.
            let tcp = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let stream = NetStream::client_tls(tcp, tls.clone(), "localhost").unwrap();
            let events = login(stream, mechanism, "carol", "pw of carol");
            assert!(
                events.iter().any(|e| e == "LoggedIn"),
                "{bin} pop3s {mechanism:?}: {events:?}"
            );

            // STLS: no -PLUS in plaintext, offered after the handshake.
            let tcp = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let stream = NetStream::client_starttls(tcp, tls.clone(), "localhost").unwrap();
            let mut conn = ClientConn::new(stream, Client::new(ClientConfig::default(), rand32()));
            let mut caps = Vec::new();
            conn.run(|e| {
                if let ClientEvent::Capability(c) = e {
                    caps.push(format!("{c:?}"));
                }
            })
            .unwrap();
            assert!(!caps.iter().any(|c| c.contains("PLUS")), "{caps:?}");
            conn.client().stls().unwrap();
            let mut start_tls = false;
            conn.run(|e| start_tls |= matches!(e, ClientEvent::StartTls))
                .unwrap();
            assert!(start_tls);
            conn.start_tls().unwrap();
            conn.run(|_| {}).unwrap();
            assert!(conn
                .client()
                .capabilities()
                .mechanisms
                .contains(mechanism.bit()));
            let mut logged_in = false;
            conn.login(
                Login::Sasl {
                    mechanism,
                    authzid: b"",
                    user: b"carol",
                    secret: b"pw of carol",
                },
                |e| logged_in |= matches!(e, ClientEvent::LoggedIn),
            )
            .unwrap();
            assert!(logged_in, "{bin} STLS {mechanism:?}");
        }
    }
}

/// `--no-scram-plus`: the servers do not offer SCRAM -PLUS even over TLS (mutt 2.2
/// and neomutt pick -PLUS, cancel it and pipeline the next command, then pair every
/// reply with the wrong command); plain SCRAM still logs in. Without the option
/// -PLUS is offered over pop3s.
#[test]
fn no_scram_plus_keeps_plus_off_the_capabilities() {
    for bin in ["pop3d", "tokio_pop3d"] {
        for (extra, offered) in [(&[][..], true), (&["--no-scram-plus"][..], false)] {
            let (_server, cert, tls_port) = start_server_tls_with(bin, &messages()[..2], extra);
            let tls = client_config(Some(&cert.ca)).unwrap();
            let tcp = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let stream = NetStream::client_tls(tcp, tls, "localhost").unwrap();
            let mut conn = ClientConn::new(stream, Client::new(ClientConfig::default(), rand32()));
            conn.run(|_| {}).unwrap();
            let mechanisms = conn.client().capabilities().mechanisms;
            for plus in PLUS {
                assert_eq!(
                    mechanisms.contains(plus.bit()),
                    offered,
                    "{bin} {extra:?} {plus:?}"
                );
            }
            let mut logged_in = false;
            conn.login(
                Login::Sasl {
                    mechanism: SaslMechanism::ScramSha256,
                    authzid: b"",
                    user: b"carol",
                    secret: b"pw of carol",
                },
                |e| logged_in |= matches!(e, ClientEvent::LoggedIn),
            )
            .unwrap();
            assert!(logged_in, "{bin} {extra:?}");
        }
    }
}

/// A server that offers SCRAM-SHA-256-PLUS but refuses our `tls-exporter` exchange
/// at its first message, as Cyrus 3.6 does under TLS 1.3 (it knows `tls-unique`
/// only): pop3fetch and tokio_fetch fall back once to SCRAM-SHA-256 (`n,,`, no
/// binding) and fetch; pop3fetch's --trace says so. (Was: `login failed: -ERR [AUTH]
/// authenticating: bad protocol / cancel` over STLS and pop3s by default.)
#[test]
fn plus_refused_before_the_proof_falls_back_once() {
    require("python3");
    require("openssl");
    let dir = temp_dir("scram-plus-cyrus");
    let cert = test_cert(&dir);
    for bin in ["pop3fetch", "tokio_fetch"] {
        let (port, mut server, mut out) = independent_server(&cert, &["cyrus"]);
        let maildir = dir.join(bin);
        let url = format!("pop3s://alice@localhost:{port}");
        let ca = cert.ca.to_str().unwrap().to_string();
        let mut extra = vec!["--ca-file", &ca];
        if bin == "pop3fetch" {
            extra.push("--trace");
        }
        let (ok, stdout, stderr) = fetcher(bin, &url, &maildir, "wonder land", &extra);
        assert!(ok, "{bin}: {stdout}{stderr}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        assert!(server.wait().unwrap().success(), "{bin}: {rest}");
        assert_eq!(
            rest.trim(),
            "refused SCRAM-SHA-256-PLUS\nlogged in",
            "{bin}"
        );
        let said = if bin == "pop3fetch" {
            "-- AUTH SCRAM-SHA-256-PLUS refused before the proof (AUTH SCRAM-SHA-256-PLUS as alice: -ERR authenticating: bad protocol / cancel): trying AUTH SCRAM-SHA-256 once, without channel binding"
        } else {
            "trying Sasl { mechanism: ScramSha256"
        };
        assert!(stderr.contains(said), "{bin}: {stderr}");
    }
}
