//! The example servers' command line: a `--help` that documents every option with
//! its default, errors that name the wrong option, and a startup line that says what
//! is served where, with which TLS and which logins.

mod support;

use std::process::{Command, Stdio};

use support::*;

#[test]
fn help_lists_every_option_with_its_default() {
    for bin in ["pop3d", "tokio_pop3d"] {
        let out = Command::new(example(bin)).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{bin}");
        let help = String::from_utf8(out.stdout).unwrap();
        for (option, default) in [
            ("--listen <ADDR>", Some("[default: 127.0.0.1:1110]")),
            ("--listen-tls <ADDR>", None),
            ("--maildir-root <DIR>", None),
            ("--users <FILE>", None),
            ("--bearer-tokens <FILE>", None),
            ("--tls-cert <PEM>", None),
            ("--tls-key <PEM>", None),
            ("--handshake-timeout <SECS>", Some("[default: 30]")),
            ("--allow-plaintext-auth", None),
            ("--no-scram-plus", None),
            ("--login-timeout <SECS>", Some("[default: 180]")),
            ("--max-login-failures <N>", Some("[default: 10]")),
            ("--max-user-failures <N>", Some("[default: 100]")),
            ("--login-failure-window <SECS>", Some("[default: 60]")),
            ("--login-failure-users <N>", Some("[default: 10000]")),
            ("--max-connections <N>", Some("[default: 1000]")),
            ("--max-per-ip <N>", Some("[default: 10]")),
            ("--send-timeout <SECS>", Some("[default: 60]")),
            ("--scram-verifier", None),
            ("--cram-md5-context", None),
        ] {
            let at = help
                .find(option)
                .unwrap_or_else(|| panic!("{bin}: no {option} in --help:\n{help}"));
            if let Some(default) = default {
                let entry = &help[at..];
                let end = entry[2..].find("\n  --").map_or(entry.len(), |e| e + 2);
                assert!(
                    entry[..end].contains(default),
                    "{bin}: {option} lacks {default}:\n{}",
                    &entry[..end]
                );
            }
        }
    }
}

#[test]
fn a_wrong_option_is_named() {
    for (args, says) in [
        (
            &["--max-per-ip", "0"][..],
            "invalid value '0' for '--max-per-ip <N>'",
        ),
        (&["--lisen", "127.0.0.1:1"], "unexpected argument '--lisen'"),
        (&["--users", "u"], "--maildir-root <DIR>"),
        (&["--listen-tls", "127.0.0.1:0"], "--tls-cert <PEM>"),
    ] {
        let out = Command::new(example("pop3d"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn the_startup_line_says_what_is_served() {
    let dir = temp_dir("pop3d-banner");
    fill_maildir(&dir.join("root/carol"), &messages());
    std::fs::write(dir.join("users"), "carol:pw\n").unwrap();
    let cert = test_cert(&dir);
    let (port, tls_port) = (free_port(), free_port());
    let mut child = Command::new(example("pop3d"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--maildir-root"])
        .arg(dir.join("root"))
        .arg("--users")
        .arg(dir.join("users"))
        .arg("--tls-cert")
        .arg(&cert.cert)
        .arg("--tls-key")
        .arg(&cert.key)
        .args(["--listen-tls", &format!("127.0.0.1:{tls_port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(port);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "pop3d: serving the Maildirs under {} for 1 users on 127.0.0.1:{port}",
            dir.join("root").display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "pop3d: STLS on 127.0.0.1:{port}, pop3s on 127.0.0.1:{tls_port}; logins: USER, APOP, SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS; passwords only under TLS, -PLUS only over TLS"
        )),
        "{err}"
    );
}
