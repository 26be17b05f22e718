//! The server over `embedded-io` and `embedded-io-async` (fixed buffers, a backend
//! that lends its answers, messages read in chunks): served to curl on loopback,
//! through embedded-io-adapters (std and tokio). Every message byte-identical, the
//! lock-step LIST complete, deletion only at QUIT.

mod support;

use std::net::TcpListener;
use std::process::Command;

use pop3_proto::embedded::{Answer, AsyncServerConn, Backend, ServerConn};
use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent};
use pop3_proto::time::Instant;
use support::*;

/// A mailbox in memory, as a device would keep it in flash.
struct Flash {
    messages: Vec<Vec<u8>>,
    uids: Vec<String>,
    removed: Vec<u32>,
    /// The device's tick counter.
    clock: std::time::Instant,
}

impl Flash {
    fn new() -> Flash {
        let mut messages = messages();
        // One message much larger than the transmit buffer.
        messages.push(
            b"Subject: big\n\n"
                .iter()
                .chain(&b"0123456789 .dot\n".repeat(8_000))
                .copied()
                .collect(),
        );
        let uids = (1..=messages.len()).map(|i| format!("flash-{i}")).collect();
        Flash {
            messages,
            uids,
            removed: Vec::new(),
            clock: std::time::Instant::now(),
        }
    }
}

impl Backend for Flash {
    fn now(&mut self) -> Instant {
        Instant::from_duration(self.clock.elapsed())
    }

    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_> {
        match event {
            ServerEvent::CheckPassword { user, password, .. } => {
                Answer::Verdict(user == b"dev" && password == b"flash")
            }
            ServerEvent::NeedSecret { user, .. } => {
                Answer::Secret((user == b"dev").then_some(b"flash"))
            }
            ServerEvent::OpenMaildrop { .. } => Answer::Open(Open::Opened {
                count: self.messages.len() as u32,
                size: self
                    .messages
                    .iter()
                    .map(|m| pop3_proto::codec::body::wire_size(m))
                    .sum(),
            }),
            ServerEvent::Size { msg } => Answer::Size(pop3_proto::codec::body::wire_size(
                &self.messages[msg as usize - 1],
            )),
            ServerEvent::Uid { msg } => Answer::Uid(self.uids[msg as usize - 1].as_bytes()),
            ServerEvent::Retrieve { .. } => Answer::Message(true),
            _ => Answer::Verdict(false),
        }
    }

    fn read_message(&mut self, msg: u32, offset: u64, buf: &mut [u8]) -> Option<usize> {
        let m = &self.messages[msg as usize - 1];
        let rest = &m[(offset as usize).min(m.len())..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Some(n)
    }

    fn update(&mut self, deleted: &mut dyn Iterator<Item = u32>) -> bool {
        self.removed.extend(deleted);
        true
    }
}

fn config() -> ServerConfig {
    let mut c = ServerConfig::new("device.local");
    c.mechanisms =
        pop3_proto::server::MechanismSet::ALL.without(pop3_proto::server::MechanismSet::EXTERNAL);
    c.allow_plaintext_auth = true;
    c.auth_failure_delay_ms = 300;
    c
}

/// A wrong password: `-ERR [AUTH]` comes after the failure delay (the adapter waits
/// for the deadline instead of blocking in a read the client will never satisfy),
/// and the session goes on.
fn wrong_password(port: u16) {
    use std::io::{BufRead, BufReader, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("+OK"), "{line}");
    tcp.write_all(b"USER dev\r\nPASS wrong\r\n").unwrap();
    let started = std::time::Instant::now();
    let mut replies = String::new();
    for _ in 0..2 {
        r.read_line(&mut replies).unwrap();
    }
    assert_eq!(replies, "+OK\r\n-ERR [AUTH] Authentication failed\r\n");
    assert!(started.elapsed() >= std::time::Duration::from_millis(250));
    tcp.write_all(b"QUIT\r\n").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "+OK Logging out\r\n");
}

fn curl(port: u16, path: &str, extra: &[&str]) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20"])
        .args(extra)
        .arg(format!("pop3://dev:flash@127.0.0.1:{port}/{path}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {path}: {:?}", out.status);
    out.stdout
}

/// What curl sees of the whole session set: LIST, every message, DELE 1.
fn client_side(port: u16, flash: &Flash) {
    let listing = String::from_utf8(curl(port, "", &[])).unwrap();
    let want: String = flash
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{} {}\r\n", i + 1, pop3_proto::codec::body::wire_size(m)))
        .collect();
    assert_eq!(listing, want);
    for (i, m) in flash.messages.iter().enumerate() {
        assert_eq!(
            to_lf(&curl(port, &(i + 1).to_string(), &[])),
            *m,
            "message {}",
            i + 1
        );
    }
    curl(port, "1", &["-X", "DELE", "-I"]);
}

