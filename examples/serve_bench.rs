//! Serving speed: pop3d, tokio_pop3d and Dovecot, each started here over the same
//! 2,000 × 50 KB Maildir, serve every message to one pipelined client over loopback
//! that only counts bytes and message ends (it reads in 1 MiB pieces and looks at
//! the bytes around each `.`, found eight bytes at a time: about 5.6 GB/s, so the
//! client is not the limit). Prints MB/s and the ratio
//! to Dovecot, best of three runs each, in one run of the benchmark, and the work's
//! limit on this machine: a server that writes the same replies, already encoded,
//! from memory in 64 KiB writes (no files, no encoding: only the loopback).
//!
//! ```sh
//! cargo build --release --examples && ./target/release/examples/serve_bench
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use support::*;

const MESSAGES: usize = 2_000;

/// Logs in, pipelines RETR 1..=n, and reads until n message ends; returns the bytes
/// received and the time from the first RETR to the last byte.
fn fetch_all(port: u16, user: &str, password: &str, n: usize) -> (usize, Duration) {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    let mut w = tcp;
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    w.write_all(format!("USER {user}\r\nPASS {password}\r\n").as_bytes())
        .unwrap();
    for _ in 0..2 {
        line.clear();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("+OK"), "login: {line}");
    }
    let commands: String = (1..=n).map(|i| format!("RETR {i}\r\n")).collect();
    let started = Instant::now();
    w.write_all(commands.as_bytes()).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let (mut total, mut ends, mut carry) = (0usize, 0usize, Vec::<u8>::new());
    while ends < n {
        let k = r.read(&mut buf).unwrap();
        assert!(k > 0, "connection closed after {ends} messages");
        total += k;
        // Ends inside this piece, and one straddling the previous piece.
        carry.extend_from_slice(&buf[..k.min(4)]);
        ends += count_ends(&carry);
        ends += count_ends(&buf[..k]);
        carry.clear();
        carry.extend_from_slice(&buf[k.saturating_sub(4)..k]);
    }
    let elapsed = started.elapsed();
    // Wait for QUIT's answer: the next round's login would find the mailbox locked.
    w.write_all(b"QUIT\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    (total, elapsed)
}

/// `CRLF.CRLF` in `data`, found from its dots: eight bytes at a time are tested for
/// a `.` (the bit trick of "has a zero byte"), so that the client reads at several
/// GB/s and is not what the benchmark measures.
fn count_ends(data: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let is_end = |j: usize| j >= 2 && data.get(j - 2..j + 3) == Some(b"\r\n.\r\n");
    let mut n = 0;
    let mut words = data.chunks_exact(8);
    let mut i = 0;
    for word in words.by_ref() {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) ^ (LO * u64::from(b'.'));
        if w.wrapping_sub(LO) & !w & HI != 0 {
            n += (i..i + 8).filter(|&j| data[j] == b'.' && is_end(j)).count();
        }
        i += 8;
    }
    n + (i..data.len())
        .filter(|&j| data[j] == b'.' && is_end(j))
        .count()
}

/// The limit: answers USER, PASS and every RETR with `wire` (the reply to RETR,
/// status line to terminator) from memory, in writes of 64 KiB.
fn memory_server(wire: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            let _ = tcp.set_nodelay(true);
            let mut r = BufReader::new(tcp.try_clone().unwrap());
            let mut w = std::io::BufWriter::with_capacity(64 * 1024, tcp);
            let _ = w.write_all(b"+OK ready\r\n");
            let _ = w.flush();
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let reply: &[u8] = match line.get(..4) {
                    Some("RETR") => &wire,
                    Some("QUIT") => break,
                    _ => b"+OK\r\n",
                };
                let _ = w.write_all(reply);
                // Flush when no command is waiting (pipelined ones are read first).
                if r.buffer().is_empty() {
                    let _ = w.flush();
                }
            }
        }
    });
    port
}

/// What a server sends for RETR of `message` (LF line ends, no line starts with `.`).
fn retr_reply(message: &[u8]) -> Vec<u8> {
    let mut wire = b"+OK message follows\r\n".to_vec();
    for line in message.split_inclusive(|b| *b == b'\n') {
        wire.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

/// The bytes of the replies to RETR of every message but their status lines: fewer
/// received means a server sent short (or empty) messages.
fn expected_bytes(message: &[u8]) -> usize {
    let wire = retr_reply(message);
    MESSAGES * (wire.len() - b"+OK message follows\r\n".len())
}

fn best_of_three(port: u16, user: &str, password: &str, expected: usize) -> f64 {
    (0..3)
        .map(|_| {
            let (bytes, t) = fetch_all(port, user, password, MESSAGES);
            assert!(
                bytes >= expected,
                "{bytes} bytes received, {expected} expected at least"
            );
            bytes as f64 / t.as_secs_f64() / 1e6
        })
        .fold(0.0, f64::max)
}

fn main() {
    let line = b"0123456789 abcdefghijklmnopqrstuvwxyz 0123456789 abcdefghijklmnopqrstuvwxy\n";
    let message: Vec<u8> = b"Subject: bench\n\n"
        .iter()
        .chain(&line.repeat(50_000 / line.len()))
        .copied()
        .collect();
    let limit_port = memory_server(retr_reply(&message));
    let expected = expected_bytes(&message);
    let messages = vec![message; MESSAGES];
    // `serve_bench profile BIN [ROUNDS]`: only BIN, ten rounds (or ROUNDS), for a
    // profiler.
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, bin, rest @ ..] = &args[..] {
        if mode == "profile" {
            let rounds = rest.first().and_then(|r| r.parse().ok()).unwrap_or(10);
            let dir = temp_dir("serve-bench");
            fill_maildir(&dir.join("root/bench"), &messages);
            std::fs::write(dir.join("users"), "bench:pw\n").unwrap();
            let port = free_port();
            let _server = Running(spawn_server(bin, &dir, port, &["--allow-plaintext-auth"]));
            for _ in 0..rounds {
                let (bytes, t) = fetch_all(port, "bench", "pw", MESSAGES);
                assert!(
                    bytes >= expected,
                    "{bytes} bytes received, {expected} expected"
                );
                println!("{bin}: {:.0} MB/s", bytes as f64 / t.as_secs_f64() / 1e6);
            }
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
    }
    let dovecot = Dovecot::start(&messages);
    let dovecot_mbs = best_of_three(dovecot.port, DOVECOT_USER, DOVECOT_PASSWORD, expected);
    println!("| server | MB/s (best of 3) | × Dovecot |");
    println!("|---|---|---|");
    println!("| Dovecot {} | {dovecot_mbs:.0} | 1.0 |", dovecot_version());
    for bin in ["pop3d", "tokio_pop3d"] {
        let dir = temp_dir("serve-bench");
        fill_maildir(&dir.join("root/bench"), &messages);
        std::fs::write(dir.join("users"), "bench:pw\n").unwrap();
        let port = free_port();
        let _server = Running(spawn_server(bin, &dir, port, &["--allow-plaintext-auth"]));
        let mbs = best_of_three(port, "bench", "pw", expected);
        println!("| {bin} | {mbs:.0} | {:.1} |", mbs / dovecot_mbs);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let limit = best_of_three(limit_port, "bench", "pw", expected);
    println!(
        "| limit: the replies from memory, 64 KiB writes | {limit:.0} | {:.1} |",
        limit / dovecot_mbs
    );
}

fn dovecot_version() -> String {
    std::process::Command::new("dovecot")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}
