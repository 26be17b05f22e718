//! The command line: every option of `pop3fetch`, its help text and the exit codes
//! `--help` lists. What the options mean for a run is decided in `options.rs`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{value_parser, Arg, ArgAction, Command};

const EXIT_CODES: &str = "\
Exit codes:
  0  every message was fetched (and deleted, unless kept); or nothing to do; or not
     logged in because the server's LOGIN-DELAY has not passed since the last login
  1  some messages were not fetched or not deleted: the server refused RETR or DELE,
     QUIT did not apply the deletions, or (with --keep/--keep-for) messages without a
     unique UID; everything else was done, and the next run retries them
  2  usage error
  3  login failed or refused: wrong credentials, no login allowed without TLS, the
     password command failed
  4  network: cannot connect, TLS failed, connection lost, --timeout, --speed-limit
     or --max-time exceeded
  5  protocol: the server's replies cannot be believed (a listing beyond STAT's count,
     a message growing past --max-size, a malformed reply)
  6  local: the Maildir, the state file or the MDA failed
  7  server busy: [IN-USE], [LOGIN-DELAY] or [SYS/TEMP] at login; try later
  8  another pop3fetch run is fetching this account (its process id is said)
With --check the code is that of the failing step's class: 4 name, connection, TLS,
greeting or STLS; 3 login refused; 7 [IN-USE], [LOGIN-DELAY], [SYS/TEMP]; 5 the
server cannot do what the options ask (--keep without UIDL, EXPIRE 0); 6 local (the
--ca-file). With --all, the worst code of the accounts.
Messages delivered before an error stay delivered and recorded: the next run deletes
them from the server (unless kept) without fetching them again.";

const ABOUT: &str = "Fetch mail from a POP3 server into a Maildir or an MDA, \
never losing a message";

const LONG_ABOUT: &str = "\
Fetch mail from a POP3 server into a Maildir (or hand each message to an MDA), then
delete it from the server unless kept. A message is deleted only after it is safely
on disk (fsynced), and only by the account that delivered it.

URL (RFC 2384): pop3://user;AUTH=MECH@host:port, or pop3s://... for implicit TLS
(port 995). AUTH=* (or none) picks the strongest mechanism the server offers;
AUTH=+APOP uses APOP, AUTH=USER uses USER/PASS, AUTH=XOAUTH2 or OAUTHBEARER send an
OAuth token as the password. User names are %-encoded (%40 for @).

The password (or token) comes from --password-command, --password-file or the
POP3_PASSWORD environment variable, never from the command line.

What was delivered is remembered per account in DIR/.pop3fetch-state-USER@HOST:PORT
(DIR: --state-dir, by default the Maildir; --account names the account otherwise).

Several accounts: a TOML file (--config, by default ~/.config/pop3fetch/config.toml)
with an [account.NAME] table each, whose keys are the long options (an underscore or
a dash); `pop3fetch --account NAME` fetches one, `pop3fetch --all` every one. The
command line overrides the file. No password is kept in it:

    [defaults]
    timeout = 60

    [account.work]
    url = \"pop3s://alice@mail.example.org\"
    password_command = \"pass show mail/work\"
    maildir = \"~/Mail/work\"
    keep_for = \"7d\"

    [account.home]
    url = \"pop3://bob@pop.example.net\"
    starttls = true
    password_file = \"~/.config/pop3fetch/home.password\"
    mda = \"procmail\"
    max_size = \"50M\"";

