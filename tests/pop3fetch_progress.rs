//! pop3fetch's progress bar: on a terminal (a pseudo-terminal made by `script`) a
//! fetch shows messages, bytes of the total, rate and time left; with `--quiet`, or
//! when standard error is not a terminal, nothing but the summary line.

mod support;

use std::process::{Command, Stdio};

use support::*;

/// pop3fetch under a pseudo-terminal (`script`) with `extra`; what the terminal got.
fn on_a_terminal(port: u16, maildir: &std::path::Path, extra: &str) -> String {
    require("script");
    let command = format!(
        "POP3_PASSWORD='pw of carol' {} pop3://carol@127.0.0.1:{port} --maildir {} --keep --allow-plaintext {extra}",
        pop3fetch_exe().display(),
        maildir.display()
    );
    let child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, out, err, _) = wait_bounded(child, "script pop3fetch");
    assert!(status.success(), "{out}{err}");
    out
}

#[test]
fn a_progress_bar_on_a_terminal_only() {
    let p = start_pop3d(&messages(), &["--allow-plaintext-auth"]);
    let dir = temp_dir("progress");
    let shown = on_a_terminal(p.port, &dir.join("tty"), "");
    assert!(
        shown.contains("pop3fetch:     5 messages of 5 ["),
        "{shown}"
    );
    assert!(shown.contains(" left"), "{shown}");
    assert!(shown.contains("pop3fetch: 5 fetched ("), "{shown}");

    let quiet = on_a_terminal(p.port, &dir.join("quiet"), "--quiet");
    assert!(!quiet.contains(" of 5 ["), "{quiet}");
    assert!(quiet.contains("pop3fetch: 5 fetched ("), "{quiet}");

    let url = format!("pop3://carol@127.0.0.1:{}", p.port);
    let (ok, out, err) = pop3fetch(
        &url,
        &dir.join("pipe"),
        "pw of carol",
        &["--keep", "--allow-plaintext"],
    );
    assert!(ok, "{out}{err}");
    assert!(!err.contains(" of 5 ["), "{err}");
    assert!(out.starts_with("pop3fetch: 5 fetched ("), "{out}");
}
