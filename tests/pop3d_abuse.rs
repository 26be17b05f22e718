//! The example servers (`pop3d`, `tokio_pop3d`) against abusive clients, on loopback
//! with exact bytes: a client that stops reading loses its session and its lock, a
//! trickled TLS handshake is cut, connection caps turn clients away with
//! `-ERR [SYS/TEMP]`, running out of descriptors neither spins nor floods the log, a
//! failed mailbox open does not strand its lock, users-file names cannot point
//! outside the Maildir root, login neither reads a message whose name has its size
//! nor holds a whole one in memory, password guessing is refused where it failed
//! without locking the owner out, and a Maildir's symlinks are not followed. Every
//! test is bounded in time.

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// A server `bin` over `dir/root` with `users`, started with `extra` options.
fn start(bin: &str, dir: &Path, users: &str, extra: &[&str]) -> (Running, u16) {
    start_as(None, bin, dir, users, extra)
}

/// `start`, as the user `as_user` when given (file permissions then apply, which
/// they do not to root).
fn start_as(
    as_user: Option<&str>,
    bin: &str,
    dir: &Path,
    users: &str,
    extra: &[&str],
) -> (Running, u16) {
    fs::write(dir.join("users"), users).unwrap();
    let port = free_port();
    let mut command = match as_user {
        Some(user) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={user}"),
                &format!("--regid={user}"),
                "--clear-groups",
            ])
            .arg(example(bin));
            c
        }
        None => Command::new(example(bin)),
    };
    let child = command
        .args(["--listen", &format!("127.0.0.1:{port}"), "--maildir-root"])
        .arg(dir.join("root"))
        .arg("--users")
        .arg(dir.join("users"))
        .arg("--allow-plaintext-auth")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    (Running(child), port)
}

struct Client {
    tcp: TcpStream,
    r: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        Client::connect_from(port, [127, 0, 0, 1])
    }

    /// Connects to 127.0.0.1 from another loopback address (all of 127/8 is local).
    fn connect_from(port: u16, from: [u8; 4]) -> Client {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(&std::net::SocketAddr::from((from, 0)).into())
            .unwrap();
        socket
            .connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into())
            .unwrap();
        let tcp: TcpStream = socket.into();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let r = BufReader::new(tcp.try_clone().unwrap());
        Client { tcp, r }
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).unwrap();
        l
    }

    fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).unwrap();
    }

    /// Sends `line` and returns the one-line reply.
    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.line()
    }

    fn login(&mut self, user: &str, pw: &str) -> String {
        assert_eq!(self.cmd(&format!("USER {user}")), "+OK\r\n");
        self.cmd(&format!("PASS {pw}"))
    }
}

fn both(test: impl Fn(&str)) {
    for bin in ["pop3d", "tokio_pop3d"] {
        test(bin);
    }
}

/// A client that asks for a 20 MB message and never reads it: after the send
/// timeout (2 s here) the server ends the session and its maildrop lock goes; the
/// old servers kept both as long as the client kept the connection.
#[test]
fn a_client_that_stops_reading_loses_its_session() {
    both(|bin| {
        let dir = temp_dir("stops-reading");
        let big: Vec<u8> = b"Subject: big\n\n"
            .iter()
            .chain(
                &b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxy\n"
                    .repeat(280_000),
            )
            .copied()
            .collect();
        fill_maildir(&dir.join("root/alice"), &[big]);
        let (_server, port) = start(bin, &dir, "alice:pw\n", &["--send-timeout", "2"]);
        let mut hog = Client::connect(port);
        hog.line();
        assert!(hog.login("alice", "pw").starts_with("+OK Logged in"));
        hog.send(b"RETR 1\r\n"); // and never read again
        let started = Instant::now();
        let mut reply = String::new();
        while started.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(500));
            let mut other = Client::connect(port);
            other.line();
            reply = other.login("alice", "pw");
            if reply.starts_with("+OK") {
                break;
            }
            assert_eq!(
                reply,
                "-ERR [IN-USE] Maildrop is locked by another session\r\n"
            );
        }
        assert!(reply.starts_with("+OK Logged in"), "{bin}: {reply}");
        assert!(started.elapsed() < Duration::from_secs(10), "{bin}");
        drop(hog);
    });
}