pub fn cli() -> Command {
    let flag = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let value = |name: &'static str, meta: &'static str, help: &'static str| {
        Arg::new(name).long(name).value_name(meta).help(help)
    };
    Command::new("pop3fetch")
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .after_help(EXIT_CODES)
        // A configuration file's options come first: the command line overrides them.
        .args_override_self(true)
        .arg(
            Arg::new("url")
                .value_name("URL")
                .required_unless_present_any(["account", "all"])
                .help(
                    "pop3://user[;AUTH=MECH]@host[:port] or pop3s://...; without it, \
                     --account NAME or --all take accounts from the configuration file",
                ),
        )
        .next_help_heading("Accounts in a configuration file")
        .arg(
            value(
                "config",
                "FILE",
                "The configuration file (TOML, an [account.NAME] table per account) \
                 [default: $XDG_CONFIG_HOME/pop3fetch/config.toml, else \
                 ~/.config/pop3fetch/config.toml]",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            flag(
                "all",
                "Fetch (with --check: check) every account of the configuration file, one \
                 after the other; one failing does not stop the others, and the exit code \
                 is the worst one",
            )
            .conflicts_with("url"),
        )
        .arg(flag(
            "check",
            "Test the account step by step (name, connection, TLS, greeting, CAPA, STLS, \
             login, STAT) without fetching or deleting anything: one line per step, and for \
             a failing one the likely cause and the fix; exit code of the step's class",
        ))
        .next_help_heading("Delivery")
        .arg(
            value(
                "maildir",
                "DIR",
                "Deliver into this Maildir (created if missing)",
            )
            // Needed unless --mda or --check (checked after the configuration
            // file, which may give it).
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "mda",
                "COMMAND",
                "Deliver each message by piping it (LF line ends) to `sh -c COMMAND`; \
                 exit status 0 means delivered. Run once per message",
            )
            .conflicts_with("maildir"),
        )
        .arg(
            value(
                "state-dir",
                "DIR",
                "Where the per-account state lives [default: the Maildir; with --mda: \
                 $XDG_STATE_HOME/pop3fetch or ~/.local/state/pop3fetch]",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "account",
                "NAME",
                "Without a URL: the account [account.NAME] of the configuration file. With \
                 a URL: the account's name in the state [default: USER@HOST:PORT]; runs \
                 that give the same name share what was delivered: give one when the same \
                 mailbox is reached by another host name or port",
            )
            .value_parser(clap::builder::NonEmptyStringValueParser::new()),
        )
        .next_help_heading("What stays on the server")
        .arg(flag(
            "keep",
            "Leave every message on the server; later runs fetch only new ones",
        ))
        .arg(
            value(
                "keep-for",
                "DURATION",
                "Leave messages on the server for DURATION after they were delivered, \
                 then delete them (e.g. 36h, 7d, 90m, 600s; a bare number is seconds)",
            )
            .value_parser(parse_duration)
            .conflicts_with("keep"),
        )
        .arg(
            value(
                "max-size",
                "SIZE",
                "Do not fetch messages larger than SIZE (their LIST size; suffixes K, M, \
                 G are powers of 1024); they stay on the server. A message that grows \
                 past SIZE while arriving fails the run",
            )
            .value_parser(parse_size)
            .default_value("256M"),
        )
        .arg(
            flag(
                "delete-oversized",
                "Delete messages over --max-size from the server without fetching them",
            )
            .requires("max-size"),
        )
        .next_help_heading("Security and login")
        .arg(flag("starttls", "Upgrade a pop3:// connection with STLS"))
        .arg(flag(
            "allow-plaintext",
            "Allow a password-based login without TLS: USER/PASS, PLAIN and LOGIN \
             send the password, and CRAM-MD5, SCRAM or APOP send a digest that can be \
             cracked offline by anyone who can rewrite the server's replies",
        ))
        .arg(
            value(
                "ca-file",
                "PEM",
                "Also trust the CA certificates in this PEM file",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "password-file",
                "FILE",
                "Read the password (or OAuth token) from FILE (trailing newlines dropped)",
            )
            .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            value(
                "password-command",
                "COMMAND",
                "Run `sh -c COMMAND` and use its output as the password or OAuth token \
                 (trailing newlines dropped); a failing command fails the run",
            )
            .conflicts_with("password-file"),
        )
        .arg(
            value(
                "password-timeout",
                "SECS",
                "Kill --password-command if it has not finished within SECS seconds \
                 (with what it started, unless it reads a terminal) and fail the run",
            )
            .value_parser(value_parser!(u64).range(1..))
            .default_value("60"),
        )
        .next_help_heading("Limits")
        .arg(
            value(
                "timeout",
                "SECS",
                "Give up when the server sends nothing for SECS seconds (or takes \
                 nothing we send)",
            )
            .value_parser(value_parser!(u64).range(1..))
            .default_value("120"),
        )
        .arg(
            value(
                "max-time",
                "SECS",
                "Give up when the whole session takes longer than SECS seconds \
                 [default: no limit]",
            )
            .value_parser(value_parser!(u64).range(1..)),
        )
        .arg(
            value(
                "speed-limit",
                "BYTES",
                "Give up when a message or listing arrives slower than BYTES per second \
                 for --speed-time seconds (0: never)",
            )
            .value_parser(value_parser!(u64))
            .default_value("1000"),
        )
        .arg(
            value(
                "speed-time",
                "SECS",
                "The time over which --speed-limit is measured",
            )
            .value_parser(value_parser!(u64).range(1..))
            .default_value("60"),
        )
        .next_help_heading("Protocol")
        .arg(flag(
            "bare-lf",
            "A bare LF ends a line in every message (servers that send CRLF status \
             lines but LF-only messages); by default line ends are learnt from the server",
        ))
        .arg(flag(
            "no-utf8",
            "Do not send UTF8 (RFC 6856) when the server offers it",
        ))
        .arg(flag(
            "trace",
            "Print the protocol exchange on stderr (C: client, S: server); passwords, \
             digests, tokens and SASL responses are replaced by <redacted>, message \
             bodies by their size",
        ))
        .arg(flag(
            "quiet",
            "No progress bar (on a terminal a long fetch shows messages, bytes, rate and \
             time left; elsewhere there is none)",
        ))
}

/// `36h`, `7d`, `90m`, `600s`, `600`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s}: expected a number with s, m, h or d"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s}: unknown unit {unit} (s, m, h or d)")),
    };
    n.checked_mul(factor)
        .map(Duration::from_secs)
        .ok_or(format!("{s}: too long"))
}

/// `1000`, `64K`, `256M`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s}: expected a number with K, M or G"))?;
    let factor = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{s}: unknown unit {unit} (K, M or G)")),
    };
    n.checked_mul(factor).ok_or(format!("{s}: too large"))
}