#[test]
fn blocking_embedded_server_serves_curl() {
    require("curl");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let expected = Flash::new();
    let sessions = 3 + expected.messages.len();
    let server = std::thread::spawn(move || {
        let mut flash = Flash::new();
        for _ in 0..sessions {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                .unwrap();
            let session = Server::new(config(), Instant::from_millis(0), [5; 32]);
            // 512-byte buffers: a 128 KB message streams through them.
            let mut conn: ServerConn<_, _, 512, 512> =
                ServerConn::new(embedded_io_adapters::std::FromStd::new(tcp), session);
            conn.serve(&mut flash).unwrap();
        }
        flash.removed
    });
    wrong_password(port);
    client_side(port, &expected);
    assert_eq!(
        server.join().unwrap(),
        vec![1],
        "DELE 1 applied at QUIT, nothing else"
    );
}

#[test]
fn async_embedded_server_serves_curl() {
    require("curl");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let expected = Flash::new();
    let sessions = 3 + expected.messages.len();
    let server = std::thread::spawn(move || {
        rt.block_on(async move {
            let mut flash = Flash::new();
            for _ in 0..sessions {
                let (tcp, _) = listener.accept().await.unwrap();
                let session = Server::new(config(), Instant::from_millis(0), [5; 32]);
                let mut conn: AsyncServerConn<_, _, 512, 1024> = AsyncServerConn::new(
                    embedded_io_adapters::tokio_1::FromTokio::new(tcp),
                    session,
                );
                let work = conn.serve(&mut flash, tokio::time::sleep);
                tokio::time::timeout(std::time::Duration::from_secs(20), work)
                    .await
                    .expect("bounded in time")
                    .unwrap();
            }
            flash.removed
        })
    });
    wrong_password(port);
    client_side(port, &expected);
    assert_eq!(
        server.join().unwrap(),
        vec![1],
        "DELE 1 applied at QUIT, nothing else"
    );
}

/// A mailbox of one 64 MB message, made up as it is read (a device streams it from
/// flash), for a client that never reads it.
struct Endless {
    clock: std::time::Instant,
}

const ENDLESS: u64 = 64 << 20;

impl Backend for Endless {
    fn now(&mut self) -> Instant {
        Instant::from_duration(self.clock.elapsed())
    }

    fn answer(&mut self, event: ServerEvent<'_>) -> Answer<'_> {
        match event {
            ServerEvent::CheckPassword { .. } => Answer::Verdict(true),
            ServerEvent::OpenMaildrop { .. } => Answer::Open(Open::Opened {
                count: 1,
                size: ENDLESS,
            }),
            ServerEvent::Size { .. } => Answer::Size(ENDLESS),
            ServerEvent::Retrieve { .. } => Answer::Message(true),
            _ => Answer::Verdict(false),
        }
    }

    fn read_message(&mut self, _: u32, offset: u64, buf: &mut [u8]) -> Option<usize> {
        let n = (ENDLESS - offset.min(ENDLESS)).min(buf.len() as u64) as usize;
        buf[..n].fill(b'x');
        if n > 0 {
            buf[n - 1] = b'\n';
        }
        Some(n)
    }

    fn update(&mut self, _: &mut dyn Iterator<Item = u32>) -> bool {
        true
    }
}

/// A client that asks for a message and stops reading loses its session after the
/// send timeout: the async embedded server's writes are bounded in time. (Was: the
/// session waited in its write forever.)
#[test]
fn async_embedded_server_drops_a_client_that_stops_reading() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        rt.block_on(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut c = config();
            c.send_timeout_ms = 500;
            let session = Server::new(c, Instant::from_millis(0), [5; 32]);
            let mut conn: AsyncServerConn<_, _, 512, 1024> =
                AsyncServerConn::new(embedded_io_adapters::tokio_1::FromTokio::new(tcp), session);
            let mut endless = Endless {
                clock: std::time::Instant::now(),
            };
            let started = std::time::Instant::now();
            let work = conn.serve(&mut endless, tokio::time::sleep);
            let result = tokio::time::timeout(std::time::Duration::from_secs(20), work)
                .await
                .expect("the session ends by itself");
            (format!("{result:?}"), started.elapsed())
        })
    });
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut tcp, b"USER dev\r\nPASS flash\r\nRETR 1\r\n").unwrap();
    // Never read: the reply fills the socket buffers and the server's writes stall.
    let (result, took) = server.join().unwrap();
    assert_eq!(result, "Err(TimedOut)");
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    drop(tcp);
}
