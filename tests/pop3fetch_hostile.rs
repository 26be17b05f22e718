//! pop3fetch against scripted broken and hostile servers: a TcpListener thread that
//! answers each command line with exact bytes (bounded in commands and in time).
//! pop3fetch must fail cleanly (no panic, no huge allocation, no flood of commands),
//! never leave a half-written file in tmp/, and never merge messages.
//!
//! Run `cargo build --examples` first: the tests run target/debug/examples/pop3fetch.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::scripted::{serve, serve_script, Reply, Responder};
use support::{pop3fetch_exe, temp_dir, wait_bounded};

/// Runs pop3fetch (at most 2 GB of address space, at most 60 s) with `args`;
/// returns (success, stdout, stderr) and how long it took.
fn run_pop3fetch(prefix: &[&str], args: &[&str]) -> (Option<i32>, String, String, Duration) {
    let child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000 && exec \"$@\"")
        .arg("sh")
        .args(prefix)
        .arg(pop3fetch_exe())
        .args(args)
        .env("POP3_PASSWORD", "secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, out, err, elapsed) = wait_bounded(child, "pop3fetch");
    (status.code(), out, err, elapsed)
}

/// pop3fetch as alice over plaintext (allowed) into `maildir`, with `extra` options.
fn fetch(port: u16, maildir: &Path, extra: &[&str]) -> (bool, String, String) {
    let (code, out, err) = fetch_code(port, maildir, extra);
    (code == Some(0), out, err)
}

/// [`fetch`] with the exit code.
fn fetch_code(port: u16, maildir: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let url = format!("pop3://alice@127.0.0.1:{port}");
    let mut args = vec![url.as_str(), "--maildir", maildir.to_str().unwrap()];
    args.push("--allow-plaintext");
    args.extend_from_slice(extra);
    let (code, out, err, _) = run_pop3fetch(&[], &args);
    (code, out, err)
}

