//! What a run did: its counts, the summary line printed after it, and its exit code.

use crate::failure::{Exit, Res};

/// The counts of one run.
#[derive(Default)]
pub struct Stats {
    pub fetched: u64,
    pub bytes: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub failed: u64,
    pub too_large: u64,
    pub dele_refused: u64,
    pub untracked: u64,
    /// Not logged in: the server's LOGIN-DELAY ends in this many seconds.
    pub login_delayed: Option<u64>,
}

/// Prints the summary of a run that ended with `result`; returns its exit code.
pub fn report(stats: &Stats, result: Res<()>) -> i32 {
    if let Some(secs) = stats.login_delayed {
        println!(
            "pop3fetch: not logging in: the server asks for a delay between logins \
             (LOGIN-DELAY); next login in {secs} s"
        );
        return 0;
    }
    let mut summary = format!(
        "pop3fetch: {} fetched ({} bytes), {} deleted, {} already here, {} failed",
        stats.fetched, stats.bytes, stats.deleted, stats.skipped, stats.failed
    );
    for (n, what) in [
        (stats.too_large, "too large (left on the server)"),
        (stats.dele_refused, "not deleted (DELE refused)"),
        (
            stats.untracked,
            "without a UID of their own (left on the server)",
        ),
    ] {
        if n > 0 {
            summary.push_str(&format!(", {n} {what}"));
        }
    }
    println!("{summary}");
    let partial = stats.failed + stats.dele_refused + stats.untracked;
    match result {
        Err(f) => {
            eprintln!("pop3fetch: error: {}", f.msg);
            f.exit as i32
        }
        Ok(()) if partial > 0 => {
            eprintln!(
                "pop3fetch: error: {partial} messages were not fetched or not deleted; the \
                 next run retries them"
            );
            Exit::Partial as i32
        }
        Ok(()) => 0,
    }
}
