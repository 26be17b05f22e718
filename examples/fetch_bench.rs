//! Fetch throughput over loopback: a 2,000-message (~100 MB) Maildir served by
//! Dovecot and by our pop3d, fetched by pop3fetch and by curl (one connection,
//! URL globbing). Prints MB/s (10^6 bytes of message data per second, best of 2).
//!
//! One command (root; it installs nothing, so Dovecot and curl must be there):
//!
//! ```sh
//! cargo build --release --examples && ./target/release/examples/fetch_bench
//! ```
//! or simply `bash .ci/bench-fetch`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::Instant;

use support::*;

const MESSAGES: usize = 2000;

fn mailbox() -> Vec<Vec<u8>> {
    let mut x: u32 = 0x2545_f491;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    (0..MESSAGES)
        .map(|i| {
            let mut m = format!("From: bench@example.org\nSubject: message {i}\n\n").into_bytes();
            while m.len() < 50_000 {
                let r = next();
                if r % 20 == 0 {
                    m.push(b'.');
                }
                let len = 20 + (r % 60) as usize;
                m.extend((0..len).map(|j| b'a' + ((r as usize + j) % 26) as u8));
                m.push(b'\n');
            }
            m
        })
        .collect()
}

fn best_of_two(mut f: impl FnMut() -> f64) -> f64 {
    f().min(f())
}

fn fetch_time(url: &str, password: &str, extra: &[&str]) -> f64 {
    let local = temp_dir("bench-fetched");
    let start = Instant::now();
    let (ok, out, err) = pop3fetch(url, &local, password, extra);
    let secs = start.elapsed().as_secs_f64();
    assert!(ok, "pop3fetch failed: {out}{err}");
    assert!(
        out.starts_with(&format!("pop3fetch: {MESSAGES} fetched")),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&local);
    secs
}

fn curl_time(url: &str) -> f64 {
    let start = Instant::now();
    let ok = Command::new("curl")
        .args(["-s", "-o", "/dev/null", url])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "curl failed");
    start.elapsed().as_secs_f64()
}

fn main() {
    require("dovecot");
    require("curl");
    let mails = mailbox();
    let bytes: usize = mails.iter().map(Vec::len).sum();
    let mb = bytes as f64 / 1e6;
    println!("mailbox: {MESSAGES} messages, {mb:.1} MB");
    let d = Dovecot::start(&mails);
    let p = start_pop3d(&mails, &["--allow-plaintext-auth"]);
    let range = format!("[1-{MESSAGES}]");
    let rows = [
        (
            "pop3fetch <- Dovecot",
            best_of_two(|| {
                fetch_time(
                    &format!("pop3://{DOVECOT_USER};AUTH=PLAIN@127.0.0.1:{}", d.port),
                    DOVECOT_PASSWORD,
                    &["--keep", "--allow-plaintext"],
                )
            }),
        ),
        (
            "curl <- Dovecot",
            best_of_two(|| {
                curl_time(&format!(
                    "pop3://{DOVECOT_USER}:s3cret%20pass@127.0.0.1:{}/{range}",
                    d.port
                ))
            }),
        ),
        (
            "pop3fetch <- pop3d",
            best_of_two(|| {
                fetch_time(
                    &format!("pop3://carol;AUTH=PLAIN@127.0.0.1:{}", p.port),
                    "pw of carol",
                    &["--keep", "--allow-plaintext"],
                )
            }),
        ),
        (
            "curl <- pop3d",
            best_of_two(|| {
                curl_time(&format!(
                    "pop3://carol:pw%20of%20carol@127.0.0.1:{}/{range}",
                    p.port
                ))
            }),
        ),
    ];
    println!("{:<22} {:>8} {:>9}", "fetch", "seconds", "MB/s");
    for (name, secs) in rows {
        println!("{name:<22} {secs:>8.2} {:>9.1}", mb / secs);
    }
}