/// Names of the files in `dir/sub`.
fn files(dir: &Path, sub: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join(sub))
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Contents of new/ in delivery order (pop3fetch's names sort that way).
fn delivered(dir: &Path) -> Vec<String> {
    files(dir, "new")
        .iter()
        .map(|n| String::from_utf8_lossy(&fs::read(dir.join("new").join(n)).unwrap()).into_owned())
        .collect()
}

fn count(commands: &[String], verb: &str) -> usize {
    commands
        .iter()
        .filter(|c| c.split(' ').next() == Some(verb))
        .count()
}

/// Position of a command line, if sent.
fn position(commands: &[String], line: &str) -> Option<usize> {
    commands.iter().position(|c| c == line)
}

// --- Message numbers ------------------------------------------------------------------

/// The login and STAT every numbering script shares (CRLF, no PIPELINING).
fn login_and_stat(command: &str) -> Option<Vec<u8>> {
    Some(match command {
        "CAPA" => b"+OK Capability list follows\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n".to_vec(),
        "USER alice" => b"+OK\r\n".to_vec(),
        "PASS secret" => b"+OK Logged in.\r\n".to_vec(),
        "STAT" => b"+OK 2 320\r\n".to_vec(),
        "QUIT" => b"+OK Logging out.\r\n".to_vec(),
        "RETR 1" | "RETR 2" => b"+OK 14 octets\r\nSubject: x\r\n\r\n.\r\n".to_vec(),
        c if c.starts_with("DELE ") => b"+OK Marked to be deleted.\r\n".to_vec(),
        _ => return None,
    })
}

/// UIDL and LIST entries pop3fetch must not believe: number 0 (was: a panic on an
/// index), 4294967295 (was: a 34 GB allocation, here stopped by the 2 GB limit),
/// 50000000 in a mailbox STAT says has 2 messages (was: RETR after RETR until the
/// server gave up, 918,446 of them against a real one). Each time pop3fetch fails
/// with a message, sends no RETR and no DELE, and writes nothing.
#[test]
fn listing_numbers_pop3fetch_did_not_get_from_stat() {
    let scripts: [(&str, Responder); 3] = [
        ("number 0", |c| match c {
            "UIDL" => b"+OK\r\n1 000000a1\r\n0 000000z9\r\n2 000000a2\r\n.\r\n".to_vec(),
            "LIST" => b"+OK 2 messages:\r\n1 160\r\n2 160\r\n.\r\n".to_vec(),
            c => login_and_stat(c).unwrap_or_else(|| b"-ERR Unknown command\r\n".to_vec()),
        }),
        ("number 2^32-1", |c| match c {
            "UIDL" => b"+OK\r\n1 000000a1\r\n4294967295 000000z9\r\n.\r\n".to_vec(),
            "LIST" => b"+OK 2 messages:\r\n1 160\r\n2 160\r\n.\r\n".to_vec(),
            c => login_and_stat(c).unwrap_or_else(|| b"-ERR Unknown command\r\n".to_vec()),
        }),
        ("number above STAT", |c| match c {
            "UIDL" => b"+OK\r\n1 000000a1\r\n2 000000a2\r\n.\r\n".to_vec(),
            "LIST" => b"+OK 2 messages:\r\n1 160\r\n50000000 1\r\n.\r\n".to_vec(),
            c => login_and_stat(c).unwrap_or_else(|| b"-ERR There's no message\r\n".to_vec()),
        }),
    ];
    for (name, respond) in scripts {
        let server = serve(b"+OK POP3 ready.\r\n", respond);
        let local = temp_dir("hostile-numbers");
        let (ok, out, err) = fetch(server.port, &local, &[]);
        let commands = server.commands();
        assert!(!ok, "{name}: {out}{err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        // "number 0" lists three messages of two: the third line ends the session.
        assert!(
            err.contains("pop3fetch: error:")
                && (err.contains("out of range") || err.contains("longer than STAT's count")),
            "{name}: {err}"
        );
        assert_eq!(count(&commands, "RETR"), 0, "{name}: {commands:?}");
        assert_eq!(count(&commands, "DELE"), 0, "{name}: {commands:?}");
        assert!(files(&local, "new").is_empty() && files(&local, "tmp").is_empty());
    }
}

// --- LF-only servers ------------------------------------------------------------------

/// Bodies of an LF-only server, dot-stuffed, with their `.` line.
const LF_MESSAGES: [&[u8]; 3] = [
    b"From: a@example.org\nSubject: one\n\nfirst\n..dot line\n.\n",
    b"Subject: two\n\nsecond\n.\n",
    b"Subject: three\n\nthird\n.\n",
];

/// A server that ends every line with a bare LF (greeting, CAPA, listings, bodies),
/// and offers PIPELINING so that the RETRs go out together.
fn lf_only(command: &str) -> Vec<u8> {
    let reply: &[u8] = match command {
        "CAPA" => b"+OK Capability list follows\nUSER\nUIDL\nPIPELINING\n.\n",
        "USER alice" => b"+OK\n",
        "PASS secret" => b"+OK logged in\n",
        "STAT" => b"+OK 3 101\n",
        "UIDL" => b"+OK\n1 lf-1\n2 lf-2\n3 lf-3\n.\n",
        "LIST" => b"+OK\n1 52\n2 27\n3 26\n.\n",
        "QUIT" => b"+OK bye\n",
        c if c.starts_with("DELE ") => b"+OK deleted\n",
        c if c.starts_with("RETR ") => {
            let n: usize = c[5..].parse().unwrap_or(0);
            return match LF_MESSAGES.get(n.wrapping_sub(1)) {
                Some(m) => [&b"+OK message follows\n"[..], m].concat(),
                None => b"-ERR no such message\n".to_vec(),
            };
        }
        _ => b"-ERR unknown command\n",
    };
    reply.to_vec()
}

/// pop3fetch with no option fetches three separate messages from an LF-only
/// server. (Was: MessageStart, then message 1 swallowed the two other replies, `+OK`
/// lines included, until the server gave up; the file stayed in tmp/.)
#[test]
fn lf_only_server_works_by_default() {
    let server = serve(b"+OK POP3 ready\n", lf_only);
    let local = temp_dir("hostile-lf");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let commands = server.commands();
    assert!(ok, "{out}{err}\n{commands:?}");
    assert_eq!(
        delivered(&local),
        [
            "From: a@example.org\nSubject: one\n\nfirst\n.dot line\n",
            "Subject: two\n\nsecond\n",
            "Subject: three\n\nthird\n",
        ]
    );
    assert!(files(&local, "tmp").is_empty());
    assert_eq!(count(&commands, "DELE"), 3);
    assert_eq!(commands.last().map(String::as_str), Some("QUIT"));
}

/// Status lines with CRLF but bodies with bare LF (`LF . LF` as the end): the
/// default (framing from the `+OK` line) cannot find the end, so pop3fetch fails
/// when the server gives up, leaving nothing in tmp/ or new/ (no merged message);
/// `--bare-lf` forces LF line ends and fetches all three.
#[test]
fn bare_lf_option_for_servers_with_lf_bodies() {
    fn mixed(command: &str) -> Vec<u8> {
        let reply = lf_only(command);
        if command.starts_with("RETR ") && reply.starts_with(b"+OK") {
            // Only the status line gets a CR.
            let body = &reply[b"+OK message follows\n".len()..];
            return [&b"+OK message follows\r\n"[..], body].concat();
        }
        String::from_utf8(reply)
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes()
    }
    let server = serve(b"+OK POP3 ready\r\n", mixed);
    let local = temp_dir("hostile-mixed");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let commands = server.commands();
    assert!(!ok, "{out}{err}");
    assert!(files(&local, "new").is_empty(), "{:?}", delivered(&local));
    assert!(
        files(&local, "tmp").is_empty(),
        "{:?}",
        files(&local, "tmp")
    );
    assert_eq!(count(&commands, "DELE"), 0);

    let server = serve(b"+OK POP3 ready\r\n", mixed);
    let (ok, out, err) = fetch(server.port, &local, &["--bare-lf"]);
    let commands = server.commands();
    assert!(ok, "{out}{err}\n{commands:?}");
    assert_eq!(
        delivered(&local),
        [
            "From: a@example.org\nSubject: one\n\nfirst\n.dot line\n",
            "Subject: two\n\nsecond\n",
            "Subject: three\n\nthird\n",
        ]
    );
    assert!(files(&local, "tmp").is_empty());
}

// --- Errors in the middle of a message ------------------------------------------------

/// The connection drops in the middle of message 1: pop3fetch fails and removes
/// the half-written file from tmp/. (Was: left in tmp/.)
#[test]
fn tmp_file_removed_when_the_connection_drops_mid_message() {
    let server = serve(b"+OK POP3 ready.\r\n", |c| match c {
        "UIDL" => b"+OK\r\n1 000000a1\r\n2 000000a2\r\n.\r\n".to_vec(),
        "LIST" => b"+OK 2 messages:\r\n1 160\r\n2 160\r\n.\r\n".to_vec(),
        // Half a message, then the server is gone.
        "RETR 1" => b"+OK 160 octets\r\nSubject: cut\r\n\r\nhalf of it".to_vec(),
        "RETR 2" => Vec::new(),
        c => login_and_stat(c).unwrap_or_else(|| b"-ERR Unknown command\r\n".to_vec()),
    });
    let local = temp_dir("hostile-cut");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let commands = server.commands();
    assert!(!ok, "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        files(&local, "tmp").is_empty(),
        "{:?}",
        files(&local, "tmp")
    );
    assert!(files(&local, "new").is_empty());
    assert_eq!(count(&commands, "DELE"), 0, "{commands:?}");
}

// --- A mailbox the scripted servers share ---------------------------------------------

/// Message `n` of a scripted mailbox (CRLF), tagged so that two mailboxes differ.
fn body(tag: &str, n: usize) -> String {
    format!("Subject: {tag} {n}\r\n\r\nbody of {tag} message {n}\r\n")
}

/// What pop3fetch stores for it (LF line ends).
fn stored(tag: &str, n: usize) -> String {
    body(tag, n).replace("\r\n", "\n")
}

/// The usual answers of a mailbox of `uids.len()` messages (alice, password
/// "secret"; `capa` lines after `+OK`); None for anything else.
fn mailbox(command: &str, tag: &str, uids: &[&str], capa: &str) -> Option<Reply> {
    let n = uids.len();
    let msg = |c: &str| -> Option<usize> {
        let k: usize = c.split(' ').nth(1)?.parse().ok()?;
        (1..=n).contains(&k).then_some(k)
    };
    let reply = match command {
        "CAPA" => format!("+OK Capability list follows\r\n{capa}.\r\n"),
        "USER alice" => "+OK\r\n".into(),
        "PASS secret" => "+OK Logged in.\r\n".into(),
        "STAT" => format!(
            "+OK {n} {}\r\n",
            (1..=n).map(|k| body(tag, k).len()).sum::<usize>()
        ),
        "UIDL" => {
            let mut r = String::from("+OK\r\n");
            for (k, uid) in uids.iter().enumerate() {
                r.push_str(&format!("{} {uid}\r\n", k + 1));
            }
            r + ".\r\n"
        }
        "LIST" => {
            let mut r = String::from("+OK\r\n");
            for k in 1..=n {
                r.push_str(&format!("{k} {}\r\n", body(tag, k).len()));
            }
            r + ".\r\n"
        }
        "QUIT" => "+OK Logging out.\r\n".into(),
        "NOOP" => "+OK\r\n".into(),
        c if c.starts_with("RETR ") => match msg(c) {
            Some(k) => format!("+OK message follows\r\n{}.\r\n", body(tag, k)),
            None => "-ERR no such message\r\n".into(),
        },
        c if c.starts_with("DELE ") => match msg(c) {
            Some(_) => "+OK Marked to be deleted.\r\n".into(),
            None => "-ERR no such message\r\n".into(),
        },
        _ => return None,
    };
    Some(Reply::Send(reply.into_bytes()))
}

const CAPA: &str = "USER\r\nUIDL\r\nTOP\r\n";
const CAPA_PIPELINING: &str = "USER\r\nUIDL\r\nTOP\r\nPIPELINING\r\n";

fn unknown() -> Reply {
    Reply::Send(b"-ERR Unknown command\r\n".to_vec())
}

/// The state files pop3fetch keeps in a Maildir (whatever their format; not the run
/// lock beside them).
fn state_files(dir: &Path) -> Vec<std::path::PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            p.is_file() && name.starts_with(".pop3fetch") && !name.ends_with(".lock")
        })
        .collect()
}

