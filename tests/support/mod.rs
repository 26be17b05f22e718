//! Shared by the interop tests: temp dirs, free ports, test mailboxes, a TLS test
//! CA, and real peers (Dovecot, our example programs) started on loopback.
#![allow(dead_code)]

pub mod scripted;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A fresh directory under target/interop, world-traversable (Dovecot's processes
/// run as other users).
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("interop");
    let dir = root.join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for d in [root.as_path(), dir.as_path()] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts on the port (bounded: 15 s).
pub fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "nothing listens on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The path of one of our example programs (built by `cargo test` with the tests).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test` (it builds the examples)",
        path.display()
    );
    path
}

/// The pop3fetch under test: `POP3FETCH_BIN` if set (to run the same tests against
/// another build, e.g. an older one), else our example.
pub fn pop3fetch_exe() -> PathBuf {
    match std::env::var_os("POP3FETCH_BIN") {
        Some(p) => PathBuf::from(p),
        None => example("pop3fetch"),
    }
}

/// Fails (never skips) when a peer program is missing.
pub fn require(program: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .unwrap()
        .status
        .success();
    assert!(
        found,
        "{program} is not installed; .ci/run installs it (apt-get install dovecot-pop3d mpop curl)"
    );
}

/// Test messages with LF line ends, as Maildir stores them: dot-leading lines, a
/// line that is only a dot, a long line, 8-bit bytes, an empty body.
pub fn messages() -> Vec<Vec<u8>> {
    let mut long = b"Subject: long line\n\n".to_vec();
    long.extend(std::iter::repeat_n(b'x', 10_000));
    long.extend_from_slice(b"\nend\n");
    vec![
        b"From: a@example.org\nSubject: plain\n\nHello.\n".to_vec(),
        b"Subject: dots\n\n.leading dot\n..two dots\n.\n...\nlast\n".to_vec(),
        long,
        b"Subject: 8bit\nContent-Type: text/plain; charset=iso-8859-1\n\nCaf\xe9 cr\xe8me \xff\xfe\x80\n".to_vec(),
        b"Subject: empty body\n\n".to_vec(),
    ]
}

/// Writes `messages` into a Maildir's new/ in order (names sort in order).
pub fn fill_maildir(dir: &Path, messages: &[Vec<u8>]) {
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (i, m) in messages.iter().enumerate() {
        let path = dir
            .join("new")
            .join(format!("{}.M{i}P1.test", 1_600_000_000 + i));
        fs::write(&path, m).unwrap();
        // Distinct mtimes keep the order for readers that sort by time.
        let t = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000 + i as u64);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
}

