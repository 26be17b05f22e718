//! Fetch throughput over loopback: a 2,000-message (~100 MB) Maildir served by
//! Dovecot and by our pop3d, fetched by pop3fetch and by curl (one connection,
//! URL globbing), and by pop3fetch and mpop side by side into a Maildir on the
//! disk under target/ (both fsync what they deliver; runs alternate, best of 3
//! each), and by pop3fetch into tmpfs (/dev/shm) to show what the disk costs.
//! Prints MB/s (10^6 bytes of message data per second, best of 2 unless said).
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
    fetch_time_in(&temp_dir("bench-fetched"), url, password, extra)
}

/// pop3fetch into a fresh Maildir `local`, removed afterwards.
fn fetch_time_in(local: &std::path::Path, url: &str, password: &str, extra: &[&str]) -> f64 {
    let start = Instant::now();
    let (ok, out, err) = pop3fetch(url, local, password, extra);
    let secs = start.elapsed().as_secs_f64();
    assert!(ok, "pop3fetch failed: {out}{err}");
    assert!(
        out.starts_with(&format!("pop3fetch: {MESSAGES} fetched")),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(local);
    secs
}

/// mpop into a fresh Maildir (same disk as pop3fetch's), keeping the mail on the
/// server, no Received: header added (pop3fetch adds none).
fn mpop_time(port: u16) -> f64 {
    let local = temp_dir("bench-mpop");
    let maildir = local.join("Maildir");
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let start = Instant::now();
    let out = Command::new("mpop")
        .arg("--host=127.0.0.1")
        .arg(format!("--port={port}"))
        .args(["--tls=off", "--auth=plain", "--keep=on", "--only-new=off"])
        .args(["--received-header=off", "--pipelining=auto", "-q"])
        .arg(format!("--user={DOVECOT_USER}"))
        .arg(format!("--passwordeval=echo '{DOVECOT_PASSWORD}'"))
        .arg(format!("--delivery=maildir,{}", maildir.display()))
        .arg(format!("--uidls-file={}", local.join("uidls").display()))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "mpop failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = std::fs::read_dir(maildir.join("new")).unwrap().count();
    assert_eq!(n, MESSAGES, "mpop delivered {n} messages");
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
    require("mpop");
    let mails = mailbox();
    let bytes: usize = mails.iter().map(Vec::len).sum();
    let mb = bytes as f64 / 1e6;
    println!("mailbox: {MESSAGES} messages, {mb:.1} MB");
    let d = Dovecot::start(&mails);
    let p = start_pop3d(&mails, &["--allow-plaintext-auth"]);
    let range = format!("[1-{MESSAGES}]");
    // pop3fetch and mpop into a Maildir on the same disk, alternating.
    let dovecot_url = format!("pop3://{DOVECOT_USER};AUTH=PLAIN@127.0.0.1:{}", d.port);
    let (mut ours, mut theirs) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        ours = ours.min(fetch_time(
            &dovecot_url,
            DOVECOT_PASSWORD,
            &["--keep", "--allow-plaintext"],
        ));
        theirs = theirs.min(mpop_time(d.port));
    }
    // The same fetch into memory (tmpfs): what the disk costs.
    let shm = std::path::Path::new("/dev/shm");
    let in_memory = shm.is_dir().then(|| {
        best_of_two(|| {
            let dir = shm.join(format!("pop3fetch-bench-{}", std::process::id()));
            fetch_time_in(
                &dir,
                &dovecot_url,
                DOVECOT_PASSWORD,
                &["--keep", "--allow-plaintext"],
            )
        })
    });
    let rows = [
        ("pop3fetch <- Dovecot", ours),
        ("mpop <- Dovecot", theirs),
        (
            "pop3fetch <- Dovecot (tmpfs)",
            in_memory.unwrap_or(f64::NAN),
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
    println!("{:<30} {:>8} {:>9}", "fetch", "seconds", "MB/s");
    for (name, secs) in rows {
        println!("{name:<30} {secs:>8.2} {:>9.1}", mb / secs);
    }
    println!(
        "pop3fetch / mpop into a Maildir on disk, from Dovecot: {:.2}x",
        theirs / ours
    );
}