/// A TLS ClientHello sent a byte every 300 ms: the handshake limit (2 s here) ends
/// the connection; before, each byte restarted the 30 s read timeout.
#[test]
fn a_trickled_tls_handshake_is_cut() {
    both(|bin| {
        let dir = temp_dir("trickle");
        fill_maildir(&dir.join("root/alice"), &[]);
        let cert = test_cert(&dir);
        let tls_port = free_port();
        let (_server, _port) = start(
            bin,
            &dir,
            "alice:pw\n",
            &[
                "--tls-cert",
                cert.cert.to_str().unwrap(),
                "--tls-key",
                cert.key.to_str().unwrap(),
                "--listen-tls",
                &format!("127.0.0.1:{tls_port}"),
                "--handshake-timeout",
                "2",
            ],
        );
        wait_for_port(tls_port);
        let mut tcp = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
        // The start of a TLS record carrying a ClientHello, then a byte at a time.
        let hello = [
            0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ];
        let started = Instant::now();
        let mut closed = false;
        for i in 0..60 {
            if tcp.write_all(&[hello[i % hello.len()]]).is_err() {
                closed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
            tcp.set_read_timeout(Some(Duration::from_millis(1)))
                .unwrap();
            let mut b = [0u8; 1];
            match tcp.read(&mut b) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                _ => {
                    closed = true;
                    break;
                }
            }
        }
        assert!(closed, "{bin}: still connected after 18 s");
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{bin}: {:?}",
            started.elapsed()
        );
    });
}

/// At most `--max-connections` sessions, and `--max-per-ip` from one address; the
/// next client gets `-ERR [SYS/TEMP]` and the connection closes; a freed place is
/// given to the next client.
#[test]
fn connection_caps_turn_clients_away() {
    both(|bin| {
        let dir = temp_dir("caps");
        fill_maildir(&dir.join("root/alice"), &[]);
        for (flag, refusal) in [
            (
                "--max-connections",
                "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
            ),
            (
                "--max-per-ip",
                "-ERR [SYS/TEMP] Too many connections from your address\r\n",
            ),
        ] {
            let (_server, port) = start(bin, &dir, "alice:pw\n", &[flag, "3"]);
            // The start-up probe's connection must be gone before places are counted.
            std::thread::sleep(Duration::from_millis(300));
            let mut held: Vec<Client> = (0..3).map(|_| Client::connect(port)).collect();
            for c in &mut held {
                assert!(c.line().starts_with("+OK POP3 server ready"), "{bin}");
            }
            let mut turned = Client::connect(port);
            assert_eq!(turned.line(), refusal, "{bin} {flag}");
            assert_eq!(turned.line(), "", "{bin}: closed after the refusal");
            let mut first = held.remove(0);
            assert_eq!(first.cmd("QUIT"), "+OK Logging out\r\n");
            drop(first);
            let mut greeting = String::new();
            for _ in 0..50 {
                std::thread::sleep(Duration::from_millis(100));
                greeting = Client::connect(port).line();
                if greeting.starts_with("+OK") {
                    break;
                }
            }
            assert!(
                greeting.starts_with("+OK POP3 server ready"),
                "{bin}: {greeting}"
            );
        }
    });
}

