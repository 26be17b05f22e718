//! The example servers' command line (`pop3d`, `tokio_pop3d`: the same options),
//! parsed with clap: `--help` lists every option with its default and what it is
//! for, and a wrong option or value is named in the error.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use super::options::Options;

/// Seconds as a positive number (fractions allowed).
fn seconds(v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && s.is_finite())
        .map(Duration::from_secs_f64)
        .ok_or(format!("not a number of seconds: {v}"))
}

/// A count of at least 1.
fn count(v: &str) -> Result<usize, String> {
    v.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(format!("not a positive count: {v}"))
}

const ABOUT: &str = "A POP3 server over Maildir, built on pop3-proto";

const LONG_ABOUT: &str = "\
A POP3 server over Maildir, built on pop3-proto. With no options it serves a demo
mailbox (user demo, password demo) on 127.0.0.1:1110: try
`curl pop3://demo:demo@127.0.0.1:1110/1`.

Each session locks its mailbox (a second login gets -ERR [IN-USE]); deletions are
applied only at QUIT; UIDs are the Maildir unique names, stable across sessions.
Symlinks inside a Maildir are never followed.

Users file (--users): one `name:secret` a line, `#` comments. The secret is a
password, or a stored form that gives the password away to no one:
`{SCRAM-SHA-256}…` (pop3d --scram-verifier < password), RFC 5803's
`SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey`, `{CRAM-MD5}…`
(pop3d --cram-md5-context < password, or Dovecot's doveadm pw -s CRAM-MD5), or
`{PLAIN}password`. An entry that names a scheme must parse, or pop3d does not start.";

/// The command line of `name` (`pop3d` or `tokio_pop3d`).
pub fn command(name: &'static str) -> Command {
    let value = |id: &'static str, meta: &'static str, help: &'static str| {
        Arg::new(id).long(id).value_name(meta).help(help)
    };
    let flag = |id: &'static str, help: &'static str| {
        Arg::new(id).long(id).action(ArgAction::SetTrue).help(help)
    };
    Command::new(name)
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .next_help_heading("Mailboxes")
        .arg(
            value(
                "maildir-root",
                "DIR",
                "User X's mailbox is the Maildir DIR/X [default: the demo mailbox]",
            )
            .value_parser(value_parser!(PathBuf))
            .requires("users"),
        )
        .arg(
            value(
                "users",
                "FILE",
                "The users file (see above); needs --maildir-root",
            )
            .value_parser(value_parser!(PathBuf))
            .requires("maildir-root"),
        )
        .arg(
            value(
                "bearer-tokens",
                "FILE",
                "Lines `name:token`: OAuth bearer tokens accepted for XOAUTH2 and \
                 OAUTHBEARER (a stand-in for an identity provider) [default: those \
                 mechanisms are not offered]",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .next_help_heading("Listening and TLS")
        .arg(
            value(
                "listen",
                "ADDR",
                "The plain listener (STLS on it with --tls-cert)",
            )
            .default_value("127.0.0.1:1110"),
        )
        .arg(
            value(
                "listen-tls",
                "ADDR",
                "An implicit-TLS listener (pop3s, usually port 995); needs --tls-cert \
                 [default: none]",
            )
            .requires("tls-cert"),
        )
        .arg(
            value(
                "tls-cert",
                "PEM",
                "Certificate chain for STLS and pop3s [default: no TLS]",
            )
            .value_parser(value_parser!(PathBuf))
            .requires("tls-key"),
        )
        .arg(
            value("tls-key", "PEM", "The certificate's private key")
                .value_parser(value_parser!(PathBuf))
                .requires("tls-cert"),
        )
        .arg(
            value(
                "handshake-timeout",
                "SECS",
                "A TLS handshake taking longer ends the connection",
            )
            .value_parser(seconds)
            .default_value("30"),
        )
        .next_help_heading("Logins")
        .arg(flag(
            "allow-plaintext-auth",
            "Allow USER/PASS, PLAIN, LOGIN and bearer tokens without TLS (always allowed \
             for the demo mailbox without TLS)",
        ))
        .arg(flag(
            "no-scram-plus",
            "Do not offer SCRAM-SHA-*-PLUS, even over TLS (mutt 2.2 and neomutt pick it, \
             cancel it and then pair replies with the wrong commands)",
        ))
        .arg(
            value(
                "login-timeout",
                "SECS",
                "A client not logged in this long after connecting is closed, whatever it \
                 sends meanwhile",
            )
            .value_parser(seconds)
            .default_value("180"),
        )
        .arg(
            value(
                "max-login-failures",
                "N",
                "Failed logins of one user name from one address (IPv6: /64) within the \
                 window, after which its logins from there get -ERR [SYS/TEMP] unchecked; \
                 other addresses still log in",
            )
            .value_parser(count)
            .default_value("10"),
        )
        .arg(
            value(
                "max-user-failures",
                "N",
                "Failed logins of one user name from all addresses within the window, \
                 after which every address that failed for it is refused too",
            )
            .value_parser(count)
            .default_value("100"),
        )
        .arg(
            value(
                "login-failure-window",
                "SECS",
                "The window of both failure counts",
            )
            .value_parser(seconds)
            .default_value("60"),
        )
        .arg(
            value(
                "login-failure-users",
                "N",
                "Entries each failure table keeps at most (user names; name and address \
                 pairs)",
            )
            .value_parser(count)
            .default_value("10000"),
        )
        .next_help_heading("Connections")
        .arg(
            value(
                "max-connections",
                "N",
                "Sessions at once; more get -ERR [SYS/TEMP] and are closed",
            )
            .value_parser(count)
            .default_value("1000"),
        )
        .arg(
            value("max-per-ip", "N", "Sessions at once from one address")
                .value_parser(count)
                .default_value("10"),
        )
        .arg(
            value(
                "send-timeout",
                "SECS",
                "A write making no progress this long ends the session (a client that \
                 stops reading loses its session and its lock)",
            )
            .value_parser(seconds)
            .default_value("60"),
        )
        .next_help_heading("Stored secrets (then exit)")
        .arg(flag(
            "scram-verifier",
            "Print the SCRAM-SHA-256 verifier of the password on stdin, for the users file",
        ))
        .arg(flag(
            "cram-md5-context",
            "Print the CRAM-MD5 context of the password on stdin, for the users file",
        ))
}

/// The options of `m`.
fn options(m: &ArgMatches) -> Options {
    let path = |id: &str| m.get_one::<PathBuf>(id).cloned();
    let string = |id: &str| m.get_one::<String>(id).cloned();
    let secs = |id: &str| *m.get_one::<Duration>(id).expect("default");
    let n = |id: &str| *m.get_one::<usize>(id).expect("default");
    Options {
        listen: string("listen").expect("default"),
        listen_tls: string("listen-tls"),
        root: path("maildir-root"),
        users: path("users"),
        tokens: path("bearer-tokens"),
        cert: path("tls-cert"),
        key: path("tls-key"),
        allow_plaintext: m.get_flag("allow-plaintext-auth"),
        no_scram_plus: m.get_flag("no-scram-plus"),
        send_timeout: secs("send-timeout"),
        handshake_timeout: secs("handshake-timeout"),
        login_timeout: secs("login-timeout"),
        max_connections: n("max-connections"),
        max_per_ip: n("max-per-ip"),
        max_login_failures: n("max-login-failures"),
        max_user_failures: n("max-user-failures"),
        login_failure_window: secs("login-failure-window"),
        login_failure_users: n("login-failure-users"),
    }
}

/// Parses the command line of `name`; on `--help` or an error clap prints it and
/// the process exits (0, or 2 naming the wrong option). `--scram-verifier` and
/// `--cram-md5-context` print their line and exit here too.
pub fn parse(name: &'static str) -> Options {
    let m = command(name).get_matches();
    let print = if m.get_flag("scram-verifier") {
        Some(super::users::print_scram_verifier as fn() -> Result<(), String>)
    } else if m.get_flag("cram-md5-context") {
        Some(super::users::print_cram_md5_context as fn() -> Result<(), String>)
    } else {
        None
    };
    if let Some(print) = print {
        if let Err(e) = print() {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
        std::process::exit(0);
    }
    options(&m)
}