// --- Many messages already on disk ----------------------------------------------------

/// 40 messages whose UIDs are already recorded (an earlier run with --keep): all are
/// deleted without being fetched, a few at a time. (Was: "too many commands
/// queued" after 32 DELEs, before anything was sent.)
#[test]
fn many_messages_already_here_are_deleted_in_steps() {
    let uids: Vec<String> = (1..=40).map(|n| format!("uid-{n:02}")).collect();
    let server = serve_script(b"+OK POP3 ready.\r\n", move |_, c| {
        let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
        mailbox(c, "m", &uids, CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-many");
    let (ok, out, err) = fetch(server.port, &local, &["--keep"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let sessions = server.sessions();
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with("pop3fetch: 0 fetched (0 bytes), 40 deleted, 40 already here, 0 failed"),
        "{out}"
    );
    let commands = &sessions[1].commands;
    assert_eq!(count(commands, "DELE"), 40);
    assert_eq!(count(commands, "RETR"), 0);
    assert_eq!(commands.last().map(String::as_str), Some("QUIT"));
}

// --- Finding 1: state keyed by account ------------------------------------------------

/// A hostile server plants UIDs `1 2 3` (and answers QUIT `-ERR`, so that they are
/// never dropped from the state); a later run against another account whose
/// messages have the same UIDs fetches every one of them before deleting it. (Was:
/// `DELE 1..3` and QUIT with no RETR: the victim's mail gone.)
#[test]
fn uids_planted_by_one_server_never_delete_another_accounts_mail() {
    let hostile = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
        "QUIT" => Reply::Send(b"-ERR not today\r\n".to_vec()),
        c => mailbox(c, "planted", &["1", "2", "3"], CAPA).unwrap_or_else(unknown),
    });
    let victim = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "victim", &["1", "2", "3"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-planted");
    let (ok, out, err) = fetch(hostile.port, &local, &[]);
    assert!(!ok, "QUIT failed: {out}{err}");
    let (ok, out, err) = fetch(victim.port, &local, &[]);
    hostile.sessions();
    let commands = victim.commands();
    assert!(ok, "{out}{err}\n{commands:?}");
    for n in 1..=3 {
        let retr = position(&commands, &format!("RETR {n}"));
        let dele = position(&commands, &format!("DELE {n}"));
        assert!(
            retr.is_some() && retr < dele,
            "message {n} deleted unfetched: {commands:?}"
        );
        assert!(
            delivered(&local).contains(&stored("victim", n)),
            "{:?}",
            delivered(&local)
        );
    }
}

// --- Finding 2: a partial state line --------------------------------------------------

/// The state file ends in a line cut short by a crash (`...uid-2` cut to `...uid-`):
/// a new message whose UID is `uid-` is fetched, not deleted unfetched. (Was: the
/// partial line was read as the UID `uid-`.)
#[test]
fn a_partial_last_state_line_is_never_a_uid() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |session, c| {
        let uids: &[&str] = if session == 0 {
            &["uid-1", "uid-2"]
        } else {
            &["uid-1", "uid-2", "uid-"]
        };
        mailbox(c, "m", uids, CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-partial");
    let (ok, out, err) = fetch(server.port, &local, &["--keep"]);
    assert!(ok, "{out}{err}");
    // Cut the state right after the `uid-` of `uid-2`, as a crash mid-write would.
    let files = state_files(&local);
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = fs::read(&files[0]).unwrap();
    let at = bytes
        .windows(5)
        .rposition(|w| w == b"uid-2")
        .expect("uid-2 recorded");
    fs::write(&files[0], &bytes[..at + 4]).unwrap();
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let sessions = server.sessions();
    let commands = &sessions[1].commands;
    assert!(ok, "{out}{err}\n{commands:?}");
    let retr = position(commands, "RETR 3");
    assert!(
        retr.is_some() && retr < position(commands, "DELE 3"),
        "message uid- deleted unfetched: {commands:?}"
    );
    assert!(delivered(&local).contains(&stored("m", 3)));
}

// --- Finding 3: duplicate UIDs --------------------------------------------------------

/// Two messages share the UID `dup`, and the first run is cut after message 1 was
/// delivered: the second run still fetches message 2 before deleting it. (Was: `dup`
/// was recorded for message 1, so message 2 was deleted unfetched.)
#[test]
fn duplicate_uids_and_an_interrupted_run_lose_nothing() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |session, c| match c {
        // The first run is cut when it asks for message 2.
        "RETR 2" if session == 0 => Reply::Send(Vec::new()),
        c => mailbox(c, "m", &["dup", "dup"], CAPA).unwrap_or_else(unknown),
    });
    let local = temp_dir("hostile-dup");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    assert!(!ok, "the first run is cut: {out}{err}");
    assert_eq!(delivered(&local), [stored("m", 1)], "{out}{err}");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let sessions = server.sessions();
    let commands = &sessions[1].commands;
    assert!(ok, "{out}{err}\n{commands:?}");
    let retr = position(commands, "RETR 2");
    assert!(
        retr.is_some() && retr < position(commands, "DELE 2"),
        "message 2 deleted unfetched: {commands:?}"
    );
    assert!(delivered(&local).contains(&stored("m", 2)));
    assert!(files(&local, "tmp").is_empty());
}

/// With --keep a message without a UID of its own cannot be told apart on the next
/// run: it is left on the server (reported, exit code 1), never fetched twice.
#[test]
fn keep_leaves_messages_with_shared_uids_on_the_server() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["a", "dup", "dup"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-dup-keep");
    let (code, out, err) = fetch_code(server.port, &local, &["--keep"]);
    let commands = server.commands();
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("2 without a UID of their own"), "{out}");
    assert_eq!(delivered(&local), [stored("m", 1)]);
    assert_eq!(count(&commands, "RETR"), 1);
    assert_eq!(count(&commands, "DELE"), 0);
}

// --- Finding 4: a state that cannot be written ----------------------------------------

/// The Maildir's directory is not writable for the user pop3fetch runs as (its
/// tmp/, new/ and cur/ are), so no state can be written: pop3fetch fails before it
/// fetches anything. (Was: message 1 was delivered, then the run failed recording
/// its UID, and the same message was delivered again on every run.)
#[test]
fn a_state_that_cannot_be_written_fails_before_any_retr() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["uid-1", "uid-2"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-readonly");
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir(local.join(sub)).unwrap();
    }
    let ok = Command::new("chown")
        .args(["65534:65534"])
        .args(["tmp", "new", "cur"].map(|s| local.join(s)))
        .status()
        .unwrap()
        .success();
    assert!(ok, "chown");
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let as_nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    for _run in 0..2 {
        let (code, out, err, _) = run_pop3fetch(
            &as_nobody,
            &[
                &url,
                "--maildir",
                local.to_str().unwrap(),
                "--allow-plaintext",
            ],
        );
        assert_ne!(code, Some(0), "{out}{err}");
        assert!(err.contains("Permission denied"), "{err}");
    }
    let sessions = server.sessions();
    let retrs: usize = sessions.iter().map(|s| count(&s.commands, "RETR")).sum();
    assert_eq!(retrs, 0, "{sessions:?}");
    assert!(delivered(&local).is_empty(), "{:?}", delivered(&local));
}

