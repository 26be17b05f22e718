//! pop3d under abuse and load: malformed, over-long, binary and half-sent commands,
//! idle (slowloris) connections and password guessing do not stop well-behaved
//! clients; every abuser gets `-ERR` with the right code and is closed after the
//! bad-command limit; memory stays bounded; many concurrent sessions all complete,
//! and no message is served again after its deletion.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut greeting = String::new();
    r.read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("+OK"), "{greeting}");
    (s, r)
}

/// Reads replies until the server closes; returns them.
fn replies_until_close(r: &mut BufReader<TcpStream>) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let mut line = Vec::new();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return out,
            Ok(_) => out.push(String::from_utf8_lossy(&line).trim_end().to_string()),
        }
    }
}

#[test]
fn abusers_get_errors_and_closed_while_others_are_served() {
    let (p, pid) = start_pop3d_many(4, 3);
    let port = p.port;
    let (rss_before, _) = rss_kib(pid);
    let started = Instant::now();
    // Idle connections that never speak (slowloris), and half-sent commands.
    let mut idle: Vec<TcpStream> = (0..50).map(|_| connect(port).0).collect();
    for s in idle.iter_mut().take(10) {
        s.write_all(b"RETR 1").unwrap();
    }
    // Over-long lines (1 MiB each, then a line end) and binary junk.
    let floods: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let (mut s, mut r) = connect(port);
                let big = vec![b'A' + (i % 26) as u8; 1 << 20];
                for _ in 0..3 {
                    s.write_all(&big).unwrap();
                    s.write_all(b"\r\n").unwrap();
                }
                let junk: Vec<u8> = (0..200u32).map(|x| (x * 37 + i) as u8).collect();
                for chunk in junk.split(|b| *b == b'\n') {
                    if s.write_all(chunk)
                        .and_then(|_| s.write_all(b"\r\n"))
                        .is_err()
                    {
                        break;
                    }
                }
                for _ in 0..10 {
                    let _ = s.write_all(b"XYZZY\r\n");
                }
                replies_until_close(&mut r)
            })
        })
        .collect();
    // Password guessing.
    let guessers: Vec<_> = (0..3)
        .map(|_| {
            std::thread::spawn(move || {
                let (mut s, mut r) = connect(port);
                for i in 0..3 {
                    let _ = s.write_all(format!("USER user0\r\nPASS guess{i}\r\n").as_bytes());
                }
                let _ = s.write_all(b"QUIT\r\n");
                replies_until_close(&mut r)
            })
        })
        .collect();
    // Meanwhile a well-behaved client gets its mail.
    let good = fetch_and_delete(port, 1).expect("a well-behaved client is served");
    assert_eq!(good.len(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "served in {:?}",
        started.elapsed()
    );
    for f in floods {
        let replies = f.join().unwrap();
        assert!(replies.len() >= 3, "{replies:?}");
        assert_eq!(
            &replies[..3],
            [
                "-ERR Line too long",
                "-ERR Line too long",
                "-ERR Line too long"
            ]
        );
        assert_eq!(
            replies.last().map(String::as_str),
            Some("-ERR Too many bad commands, closing")
        );
        assert!(replies.iter().all(|l| l.starts_with("-ERR")), "{replies:?}");
        assert!(
            replies.len() <= 10,
            "closed after the limit: {}",
            replies.len()
        );
    }
    for g in guessers {
        let replies = g.join().unwrap();
        // Each guess is refused (after the failure delay), then QUIT closes.
        assert_eq!(
            replies,
            [
                "+OK",
                "-ERR [AUTH] Authentication failed",
                "+OK",
                "-ERR [AUTH] Authentication failed",
                "+OK",
                "-ERR [AUTH] Authentication failed",
                "+OK Logging out"
            ]
        );
    }
    // Memory: 24 MiB of over-long lines went through; the server buffered none of it.
    let (rss_after, _) = rss_kib(pid);
    println!("pop3d RSS: {rss_before} KiB before, {rss_after} KiB after the abuse");
    assert!(
        rss_after < rss_before + 32 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
    drop(idle);
}

#[test]
fn many_concurrent_sessions_all_complete_and_nothing_is_served_twice() {
    const SESSIONS: usize = 200;
    let (p, pid) = start_pop3d_many(SESSIONS, 3);
    let started = Instant::now();
    let results = load(p.port, SESSIONS);
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = Vec::new();
    for (u, (latency, r)) in results.iter().enumerate() {
        let bodies = r.as_ref().unwrap_or_else(|e| panic!("session {u}: {e}"));
        assert_eq!(bodies.len(), 3, "session {u}");
        for (i, b) in bodies.iter().enumerate() {
            assert_eq!(
                to_lf(b),
                format!("Subject: user{u} message {i}\n\nbody of {u}/{i}\n.dot\n").into_bytes()
            );
        }
        latencies.push(*latency);
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100 - 1];
    println!(
        "{SESSIONS} sessions in {elapsed:?} ({:.0} sessions/s), p99 {p99:?}, pop3d peak RSS {} KiB",
        SESSIONS as f64 / elapsed.as_secs_f64(),
        rss_kib(pid).1
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    // Every mailbox is empty, and a second round finds nothing to serve again.
    for u in 0..SESSIONS {
        assert!(
            read_maildir(&p.maildir.join(format!("user{u}"))).is_empty(),
            "user{u}"
        );
    }
    let again = load(p.port, 20);
    assert!(again
        .iter()
        .all(|(_, r)| r.as_ref().is_ok_and(|b| b.is_empty())));
}
