//! Several accounts in pop3fetch's configuration file: `--account NAME` fetches one,
//! `--all` every one in turn (one failing does not stop the others; the exit code
//! is the worst), and the command line overrides the file.

mod support;

use std::fs;
use std::process::{Command, Stdio};

use support::*;

/// pop3fetch with `args` (no POP3_PASSWORD: the file's password commands give them).
fn pop3fetch_args(args: &[&str]) -> (Option<i32>, String, String) {
    let child = Command::new(pop3fetch_exe())
        .args(args)
        .env_remove("POP3_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, out, err, _) = wait_bounded(child, "pop3fetch");
    (status.code(), out, err)
}

#[test]
fn accounts_from_the_configuration_file() {
    let work = start_pop3d(&messages()[..2], &["--allow-plaintext-auth"]);
    let home = start_pop3d(&messages()[2..], &["--allow-plaintext-auth"]);
    let dir = temp_dir("accounts");
    let closed = free_port();
    let config = dir.join("config.toml");
    fs::write(
        &config,
        format!(
            r#"# pop3fetch accounts
[defaults]
allow_plaintext = true
timeout = 30

[account.work]
url = "pop3://carol@127.0.0.1:{work}"
password_command = "printf 'pw of carol'"
maildir = "{dir}/work"

[account.gone]
url = "pop3://carol@127.0.0.1:{closed}"
password_command = "printf x"
maildir = "{dir}/gone"

[account.home]
url = "pop3://carol@127.0.0.1:{home}"
password_file = "{dir}/home-password"
maildir = "{dir}/home"
keep = true
"#,
            work = work.port,
            home = home.port,
            dir = dir.display()
        ),
    )
    .unwrap();
    fs::write(dir.join("home-password"), "pw of carol\n").unwrap();
    let config = config.to_str().unwrap();

    // One account.
    let (code, out, err) = pop3fetch_args(&["--config", config, "--account", "work"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(read_maildir(&dir.join("work")).len(), 2);
    assert!(
        read_maildir(&work.maildir).is_empty(),
        "deleted after delivery"
    );

    // Every account: home is fetched (and kept) although gone fails first.
    let (code, out, err) = pop3fetch_args(&["--config", config, "--all"]);
    assert_eq!(code, Some(4), "{out}{err}");
    assert!(
        out.contains("pop3fetch: accounts: work ok, gone failed (exit 4), home ok"),
        "{out}"
    );
    assert!(
        err.contains(&format!("connect 127.0.0.1:{closed}")),
        "{err}"
    );
    assert_eq!(read_maildir(&dir.join("home")).len(), 3);
    assert_eq!(read_maildir(&home.maildir).len(), 3, "keep = true");

    // The command line overrides the file.
    let elsewhere = dir.join("elsewhere");
    let (code, out, err) = pop3fetch_args(&[
        "--config",
        config,
        "--account",
        "home",
        "--maildir",
        elsewhere.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    // Its state lives in that Maildir: all three are fetched again, there.
    assert!(out.contains("3 fetched"), "{out}");
    assert_eq!(read_maildir(&elsewhere).len(), 3);

    // Mistakes are named.
    let (code, _, err) = pop3fetch_args(&["--config", config, "--account", "nope"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no account \"nope\" (the file has: work, gone, home)"),
        "{err}"
    );
    let bad = dir.join("bad.toml");
    fs::write(
        &bad,
        "[account.x]\nurl = \"pop3://a@b\"\npassword = \"secret\"\n",
    )
    .unwrap();
    let (code, _, err) = pop3fetch_args(&["--config", bad.to_str().unwrap(), "--account", "x"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("passwords are not kept in the file"), "{err}");
}

/// `check = true` in the file is a check, with `--all` as with `--account` (it was
/// a real fetch under `--all`, which deleted the mail): every step's line, nothing
/// fetched and nothing deleted. `--all --check` on the command line checks each
/// account too.
#[test]
fn check_in_the_file_checks_every_account() {
    let server = start_pop3d(&messages(), &["--allow-plaintext-auth"]);
    let dir = temp_dir("accounts-check");
    let local = dir.join("mail");
    // The same account twice: marked `check = true` in one file, not in the other
    // (there `--check` on the command line must do it).
    let write = |name: &str, check: &str| {
        let path = dir.join(name);
        fs::write(
            &path,
            format!(
                "[account.checked]\nurl = \"pop3://carol@127.0.0.1:{port}\"\n\
                 password_command = \"printf 'pw of carol'\"\nmaildir = \"{local}\"\n\
                 allow_plaintext = true\n{check}",
                port = server.port,
                local = local.display()
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_owned()
    };
    let marked = write("marked.toml", "check = true\n");
    let plain = write("plain.toml", "");
    let on_server = read_maildir(&server.maildir);
    assert_eq!(on_server.len(), 5);

    for args in [
        vec!["--config", &marked, "--all"],
        vec!["--config", &plain, "--all", "--check"],
        vec!["--config", &marked, "--account", "checked"],
        vec!["--config", &plain, "--account", "checked", "--check"],
    ] {
        let (code, out, err) = pop3fetch_args(&args);
        assert_eq!(code, Some(0), "{args:?}: {out}{err}");
        assert!(
            out.lines()
                .any(|l| l == "stat      ok    5 messages, 10235 octets"),
            "{args:?}: {out}"
        );
        assert!(
            out.contains("check passed: nothing was fetched or deleted\n"),
            "{args:?}: {out}"
        );
        if args.contains(&"--all") {
            assert!(
                out.starts_with("pop3fetch: account checked\n"),
                "{args:?}: {out}"
            );
            assert!(
                out.ends_with("pop3fetch: accounts: checked ok\n"),
                "{args:?}: {out}"
            );
        }
        assert!(!out.contains("fetched,"), "{args:?}: {out}");
        assert_eq!(read_maildir(&local).len(), 0, "{args:?}: fetched");
        assert_eq!(
            read_maildir(&server.maildir),
            on_server,
            "{args:?}: deleted"
        );
    }
}