// --- Finding 5: a refused DELE --------------------------------------------------------

/// The server refuses `DELE 1`: pop3fetch says so and exits 1, and the next run
/// deletes message 1 again without fetching it. (Was: ignored, exit code 0, the UID
/// forgotten, so message 1 was delivered again on the next run.)
#[test]
fn a_refused_dele_is_reported_and_retried() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |session, c| match (session, c) {
        (0, "DELE 1") => Reply::Send(b"-ERR [SYS/TEMP] cannot delete now\r\n".to_vec()),
        // After the first run's UPDATE only message 1 is left.
        (0, c) => mailbox(c, "m", &["uid-1", "uid-2"], CAPA).unwrap_or_else(unknown),
        (_, c) => mailbox(c, "m", &["uid-1"], CAPA).unwrap_or_else(unknown),
    });
    let local = temp_dir("hostile-dele");
    let (code, out, err) = fetch_code(server.port, &local, &[]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("DELE refused"), "{err}");
    assert!(out.contains("1 not deleted"), "{out}");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let sessions = server.sessions();
    assert!(ok, "{out}{err}");
    let commands = &sessions[1].commands;
    assert_eq!(count(commands, "RETR"), 0, "fetched again: {commands:?}");
    assert!(position(commands, "DELE 1").is_some(), "{commands:?}");
    assert_eq!(delivered(&local), [stored("m", 1), stored("m", 2)]);
}

// --- Finding 6: bounds ----------------------------------------------------------------

