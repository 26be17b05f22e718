//! Several accounts in one configuration file (TOML, as mpop's `~/.mpoprc` or
//! getmail's rc files are used): a `[defaults]` table for every account and an
//! `[account.NAME]` table per account, whose keys are pop3fetch's long options
//! (`max_size` or `max-size` for `--max-size`; `url` for the URL; `true` for a flag).
//! An account's options become command-line arguments placed before the real ones,
//! so that what is given on the command line overrides the file.
//!
//! ```toml
//! [defaults]
//! timeout = 60
//!
//! [account.work]
//! url = "pop3s://alice@mail.example.org"
//! password_command = "pass show mail/work"
//! maildir = "~/Mail/work"
//! keep_for = "7d"
//!
//! [account.home]
//! url = "pop3://bob@pop.example.net"
//! starttls = true
//! mda = "procmail"
//! max_size = "50M"
//! ```
//!
//! Passwords never need to be in the file (`password_command`, `password_file` or
//! `POP3_PASSWORD`), and a `password` key is refused.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

/// The default file: `$XDG_CONFIG_HOME/pop3fetch/config.toml`, else
/// `~/.config/pop3fetch/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d).join("pop3fetch/config.toml")),
        _ => {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/pop3fetch/config.toml"))
        }
    }
}

/// A parsed configuration file.
pub struct Config {
    path: PathBuf,
    defaults: Table,
    /// The accounts in the file's order.
    accounts: Vec<(String, Table)>,
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut top: Table = text
            .parse()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let defaults = match top.remove("defaults") {
            None => Table::new(),
            Some(Value::Table(t)) => t,
            Some(_) => return Err(format!("{}: [defaults] must be a table", path.display())),
        };
        let accounts = match top.remove("account") {
            Some(Value::Table(t)) => t
                .into_iter()
                .map(|(name, v)| match v {
                    Value::Table(t) => Ok((name, t)),
                    _ => Err(format!(
                        "{}: [account.{name}] must be a table",
                        path.display()
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
            Some(_) => {
                return Err(format!(
                    "{}: account must be tables [account.NAME]",
                    path.display()
                ))
            }
        };
        if let Some(other) = top.keys().next() {
            return Err(format!(
                "{}: unknown table or key {other:?} (expected [defaults] and [account.NAME])",
                path.display()
            ));
        }
        Ok(Config {
            path: path.to_path_buf(),
            defaults,
            accounts,
        })
    }

    /// The accounts' names, in the file's order.
    pub fn names(&self) -> Vec<String> {
        self.accounts.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Command-line arguments for account `name`: `[defaults]` first, then the
    /// account's own keys, then `--account NAME` (its state is kept under its name).
    pub fn args(&self, name: &str) -> Result<Vec<String>, String> {
        let Some((_, table)) = self.accounts.iter().find(|(n, _)| n == name) else {
            let known = self.names().join(", ");
            return Err(format!(
                "{}: no account {name:?} (the file has: {known})",
                self.path.display()
            ));
        };
        let mut args = Vec::new();
        let mut url = None;
        for (key, value) in self.defaults.iter().chain(table.iter()) {
            let at = || format!("{}: [account.{name}] {key}", self.path.display());
            let option = key.replace('_', "-");
            if option == "password" {
                return Err(format!(
                    "{}: passwords are not kept in the file: use password_command or \
                     password_file",
                    at()
                ));
            }
            if option == "account" {
                return Err(format!("{}: the account's name is its table's name", at()));
            }
            let text = match value {
                Value::String(s) => expand_home(s),
                Value::Integer(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Boolean(b) => {
                    if *b {
                        args.push(format!("--{option}"));
                    }
                    continue;
                }
                _ => {
                    return Err(format!(
                        "{}: expected a string, a number or true/false",
                        at()
                    ))
                }
            };
            if option == "url" {
                url = Some(text);
            } else {
                args.push(format!("--{option}"));
                args.push(text);
            }
        }
        args.insert(
            0,
            url.ok_or_else(|| format!("{}: [account.{name}] has no url", self.path.display()))?,
        );
        args.push("--account".into());
        args.push(name.to_string());
        Ok(args)
    }
}

/// `~/x` as `$HOME/x`.
fn expand_home(s: &str) -> String {
    match (s.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest).display().to_string(),
        _ => s.to_string(),
    }
}
