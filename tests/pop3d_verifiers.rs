//! pop3d and tokio_pop3d with a users file that holds SCRAM verifiers or CRAM-MD5
//! contexts instead of passwords (`pop3d --scram-verifier` and
//! `pop3d --cram-md5-context` make them): pop3fetch logs in with SCRAM-SHA-256 or
//! CRAM-MD5, and with USER/PASS and PLAIN, and fetches every message; a wrong
//! password fails.

mod support;

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use support::*;

fn verifier(password: &str) -> String {
    stored("--scram-verifier", password)
}

/// What `pop3d OPTION` prints for `password` on its standard input.
fn stored(option: &str, password: &str) -> String {
    let mut child = Command::new(example("pop3d"))
        .arg(option)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn users_stored_as_scram_verifiers() {
    let line = verifier("pw of carol");
    assert!(line.starts_with("{SCRAM-SHA-256}4096,"), "{line}");
    assert!(!line.contains("pw of carol"));
    for bin in ["pop3d", "tokio_pop3d"] {
        let dir = temp_dir("verifiers");
        fill_maildir(&dir.join("root/carol"), &messages());
        fs::write(dir.join("users"), format!("carol:{line}\n")).unwrap();
        let port = free_port();
        let _server = Running(spawn_server(bin, &dir, port, &["--allow-plaintext-auth"]));
        for auth in ["SCRAM-SHA-256", "USER", "PLAIN"] {
            let local = temp_dir("verifiers-fetched");
            let url = format!("pop3://carol;AUTH={auth}@127.0.0.1:{port}");
            let (ok, out, err) = pop3fetch(
                &url,
                &local,
                "pw of carol",
                &["--keep", "--allow-plaintext"],
            );
            assert!(ok, "{bin} {auth}: {out}{err}");
            assert_eq!(read_maildir(&local), messages(), "{bin} {auth}");
            let (ok, _, err) = pop3fetch(
                &url,
                &temp_dir("verifiers-wrong"),
                "wrong",
                &["--allow-plaintext"],
            );
            assert!(
                !ok && err.contains("Authentication failed"),
                "{bin} {auth}: {err}"
            );
        }
    }
}

#[test]
fn users_stored_as_cram_md5_contexts() {
    let line = stored("--cram-md5-context", "pw of carol");
    // What Dovecot stores for the same password (`doveadm pw -s CRAM-MD5`).
    assert_eq!(
        line,
        "{CRAM-MD5}70651d055a9d133a6012305429489487ee703fe09cd03bd6ec5b4f04674c58e5"
    );
    for bin in ["pop3d", "tokio_pop3d"] {
        let dir = temp_dir("cram-contexts");
        fill_maildir(&dir.join("root/carol"), &messages());
        fs::write(dir.join("users"), format!("carol:{line}\n")).unwrap();
        let port = free_port();
        let _server = Running(spawn_server(bin, &dir, port, &["--allow-plaintext-auth"]));
        for auth in ["CRAM-MD5", "USER", "PLAIN"] {
            let local = temp_dir("cram-fetched");
            let url = format!("pop3://carol;AUTH={auth}@127.0.0.1:{port}");
            let (ok, out, err) = pop3fetch(
                &url,
                &local,
                "pw of carol",
                &["--keep", "--allow-plaintext"],
            );
            assert!(ok, "{bin} {auth}: {out}{err}");
            assert_eq!(read_maildir(&local), messages(), "{bin} {auth}");
            let (ok, _, err) = pop3fetch(
                &url,
                &temp_dir("cram-wrong"),
                "pw of caro",
                &["--allow-plaintext"],
            );
            assert!(
                !ok && err.contains("Authentication failed"),
                "{bin} {auth}: {err}"
            );
        }
    }
}