/// STAT says 2, the UIDL listing goes on for ever (`1 a`, `2 b`, `1 a`, ...):
/// pop3fetch stops reading at the first repeat, before fetching or deleting
/// anything. (Was: read as long as the server sent; 1.7 GiB against one.)
#[test]
fn an_endless_listing_stops_at_stats_count() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
        "UIDL" => Reply::Endless {
            head: b"+OK\r\n".to_vec(),
            chunk: b"1 a\r\n2 b\r\n".repeat(1000),
            pause: Duration::ZERO,
            limit: 300 << 20,
        },
        c => mailbox(c, "m", &["a", "b"], CAPA).unwrap_or_else(unknown),
    });
    let local = temp_dir("hostile-endless-uidl");
    let (code, out, err) = fetch_code(server.port, &local, &[]);
    let sessions = server.sessions();
    assert_eq!(code, Some(5), "{out}{err}");
    assert!(err.contains("STAT"), "{err}");
    let s = &sessions[0];
    assert!(
        s.streamed < 20 << 20,
        "read {} bytes of listing",
        s.streamed
    );
    assert_eq!(count(&s.commands, "RETR") + count(&s.commands, "DELE"), 0);
}

/// LIST says 60 bytes, the body never ends: with --max-size 1M pop3fetch stops
/// reading soon after 1 MiB, keeps nothing, deletes nothing. (Was: no limit; an
/// endless body filled tmp/ at 190 MB/s.)
#[test]
fn an_endless_body_stops_at_max_size() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
        "RETR 1" => Reply::Endless {
            head: b"+OK\r\nSubject: endless\r\n\r\n".to_vec(),
            chunk: b"all work and no play\r\n".repeat(1000),
            pause: Duration::ZERO,
            limit: 300 << 20,
        },
        c => mailbox(c, "m", &["a"], CAPA).unwrap_or_else(unknown),
    });
    let local = temp_dir("hostile-endless-body");
    let (code, out, err) = fetch_code(server.port, &local, &["--max-size", "1M"]);
    let sessions = server.sessions();
    assert_eq!(code, Some(5), "{out}{err}");
    assert!(err.contains("--max-size"), "{err}");
    let s = &sessions[0];
    assert!(s.streamed < 20 << 20, "read {} bytes of body", s.streamed);
    assert_eq!(count(&s.commands, "DELE"), 0);
    assert!(files(&local, "tmp").is_empty() && files(&local, "new").is_empty());
}

/// Messages whose LIST size is over --max-size are not fetched: left on the server
/// (reported, exit 0), or deleted unfetched with --delete-oversized.
#[test]
fn messages_over_max_size_are_skipped_or_deleted() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["a", "b"], CAPA).unwrap_or_else(unknown)
    });
    // Message 1 is 44 bytes, message 2 as well: a limit of 10 takes neither.
    let local = temp_dir("hostile-oversized");
    let (ok, out, err) = fetch(server.port, &local, &["--max-size", "10"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("2 too large (left on the server)"), "{out}");
    assert!(err.contains("over --max-size"), "{err}");
    let (ok, out, err) = fetch(
        server.port,
        &local,
        &["--max-size", "10", "--delete-oversized"],
    );
    assert!(ok, "{out}{err}");
    let sessions = server.sessions();
    assert_eq!(count(&sessions[0].commands, "RETR"), 0);
    assert_eq!(count(&sessions[0].commands, "DELE"), 0);
    assert_eq!(count(&sessions[1].commands, "RETR"), 0);
    assert_eq!(count(&sessions[1].commands, "DELE"), 2);
    assert!(delivered(&local).is_empty());
}

/// A body trickled at 10 bytes per second never trips a per-read timeout; with
/// --speed-limit 1000 --speed-time 2 pop3fetch gives up within a few seconds, and
/// leaves nothing in tmp/. (Was: waited as long as the server liked.)
#[test]
fn a_trickled_body_fails_the_speed_limit() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
        "RETR 1" => Reply::Endless {
            head: b"+OK\r\nSubject: slow\r\n\r\n".to_vec(),
            chunk: b"x".to_vec(),
            pause: Duration::from_millis(100),
            limit: 1000,
        },
        c => mailbox(c, "m", &["a"], CAPA).unwrap_or_else(unknown),
    });
    let local = temp_dir("hostile-trickle");
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let (code, out, err, took) = run_pop3fetch(
        &[],
        &[
            &url,
            "--maildir",
            local.to_str().unwrap(),
            "--allow-plaintext",
            "--speed-limit",
            "1000",
            "--speed-time",
            "2",
        ],
    );
    server.sessions();
    assert_eq!(code, Some(4), "{out}{err}");
    assert!(err.contains("--speed-limit"), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(files(&local, "tmp").is_empty() && files(&local, "new").is_empty());
}

