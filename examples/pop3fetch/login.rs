//! Logging in: the login the URL and the server allow (no password-based one without
//! TLS unless `--allow-plaintext`), run with its credentials handed over when due,
//! and tried once more without channel binding when a SCRAM -PLUS mechanism is
//! refused before its proof.

use std::io::{Read, Write};

use pop3_proto::blocking::ClientConn;
use pop3_proto::client::{ClientError, ClientEvent, CommandKind, Login};
use pop3_proto::response::code::ResponseCode;

use crate::failure::{queue_err, step_fail, text, wire_err, Exit, StepFailure};
use crate::hints;
use crate::options::Options;
use crate::url;

/// The exit code of a login refused with `code`: the server is busy ([IN-USE],
/// [LOGIN-DELAY], [SYS/TEMP]: try later), or the login failed.
pub fn login_exit(code: Option<&ResponseCode<'_>>) -> Exit {
    match code {
        Some(ResponseCode::InUse | ResponseCode::LoginDelay | ResponseCode::SysTemp) => Exit::Busy,
        _ => Exit::Auth,
    }
}

/// How a login logs in, for messages: `AUTH SCRAM-SHA-256`, `APOP`, `USER/PASS`.
fn how(login: &Login<'_>) -> String {
    match login {
        Login::Sasl { mechanism, .. } => format!("AUTH {}", mechanism.name()),
        Login::Apop { .. } => "APOP".into(),
        Login::UserPass { .. } => "USER/PASS".into(),
    }
}

/// Logs in as the URL's user; returns how (`AUTH SCRAM-SHA-256`, ...).
pub fn log_in<S: Read + Write>(
    o: &Options,
    conn: &mut ClientConn<S>,
) -> Result<String, StepFailure> {
    let caps = url::usable_capabilities(conn.client());
    let tls_active = conn.client().tls_active();
    let login = url::choose_login(&o.url, &caps, tls_active, o.allow_plaintext, &o.password)
        .map_err(|e| step_fail(Exit::Auth, e, hints::plaintext_refused(&o.url.host)))?;
    match try_login(o, conn, &login) {
        Ok(()) => Ok(how(&login)),
        Err((refused, challenged)) => match url::plus_fallback(&o.url, &login, challenged) {
            Some(plain) => {
                if o.trace {
                    eprintln!(
                        "-- {} refused before the proof ({}): trying {} once, without \
                         channel binding",
                        how(&login),
                        refused.what.lines().next().unwrap_or_default(),
                        how(&plain)
                    );
                }
                try_login(o, conn, &plain)
                    .map(|()| how(&plain))
                    .map_err(|(f, _)| f)
            }
            None => Err(refused),
        },
    }
}

/// Queues `login` and runs it; on failure also whether a SASL challenge came (a
/// refusal before any challenge is one before the proof).
fn try_login<S: Read + Write>(
    o: &Options,
    conn: &mut ClientConn<S>,
    login: &Login<'_>,
) -> Result<(), (StepFailure, bool)> {
    let early = |f| (f, false);
    conn.client().login(*login).map_err(|e| match e {
        ClientError::PlaintextRefused => early(step_fail(
            Exit::Auth,
            e,
            hints::plaintext_refused(&o.url.host),
        )),
        ClientError::ApopUnavailable
        | ClientError::MechanismUnavailable
        | ClientError::CredentialTooLong => early(step_fail(Exit::Auth, e, "")),
        e => {
            let f = queue_err(e);
            early(step_fail(f.exit, f.msg, ""))
        }
    })?;
    let wire = |e| {
        let f = wire_err(e);
        step_fail(f.exit, f.msg, "")
    };
    let mut refused: Option<StepFailure> = None;
    let mut challenged = false;
    // The client keeps no credentials: they are handed over when their line is due.
    loop {
        let asked = conn.next(|ev| match ev {
            ClientEvent::NeedCredentials { challenge } => {
                challenged |= !challenge.is_empty();
                true
            }
            // The CAPA re-sent after login may be refused (RFC 1939-only servers):
            // that means no capabilities, not a failed login.
            ClientEvent::Error {
                command:
                    CommandKind::User | CommandKind::Pass | CommandKind::Apop | CommandKind::Auth,
                code,
                text: t,
                ..
            } => {
                refused.get_or_insert(step_fail(
                    login_exit(code.as_ref()),
                    format!("{} as {}: -ERR {}", how(login), o.url.user, text(t)),
                    hints::login(code.as_ref()),
                ));
                false
            }
            _ => false,
        });
        match asked {
            Ok(None) => break,
            Ok(Some(true)) => {
                if let Err(e) = conn.credentials(login) {
                    return Err((wire(e), challenged));
                }
            }
            Ok(Some(false)) => {}
            Err(e) => return Err((refused.unwrap_or_else(|| wire(e)), challenged)),
        }
    }
    if let Some(f) = refused {
        return Err((f, challenged));
    }
    if !conn.client().is_logged_in() {
        return Err((
            step_fail(Exit::Auth, "login failed", hints::login(None)),
            challenged,
        ));
    }
    Ok(())
}
