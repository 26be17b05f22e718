//! pop3fetch against Dovecot, a real POP3 server, on loopback: plain, STLS and
//! implicit TLS; USER, PLAIN, LOGIN and CRAM-MD5. Every message must arrive
//! byte-identical to the source, and `--keep` twice fetches nothing new; two
//! accounts with the same UIDs share a Maildir. The same over the tokio adapter with
//! `tokio_fetch`.

mod support;

use support::*;

fn url(scheme: &str, auth: &str, port: u16) -> String {
    format!("{scheme}://{DOVECOT_USER};AUTH={auth}@127.0.0.1:{port}")
}

fn check(d: &Dovecot, scheme: &str, auth: &str, port: u16, extra: &[&str]) {
    let local = temp_dir("fetched");
    let mut args = vec!["--keep"];
    args.extend_from_slice(extra);
    let (ok, out, err) = pop3fetch(&url(scheme, auth, port), &local, DOVECOT_PASSWORD, &args);
    assert!(ok, "{scheme} {auth}: {out}{err}\n{}", d.log());
    assert_eq!(
        read_maildir(&local),
        messages(),
        "{scheme} {auth}: messages differ"
    );
    assert!(out.starts_with("pop3fetch: 5 fetched"), "{out}");
    // Second run with --keep: nothing new.
    let (ok, out, err) = pop3fetch(&url(scheme, auth, port), &local, DOVECOT_PASSWORD, &args);
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with("pop3fetch: 0 fetched (0 bytes), 0 deleted, 5 already here, 0 failed"),
        "{out}"
    );
    assert_eq!(read_maildir(&local).len(), 5);
}

#[test]
fn plain_connection_every_mechanism() {
    let d = Dovecot::start(&messages());
    for auth in ["USER", "PLAIN", "LOGIN", "CRAM-MD5"] {
        check(&d, "pop3", auth, d.port, &["--allow-plaintext"]);
    }
}

#[test]
fn starttls_with_a_test_ca() {
    let d = Dovecot::start(&messages());
    let ca = d.cert.ca.to_str().unwrap().to_string();
    for auth in ["USER", "PLAIN"] {
        check(&d, "pop3", auth, d.port, &["--starttls", "--ca-file", &ca]);
    }
}

#[test]
fn implicit_tls() {
    let d = Dovecot::start(&messages());
    let ca = d.cert.ca.to_str().unwrap().to_string();
    for auth in ["PLAIN", "LOGIN", "CRAM-MD5"] {
        check(&d, "pop3s", auth, d.tls_port, &["--ca-file", &ca]);
    }
}

#[test]
fn untrusted_certificate_is_refused() {
    let d = Dovecot::start(&messages());
    let local = temp_dir("fetched");
    let (ok, out, err) = pop3fetch(
        &url("pop3s", "PLAIN", d.tls_port),
        &local,
        DOVECOT_PASSWORD,
        &[],
    );
    assert!(!ok, "{out}");
    assert!(err.contains("TLS"), "{err}");
    assert!(read_maildir(&local).is_empty());
}

/// Without TLS no password-based login is used unless --allow-plaintext: not the
/// cleartext ones, and not CRAM-MD5 either (its digest is cracked offline from a word
/// list; Dovecot offers it here without TLS, as a man in the middle could make any
/// server seem to). Nothing is fetched.
#[test]
fn cleartext_refused_without_tls_unless_allowed() {
    let d = Dovecot::start(&messages());
    for auth in ["CRAM-MD5", "*", "PLAIN", "USER"] {
        let local = temp_dir("fetched");
        let (ok, out, err) = pop3fetch(&url("pop3", auth, d.port), &local, DOVECOT_PASSWORD, &[]);
        assert!(!ok, "{auth}: {out}");
        assert!(read_maildir(&local).is_empty(), "{auth}: fetched");
        assert!(
            err.contains("without TLS") && err.contains("--allow-plaintext"),
            "{auth}: {err}"
        );
        assert!(read_maildir(&local).is_empty());
    }
    assert!(
        !d.log().contains("auth failed") && !d.log().contains("Login: user=<alice>"),
        "{}",
        d.log()
    );
}