/// --max-time bounds the whole session, however the server paces its bytes (here a
/// CAPA listing of one byte every 100 ms).
#[test]
fn max_time_bounds_the_session() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
        "CAPA" => Reply::Endless {
            head: b"+OK\r\n".to_vec(),
            chunk: b"X".to_vec(),
            pause: Duration::from_millis(100),
            limit: 1000,
        },
        c => mailbox(c, "m", &["a"], CAPA).unwrap_or_else(unknown),
    });
    let local = temp_dir("hostile-max-time");
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let (code, out, err, took) = run_pop3fetch(
        &[],
        &[
            &url,
            "--maildir",
            local.to_str().unwrap(),
            "--allow-plaintext",
            "--max-time",
            "2",
        ],
    );
    server.sessions();
    assert_eq!(code, Some(4), "{out}{err}");
    assert!(err.contains("--max-time"), "{err}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

// --- Finding 7: digests without TLS ---------------------------------------------------

/// A man in the middle rewrites the greeting (an APOP timestamp) and CAPA (only
/// CRAM-MD5 and SCRAM): without TLS and without --allow-plaintext pop3fetch sends no
/// AUTH and no APOP, whatever the URL asks for. (Was: AUTH=* sent a CRAM-MD5 digest,
/// cracked offline from a 5-word list; AUTH=+APOP an APOP digest.)
#[test]
fn no_digest_login_without_tls_unless_allowed() {
    for auth in [
        "",
        ";AUTH=*",
        ";AUTH=CRAM-MD5",
        ";AUTH=+APOP",
        ";AUTH=SCRAM-SHA-256",
    ] {
        let server = serve_script(
            b"+OK POP3 ready <1896.697170952@mitm.example>\r\n",
            |_, c| match c {
                "CAPA" => {
                    Reply::Send(b"+OK\r\nSASL CRAM-MD5 SCRAM-SHA-256\r\nUIDL\r\n.\r\n".to_vec())
                }
                c if c.starts_with("AUTH") => Reply::Send(b"+ PDEyMzQ1QG1pdG0+\r\n".to_vec()),
                c if c.starts_with("APOP") => Reply::Send(b"-ERR no\r\n".to_vec()),
                c => mailbox(c, "m", &["a"], CAPA).unwrap_or_else(unknown),
            },
        );
        let local = temp_dir("hostile-digest");
        let url = format!("pop3://alice{auth}@127.0.0.1:{}", server.port);
        let (code, out, err, _) = run_pop3fetch(&[], &[&url, "--maildir", local.to_str().unwrap()]);
        let commands = server
            .sessions()
            .into_iter()
            .next()
            .unwrap_or_default()
            .commands;
        assert_eq!(code, Some(3), "{auth}: {out}{err}\n{commands:?}");
        assert!(err.contains("--allow-plaintext"), "{auth}: {err}");
        assert!(
            !commands
                .iter()
                .any(|c| c.starts_with("AUTH") || c.starts_with("APOP") || c.starts_with("PASS")),
            "{auth}: {commands:?}"
        );
    }
}

// --- Group commit ---------------------------------------------------------------------

/// 300 messages with PIPELINING (more than one group commit): whenever the server
/// receives `DELE n`, message n is already in new/ (committed, not only written).
#[test]
fn dele_only_after_the_message_is_in_new() {
    let local = temp_dir("hostile-group");
    let watched = local.clone();
    let uids: Vec<String> = (1..=300).map(|n| format!("u{n}")).collect();
    let server = serve_script(b"+OK POP3 ready.\r\n", move |_, c| {
        if let Some(n) = c.strip_prefix("DELE ") {
            let n: usize = n.parse().unwrap();
            let want = stored("g", n);
            let present = files(&watched, "new")
                .iter()
                .any(|f| fs::read_to_string(watched.join("new").join(f)).unwrap() == want);
            if !present {
                return Reply::Send(b"-ERR test: not in new/ yet\r\n".to_vec());
            }
        }
        let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
        mailbox(c, "g", &uids, CAPA_PIPELINING).unwrap_or_else(unknown)
    });
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let commands = server.commands();
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("pop3fetch: 300 fetched"), "{out}");
    assert_eq!(count(&commands, "DELE"), 300);
    assert_eq!(delivered(&local).len(), 300);
    assert!(files(&local, "tmp").is_empty());
}

// --- Options --------------------------------------------------------------------------

/// After login the server announces LOGIN-DELAY 900: the next run does not log in
/// (no connection at all), says why, and exits 0.
#[test]
fn login_delay_is_honoured() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["a"], "USER\r\nUIDL\r\nLOGIN-DELAY 900\r\n").unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-login-delay");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let sessions = server.sessions();
    assert!(ok, "{out}{err}");
    assert!(out.contains("LOGIN-DELAY"), "{out}");
    assert_eq!(sessions.len(), 1, "logged in again: {sessions:?}");
}

/// --trace shows both directions; the password, the AUTH PLAIN initial response and
/// message bodies are not in it.
#[test]
fn trace_shows_both_directions_without_secrets() {
    for auth in ["USER", "PLAIN"] {
        let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
            // "\0alice\0secret"
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==" => Reply::Send(b"+OK Logged in.\r\n".to_vec()),
            c => mailbox(c, "m", &["a"], "USER\r\nUIDL\r\nSASL PLAIN\r\n").unwrap_or_else(unknown),
        });
        let local = temp_dir("hostile-trace");
        let url = format!("pop3://alice;AUTH={auth}@127.0.0.1:{}", server.port);
        let (code, out, err, _) = run_pop3fetch(
            &[],
            &[
                &url,
                "--maildir",
                local.to_str().unwrap(),
                "--allow-plaintext",
                "--trace",
                "--password-command",
                "echo secret",
            ],
        );
        server.sessions();
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(err.contains("S: +OK POP3 ready."), "{err}");
        assert!(err.contains("C: UIDL") && err.contains("S: 1 a"), "{err}");
        assert!(err.contains("S: <message: 3 lines, "), "{err}");
        assert!(
            !err.contains("secret") && !err.contains("AGFsaWNlAHNlY3JldA"),
            "{err}"
        );
        assert!(!err.contains("body of"), "{err}");
        assert!(
            err.contains("C: PASS <redacted>") || err.contains("C: AUTH PLAIN <redacted>"),
            "{err}"
        );
    }
}

/// --mda pipes each message to a command; its exit status decides: 0 delivered (then
/// DELE), anything else fails the run (exit 6) with the message left on the server.
#[test]
fn mda_delivery() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["a", "b"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-mda");
    let spool = local.join("spool");
    let state = local.join("state");
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let mda = format!("cat >> {0}; echo ---- >> {0}", spool.display());
    let args = |mda: &str| {
        vec![
            url.clone(),
            "--mda".into(),
            mda.to_string(),
            "--state-dir".into(),
            state.to_str().unwrap().to_string(),
            "--allow-plaintext".into(),
        ]
    };
    let a = args("exit 75");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err, _) = run_pop3fetch(&[], &a);
    assert_eq!(code, Some(6), "{out}{err}");
    let a = args(&mda);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err, _) = run_pop3fetch(&[], &a);
    let sessions = server.sessions();
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(count(&sessions[0].commands, "DELE"), 0);
    assert_eq!(count(&sessions[1].commands, "DELE"), 2);
    assert_eq!(
        fs::read_to_string(&spool).unwrap(),
        format!("{}----\n{}----\n", stored("m", 1), stored("m", 2))
    );
}