/// Connections that never log in hold slots only until the login deadline (2 s
/// here), however often they send `CAPA` (the old servers kept them for the idle
/// timer's 10 minutes, restarted by each command): then `-ERR Login took too long`
/// and close, and a real client gets a slot and logs in.
#[test]
fn slots_held_before_login_are_freed_at_the_login_deadline() {
    both(|bin| {
        let dir = temp_dir("login-deadline");
        fill_maildir(&dir.join("root/alice"), &messages());
        let (_server, port) = start(
            bin,
            &dir,
            "alice:pw\n",
            &["--max-connections", "3", "--login-timeout", "2"],
        );
        std::thread::sleep(Duration::from_millis(300)); // the start-up probe leaves
        let started = Instant::now();
        let holders: Vec<_> = (0..3)
            .map(|_| {
                let mut c = Client::connect(port);
                assert!(c.line().starts_with("+OK POP3 server ready"));
                std::thread::spawn(move || {
                    let mut last = String::new();
                    for _ in 0..40 {
                        std::thread::sleep(Duration::from_millis(250));
                        let _ = c.tcp.write_all(b"CAPA\r\n");
                        loop {
                            let line = c.line();
                            if line.is_empty() {
                                return (last, started.elapsed());
                            }
                            last = line;
                            if last == ".\r\n" || last.starts_with("-ERR") {
                                break;
                            }
                        }
                    }
                    (last, started.elapsed())
                })
            })
            .collect();
        let mut turned = Client::connect(port);
        assert_eq!(
            turned.line(),
            "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
            "{bin}"
        );
        for h in holders {
            let (last, at) = h.join().unwrap();
            assert_eq!(last, "-ERR Login took too long\r\n", "{bin}");
            assert!(
                at >= Duration::from_millis(1_900) && at < Duration::from_secs(5),
                "{bin}: closed after {at:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(200));
        let mut real = Client::connect(port);
        assert!(real.line().starts_with("+OK POP3 server ready"), "{bin}");
        assert!(
            real.login("alice", "pw").starts_with("+OK Logged in"),
            "{bin}"
        );
    });
}

/// With only 40 descriptors and 60 idle clients, accept fails (EMFILE): the server
/// logs it at most once a second and backs off (the old pop3d spun at 100% CPU and
/// wrote 28 MB of log in 5 s); once clients leave, it serves again.
#[test]
fn out_of_descriptors_neither_spins_nor_floods() {
    both(|bin| {
        let dir = temp_dir("emfile");
        fill_maildir(&dir.join("root/alice"), &[]);
        fs::write(dir.join("users"), "alice:pw\n").unwrap();
        let port = free_port();
        let child = Command::new("prlimit")
            .arg("--nofile=40:40")
            .arg(example(bin))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--maildir-root"])
            .arg(dir.join("root"))
            .arg("--users")
            .arg(dir.join("users"))
            // The caps would turn the clients away before descriptors run out.
            .args(["--max-per-ip", "1000"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut child = Running(child);
        wait_for_port(port);
        let idle: Vec<TcpStream> = (0..60)
            .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
            .collect();
        let cpu = |pid: u32| -> u64 {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
                + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0)
        };
        // prlimit execs the server: same pid.
        std::thread::sleep(Duration::from_millis(500));
        let before = cpu(pid);
        std::thread::sleep(Duration::from_secs(2));
        let ticks = cpu(pid) - before;
        assert!(
            ticks < 50,
            "{bin}: {ticks} CPU ticks in 2 s while out of descriptors"
        );
        drop(idle);
        let mut greeting = String::new();
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(100));
            let Ok(tcp) = TcpStream::connect(("127.0.0.1", port)) else {
                continue;
            };
            tcp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            greeting.clear();
            let _ = BufReader::new(tcp).read_line(&mut greeting);
            if greeting.starts_with("+OK") {
                break;
            }
        }
        assert!(
            greeting.starts_with("+OK POP3 server ready"),
            "{bin}: {greeting}"
        );
        let _ = child.0.kill();
        let mut log = String::new();
        child
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        let lines = log.lines().filter(|l| l.contains("accept:")).count();
        assert!(
            (1..=10).contains(&lines),
            "{bin}: {lines} accept log lines:\n{log}"
        );
    });
}

/// A mailbox that cannot be opened answers `-ERR [SYS/TEMP]` and does not keep its
/// lock: the same session logging in as someone else, then a new session of the
/// first user once its Maildir is fixed, both work (the old servers answered
/// `[IN-USE]` until restarted).
#[test]
fn a_failed_open_does_not_strand_its_lock() {
    both(|bin| {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("failed-open");
        fill_maildir(&dir.join("root/bob"), &[b"Subject: b\n\nb\n".to_vec()]);
        fill_maildir(&dir.join("root/alice"), &[b"Subject: a\n\na\n".to_vec()]);
        let unreadable = fs::read_dir(dir.join("root/alice/new"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        fs::set_permissions(&unreadable, fs::Permissions::from_mode(0o000)).unwrap();
        // As an ordinary user: root reads any file.
        let (_server, port) = start_as(Some("65534"), bin, &dir, "alice:pw\nbob:pw\n", &[]);
        let mut c = Client::connect(port);
        c.line();
        assert_eq!(
            c.login("alice", "pw"),
            "-ERR [SYS/TEMP] Maildrop unavailable, try again later\r\n"
        );
        assert!(c.login("bob", "pw").starts_with("+OK Logged in"), "{bin}");
        assert_eq!(c.cmd("QUIT"), "+OK Logging out\r\n");
        fs::set_permissions(&unreadable, fs::Permissions::from_mode(0o644)).unwrap();
        let mut c = Client::connect(port);
        c.line();
        assert!(c.login("alice", "pw").starts_with("+OK Logged in"), "{bin}");
    });
}

/// `bin` started over a users file of `users` that it must refuse: (exit code,
/// what it said), bounded by `timeout`.
fn start_refused(bin: &str, users: &str) -> (Option<i32>, String) {
    let dir = temp_dir("refused-at-start");
    fs::create_dir_all(dir.join("root")).unwrap();
    fs::write(dir.join("users"), users).unwrap();
    let out = Command::new("timeout")
        .arg("10")
        .arg(example(bin))
        .args(["--listen", "127.0.0.1:0", "--maildir-root"])
        .arg(dir.join("root"))
        .arg("--users")
        .arg(dir.join("users"))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The stored SCRAM-SHA-256 verifier of `password`, as `pop3d --scram-verifier`
/// prints it.
fn scram_verifier_of(password: &str) -> String {
    let out = Command::new(example("pop3d"))
        .arg("--scram-verifier")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{password}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// A users-file name that is not one plain path component would put a Maildir
/// outside `--maildir-root`: the server refuses to start and says why.
#[test]
fn users_outside_the_maildir_root_are_refused() {
    both(|bin| {
        for name in ["../escaped", "/tmp/x", "a/b", ".hidden"] {
            let (code, err) = start_refused(bin, &format!("{name}:pw\n"));
            assert_eq!(code, Some(2), "{bin} {name}");
            assert!(
                err.contains("is not one plain path component"),
                "{bin} {name}: {err}"
            );
        }
    });
}

/// A users-file entry that starts with `{SCHEME}` (or is in RFC 5803's SCRAM form)
/// must parse as that scheme: a truncated `{CRAM-MD5}` or `{SCRAM-SHA-256}` entry,
/// a damaged RFC 5803 one, or an unknown scheme stops pop3d at start with the
/// file's line number. The old servers took such an entry for a literal password,
/// and that string then logged in with USER/PASS. A good RFC 5803 entry is read.
#[test]
fn damaged_stored_secrets_are_refused_at_load() {
    let scram =
        "{SCRAM-SHA-256}4096,UVNYQ1IrUTZzZWs4YmY5Mg==,9o4cVcwbUCY1kXKpOV16xSyWeohyB56tfOcC5Pd9VZQ=";
    let cram = "{CRAM-MD5}3e5c6c51b4f6e4e2d3e3b52e0c4f1f2f";
    let rfc5803 = "SCRAM-SHA-256$4096:UVNYQ1IrUTZzZWs4YmY5Mg==$9o4cVcwbUCY1kX";
    both(|bin| {
        for (entry, says) in [
            (scram, "line 2: a damaged SCRAM-SHA-256 entry"),
            (cram, "line 2: a damaged CRAM-MD5 entry"),
            (rfc5803, "line 2: a damaged RFC 5803 SCRAM entry"),
            (
                "{SHA512-CRYPT}$6$x$y",
                "line 2: {SHA512-CRYPT} is a password scheme pop3d does not read",
            ),
        ] {
            let (code, err) = start_refused(bin, &format!("# users\nalice:{entry}\n"));
            assert_eq!(code, Some(2), "{bin} {entry}: {err}");
            assert!(err.contains(says), "{bin} {entry}: {err}");
        }
    });
    // A whole RFC 5803 entry is read: its password logs in, the entry's text does not.
    let dovecot = scram_verifier_of("pencil");
    let f: Vec<&str> = dovecot.trim_end()["{SCRAM-SHA-256}".len()..]
        .split(',')
        .collect();
    let entry = format!("SCRAM-SHA-256${}:{}${}:{}", f[0], f[1], f[2], f[3]);
    both(|bin| {
        let dir = temp_dir("rfc5803");
        fill_maildir(&dir.join("root/alice"), &messages());
        let users = format!("alice:{entry}\n");
        let (_server, port) = start(bin, &dir, &users, &[]);
        let mut c = Client::connect(port);
        c.line();
        assert!(
            c.login("alice", "pencil").starts_with("+OK Logged in"),
            "{bin}"
        );
        c.cmd("QUIT");
        let mut c = Client::connect(port);
        c.line();
        assert_eq!(
            c.login("alice", &entry),
            "-ERR [AUTH] Authentication failed\r\n",
            "{bin}"
        );
    });
}

/// The salt of SCRAM-SHA-256's server-first message for `user` (stored, stored2,
/// plain, plain2 or nobody), in a fresh session.
fn scram_salt(port: u16, user: &str) -> String {
    // base64 of `n,,n=USER,r=fyko+d2lbbFgONRv9qkxdawL`
    let client_first = match user {
        "stored" => "biwsbj1zdG9yZWQscj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0w=",
        "stored2" => "biwsbj1zdG9yZWQyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM",
        "plain" => "biwsbj1wbGFpbixyPWZ5a28rZDJsYmJGZ09OUnY5cWt4ZGF3TA==",
        "plain2" => "biwsbj1wbGFpbjIscj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0w=",
        "nobody" => "biwsbj1ub2JvZHkscj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0w=",
        other => panic!("no client-first for {other}"),
    };
    let mut c = Client::connect(port);
    c.line();
    assert_eq!(c.cmd("AUTH SCRAM-SHA-256"), "+ \r\n");
    let reply = c.cmd(client_first);
    let challenge = reply.strip_prefix("+ ").expect(&reply).trim_end();
    let mut buf = [0u8; 512];
    let n = pop3_proto::sasl::decode_base64(challenge.as_bytes(), &mut buf).unwrap();
    let server_first = String::from_utf8(buf[..n].to_vec()).unwrap();
    server_first
        .split(',')
        .find_map(|f| f.strip_prefix("s="))
        .unwrap()
        .to_string()
}

/// SCRAM does not tell which users exist in any configuration: a users file of
/// passwords only, one of stored verifiers only, and one that mixes a stored
/// verifier (stable salt) with a plain password; each time with a name that does
/// not exist. Each one's salt is the same at every try, and no two names share one.
/// The old servers gave the password user and the unknown name a fresh salt each
/// try, so two tries told an unknown name from a user stored as a verifier.
#[test]
fn every_users_scram_salt_is_stable() {
    let verifier = scram_verifier_of("pencil");
    let verifier2 = scram_verifier_of("pen");
    let configurations = [
        (
            "passwords only",
            "plain:pencil\nplain2:pen\n".to_string(),
            &["plain", "plain2"][..],
        ),
        (
            "verifiers only",
            format!("stored:{verifier}stored2:{verifier2}"),
            &["stored", "stored2"][..],
        ),
        (
            "mixed",
            format!("stored:{verifier}plain:pencil\n"),
            &["stored", "plain"][..],
        ),
    ];
    both(|bin| {
        for (what, users, names) in &configurations {
            let dir = temp_dir("scram-salts");
            fs::create_dir_all(dir.join("root")).unwrap();
            let (_server, port) = start(bin, &dir, users, &[]);
            let mut salts: Vec<(&str, String)> = Vec::new();
            for &user in names.iter().chain(&["nobody"]) {
                let (a, b) = (scram_salt(port, user), scram_salt(port, user));
                assert_eq!(a, b, "{bin}, {what}: {user}'s salt changed between tries");
                for (other, salt) in &salts {
                    assert_ne!(&a, salt, "{bin}, {what}: {user} has {other}'s salt");
                }
                salts.push((user, a));
            }
        }
    });
}

/// Login cost does not grow with message sizes: a message whose name carries its wire
/// size (`,W=`, as Dovecot writes it) is not read at login. Here it
/// cannot even be read, and the login still succeeds with the right STAT (the old
/// servers read every message at login and answered `-ERR [SYS/TEMP]`).
#[test]
fn login_reads_no_message_whose_name_has_its_size() {
    both(|bin| {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("wire-size-name");
        fill_maildir(&dir.join("root/alice"), &[]);
        let path = dir.join("root/alice/new/1600000000.M0P1.test,S=14,W=16");
        fs::write(&path, "Subject: a\n\na\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        let (_server, port) = start_as(Some("65534"), bin, &dir, "alice:pw\n", &[]);
        let mut c = Client::connect(port);
        c.line();
        assert_eq!(
            c.login("alice", "pw"),
            "+OK Logged in, 1 messages (16 octets)\r\n",
            "{bin}"
        );
        assert_eq!(c.cmd("LIST 1"), "+OK 1 16\r\n", "{bin}");
    });
}

/// Login memory does not grow with message sizes either: a 256 MiB message whose
/// name has no `,W=` is sized at login a buffer at a time, and the server's peak
/// resident memory stays under 64 MiB (the old servers read such a file whole into
/// memory: 256 MiB and more at each login). The size is exact: the message's two
/// bare LFs become CRLF, and its last line gets the CRLF it lacks.
#[cfg(target_os = "linux")]
#[test]
fn login_sizes_a_large_message_in_bounded_memory() {
    both(|bin| {
        const LEN: u64 = 256 << 20;
        let dir = temp_dir("wire-size-memory");
        fill_maildir(&dir.join("root/alice"), &[]);
        let file = fs::File::create(dir.join("root/alice/new/1600000000.M0P1.test")).unwrap();
        (&file).write_all(b"Subject: big\n\n").unwrap();
        // The rest a hole: zeros, read from no disk.
        file.set_len(LEN).unwrap();
        let (server, port) = start(bin, &dir, "alice:pw\n", &[]);
        let mut c = Client::connect(port);
        c.line();
        let octets = LEN + 4;
        assert_eq!(
            c.login("alice", "pw"),
            format!("+OK Logged in, 1 messages ({octets} octets)\r\n"),
            "{bin}"
        );
        // (0 would mean no reading of /proc: not a pass.)
        let (_, peak_kib) = rss_kib(server.0.id());
        assert!(
            (1..64 * 1024).contains(&peak_kib),
            "{bin}: peak resident {peak_kib} KiB"
        );
        drop((c, server));
        let _ = fs::remove_dir_all(&dir);
    });
}

/// Logins at once, each from its own connection from `from` (127.0.0.x), each
/// `(user, password)`; the replies in order.
fn logins_from(port: u16, logins: &[(u8, &'static str, &'static str)]) -> Vec<String> {
    let threads: Vec<_> = logins
        .iter()
        .map(|&(from, user, pw)| {
            std::thread::spawn(move || {
                let mut c = Client::connect_from(port, [127, 0, 0, from]);
                assert!(c.line().starts_with("+OK"));
                let reply = c.login(user, pw);
                if reply.starts_with("+OK") {
                    c.cmd("QUIT");
                }
                reply
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Guessing spread over addresses: failures count per user and address (3 here)
/// and per user in all (6 here). Six wrong passwords for carol from three addresses
/// are all checked; then an address that failed for carol is refused unchecked even
/// with the right password (`-ERR [SYS/TEMP]`: temporary, RFC 3206, the client keeps
/// its password), after the failure delay, so guessing learns nothing more; a new
/// address still gets its guess checked (and then counts), and the right password
/// from a clean address logs in: no one locks carol out from elsewhere. A user name
/// that does not exist is counted and refused the same way (no tell). The old
/// servers counted per name only: the fourth failure was refused, from anywhere.
#[test]
fn guessing_is_refused_where_it_failed_and_the_owner_gets_in() {
    both(|bin| {
        let dir = temp_dir("guesses");
        fill_maildir(&dir.join("root/carol"), &messages());
        let (_server, port) = start(
            bin,
            &dir,
            "carol:pw of carol\n",
            &[
                "--max-login-failures",
                "3",
                "--max-user-failures",
                "6",
                "--login-failure-window",
                "60",
            ],
        );
        let failed = "-ERR [AUTH] Authentication failed\r\n";
        let refused = "-ERR [SYS/TEMP] Login unavailable, try again later\r\n";
        let six: Vec<_> = (0..6u8).map(|i| (1 + i / 2, "carol", "guess")).collect();
        assert_eq!(logins_from(port, &six), [failed; 6], "{bin}");
        let asked = Instant::now();
        assert_eq!(
            logins_from(port, &[(1, "carol", "pw of carol"), (4, "carol", "guess")]),
            [refused, failed],
            "{bin}: .1 failed for carol, .4 had not"
        );
        assert!(
            asked.elapsed() >= Duration::from_millis(1_900),
            "{bin}: refused after the failure delay"
        );
        assert!(
            logins_from(port, &[(5, "carol", "pw of carol")])[0].starts_with("+OK Logged in"),
            "{bin}: the owner from a clean address"
        );
        let nobody: Vec<_> = (0..4).map(|_| (6, "nobody", "guess")).collect();
        let mut replies = logins_from(port, &nobody);
        replies.sort();
        assert_eq!(replies, [failed, failed, failed, refused], "{bin}: nobody");
    });
}

/// The case: a guesser on 127.0.0.2 at a steady rate, and the owner on
/// 127.0.0.3 logging in now and then (the rates of 12 guesses a minute and a login
/// every 20 s, scaled to 2 a second and one every 2 s, with 3 failures in a 6 s
/// window). Every login of the owner succeeds; the guesser's are refused once it has
/// failed 3 times. The old servers locked the name: the owner was refused too.
#[test]
fn a_guesser_does_not_lock_out_the_owner() {
    both(|bin| {
        let dir = temp_dir("owner-gets-in");
        fill_maildir(&dir.join("root/alice"), &messages());
        let (_server, port) = start(
            bin,
            &dir,
            "alice:right\n",
            &["--max-login-failures", "3", "--login-failure-window", "6"],
        );
        let guesser = std::thread::spawn(move || {
            let guesses: Vec<_> = (0..16)
                .map(|i| {
                    std::thread::sleep(Duration::from_millis(500));
                    std::thread::spawn(move || {
                        logins_from(port, &[(2, "alice", if i % 2 == 0 { "a" } else { "b" })])
                    })
                })
                .collect();
            let replies: Vec<String> = guesses
                .into_iter()
                .map(|g| g.join().unwrap().remove(0))
                .collect();
            replies
        });
        let mut owner = Vec::new();
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(2_000));
            owner.push(logins_from(port, &[(3, "alice", "right")]).remove(0));
        }
        let guesses = guesser.join().unwrap();
        for (i, reply) in owner.iter().enumerate() {
            assert!(
                reply.starts_with("+OK Logged in"),
                "{bin}: owner's login {i}: {reply}"
            );
        }
        let failed = guesses
            .iter()
            .filter(|r| *r == "-ERR [AUTH] Authentication failed\r\n")
            .count();
        let refused = guesses
            .iter()
            .filter(|r| *r == "-ERR [SYS/TEMP] Login unavailable, try again later\r\n")
            .count();
        assert_eq!(failed + refused, 16, "{bin}: {guesses:?}");
        assert!((3..=6).contains(&failed), "{bin}: {failed} guesses checked");
    });
}

/// The failure table is bounded (`--login-failure-users`, 3 here): new names evict
/// the quietest ones (fewest failures, longest quiet), never one that is locked, so
/// spraying names does not unlock carol. x, evicted, starts counting afresh.
#[test]
fn the_failure_table_is_bounded_and_keeps_locked_names() {
    both(|bin| {
        let dir = temp_dir("guess-table");
        fill_maildir(&dir.join("root/carol"), &messages());
        let (_server, port) = start(
            bin,
            &dir,
            "carol:pw of carol\n",
            &[
                "--max-login-failures",
                "2",
                "--login-failure-window",
                "60",
                "--login-failure-users",
                "3",
            ],
        );
        // Logins at once, each from its own connection; the replies in order.
        let batch = |logins: &[(&'static str, &'static str)]| -> Vec<String> {
            let threads: Vec<_> = logins
                .iter()
                .map(|&(user, pw)| {
                    std::thread::spawn(move || {
                        let mut c = Client::connect(port);
                        c.line();
                        c.login(user, pw)
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        };
        let failed = "-ERR [AUTH] Authentication failed\r\n";
        let locked = "-ERR [SYS/TEMP] Login unavailable, try again later\r\n";
        assert_eq!(
            batch(&[("carol", "a"), ("carol", "b"), ("x", "c")]),
            [failed; 3],
            "{bin}"
        );
        assert_eq!(
            batch(&[("a", "d"), ("b", "e"), ("c", "f")]),
            [failed; 3],
            "{bin}"
        );
        assert_eq!(
            batch(&[("carol", "pw of carol"), ("x", "g")]),
            [locked, failed],
            "{bin}: carol is still locked; x was forgotten, so this is its first failure"
        );
        assert_eq!(batch(&[("x", "h")]), [failed], "{bin}: x's second failure");
        assert_eq!(batch(&[("x", "i")]), [locked], "{bin}: now x is locked");
    });
}

/// A user who can write their own Maildir makes `cur/` a symlink to another user's
/// `new/`: the old servers listed, served and deleted bob's mail for alice. Now the
/// symlinked folder is refused (`-ERR [SYS/TEMP]` at login) and bob's mail stays.
#[test]
fn a_symlinked_folder_does_not_reach_another_users_mail() {
    both(|bin| {
        let dir = temp_dir("symlinked-cur");
        let root = dir.join("root");
        fill_maildir(
            &root.join("alice"),
            &[b"Subject: alice's\n\nmine\n".to_vec()],
        );
        fill_maildir(&root.join("bob"), &[b"Subject: bob's\n\nsecret\n".to_vec()]);
        fs::remove_dir(root.join("alice/cur")).unwrap();
        std::os::unix::fs::symlink(root.join("bob/new"), root.join("alice/cur")).unwrap();
        let (_server, port) = start(bin, &dir, "alice:pw\nbob:pw2\n", &[]);
        let mut c = Client::connect(port);
        c.line();
        assert_eq!(
            c.login("alice", "pw"),
            "-ERR [SYS/TEMP] Maildrop unavailable, try again later\r\n",
            "{bin}"
        );
        // Had she got in, DELE 1 and QUIT would have removed bob's message.
        c.cmd("DELE 1");
        c.cmd("QUIT");
        assert_eq!(
            read_maildir(&root.join("bob")),
            vec![b"Subject: bob's\n\nsecret\n".to_vec()],
            "{bin}"
        );
    });
}

/// A message file swapped for a symlink after login (to a file only the server can
/// read) is not served, and a file swapped for another one is neither served nor
/// removed at QUIT: only what was listed.
#[test]
fn a_message_swapped_after_login_is_neither_served_nor_removed() {
    both(|bin| {
        let dir = temp_dir("swapped-message");
        let root = dir.join("root");
        let listed = [
            b"Subject: one\n\nfirst\n".to_vec(),
            b"Subject: two\n\nsecond\n".to_vec(),
        ];
        fill_maildir(&root.join("alice"), &listed);
        fs::write(dir.join("secret"), b"server-only secret\n").unwrap();
        let (_server, port) = start(bin, &dir, "alice:pw\n", &[]);
        let mut c = Client::connect(port);
        c.line();
        assert_eq!(
            c.login("alice", "pw"),
            "+OK Logged in, 2 messages (47 octets)\r\n",
            "{bin}"
        );
        let mut files: Vec<_> = fs::read_dir(root.join("alice/new"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        fs::remove_file(&files[0]).unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), &files[0]).unwrap();
        fs::remove_file(&files[1]).unwrap();
        fs::write(&files[1], b"Subject: planted\n\nnot listed\n").unwrap();
        assert_eq!(
            c.cmd("RETR 1"),
            "-ERR [SYS/TEMP] Message unavailable\r\n",
            "{bin}"
        );
        assert_eq!(
            c.cmd("RETR 2"),
            "-ERR [SYS/TEMP] Message unavailable\r\n",
            "{bin}"
        );
        assert_eq!(c.cmd("DELE 2"), "+OK Message 2 deleted\r\n", "{bin}");
        c.send(b"QUIT\r\n");
        assert!(
            c.line().starts_with("-ERR"),
            "{bin}: QUIT removed a file not listed"
        );
        assert_eq!(
            fs::read(&files[1]).unwrap(),
            b"Subject: planted\n\nnot listed\n",
            "{bin}"
        );
        assert_eq!(
            fs::read_link(&files[0]).unwrap(),
            dir.join("secret"),
            "{bin}"
        );
    });
}
