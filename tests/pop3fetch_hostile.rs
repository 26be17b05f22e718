//! pop3fetch against scripted broken and hostile servers: a TcpListener thread that
//! answers each command line with exact bytes (bounded in commands and in time).
//! pop3fetch must fail cleanly (no panic, no huge allocation, no flood of commands),
//! never leave a half-written file in tmp/, and never merge messages.
//!
//! Run `cargo build --examples` first: the tests run target/debug/examples/pop3fetch.

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::{example, temp_dir};

/// What the scripted server does with one command line.
type Responder = fn(&str) -> Vec<u8>;

/// A one-connection scripted server. Its thread returns the command lines it read.
struct Scripted {
    port: u16,
    thread: JoinHandle<Vec<String>>,
}

/// Replies with an empty vector close the connection (after nothing is written).
fn serve(greeting: &'static [u8], respond: Responder) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let start = Instant::now();
        let mut log = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if start.elapsed() < Duration::from_secs(30) => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(_) => return log,
            }
        };
        stream.set_nonblocking(false).unwrap();
        // An idle client is dropped after 2 s (pop3fetch's own timeout is 120 s).
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        if writer.write_all(greeting).is_err() {
            return log;
        }
        let mut line = Vec::new();
        for _ in 0..5_000 {
            if start.elapsed() > Duration::from_secs(30) {
                break;
            }
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let command = String::from_utf8_lossy(&line).trim_end().to_string();
            let reply = respond(&command);
            log.push(command);
            if reply.is_empty() || writer.write_all(&reply).is_err() {
                break;
            }
        }
        log
    });
    Scripted { port, thread }
}

impl Scripted {
    fn commands(self) -> Vec<String> {
        self.thread.join().unwrap()
    }
}

/// Runs pop3fetch (at most 2 GB of address space, at most 60 s) against the
/// scripted server; returns (success, stdout, stderr).
fn fetch(port: u16, maildir: &Path, extra: &[&str]) -> (bool, String, String) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000 && exec \"$0\" \"$@\"")
        .arg(example("pop3fetch"))
        .arg(format!("pop3://alice@127.0.0.1:{port}"))
        .arg("--maildir")
        .arg(maildir)
        .arg("--allow-plaintext")
        .args(extra)
        .env("POP3_PASSWORD", "secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let (mut out, mut err) = (String::new(), String::new());
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.success(), out, err);
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pop3fetch did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
        assert!(
            err.contains("pop3fetch: error:") && err.contains("out of range"),
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

// --- Many messages already on disk ----------------------------------------------------

/// 40 messages whose UIDs are already recorded (an interrupted earlier run): all are
/// deleted without being fetched, a few at a time. (Was: "too many commands
/// queued" after 32 DELEs, before anything was sent.)
#[test]
fn many_messages_already_here_are_deleted_in_steps() {
    fn server(command: &str) -> Vec<u8> {
        match command {
            "STAT" => b"+OK 40 4000\r\n".to_vec(),
            "UIDL" | "LIST" => {
                let mut r = b"+OK\r\n".to_vec();
                for n in 1..=40 {
                    let line = if command == "UIDL" {
                        format!("{n} uid-{n:02}\r\n")
                    } else {
                        format!("{n} 100\r\n")
                    };
                    r.extend_from_slice(line.as_bytes());
                }
                r.extend_from_slice(b".\r\n");
                r
            }
            c if c.starts_with("DELE ") => b"+OK Marked to be deleted.\r\n".to_vec(),
            c => login_and_stat(c).unwrap_or_else(|| b"-ERR Unknown command\r\n".to_vec()),
        }
    }
    let server = serve(b"+OK POP3 ready.\r\n", server);
    let local = temp_dir("hostile-many");
    let uids: String = (1..=40).map(|n| format!("uid-{n:02}\n")).collect();
    fs::write(local.join(".pop3fetch-uids"), uids).unwrap();
    let (ok, out, err) = fetch(server.port, &local, &[]);
    let commands = server.commands();
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with("pop3fetch: 0 fetched (0 bytes), 40 deleted, 40 already here, 0 failed"),
        "{out}"
    );
    assert_eq!(count(&commands, "DELE"), 40);
    assert_eq!(count(&commands, "RETR"), 0);
    assert_eq!(commands.last().map(String::as_str), Some("QUIT"));
}
