//! No mail lost, no mail duplicated: pop3fetch with the connection cut at a dense
//! sample of byte offsets of a whole session (against pop3d and Dovecot), and with
//! the server killed between DELE and QUIT. After every fault and one clean re-run,
//! every message exists exactly once locally and the server kept what was not yet
//! safely on disk.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use support::*;

/// Content multiset.
fn counts(messages: &[Vec<u8>]) -> HashMap<Vec<u8>, usize> {
    let mut m = HashMap::new();
    for msg in messages {
        *m.entry(msg.clone()).or_insert(0) += 1;
    }
    m
}

fn clear_maildir(dir: &Path) {
    for sub in ["new", "cur", "tmp"] {
        let _ = fs::remove_dir_all(dir.join(sub));
    }
}

struct Tally {
    cuts: usize,
    lost: usize,
    duplicated: usize,
}

/// pop3fetch's options for every run: the cut runs (through a proxy, on a port of
/// their own) and the clean re-runs (straight to the server) are one account.
const FETCH: &[&str] = &["--allow-plaintext", "--account", "reliability"];

/// One trial: fetch through a proxy cut after `offset` bytes, check nothing was
/// lost, re-run cleanly, check exactly once. Returns the bytes the cut run moved.
fn trial(
    url_via: &dyn Fn(u16) -> String,
    upstream: u16,
    password: &str,
    offset: usize,
    server_maildir: &Path,
    tally: &mut Tally,
) -> usize {
    let source = messages();
    let local = temp_dir("cut-local");
    let proxy = CutProxy::start(upstream, offset, None);
    let _ = pop3fetch(&url_via(proxy.port), &local, password, FETCH);
    let crossed = proxy.finish();
    tally.cuts += 1;
    // After the fault: every message is on the server or on disk (or both).
    let mut both = read_maildir(&local);
    let local_counts = counts(&both);
    both.extend(read_maildir(server_maildir));
    let have = counts(&both);
    for m in &source {
        if !have.contains_key(m) {
            tally.lost += 1;
        }
    }
    tally.duplicated += local_counts
        .values()
        .filter(|n| **n > 1)
        .map(|n| n - 1)
        .sum::<usize>();
    // A clean re-run completes the job exactly once. The server may still be
    // noticing that the cut session is gone (its maildrop lock): retry briefly.
    let mut attempt = 0;
    let (ok, out, err) = loop {
        let r = pop3fetch(&url_via(upstream), &local, password, FETCH);
        attempt += 1;
        if r.0 || !r.2.contains("locked") || attempt == 40 {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(ok, "re-run after a cut at {offset}: {out}{err}");
    let got = counts(&read_maildir(&local));
    for m in &source {
        match got.get(m) {
            None => tally.lost += 1,
            Some(n) if *n > 1 => tally.duplicated += n - 1,
            _ => {}
        }
    }
    assert!(
        read_maildir(server_maildir).is_empty(),
        "server kept mail after a clean run (cut at {offset})"
    );
    let _ = fs::remove_dir_all(&local);
    crossed
}

/// Offsets: every byte of the first 400 and the last 300, every 53rd in between.
fn offsets(total: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..total.min(400)).collect();
    v.extend((400..total.saturating_sub(300)).step_by(53));
    v.extend(total.saturating_sub(300).max(400)..=total);
    v
}

#[test]
fn cuts_at_every_offset_against_pop3d() {
    // Measure a whole session once.
    let p = start_pop3d(&messages(), &["--allow-plaintext-auth"]);
    let url = |port: u16| format!("pop3://carol;AUTH=PLAIN@127.0.0.1:{port}");
    let local = temp_dir("measure");
    let proxy = CutProxy::start(p.port, usize::MAX, None);
    let (ok, out, err) = pop3fetch(
        &url(proxy.port),
        &local,
        "pw of carol",
        &["--allow-plaintext"],
    );
    assert!(ok, "{out}{err}");
    let total = proxy.finish();
    drop(p);
    let mut tally = Tally {
        cuts: 0,
        lost: 0,
        duplicated: 0,
    };
    let p = start_pop3d(&[], &["--allow-plaintext-auth"]);
    for offset in offsets(total) {
        clear_maildir(&p.maildir);
        fill_maildir(&p.maildir, &messages());
        trial(&url, p.port, "pw of carol", offset, &p.maildir, &mut tally);
    }
    println!(
        "pop3d: session of {total} bytes, cuts tried {}, lost {}, duplicated {}",
        tally.cuts, tally.lost, tally.duplicated
    );
    assert!(tally.cuts > 900, "only {} cuts", tally.cuts);
    assert_eq!((tally.lost, tally.duplicated), (0, 0));
}

#[test]
fn cuts_at_many_offsets_against_dovecot() {
    let d = Dovecot::start(&messages());
    let url = |port: u16| format!("pop3://{DOVECOT_USER};AUTH=PLAIN@127.0.0.1:{port}");
    let refill = || {
        clear_maildir(&d.maildir);
        fill_maildir(&d.maildir, &messages());
        let ok = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&d.maildir)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    let local = temp_dir("measure");
    let proxy = CutProxy::start(d.port, usize::MAX, None);
    let (ok, out, err) = pop3fetch(
        &url(proxy.port),
        &local,
        DOVECOT_PASSWORD,
        &["--allow-plaintext"],
    );
    assert!(ok, "{out}{err}");
    let total = proxy.finish();
    let mut tally = Tally {
        cuts: 0,
        lost: 0,
        duplicated: 0,
    };
    // A sparser sample than for pop3d: Dovecot sessions are slower to set up.
    let mut sample: Vec<usize> = (0..total.min(300)).step_by(3).collect();
    sample.extend((300..total).step_by(211));
    sample.extend(total.saturating_sub(120)..=total);
    for offset in sample {
        refill();
        trial(
            &url,
            d.port,
            DOVECOT_PASSWORD,
            offset,
            &d.maildir,
            &mut tally,
        );
    }
    println!(
        "dovecot: session of {total} bytes, cuts tried {}, lost {}, duplicated {}",
        tally.cuts, tally.lost, tally.duplicated
    );
    assert!(tally.cuts > 200);
    assert_eq!((tally.lost, tally.duplicated), (0, 0));
}

#[test]
fn server_killed_between_dele_and_quit() {
    use std::sync::{Arc, Mutex};
    let dir = temp_dir("killed");
    let root = dir.join("root");
    let maildir = root.join("carol");
    fill_maildir(&maildir, &messages());
    fs::write(dir.join("users"), "carol:pw of carol\n").unwrap();
    let port = free_port();
    let spawn = || spawn_pop3d(&dir, port, &["--allow-plaintext-auth"]);
    let server = Arc::new(Mutex::new(Some(spawn())));
    let killer = server.clone();
    // Kill -9 the server the moment the client's QUIT arrives: every DELE was
    // answered, UPDATE never happens.
    let proxy = CutProxy::start(
        port,
        usize::MAX,
        Some(Box::new(move |bytes: &[u8]| {
            if bytes.windows(6).any(|w| w == b"QUIT\r\n") {
                if let Some(mut c) = killer.lock().unwrap().take() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
            }
        })),
    );
    let local = temp_dir("killed-local");
    let url = |p: u16| format!("pop3://carol;AUTH=PLAIN@127.0.0.1:{p}");
    let (ok, out, _) = pop3fetch(&url(proxy.port), &local, "pw of carol", FETCH);
    assert!(!ok, "QUIT cannot succeed: {out}");
    proxy.finish();
    assert!(
        server.lock().unwrap().is_none(),
        "the server was killed at QUIT"
    );
    assert_eq!(read_maildir(&local), messages(), "all on disk");
    assert_eq!(
        read_maildir(&maildir),
        messages(),
        "no UPDATE: the server still has everything"
    );
    // Restart the server and re-run: deleted without a second copy.
    let _server = Running(spawn());
    let (ok, out, err) = pop3fetch(&url(port), &local, "pw of carol", FETCH);
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with("pop3fetch: 0 fetched (0 bytes), 5 deleted, 5 already here"),
        "{out}"
    );
    assert_eq!(read_maildir(&local), messages());
    assert!(read_maildir(&maildir).is_empty());
}
