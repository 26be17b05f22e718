//! Who may log in: the users file (`name:secret` lines; a secret is a password, a
//! SCRAM verifier or a CRAM-MD5 context, see [`Credential`]), the bearer tokens file,
//! and the lines `pop3d --scram-verifier` and `--cram-md5-context` print.

use std::collections::HashMap;
use std::path::Path;

use pop3_proto::sasl::cram::CramMd5Context;
use pop3_proto::sasl::scram::{Hash, ScramVerifier};

use super::connections::random32;

/// How a user is stored: a password; a SCRAM verifier (`{SCRAM-SHA-256}…`, as
/// `pop3d --scram-verifier` prints it), which serves SCRAM, USER/PASS and PLAIN but
/// not APOP or CRAM-MD5; or a CRAM-MD5 context (`{CRAM-MD5}…`, as
/// `pop3d --cram-md5-context` and Dovecot's `doveadm pw -s CRAM-MD5` print it),
/// which serves CRAM-MD5, USER/PASS and PLAIN but not APOP or SCRAM. Neither stored
/// form gives the password away.
pub enum Credential {
    Password(String),
    Verifier(ScramVerifier),
    CramMd5(CramMd5Context),
}

impl Credential {
    /// A users-file entry's secret. One that starts with `{SCHEME}` (Dovecot's
    /// form) or `SCRAM-SHA-…$` (RFC 5803's) must parse as that scheme, or it is
    /// refused: a damaged stored secret never becomes a literal password that would
    /// then log in with USER/PASS. `{PLAIN}` marks a literal password (one that
    /// itself starts with `{`); anything else is a literal password.
    pub fn parse(text: &str) -> Result<Credential, String> {
        let scheme = match text.strip_prefix('{').and_then(|r| r.split_once('}')) {
            Some((scheme, _)) => scheme,
            None if text.starts_with("SCRAM-SHA-256$") || text.starts_with("SCRAM-SHA-1$") => {
                "RFC 5803 SCRAM"
            }
            None => return Ok(Credential::Password(text.to_string())),
        };
        let damaged = |e: &dyn std::fmt::Debug| format!("a damaged {scheme} entry ({e:?})");
        match scheme {
            "PLAIN" => Ok(Credential::Password(text["{PLAIN}".len()..].to_string())),
            "SCRAM-SHA-256" | "SCRAM-SHA-1" | "RFC 5803 SCRAM" => ScramVerifier::parse(text.as_bytes())
                .map(Credential::Verifier)
                .map_err(|e| damaged(&e)),
            "CRAM-MD5" => CramMd5Context::parse(text.as_bytes())
                .map(Credential::CramMd5)
                .map_err(|e| damaged(&e)),
            other => Err(format!(
                "{{{other}}} is a password scheme pop3d does not read (it reads {{SCRAM-SHA-256}}, {{SCRAM-SHA-1}}, RFC 5803's SCRAM-SHA-256$…, {{CRAM-MD5}} and {{PLAIN}})"
            )),
        }
    }
}

/// The users file at `path` (none: the demo user, password `demo`), and its text
/// (the key of unknown users' made-up SCRAM salts).
pub fn read_users(path: Option<&Path>) -> Result<(HashMap<String, Credential>, String), String> {
    let Some(path) = path else {
        let demo = HashMap::from([("demo".to_string(), Credential::Password("demo".into()))]);
        return Ok((demo, String::new()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let users = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|(n, l)| Some((n + 1, l.split_once(':')?)))
        .map(|(n, (u, p))| {
            let at = format!("{}: line {n}", path.display());
            if !is_mailbox_name(u) {
                return Err(format!(
                    "{at}: user name {u:?} is not one plain path component (its Maildir would be outside --maildir-root)"
                ));
            }
            let credential = Credential::parse(p).map_err(|e| format!("{at}: {e}"))?;
            Ok((u.to_string(), credential))
        })
        .collect::<Result<_, _>>()?;
    Ok((users, text))
}

/// The bearer tokens file (`name:token` lines) at `path`; none: no tokens.
pub fn read_tokens(path: Option<&Path>) -> Result<HashMap<String, String>, String> {
    let Some(path) = path else {
        return Ok(HashMap::new());
    };
    Ok(std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(u, t)| (u.to_string(), t.trim_end().to_string()))
        .collect())
}

/// A user name that is safe as a directory name under the Maildir root: one path
/// component, not `.`/`..`, no NUL, not hidden.
fn is_mailbox_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.len() <= 255
}

/// The line for the password on standard input, as `encode` makes it from the
/// password (`pop3d --scram-verifier`, `pop3d --cram-md5-context`).
fn print_stored(encode: impl FnOnce(&str) -> Result<String, String>) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| e.to_string())?;
    println!("{}", encode(password.trim_end_matches(['\n', '\r']))?);
    Ok(())
}

/// The CRAM-MD5 context line for the password on standard input
/// (`pop3d --cram-md5-context`): Dovecot's `{CRAM-MD5}` form.
pub fn print_cram_md5_context() -> Result<(), String> {
    print_stored(|password| {
        let context = CramMd5Context::compute(password.as_bytes());
        Ok(String::from_utf8_lossy(&context.encode()).into_owned())
    })
}

/// The verifier line for the password on standard input (`pop3d --scram-verifier`):
/// SCRAM-SHA-256, 4096 iterations, a random 16-octet salt.
pub fn print_scram_verifier() -> Result<(), String> {
    print_stored(|password| {
        let salt = &random32()[..16];
        let verifier = ScramVerifier::compute(Hash::Sha256, password.as_bytes(), salt, 4096);
        let mut out = [0u8; 256];
        let n = verifier.encode(&mut out).map_err(|e| format!("{e:?}"))?;
        Ok(String::from_utf8_lossy(&out[..n]).into_owned())
    })
}