/// --keep-for: messages stay on the server until they were delivered that long ago
/// (here 0 s: deleted by the next run, without being fetched again); a longer time
/// keeps them.
#[test]
fn keep_for_deletes_once_the_time_has_passed() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["a", "b"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-keep-for");
    for keep in ["0s", "7d", "0s"] {
        let (ok, out, err) = fetch(server.port, &local, &["--keep-for", keep]);
        assert!(ok, "{out}{err}");
    }
    let sessions = server.sessions();
    let retr: Vec<usize> = sessions
        .iter()
        .map(|s| count(&s.commands, "RETR"))
        .collect();
    let dele: Vec<usize> = sessions
        .iter()
        .map(|s| count(&s.commands, "DELE"))
        .collect();
    assert_eq!(retr, [2, 0, 0]);
    assert_eq!(dele, [0, 0, 2]);
    assert_eq!(delivered(&local).len(), 2);
}

/// The password can come from a command (`passwordeval`); a failing command fails
/// the run (exit 3) before connecting.
#[test]
fn password_command() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["a"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-password-command");
    let (code, out, err) = fetch_code(server.port, &local, &["--password-command", "false"]);
    assert_eq!(code, Some(3), "{out}{err}");
    let (ok, out, err) = fetch(
        server.port,
        &local,
        &["--password-command", "printf 'secret\\n'"],
    );
    let sessions = server.sessions();
    assert!(ok, "{out}{err}");
    assert_eq!(sessions.len(), 1);
    assert!(position(&sessions[0].commands, "PASS secret").is_some());
}

/// UTF8 is sent before login when CAPA offers it (RFC 6856), not with --no-utf8.
#[test]
fn utf8_when_offered() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
        "UTF8" => Reply::Send(b"+OK UTF8 enabled\r\n".to_vec()),
        c => mailbox(c, "m", &["a"], "USER\r\nUIDL\r\nUTF8\r\n").unwrap_or_else(unknown),
    });
    let local = temp_dir("hostile-utf8");
    let (ok, out, err) = fetch(server.port, &local, &["--keep"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = fetch(server.port, &local, &["--keep", "--no-utf8"]);
    assert!(ok, "{out}{err}");
    let sessions = server.sessions();
    let c = &sessions[0].commands;
    assert!(position(c, "UTF8") < position(c, "USER alice"), "{c:?}");
    assert!(position(c, "UTF8").is_some());
    assert!(position(&sessions[1].commands, "UTF8").is_none());
}

// --- Round 3 ---------------------------------------------------------------------------

/// An RFC 1939-only server (popa3d, solid-pop3d) answers CAPA with `-ERR` before and
/// after login: a refused CAPA means "no capabilities", never a failed login; both
/// fetchers fetch the mailbox. (Was: `login failed: -ERR Unknown command` after a
/// successful PASS, nothing fetched.)
#[test]
fn a_server_without_capa_is_fetched_from() {
    for bin in ["pop3fetch", "tokio_fetch"] {
        let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| match c {
            "CAPA" => Reply::Send(b"-ERR Unknown command.\r\n".to_vec()),
            c => mailbox(c, "old", &["a", "b"], "").unwrap_or_else(unknown),
        });
        let local = temp_dir("hostile-no-capa");
        let url = format!("pop3://alice@127.0.0.1:{}", server.port);
        let (ok, out, err) = support::fetcher(bin, &url, &local, "secret", &["--allow-plaintext"]);
        let sessions = server.sessions();
        assert!(ok, "{bin}: {out}{err}");
        assert_eq!(
            delivered(&local),
            [stored("old", 1), stored("old", 2)],
            "{bin}"
        );
        assert!(count(&sessions[0].commands, "CAPA") >= 1, "{bin}");
    }
}

/// A hostile `LOGIN-DELAY 4294967295` (136 years): pop3fetch says it honours a day
/// at most, keeps no more than that in the account's journal, and the next run says
/// when it will log in again, within a day. (Was: the value stored as it came, and
/// pop3fetch never logged in again, exiting 0 each time.)
#[test]
fn a_hostile_login_delay_is_capped_at_a_day() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        mailbox(c, "m", &["a"], "USER\r\nUIDL\r\nLOGIN-DELAY 4294967295\r\n")
            .unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-login-delay-cap");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("the server's LOGIN-DELAY of 4294967295 s is over a day: honouring 86400 s"),
        "{err}"
    );
    let journal: String = state_files(&local)
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    assert!(!journal.contains("4294967295"), "{journal}");
    let login = journal.lines().find(|l| l.starts_with("L ")).unwrap();
    assert_eq!(login.split(' ').nth(2), Some("86400"), "{journal}");
    let (ok, out, err) = fetch(server.port, &local, &[]);
    assert!(ok, "{out}{err}");
    let secs: u64 = out
        .split("next login in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect(&out);
    assert!((86_390..=86_400).contains(&secs), "{out}");
    assert_eq!(server.sessions().len(), 1);
}

