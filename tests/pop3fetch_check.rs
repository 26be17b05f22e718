//! `pop3fetch --check` against real misconfigurations on loopback: each step's line,
//! the hint of a failing step, and the exit code of its class. The same hints follow
//! the errors of a normal run. Every run is bounded (`wait_bounded`).
//!
//! Run `cargo build --examples` first: the tests run target/debug/examples/pop3fetch.

mod support;

use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::scripted::{serve_script, Reply, Scripted};
use support::*;

/// `pop3fetch --check URL extra…` with `password`: (exit code, stdout, stderr).
fn check(url: &str, password: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let child = Command::new(pop3fetch_exe())
        .arg(url)
        .arg("--check")
        .args(extra)
        .env("POP3_PASSWORD", password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, out, err, _) = wait_bounded(child, "pop3fetch --check");
    (status.code(), out, err)
}

/// The line of `step` in a check's output.
fn line<'a>(out: &'a str, step: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(step))
        .unwrap_or_else(|| panic!("no {step} line in:\n{out}"))
}

/// The hint after a failed step.
fn hint(out: &str) -> &str {
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{out}"))
}

/// A certificate and key for pop3d's pop3s port: `kind` is `expired` (signed by the
/// CA of `ca.pem`, valid until yesterday), `wrong-name` (for other.example) or
/// `self-signed` (for localhost, no CA; its subject is a name no system root has, so
/// that no root is taken for its issuer). Returns (cert, key, ca).
fn bad_cert(dir: &Path, kind: &str) -> (PathBuf, PathBuf, PathBuf) {
    fs::create_dir_all(dir).unwrap();
    openssl(dir, "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=check-ca");
    let (name, days) = match kind {
        "expired" => ("localhost", "-1"),
        "wrong-name" => ("other.example", "2"),
        _ => ("localhost", "2"),
    };
    fs::write(
        dir.join("leaf.ext"),
        format!("subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n"),
    )
    .unwrap();
    if kind == "self-signed" {
        openssl(dir, &format!("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=pop3-check-self-signed -addext subjectAltName=DNS:{name} -addext basicConstraints=CA:FALSE"));
    } else {
        openssl(dir, &format!("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out leaf.csr -subj /CN={name}"));
        openssl(dir, &format!("x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days {days} -extfile leaf.ext"));
    }
    (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    )
}