/// The messages of a Maildir (new/ and cur/), sorted by file name. A server may
/// move a message from new/ to cur/ between the listing and the read (Dovecot
/// does, after a session): then the Maildir is listed again (at most 50 times).
pub fn read_maildir(dir: &Path) -> Vec<Vec<u8>> {
    for _ in 0..50 {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|s| fs::read_dir(dir.join(s)).ok())
            .flatten()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        match files.iter().map(fs::read).collect::<Result<Vec<_>, _>>() {
            Ok(messages) => return messages,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("{}: messages kept moving while read", dir.display());
}

/// CRLF -> LF, what a Maildir writer does with a POP3 message.
pub fn to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

/// A CA and a certificate for 127.0.0.1/localhost signed by it.
pub struct TestCert {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Runs `openssl ARGS` in `dir`; it must succeed.
pub fn openssl(dir: &Path, args: &str) {
    require("openssl");
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("cd {} && openssl {args}", dir.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl {args}");
}

pub fn test_cert(dir: &Path) -> TestCert {
    let run = |args: &str| openssl(dir, args);
    run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=pop3-proto-test-ca");
    run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out leaf.csr -subj /CN=localhost");
    fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n").unwrap();
    run("x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile leaf.ext");
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        fs::set_permissions(dir.join(f), fs::Permissions::from_mode(0o644)).unwrap();
    }
    TestCert {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

/// A child process killed on drop.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Dovecot on loopback with one user whose Maildir holds `messages`.
pub struct Dovecot {
    pub dir: PathBuf,
    pub port: u16,
    pub tls_port: u16,
    pub cert: TestCert,
    pub maildir: PathBuf,
    _child: Running,
}

pub const DOVECOT_USER: &str = "alice";
pub const DOVECOT_PASSWORD: &str = "s3cret pass";

impl Dovecot {
    pub fn start(messages: &[Vec<u8>]) -> Dovecot {
        Dovecot::start_with(messages, "")
    }

    /// [`Dovecot::start`] with `extra` configuration lines appended (a later setting
    /// overrides an earlier one), e.g. `pop3_uidl_format = %u\n`.
    pub fn start_with(messages: &[Vec<u8>], extra: &str) -> Dovecot {
        require("dovecot");
        let dir = temp_dir("dovecot");
        let cert = test_cert(&dir);
        let home = dir.join("home");
        let maildir = home.join("Maildir");
        fill_maildir(&maildir, messages);
        // Mail processes run as the mailbox owner, an ordinary user (not root).
        let ok = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&home)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown of the test Maildir");
        fs::write(
            dir.join("passwd"),
            format!(
                "{DOVECOT_USER}:{{PLAIN}}{DOVECOT_PASSWORD}:65534:65534::{}::\n",
                home.display()
            ),
        )
        .unwrap();
        let (port, tls_port) = (free_port(), free_port());
        let d = dir.display();
        let conf = format!(
            "protocols = pop3\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\n\
log_path = {d}/dovecot.log\ninfo_log_path = {d}/dovecot.log\n\
default_internal_user = dovecot\ndefault_login_user = dovenull\nfirst_valid_uid = 1\n\
ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n\
disable_plaintext_auth = no\nauth_mechanisms = plain login cram-md5\nauth_failure_delay = 0\n\
mail_location = maildir:~/Maildir\npop3_uidl_format = %08Xu%08Xv\n\
passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {d}/passwd\n}}\n\
userdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
service pop3-login {{\n  chroot =\n  inet_listener pop3 {{\n    port = {port}\n  }}\n  inet_listener pop3s {{\n    port = {tls_port}\n    ssl = yes\n  }}\n}}\n\
service anvil {{\n  chroot =\n}}\n\
service imap-login {{\n  chroot =\n}}\n{extra}"
        );
        fs::write(dir.join("dovecot.conf"), conf).unwrap();
        let child = Command::new("dovecot")
            .args(["-F", "-c"])
            .arg(dir.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dovecot starts");
        let child = Running(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(15) {
                panic!(
                    "dovecot did not start: {}",
                    fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_for_port(tls_port);
        Dovecot {
            dir,
            port,
            tls_port,
            cert,
            maildir,
            _child: child,
        }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }
}

/// Our pop3d example on a free port over a Maildir root with one user.
pub struct Pop3d {
    pub port: u16,
    pub maildir: PathBuf,
    pub dir: PathBuf,
    _child: Running,
}

/// Starts pop3d on `port` over `dir/root` with the users of `dir/users`, and waits
/// until it listens.
pub fn spawn_pop3d(dir: &Path, port: u16, extra: &[&str]) -> Child {
    spawn_server("pop3d", dir, port, extra)
}

/// The same for one of the example servers (`pop3d`, `tokio_pop3d`: same options).
pub fn spawn_server(bin: &str, dir: &Path, port: u16, extra: &[&str]) -> Child {
    let child = Command::new(example(bin))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--maildir-root"])
        .arg(dir.join("root"))
        .arg("--users")
        .arg(dir.join("users"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    child
}

pub fn start_pop3d(messages: &[Vec<u8>], extra: &[&str]) -> Pop3d {
    start_server("pop3d", messages, extra)
}

/// `start_pop3d` for one of the example servers (`pop3d`, `tokio_pop3d`).
pub fn start_server(bin: &str, messages: &[Vec<u8>], extra: &[&str]) -> Pop3d {
    let dir = temp_dir(bin);
    let maildir = dir.join("root").join("carol");
    fill_maildir(&maildir, messages);
    fs::write(dir.join("users"), "carol:pw of carol\n").unwrap();
    let port = free_port();
    let child = Running(spawn_server(bin, &dir, port, extra));
    Pop3d {
        port,
        maildir,
        dir,
        _child: child,
    }
}

/// `start_server` with a test certificate: STLS on the plain port and implicit TLS
/// (pop3s) on the returned port, listening on return.
pub fn start_server_tls(bin: &str, messages: &[Vec<u8>]) -> (Pop3d, TestCert, u16) {
    start_server_tls_with(bin, messages, &[])
}

/// [`start_server_tls`] with `extra` options.
pub fn start_server_tls_with(
    bin: &str,
    messages: &[Vec<u8>],
    extra: &[&str],
) -> (Pop3d, TestCert, u16) {
    let cert = test_cert(&temp_dir(&format!("{bin}-cert")));
    let tls_port = free_port();
    let listen_tls = format!("127.0.0.1:{tls_port}");
    let mut args = vec![
        "--tls-cert",
        cert.cert.to_str().unwrap(),
        "--tls-key",
        cert.key.to_str().unwrap(),
        "--listen-tls",
        &listen_tls,
    ];
    args.extend_from_slice(extra);
    let p = start_server(bin, messages, &args);
    wait_for_port(tls_port);
    (p, cert, tls_port)
}

/// Runs pop3fetch with a password in the environment; returns (success, stdout, stderr).
pub fn pop3fetch(
    url: &str,
    maildir: &Path,
    password: &str,
    extra: &[&str],
) -> (bool, String, String) {
    fetcher("pop3fetch", url, maildir, password, extra)
}

/// `pop3fetch` for one of the example fetchers (`pop3fetch`, `tokio_fetch`: the same
/// URL, `--maildir`, password and TLS options).
pub fn fetcher(
    bin: &str,
    url: &str,
    maildir: &Path,
    password: &str,
    extra: &[&str],
) -> (bool, String, String) {
    let exe = if bin == "pop3fetch" {
        pop3fetch_exe()
    } else {
        example(bin)
    };
    let child = Command::new(exe)
        .arg(url)
        .arg("--maildir")
        .arg(maildir)
        .args(extra)
        .env("POP3_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, out, err, _) = wait_bounded(child, bin);
    (status.success(), out, err)
}

/// Waits for `child` (piped stdout and stderr) at most 60 s: a hung program fails
/// the test. Returns its status, its output and how long it ran.
pub fn wait_bounded(
    mut child: Child,
    what: &str,
) -> (std::process::ExitStatus, String, String, Duration) {
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
            return (status, out, err, start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// First line of a child's stderr (for programs that announce their address).
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

/// Watches the bytes a client sends through a [`CutProxy`].
pub type Inspector = Box<dyn Fn(&[u8]) + Send + Sync>;

/// A one-connection TCP proxy to `upstream` that cuts both directions after
/// `budget` bytes have crossed it (client->server and server->client together).
/// `on_client` sees every chunk the client sends before it is forwarded.
pub struct CutProxy {
    pub port: u16,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl CutProxy {
    pub fn start(upstream: u16, budget: usize, on_client: Option<Inspector>) -> CutProxy {
        use std::io::Write;
        use std::net::Shutdown;
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            let (client, _) = listener.accept().unwrap();
            let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            for s in [&client, &server] {
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            }
            let left = Arc::new(AtomicUsize::new(budget));
            let crossed = Arc::new(AtomicUsize::new(0));
            let on_client: Arc<Option<Inspector>> = Arc::new(on_client);
            let pump = |mut from: TcpStream, mut to: TcpStream, inspect: bool| {
                let (left, crossed, on_client) = (left.clone(), crossed.clone(), on_client.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let take = left
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| {
                                Some(l.saturating_sub(n))
                            })
                            .map(|l| l.min(n))
                            .unwrap();
                        if inspect {
                            if let Some(f) = on_client.as_ref() {
                                f(&buf[..take]);
                            }
                        }
                        if take > 0 && to.write_all(&buf[..take]).is_err() {
                            break;
                        }
                        crossed.fetch_add(take, Ordering::SeqCst);
                        if take < n || left.load(Ordering::SeqCst) == 0 {
                            break;
                        }
                    }
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                })
            };
            let a = pump(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                true,
            );
            let b = pump(server, client, false);
            let _ = a.join();
            let _ = b.join();
            crossed.load(Ordering::SeqCst)
        });
        CutProxy {
            port,
            thread: Some(thread),
        }
    }

    /// Bytes that crossed the proxy before it closed.
    pub fn finish(mut self) -> usize {
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Resident memory (VmRSS) and its peak (VmHWM) of a process, in KiB.
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// pop3d over `users` mailboxes (`user0`…), each with `per_user` small messages.
pub fn start_pop3d_many(users: usize, per_user: usize) -> (Pop3d, u32) {
    start_server_many("pop3d", users, per_user)
}

/// `start_pop3d_many` for one of the example servers (`pop3d`, `tokio_pop3d`).
pub fn start_server_many(bin: &str, users: usize, per_user: usize) -> (Pop3d, u32) {
    let dir = temp_dir(&format!("{bin}-many"));
    let mut list = String::new();
    for u in 0..users {
        let msgs: Vec<Vec<u8>> = (0..per_user)
            .map(|i| {
                format!("Subject: user{u} message {i}\n\nbody of {u}/{i}\n.dot\n").into_bytes()
            })
            .collect();
        fill_maildir(&dir.join("root").join(format!("user{u}")), &msgs);
        list.push_str(&format!("user{u}:pw{u}\n"));
    }
    fs::write(dir.join("users"), list).unwrap();
    let port = free_port();
    // Every load client comes from 127.0.0.1: lift the per-address and total caps.
    let cap = (users + 100).to_string();
    let child = spawn_server(
        bin,
        &dir,
        port,
        &[
            "--allow-plaintext-auth",
            "--max-connections",
            &cap,
            "--max-per-ip",
            &cap,
        ],
    );
    let pid = child.id();
    let child = Running(child);
    (
        Pop3d {
            port,
            maildir: dir.join("root"),
            dir,
            _child: child,
        },
        pid,
    )
}

/// One well-behaved session for `user{u}`: log in, UIDL, RETR all, DELE all, QUIT.
/// Returns the message bodies received.
pub fn fetch_and_delete(port: u16, u: usize) -> Result<Vec<Vec<u8>>, String> {
    use pop3_proto::blocking::ClientConn;
    use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
    let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let config = ClientConfig {
        allow_plaintext: true,
        auto_capa: false,
        ..ClientConfig::default()
    };
    let mut c = ClientConn::new(tcp, Client::new(config, [u as u8; 32]));
    c.run(|_| {}).map_err(|e| e.to_string())?;
    let (user, pw) = (format!("user{u}"), format!("pw{u}"));
    let login = Login::UserPass {
        user: user.as_bytes(),
        password: pw.as_bytes(),
    };
    let mut error = None;
    c.login(login, |e| {
        if let ClientEvent::Error { text, .. } = e {
            error = Some(String::from_utf8_lossy(text).into_owned());
        }
    })
    .map_err(|e| e.to_string())?;
    if let Some(e) = error {
        return Err(e);
    }
    c.client().stat().map_err(|e| e.to_string())?;
    let mut count = 0;
    c.run(|e| {
        if let ClientEvent::Stat(s) = e {
            count = s.count;
        }
    })
    .map_err(|e| e.to_string())?;
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    for n in 1..=count {
        c.client().retr(n).map_err(|e| e.to_string())?;
        c.client().dele(n).map_err(|e| e.to_string())?;
    }
    c.client().quit().map_err(|e| e.to_string())?;
    let mut closed = false;
    c.run(|e| match e {
        ClientEvent::MessageStart { .. } => bodies.push(Vec::new()),
        ClientEvent::MessageData { data, .. } => bodies.last_mut().unwrap().extend_from_slice(data),
        ClientEvent::Closed => closed = true,
        _ => {}
    })
    .map_err(|e| e.to_string())?;
    if !closed {
        return Err("QUIT not acknowledged".into());
    }
    Ok(bodies)
}

/// One session's latency and the messages it received (or why it failed).
pub type SessionResult = (Duration, Result<Vec<Vec<u8>>, String>);

/// `sessions` concurrent fetch-and-delete sessions, one per user; returns each
/// session's latency and result.
pub fn load(port: u16, sessions: usize) -> Vec<SessionResult> {
    let threads: Vec<_> = (0..sessions)
        .map(|u| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let start = Instant::now();
                    let r = fetch_and_delete(port, u);
                    (start.elapsed(), r)
                })
                .unwrap()
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}