/// Two accounts on two servers whose UIDs are both `1 2 3` (Dovecot with
/// `pop3_uidl_format = %u`), fetched into one Maildir: the first with --keep, the
/// second deleting. Every message of both arrives, and the second server is emptied
/// only after its messages are on disk. (Was: the state was the Maildir's, not the
/// account's: the second run sent `DELE 1..3` and QUIT with no RETR, its mail gone.)
#[test]
fn two_accounts_with_the_same_uids_share_a_maildir() {
    let first: Vec<Vec<u8>> = (1..=3)
        .map(|n| format!("Subject: first account {n}\n\nhello {n}\n").into_bytes())
        .collect();
    let second: Vec<Vec<u8>> = (1..=3)
        .map(|n| format!("Subject: second account {n}\n\nworld {n}\n").into_bytes())
        .collect();
    let a = Dovecot::start_with(&first, "pop3_uidl_format = %u\n");
    let b = Dovecot::start_with(&second, "pop3_uidl_format = %u\n");
    let local = temp_dir("two-accounts");
    let (ok, out, err) = pop3fetch(
        &url("pop3", "PLAIN", a.port),
        &local,
        DOVECOT_PASSWORD,
        &["--keep", "--allow-plaintext"],
    );
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("pop3fetch: 3 fetched"), "{out}");
    let (ok, out, err) = pop3fetch(
        &url("pop3", "PLAIN", b.port),
        &local,
        DOVECOT_PASSWORD,
        &["--allow-plaintext"],
    );
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("pop3fetch: 3 fetched"), "{out}");
    let mut got = read_maildir(&local);
    got.sort();
    let mut want = [first.clone(), second].concat();
    want.sort();
    assert_eq!(got, want, "every message of both accounts, once");
    assert!(
        read_maildir(&b.maildir).is_empty(),
        "the second server is emptied"
    );
    assert_eq!(read_maildir(&a.maildir), first, "the first keeps its mail");
}

#[test]
fn delete_mode_empties_the_server_only_after_delivery() {
    let d = Dovecot::start(&messages());
    let local = temp_dir("fetched");
    let (ok, out, err) = pop3fetch(
        &url("pop3", "PLAIN", d.port),
        &local,
        DOVECOT_PASSWORD,
        &["--allow-plaintext"],
    );
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("pop3fetch: 5 fetched"), "{out}");
    assert!(out.contains("5 deleted"), "{out}");
    assert_eq!(read_maildir(&local), messages());
    assert!(
        read_maildir(&d.maildir).is_empty(),
        "Dovecot still has mail"
    );
    let (ok, out, _) = pop3fetch(
        &url("pop3", "PLAIN", d.port),
        &local,
        DOVECOT_PASSWORD,
        &["--allow-plaintext"],
    );
    assert!(ok);
    assert!(
        out.starts_with("pop3fetch: 0 fetched (0 bytes), 0 deleted, 0 already here"),
        "{out}"
    );
}

/// The client over the tokio adapter (`tokio_fetch`): plain, STLS and pop3s against
/// Dovecot, every message byte-identical; with `--delete` the server ends empty.
#[test]
fn tokio_client_every_transport() {
    let d = Dovecot::start(&messages());
    let ca = d.cert.ca.to_str().unwrap().to_string();
    let runs: [(&str, &str, u16, Vec<&str>); 5] = [
        ("pop3", "USER", d.port, vec!["--allow-plaintext"]),
        ("pop3", "CRAM-MD5", d.port, vec!["--allow-plaintext"]),
        (
            "pop3",
            "PLAIN",
            d.port,
            vec!["--starttls", "--ca-file", &ca],
        ),
        ("pop3s", "LOGIN", d.tls_port, vec!["--ca-file", &ca]),
        (
            "pop3s",
            "PLAIN",
            d.tls_port,
            vec!["--ca-file", &ca, "--delete"],
        ),
    ];
    for (scheme, auth, port, extra) in runs {
        let local = temp_dir("tokio-fetched");
        let (ok, out, err) = fetcher(
            "tokio_fetch",
            &url(scheme, auth, port),
            &local,
            DOVECOT_PASSWORD,
            &extra,
        );
        assert!(ok, "{scheme} {auth}: {out}{err}\n{}", d.log());
        assert_eq!(read_maildir(&local), messages(), "{scheme} {auth}");
        let deleted = if extra.contains(&"--delete") { 5 } else { 0 };
        assert!(
            out.starts_with(&format!(
                "tokio_fetch: 5 fetched ({} bytes), {deleted} deleted",
                on_wire_bytes()
            )),
            "{out}"
        );
    }
    // The last run deleted everything.
    let local = temp_dir("tokio-fetched");
    let (ok, out, err) = fetcher(
        "tokio_fetch",
        &url("pop3", "USER", d.port),
        &local,
        DOVECOT_PASSWORD,
        &["--allow-plaintext"],
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with("tokio_fetch: 0 fetched (0 bytes), 0 deleted"),
        "{out}"
    );
}

/// What the five messages weigh on the wire, dot-unstuffed (CRLF line ends).
fn on_wire_bytes() -> u64 {
    messages()
        .iter()
        .map(|m| pop3_proto::codec::body::wire_size(m))
        .sum()
}
