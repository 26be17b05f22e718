//! pop3d under load: N concurrent sessions over loopback (default 1,000), each
//! logging in to its own mailbox, fetching and deleting 3 messages, and quitting.
//! Prints sessions/s, latency percentiles and pop3d's peak RSS.
//!
//! ```sh
//! cargo build --release --examples && ./target/release/examples/load_bench 1000
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::*;

fn main() {
    let sessions: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let (p, pid) = start_pop3d_many(sessions, 3);
    let started = Instant::now();
    let results = load(p.port, sessions);
    let elapsed = started.elapsed();
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    let mut reasons: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (_, r) in &results {
        if let Err(e) = r {
            *reasons.entry(e.clone()).or_default() += 1;
        }
    }
    for (reason, n) in &reasons {
        println!("failed        {n} × {reason}");
    }
    let mut latencies: Vec<Duration> = results.iter().map(|(l, _)| *l).collect();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).saturating_sub(1)];
    let left: usize = (0..sessions)
        .map(|u| read_maildir(&p.maildir.join(format!("user{u}"))).len())
        .sum();
    println!("sessions      {sessions} ({failed} failed, {left} messages left on the server)");
    println!("wall time     {:.2} s", elapsed.as_secs_f64());
    println!(
        "sessions/s    {:.0}",
        sessions as f64 / elapsed.as_secs_f64()
    );
    println!("latency p50   {:.1} ms", pct(50).as_secs_f64() * 1e3);
    println!("latency p99   {:.1} ms", pct(99).as_secs_f64() * 1e3);
    println!("pop3d peak RSS {} KiB", rss_kib(pid).1);
    assert_eq!((failed, left), (0, 0));
}
