//! The example servers under load: N concurrent sessions over loopback (default
//! 1,000), each logging in to its own mailbox, fetching and deleting 3 messages, and
//! quitting; against `pop3d` (a thread per session) and `tokio_pop3d` (a task per
//! session), one after the other in the same run. The load comes from one process
//! running every session as a tokio task over `pop3_proto::tokio::ClientConn`.
//! Prints wall time, sessions/s, latency percentiles and the server's peak RSS.
//!
//! ```sh
//! cargo build --release --examples && ./target/release/examples/load_bench 10000
//! ./target/release/examples/load_bench 10000 tokio_pop3d     # one server only
//! ```
//!
//! 10,000 sessions need 10,000 descriptors in each process (`ulimit -n`); the
//! benchmark raises its soft limit to the hard one, and the servers inherit it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
use pop3_proto::tokio::ClientConn;
use support::*;

/// One session for `user{u}`: log in, STAT, RETR and DELE everything, QUIT.
async fn session(port: u16, u: usize) -> Result<usize, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| err(&e))?;
    let config = ClientConfig {
        allow_plaintext: true,
        auto_capa: false,
        ..ClientConfig::default()
    };
    let mut c = ClientConn::new(tcp, Client::new(config, [u as u8; 32]));
    c.run(|_| {}).await.map_err(|e| err(&e))?;
    let (user, pw) = (format!("user{u}"), format!("pw{u}"));
    let login = Login::UserPass {
        user: user.as_bytes(),
        password: pw.as_bytes(),
    };
    c.login(login, |_| {}).await.map_err(|e| err(&e))?;
    c.client().stat().map_err(|e| err(&e))?;
    let mut count = 0;
    while let Some(e) = c.next().await.map_err(|e| err(&e))? {
        match e {
            ClientEvent::Stat(s) => count = s.count,
            ClientEvent::Invalid { reason, .. } => return Err(reason.to_string()),
            ClientEvent::Error { text, .. } => return Err(String::from_utf8_lossy(text).into()),
            _ => {}
        }
    }
    for n in 1..=count {
        c.client().retr(n).map_err(|e| err(&e))?;
        c.client().dele(n).map_err(|e| err(&e))?;
    }
    c.client().quit().map_err(|e| err(&e))?;
    let (mut bytes, mut closed) = (0, false);
    while let Some(e) = c.next().await.map_err(|e| err(&e))? {
        match e {
            ClientEvent::MessageData { data, .. } => bytes += data.len(),
            ClientEvent::Closed => closed = true,
            ClientEvent::Error { text, .. } => return Err(String::from_utf8_lossy(text).into()),
            _ => {}
        }
    }
    if !closed {
        return Err("QUIT not acknowledged".into());
    }
    Ok(bytes)
}

fn raise_fd_limit() {
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output();
    let hard: Option<u64> = out
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok());
    if let Some(hard) = hard {
        // setrlimit through prlimit(1) on ourselves: no libc binding needed here.
        let _ = std::process::Command::new("prlimit")
            .args([
                "--pid",
                &std::process::id().to_string(),
                &format!("--nofile={hard}:{hard}"),
            ])
            .status();
    }
}

fn bench(bin: &str, sessions: usize) {
    let (p, pid) = start_server_many(bin, sessions, 3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let results: Vec<(Duration, Result<usize, String>)> = runtime.block_on(async {
        let tasks: Vec<_> = (0..sessions)
            .map(|u| {
                tokio::spawn(async move {
                    let start = Instant::now();
                    let r = tokio::time::timeout(Duration::from_secs(120), session(p.port, u))
                        .await
                        .unwrap_or_else(|_| Err("timed out".into()));
                    (start.elapsed(), r)
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("session task"));
        }
        out
    });
    let elapsed = started.elapsed();
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, r) in &results {
        if let Err(e) = r {
            *reasons.entry(e.clone()).or_default() += 1;
        }
    }
    for (reason, n) in &reasons {
        println!("{bin}: failed {n} × {reason}");
    }
    let failed: usize = reasons.values().sum();
    let mut latencies: Vec<Duration> = results.iter().map(|(l, _)| *l).collect();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).saturating_sub(1)];
    let left: usize = (0..sessions)
        .map(|u| read_maildir(&p.maildir.join(format!("user{u}"))).len())
        .sum();
    println!(
        "| {bin} | {sessions} | {failed} | {left} | {:.2} s | {:.0} | {:.0} ms | {:.0} ms | {:.1} MB |",
        elapsed.as_secs_f64(),
        sessions as f64 / elapsed.as_secs_f64(),
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
        rss_kib(pid).1 as f64 / 1024.0,
    );
    assert_eq!(
        (failed, left),
        (0, 0),
        "{bin}: every session completes, every mailbox empties"
    );
}

fn main() {
    raise_fd_limit();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sessions: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1000);
    let servers: Vec<&str> = match args.iter().find(|a| a.parse::<usize>().is_err()) {
        Some(bin) => vec![bin.as_str()],
        None => vec!["pop3d", "tokio_pop3d"],
    };
    println!("| server | sessions | failed | messages left | wall time | sessions/s | p50 | p99 | server peak RSS |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for bin in servers {
        bench(bin, sessions);
    }
}