/// A good account: every step ok, STAT's figures, nothing fetched or deleted.
#[test]
fn a_working_account_passes_every_step() {
    let p = start_pop3d(&messages(), &["--allow-plaintext-auth"]);
    let before = read_maildir(&p.maildir);
    let url = format!("pop3://carol@localhost:{}", p.port);
    let (code, out, err) = check(&url, "pw of carol", &["--allow-plaintext"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        line(&out, "resolve").contains("ok    localhost: 127.0.0.1"),
        "{out}"
    );
    assert!(line(&out, "connect").contains("ok    127.0.0.1:"), "{out}");
    assert!(
        line(&out, "greeting").contains("ok    POP3 server ready"),
        "{out}"
    );
    assert!(
        line(&out, "capa").contains("USER, UIDL, TOP, PIPELINING, RESP-CODES"),
        "{out}"
    );
    assert!(
        line(&out, "login").contains("ok    AUTH SCRAM-SHA-256 as carol"),
        "{out}"
    );
    assert!(line(&out, "stat").contains("ok    5 messages, "), "{out}");
    assert!(
        out.ends_with("check passed: nothing was fetched or deleted\n"),
        "{out}"
    );
    assert_eq!(read_maildir(&p.maildir), before);
}

/// The classic mistakes of port and TLS: pop3s:// to a plain port, pop3:// to a
/// pop3s port, a port with no listener, a listener that never speaks.
#[test]
fn ports_and_tls_mistakes_are_named() {
    let (p, _cert, tls_port) = start_server_tls("pop3d", &messages());

    let (code, out, _) = check(&format!("pop3s://carol@localhost:{}", p.port), "x", &[]);
    assert_eq!(code, Some(4), "{out}");
    assert!(
        line(&out, "tls").contains("FAIL  the server greeted in plain text"),
        "{out}"
    );
    assert_eq!(
        hint(&out),
        format!("the server speaks plain text on port {port}, not TLS from the start: use pop3://localhost:{port} with --starttls, or its pop3s port (usually 995)", port = p.port)
    );

    let (code, out, _) = check(
        &format!("pop3://carol@localhost:{tls_port}"),
        "x",
        &["--timeout", "2"],
    );
    assert_eq!(code, Some(4), "{out}");
    assert!(
        line(&out, "greeting").contains("FAIL  nothing within 2 s"),
        "{out}"
    );
    assert_eq!(
        hint(&out),
        format!("no greeting within 2 s: the port may expect TLS from the start: use pop3s://localhost:{tls_port}")
    );

    let closed = free_port();
    let (code, out, _) = check(&format!("pop3://carol@127.0.0.1:{closed}"), "x", &[]);
    assert_eq!(code, Some(4), "{out}");
    assert!(line(&out, "connect").contains("FAIL"), "{out}");
    assert_eq!(
        hint(&out),
        format!("nothing listens on 127.0.0.1:{closed}: a wrong port (POP3 is 110, pop3s 995), or the server is down")
    );

    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (code, out, _) = check(
        &format!("pop3://carol@127.0.0.1:{port}"),
        "x",
        &["--timeout", "1"],
    );
    assert_eq!(code, Some(4), "{out}");
    assert!(line(&out, "connect").contains("ok"), "{out}");
    assert!(
        line(&out, "greeting").contains("FAIL  nothing within 1 s"),
        "{out}"
    );

    // A normal run says the same.
    let dir = temp_dir("check-normal-run");
    let (ok, _, err) = pop3fetch(
        &format!("pop3s://carol@localhost:{}", p.port),
        &dir.join("mail"),
        "x",
        &[],
    );
    assert!(!ok);
    assert!(
        err.contains("hint: the server speaks plain text on port"),
        "{err}"
    );
}

/// Expired, wrong-name and self-signed certificates, each named with its fix.
#[test]
fn certificate_problems_are_named() {
    for (kind, with_ca, expected) in [
        ("expired", true, "the server's certificate has expired"),
        ("wrong-name", true, "the certificate was issued for another host name than localhost"),
        ("self-signed", false, "the certificate is self-signed or from a CA this machine does not trust: pass that CA (or the server's own certificate) with --ca-file PEM"),
    ] {
        let dir = temp_dir(&format!("check-cert-{kind}"));
        let (cert, key, ca) = bad_cert(&dir.join("cert"), kind);
        let tls_port = free_port();
        let p = start_pop3d(
            &messages(),
            &[
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                key.to_str().unwrap(),
                "--listen-tls",
                &format!("127.0.0.1:{tls_port}"),
            ],
        );
        wait_for_port(tls_port);
        let ca = ca.to_str().unwrap().to_string();
        let extra: Vec<&str> = if with_ca { vec!["--ca-file", &ca] } else { vec![] };
        let (code, out, _) = check(&format!("pop3s://carol@localhost:{tls_port}"), "x", &extra);
        assert_eq!(code, Some(4), "{kind}: {out}");
        assert!(line(&out, "tls").contains("FAIL"), "{kind}: {out}");
        assert!(hint(&out).starts_with(expected), "{kind}: {out}");
        drop(p);
    }
}

/// No STLS with --starttls, a wrong password, a mailbox another session holds.
#[test]
fn server_side_refusals_are_explained() {
    let p = start_pop3d(&messages(), &["--allow-plaintext-auth"]);
    let url = format!("pop3://carol@localhost:{}", p.port);

    let (code, out, _) = check(&url, "pw of carol", &["--starttls"]);
    assert_eq!(code, Some(4), "{out}");
    assert!(
        line(&out, "stls").contains("FAIL  the server does not offer STLS"),
        "{out}"
    );

    let (code, out, _) = check(&url, "wrong", &["--allow-plaintext"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        line(&out, "login")
            .contains("FAIL  AUTH SCRAM-SHA-256 as carol: -ERR Authentication failed"),
        "{out}"
    );
    assert!(
        hint(&out).starts_with("[AUTH]: the user name or password is wrong"),
        "{out}"
    );

    // pop3d's maildrop lock, held by a session that logged in.
    let mut holder = std::net::TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    holder
        .write_all(b"USER carol\r\nPASS pw of carol\r\n")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (code, out, _) = check(&url, "pw of carol", &["--allow-plaintext"]);
    assert_eq!(code, Some(7), "{out}");
    assert!(
        hint(&out).starts_with("[IN-USE]: another client holds the mailbox"),
        "{out}"
    );
    drop(holder);
}

/// Dovecot with its POP3 session lock: a second session is refused `[IN-USE]`.
#[test]
fn dovecots_locked_mailbox_is_explained() {
    let d = Dovecot::start_with(&messages(), "pop3_lock_session = yes\n");
    let url = format!("pop3://{DOVECOT_USER}@localhost:{}", d.port);
    let mut holder = std::net::TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    holder
        .write_all(format!("USER {DOVECOT_USER}\r\nPASS {DOVECOT_PASSWORD}\r\n").as_bytes())
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let (code, out, _) = check(
        &url,
        DOVECOT_PASSWORD,
        &["--allow-plaintext", "--timeout", "60"],
    );
    assert_eq!(code, Some(7), "{out}");
    assert!(line(&out, "login").contains("FAIL"), "{out}");
    assert!(
        hint(&out).starts_with("[IN-USE]: another client holds the mailbox"),
        "{out}"
    );
    drop(holder);
}

/// What a scripted server answers to a command line (empty: close).
type Script = fn(&str) -> &'static [u8];

/// The scripted server of `support::scripted`, answering with `respond`.
fn scripted(respond: Script) -> Scripted {
    serve_script(b"+OK POP3 ready.\r\n", move |_, c| {
        Reply::Send(respond(c).to_vec())
    })
}

/// `--check --keep` against a server whose CAPA says `EXPIRE 0` (it deletes what was
/// retrieved): the check fails at CAPA with exit 5, before any login; without
/// `--keep` the same server passes, EXPIRE 0 shown.
#[test]
fn expire_0_with_keep_is_refused() {
    fn respond(c: &str) -> &'static [u8] {
        match c {
            "CAPA" => b"+OK\r\nUSER\r\nUIDL\r\nRESP-CODES\r\nEXPIRE 0\r\n.\r\n",
            "USER alice" => b"+OK\r\n",
            "PASS secret" => b"+OK Logged in.\r\n",
            "STAT" => b"+OK 0 0\r\n",
            "QUIT" => b"+OK Bye\r\n",
            _ => b"-ERR Unknown command\r\n",
        }
    }
    let server = scripted(respond);
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let (code, out, err) = check(&url, "secret", &["--keep", "--allow-plaintext"]);
    let commands = server.commands();
    assert_eq!(code, Some(5), "{out}{err}");
    assert_eq!(
        line(&out, "capa"),
        "capa      ok    USER, UIDL, RESP-CODES, EXPIRE 0"
    );
    assert!(
        out.ends_with(concat!(
            "capa      FAIL  EXPIRE 0: the server deletes every message once it was retrieved\n",
            "                hint: --keep and --keep-for cannot keep mail on this server\n"
        )),
        "{out}"
    );
    assert_eq!(commands, ["CAPA"], "no login, nothing fetched");

    let server = scripted(respond);
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let (code, out, err) = check(&url, "secret", &["--allow-plaintext"]);
    let commands = server.commands();
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(line(&out, "stat"), "stat      ok    0 messages, 0 octets");
    assert_eq!(
        commands,
        ["CAPA", "USER alice", "PASS secret", "CAPA", "STAT", "QUIT"]
    );
}

/// A login refused `[SYS/TEMP]` or `[LOGIN-DELAY]` (RFC 3206, RFC 2449): the server
/// is busy (exit 7), and the hint says to try later.
#[test]
fn busy_login_refusals_are_explained() {
    let cases: [(Script, &str, &str); 2] = [
        (
            |c| match c {
                "CAPA" => b"+OK\r\nUSER\r\nUIDL\r\nRESP-CODES\r\n.\r\n",
                "USER alice" => b"+OK\r\n",
                "PASS secret" => b"-ERR [SYS/TEMP] Too many logins, wait a bit\r\n",
                "QUIT" => b"+OK Bye\r\n",
                _ => b"-ERR Unknown command\r\n",
            },
            "login     FAIL  USER/PASS as alice: -ERR Too many logins, wait a bit",
            "[SYS/TEMP]: a temporary problem at the server (or too many failed logins \
             lately): try again later",
        ),
        (
            |c| match c {
                "CAPA" => b"+OK\r\nUSER\r\nUIDL\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\n.\r\n",
                "USER alice" => b"+OK\r\n",
                "PASS secret" => b"-ERR [LOGIN-DELAY] Not so often\r\n",
                "QUIT" => b"+OK Bye\r\n",
                _ => b"-ERR Unknown command\r\n",
            },
            "login     FAIL  USER/PASS as alice: -ERR Not so often",
            "[LOGIN-DELAY]: the server allows a login only so often (see LOGIN-DELAY in \
             CAPA): try again later",
        ),
    ];
    for (respond, failed, expected) in cases {
        let server = scripted(respond);
        let url = format!("pop3://alice@127.0.0.1:{}", server.port);
        let (code, out, err) = check(&url, "secret", &["--allow-plaintext"]);
        let commands = server.commands();
        assert_eq!(code, Some(7), "{out}{err}");
        assert_eq!(line(&out, "login"), failed, "{out}");
        assert_eq!(hint(&out), expected, "{out}");
        assert_eq!(
            commands.iter().filter(|c| c.starts_with("PASS")).count(),
            1,
            "{commands:?}"
        );
        assert!(!commands.iter().any(|c| c == "STAT"), "{commands:?}");
    }
}

/// With `--keep`, a UIDL listing that numbers a message twice ends the session at
/// that line; the check names the UIDL step (STAT had passed), not STAT.
#[test]
fn a_bad_uidl_listing_is_named_as_such() {
    let server = scripted(|c| match c {
        "CAPA" => b"+OK\r\nUSER\r\nUIDL\r\nRESP-CODES\r\n.\r\n",
        "USER alice" => b"+OK\r\n",
        "PASS secret" => b"+OK Logged in\r\n",
        "STAT" => b"+OK 2 20\r\n",
        "UIDL" => b"+OK\r\n1 one\r\n1 again\r\n2 two\r\n.\r\n",
        "QUIT" => b"+OK Bye\r\n",
        _ => b"-ERR Unknown command\r\n",
    });
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let (code, out, err) = check(&url, "secret", &["--allow-plaintext", "--keep"]);
    let commands = server.commands();
    assert_eq!(code, Some(5), "{out}{err}");
    assert_eq!(
        line(&out, "stat"),
        "stat      ok    2 messages, 20 octets",
        "{out}"
    );
    assert_eq!(
        line(&out, "uidl"),
        "uidl      FAIL  invalid listing: message number 1 out of order",
        "{out}"
    );
    assert_eq!(
        hint(&out),
        "the server's UIDL listing cannot be believed, so --keep and --keep-for could not \
         tell a kept message from a new one"
    );
    assert!(commands.iter().any(|c| c == "UIDL"), "{commands:?}");
}

/// A name that does not resolve: `.invalid` is reserved never to (RFC 6761).
#[test]
fn a_name_that_does_not_resolve() {
    let (code, out, err) = check("pop3://alice@no-such-host.invalid", "x", &[]);
    assert_eq!(code, Some(4), "{out}{err}");
    assert!(
        line(&out, "resolve").starts_with(
            "resolve   FAIL  no-such-host.invalid: failed to lookup address information: "
        ),
        "{out}"
    );
    assert_eq!(hint(&out), "check the host name (and this machine's DNS)");
    assert!(!out.contains("connect"), "{out}");
}

/// A connection that gets no answer (a firewall dropping SYNs), on loopback: a
/// listener with a backlog of 0 whose one queued connection is never accepted; Linux
/// then drops the next SYN, and connect waits until --timeout.
#[test]
fn a_connection_without_answer_is_a_firewall() {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let port = addr.port();
    // Fill the accept queue, then make sure a further SYN goes unanswered.
    let _queued = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    let probe = TcpStream::connect_timeout(&addr, Duration::from_millis(300));
    assert_eq!(
        probe.map(|_| ()).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::TimedOut),
        "the full backlog must drop SYNs"
    );

    let started = Instant::now();
    let (code, out, err) = check(
        &format!("pop3://alice@127.0.0.1:{port}"),
        "x",
        &["--timeout", "1"],
    );
    assert_eq!(code, Some(4), "{out}{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{out}");
    assert_eq!(
        line(&out, "connect"),
        format!("connect   FAIL  connect 127.0.0.1:{port} (127.0.0.1): connection timed out")
    );
    assert_eq!(
        hint(&out),
        format!("no answer within 1 s: a firewall may drop port {port}, or the host is down")
    );
    drop(listener);
}
