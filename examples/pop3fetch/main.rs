//! `pop3fetch`: download mail from a POP3 server into a Maildir (or hand it to an
//! MDA), built on `pop3-proto`.
//!
//! ```sh
//! POP3_PASSWORD=demo cargo run --example pop3fetch -- pop3://demo@127.0.0.1:1110 --maildir ./mail --allow-plaintext
//! ```
//!
//! `pop3fetch --help` lists every option and the exit codes.
//!
//! Never losing mail:
//!
//! - What was delivered is remembered per account (user, host, port) in a journal
//!   (`common/fetch_state.rs`): a message is deleted unfetched only if this account
//!   delivered a message with its UID (and, when both are known, its size). A partial
//!   journal line left by a crash is never read as a UID. UIDs the server lists twice
//!   identify nothing and are never trusted.
//! - Messages are written to `tmp/` as they arrive, then committed in groups: every
//!   file of a group fdatasynced, renamed into `new/`, `new/` fsynced once, the UIDs
//!   appended to the journal and fsynced once; only then are their DELEs sent. The
//!   commit runs on its own thread while the next messages arrive.
//! - The journal is opened for writing before connecting; a refused DELE or RETR is
//!   reported (exit code 1) and retried on the next run.
//!
//! Bounded against a hostile server: message numbers come from STAT only (a listing
//! longer than STAT's count, or naming a message twice, fails the run before anything
//! is fetched or deleted), messages over `--max-size` are not fetched (and one that
//! grows past it while arriving fails the run), and `--timeout`, `--speed-limit`/
//! `--speed-time` and `--max-time` bound the time (`common/wire.rs`). Without TLS no
//! password-based login is used (not even a CRAM-MD5, SCRAM or APOP digest) unless
//! `--allow-plaintext`.
//!
//! Where things are: `cli.rs` (the options and `--help`), `options.rs` (options,
//! configuration file and accounts resolved into one run), `password.rs`,
//! `connection.rs` and `login.rs` (connect, TLS, greeting, STLS, login: shared by a
//! fetch and `--check`), `run.rs` (one account from start to end), `listing.rs`
//! (STAT, UIDL, LIST), `fetch.rs` (the pipelined RETR/DELE loop and QUIT),
//! `delivery.rs` (Maildir or MDA, durable before DELE), `state.rs` (the journal as a
//! run uses it), `report.rs` (summary and exit code), `check.rs` (`--check`).

#[path = "../common/fetch_state.rs"]
mod fetch_state;
#[path = "../common/maildir.rs"]
mod maildir;
#[path = "../common/url.rs"]
mod url;
#[path = "../common/wire.rs"]
mod wire;

mod check;
mod cli;
mod config;
mod connection;
mod delivery;
mod failure;
mod fetch;
mod hints;
mod listing;
mod login;
mod options;
mod password;
mod progress;
mod report;
mod run;
mod state;

use std::process::ExitCode;

use clap::ArgMatches;

use crate::failure::Failure;
use crate::options::{account_options, config_file, options, Options};

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().collect();
    let m = cli::cli().get_matches_from(&raw);
    let from_file = m.get_one::<String>("url").is_none();
    let options = if m.get_flag("all") {
        return all_accounts(&m, &raw);
    } else if from_file {
        let name = m
            .get_one::<String>("account")
            .expect("required without a URL");
        config_file(&m).and_then(|c| account_options(&c, name, &raw))
    } else {
        options(&m)
    };
    let o = match options {
        Ok(o) => o,
        Err(f) => return usage_failed(f),
    };
    ExitCode::from(one_account(&o) as u8)
}

/// Options that could not be resolved: said, and their exit code.
fn usage_failed(f: Failure) -> ExitCode {
    eprintln!("pop3fetch: {}", f.msg);
    ExitCode::from(f.exit as u8)
}

/// `--all`: every account of the file in turn (fetched, or checked when `--check` or
/// its `check = true` asks it); the exit code is the worst.
fn all_accounts(m: &ArgMatches, raw: &[String]) -> ExitCode {
    let config = match config_file(m) {
        Ok(c) => c,
        Err(f) => return usage_failed(f),
    };
    let mut worst = 0u8;
    let mut outcome = Vec::new();
    for name in config.names() {
        println!("pop3fetch: account {name}");
        let code = match account_options(&config, &name, raw) {
            // `check = true` in the file (or `--check`) checks the account.
            Ok(o) => one_account(&o) as u8,
            Err(f) => {
                eprintln!("pop3fetch: {}", f.msg);
                f.exit as u8
            }
        };
        outcome.push(match code {
            0 => format!("{name} ok"),
            c => format!("{name} failed (exit {c})"),
        });
        worst = worst.max(code);
    }
    println!("pop3fetch: accounts: {}", outcome.join(", "));
    ExitCode::from(worst)
}

/// Fetches one account and reports it, or checks it with `--check` (given on the
/// command line or as `check = true` in the file); returns its exit code.
fn one_account(o: &Options) -> i32 {
    if o.check {
        return match check::check(o) {
            Ok(()) => 0,
            Err(f) => f.exit as i32,
        };
    }
    let mut stats = report::Stats::default();
    let result = run::run(o, &mut stats);
    report::report(&stats, result)
}
