//! What a run is asked to do: the command line (and an account of the configuration
//! file, with the command line after it) resolved into [`Options`].

use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;

use crate::cli::cli;
use crate::failure::{fail, Exit, Res};
use crate::password::password;
use crate::{config, url, wire};

/// Where fetched messages go.
pub enum Sink {
    Maildir(PathBuf),
    /// A shell command run once per message.
    Mda(String),
    /// `--check` delivers nothing.
    Nowhere,
}

/// What is left on the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Keep {
    /// Delete what was delivered (the default).
    Nothing,
    /// Delete nothing.
    All,
    /// Delete what was delivered at least this long ago.
    For(Duration),
}

/// One account's run, as the options ask for it.
pub struct Options {
    /// `--check`: test the account, fetch nothing.
    pub check: bool,
    pub url: url::Url,
    pub sink: Sink,
    pub state_dir: PathBuf,
    pub account: Option<String>,
    pub keep: Keep,
    pub starttls: bool,
    pub allow_plaintext: bool,
    pub bare_lf: bool,
    pub utf8: bool,
    pub trace: bool,
    /// No progress bar.
    pub quiet: bool,
    pub password: Vec<u8>,
    pub ca_file: Option<PathBuf>,
    pub max_size: u64,
    pub delete_oversized: bool,
    pub limits: wire::Limits,
}

fn default_state_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d).join("pop3fetch")),
        _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/pop3fetch")),
    }
}

/// The options of one run, from the command line.
pub fn options(m: &ArgMatches) -> Res<Options> {
    let url = url::parse(m.get_one::<String>("url").expect("required"))
        .map_err(|e| fail(Exit::Usage, format!("URL: {e}")))?;
    let check = m.get_flag("check");
    let sink = match (m.get_one::<PathBuf>("maildir"), m.get_one::<String>("mda")) {
        (Some(d), _) => Sink::Maildir(d.clone()),
        (None, Some(c)) => Sink::Mda(c.clone()),
        (None, None) if check => Sink::Nowhere,
        (None, None) => return Err(fail(Exit::Usage, "--maildir or --mda is needed")),
    };
    let state_dir = match (m.get_one::<PathBuf>("state-dir"), &sink) {
        (Some(d), _) => d.clone(),
        (None, Sink::Nowhere) => PathBuf::new(),
        (None, Sink::Maildir(d)) => d.clone(),
        (None, Sink::Mda(_)) => default_state_dir().ok_or(fail(
            Exit::Usage,
            "--mda needs --state-dir (neither XDG_STATE_HOME nor HOME is set)",
        ))?,
    };
    let keep = if m.get_flag("keep") {
        Keep::All
    } else {
        match m.get_one::<Duration>("keep-for") {
            Some(d) => Keep::For(*d),
            None => Keep::Nothing,
        }
    };
    let secs = |name| Duration::from_secs(*m.get_one::<u64>(name).expect("default"));
    Ok(Options {
        check,
        url,
        sink,
        state_dir,
        account: m.get_one::<String>("account").cloned(),
        keep,
        starttls: m.get_flag("starttls"),
        allow_plaintext: m.get_flag("allow-plaintext"),
        bare_lf: m.get_flag("bare-lf"),
        utf8: !m.get_flag("no-utf8"),
        trace: m.get_flag("trace"),
        quiet: m.get_flag("quiet"),
        password: password(m)?,
        ca_file: m.get_one::<PathBuf>("ca-file").cloned(),
        max_size: *m.get_one::<u64>("max-size").expect("default"),
        delete_oversized: m.get_flag("delete-oversized"),
        limits: wire::Limits {
            timeout: secs("timeout"),
            max_time: m
                .get_one::<u64>("max-time")
                .map(|s| Duration::from_secs(*s)),
            speed_limit: *m.get_one::<u64>("speed-limit").expect("default"),
            speed_time: secs("speed-time"),
        },
    })
}
/// The configuration file: `--config`, else the default one.
pub fn config_file(m: &ArgMatches) -> Res<config::Config> {
    let path = match m.get_one::<PathBuf>("config") {
        Some(p) => p.clone(),
        None => config::default_path().ok_or(fail(
            Exit::Usage,
            "no configuration file: give --config FILE (neither XDG_CONFIG_HOME nor HOME is set)",
        ))?,
    };
    config::Config::load(&path).map_err(|e| fail(Exit::Usage, e))
}

/// The options of account `name` of `config`, with the command line's after them.
pub fn account_options(config: &config::Config, name: &str, raw: &[String]) -> Res<Options> {
    let mut args = vec![raw[0].clone()];
    args.extend(config.args(name).map_err(|e| fail(Exit::Usage, e))?);
    args.extend(raw[1..].iter().filter(|a| *a != "--all").cloned());
    let m = cli()
        .try_get_matches_from(args)
        .map_err(|e| fail(Exit::Usage, format!("account {name}: {e}")))?;
    options(&m)
}
