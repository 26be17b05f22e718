//! Login cost against message size: pop3d's login + STAT on 10,000 messages of 1 KB
//! and of 100 KB, with Maildir names that carry the wire size (`,W=`, as Dovecot
//! delivers) and with plain names (read once, then remembered), first and
//! second login. Prints one Markdown row per case.
//!
//! ```sh
//! cargo build --release --examples && ./target/release/examples/login_bench
//! ```
//!
//! The message files are sparse (their bytes are zeros on no disk blocks): the
//! benchmark measures what the server does, not the disk.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

const MESSAGES: usize = 10_000;

/// Logs in and returns the time from PASS to its `+OK` (the maildrop is opened and
/// sized in between), and that `+OK` line.
fn login(port: u16) -> (Duration, String) {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    let mut w = tcp;
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    w.write_all(b"USER bench\r\n").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    let started = Instant::now();
    w.write_all(b"PASS pw\r\n").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    let elapsed = started.elapsed();
    w.write_all(b"QUIT\r\n").unwrap();
    (elapsed, line.trim_end().to_string())
}

fn main() {
    println!("| message size | names | first login + STAT | second login + STAT | STAT |");
    println!("|---|---|---|---|---|");
    for size in [1_000u64, 100_000] {
        for with_size in [true, false] {
            let dir = temp_dir("login-bench");
            let new = dir.join("root/bench/new");
            fill_maildir(&dir.join("root/bench"), &[]);
            for i in 0..MESSAGES {
                // Sparse zeros: no line ends, so the wire size is the file size.
                let name = match with_size {
                    true => format!("{}.M{i}P1.bench,S={size},W={size}", 1_600_000_000 + i),
                    false => format!("{}.M{i}P1.bench", 1_600_000_000 + i),
                };
                fs::File::create(new.join(name))
                    .unwrap()
                    .set_len(size)
                    .unwrap();
            }
            fs::write(dir.join("users"), "bench:pw\n").unwrap();
            let port = free_port();
            let _server = Running(spawn_server(
                "pop3d",
                &dir,
                port,
                &["--allow-plaintext-auth"],
            ));
            let (first, stat) = login(port);
            let (second, _) = login(port);
            println!(
                "| {} KB | {} | {:.0} ms | {:.0} ms | {stat} |",
                size / 1000,
                if with_size {
                    "`,W=` (as Dovecot names them)"
                } else {
                    "plain"
                },
                first.as_secs_f64() * 1e3,
                second.as_secs_f64() * 1e3,
            );
            let _ = fs::remove_dir_all(&dir);
        }
    }
}