/// pop3fetch against a mailbox whose reply to `command` is `head`, then `chunk`
/// for ever: it must fail with a protocol error (exit 5) within 10 s, having read
/// less than 4 MiB, and send no RETR or DELE. Returns what it said on stderr.
fn endless_reply_is_cut(command: &'static str, head: &[u8], chunk: &[u8]) -> String {
    let (head, chunk) = (head.to_vec(), chunk.to_vec());
    let server = serve_script(b"+OK POP3 ready.\r\n", move |_, c| {
        if c == command {
            return Reply::Endless {
                head: head.clone(),
                chunk: chunk.clone(),
                pause: Duration::ZERO,
                limit: 300 << 20,
            };
        }
        mailbox(c, "m", &["a", "b"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-endless");
    let started = Instant::now();
    let (code, out, err) = fetch_code(server.port, &local, &[]);
    let sessions = server.sessions();
    assert_eq!(code, Some(5), "{command}: {out}{err}");
    let s = &sessions[0];
    assert!(s.streamed < 4 << 20, "{command}: read {} bytes", s.streamed);
    assert_eq!(count(&s.commands, "RETR") + count(&s.commands, "DELE"), 0);
    assert!(started.elapsed() < Duration::from_secs(10), "{command}");
    err
}

/// An endless CAPA listing (the client did not ask for a stream): the client stops
/// reading it after a bounded number of lines and fails with a protocol error,
/// instead of reading for ever at bounded memory. (Was: read until the server gave
/// up, about 12 s of CPU per 40 s.)
#[test]
fn an_endless_capa_listing_is_cut() {
    let line = b"X-PADDING some capability nobody knows\r\n".repeat(100);
    let err = endless_reply_is_cut("CAPA", b"+OK\r\nUSER\r\nUIDL\r\n", &line);
    assert!(err.contains("CAPA"), "{err}");
}

/// UIDL names a message STAT did not count (3 of 2), then never ends: the listing is
/// known to be invalid at that line, so pop3fetch stops reading it there and fails,
/// sending no RETR and no DELE. (Was: the rest read for ever; then, up to STAT's
/// count.)
#[test]
fn an_endless_listing_after_an_invalid_entry_is_cut() {
    let err = endless_reply_is_cut("UIDL", b"+OK\r\n1 a\r\n3 c\r\n", &b"2 b\r\n".repeat(1000));
    assert!(
        err.contains("invalid listing: message number 3 out of range"),
        "{err}"
    );
}

/// A --password-command that never ends is killed at --password-timeout (1 s here),
/// with what it started, and the run fails with the reason; nothing connects. (Was:
/// pop3fetch waited for it for ever.)
#[test]
fn a_password_command_that_never_ends_is_killed() {
    let server = serve(b"+OK POP3 ready.\r\n", |c| {
        login_and_stat(c).unwrap_or_else(|| b"-ERR Unknown command\r\n".to_vec())
    });
    let local = temp_dir("hostile-password-hangs");
    let pid_file = local.join("sleeper.pid");
    let command = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
    let started = Instant::now();
    let (code, out, err) = fetch_code(
        server.port,
        &local,
        &["--password-command", &command, "--password-timeout", "1"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(
        err.contains("--password-command did not finish within 1 s: killed"),
        "{err}"
    );
    // Gone, or a zombie waiting for init: not running.
    let sleeper = fs::read_to_string(&pid_file).unwrap();
    let stat = Path::new("/proc").join(sleeper.trim()).join("stat");
    let running = || {
        fs::read_to_string(&stat).is_ok_and(|s| {
            s.rsplit(") ")
                .next()
                .is_some_and(|rest| !rest.starts_with('Z'))
        })
    };
    for _ in 0..100 {
        if !running() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !running(),
        "the command's own child {sleeper} is still running"
    );
    assert!(server.sessions().is_empty());
}

/// Two runs on one account at once, against a server without a maildrop lock: the
/// second is refused before it connects (exit 8, naming the first run's process),
/// and the mailbox is fetched once. (Was: both fetched, 16 files for 8 messages.)
#[test]
fn a_second_run_on_the_same_account_is_refused() {
    let server = serve_script(b"+OK POP3 ready.\r\n", |_, c| {
        if c == "RETR 1" {
            // The first run is mid-fetch while the second starts.
            std::thread::sleep(Duration::from_millis(1_500));
        }
        mailbox(c, "m", &["a", "b"], CAPA).unwrap_or_else(unknown)
    });
    let local = temp_dir("hostile-two-runs");
    let url = format!("pop3://alice@127.0.0.1:{}", server.port);
    let first = Command::new(pop3fetch_exe())
        .args([
            &url,
            "--maildir",
            local.to_str().unwrap(),
            "--allow-plaintext",
        ])
        .env("POP3_PASSWORD", "secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first_pid = first.id();
    std::thread::sleep(Duration::from_millis(700));
    let (code, out, err) = fetch_code(server.port, &local, &[]);
    assert_eq!(code, Some(8), "{out}{err}");
    assert!(
        err.contains(&format!(
            "another pop3fetch (process {first_pid}) is fetching this account"
        )),
        "{err}"
    );
    let (status, out, err, _) = wait_bounded(first, "pop3fetch");
    assert!(status.success(), "{out}{err}");
    assert_eq!(delivered(&local), [stored("m", 1), stored("m", 2)]);
    assert_eq!(server.sessions().len(), 1, "the second run connected");
}

/// `--check --keep` against a server without UIDL: the check fails at CAPA (exit 5)
/// and says why mail cannot be kept there; against an RFC 1939-only server (CAPA
/// refused) it finds out with UIDL itself. Nothing is fetched or deleted.
#[test]
fn check_says_when_keep_is_impossible() {
    for (capa_refused, step) in [(false, "capa"), (true, "uidl")] {
        let server = serve_script(b"+OK POP3 ready.\r\n", move |_, c| match c {
            "CAPA" if capa_refused => Reply::Send(b"-ERR Unknown command\r\n".to_vec()),
            "CAPA" => Reply::Send(b"+OK\r\nUSER\r\nTOP\r\n.\r\n".to_vec()),
            "UIDL" => Reply::Send(b"-ERR Unknown command\r\n".to_vec()),
            c => mailbox(c, "m", &["a"], "").unwrap_or_else(unknown),
        });
        let url = format!("pop3://alice@127.0.0.1:{}", server.port);
        let (code, out, err, _) =
            run_pop3fetch(&[], &[&url, "--check", "--keep", "--allow-plaintext"]);
        let sessions = server.sessions();
        assert_eq!(code, Some(5), "{out}{err}");
        assert!(
            out.lines()
                .any(|l| l.starts_with(step) && l.contains("FAIL")),
            "{out}"
        );
        assert!(out.contains("--keep and --keep-for cannot"), "{out}");
        assert_eq!(
            count(&sessions[0].commands, "RETR") + count(&sessions[0].commands, "DELE"),
            0
        );
    }
}
