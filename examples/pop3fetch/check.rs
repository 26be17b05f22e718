//! `pop3fetch --check URL`: tests an account step by step, fetching and deleting
//! nothing, and prints one line per step with what it saw; a failing step also says
//! the likely cause and the fix, and the exit code is that of the step's class
//! (4 network and TLS, 3 login, 7 server busy, 5 the server cannot do what the
//! options ask, 6 local). The steps up to the login are those of a fetch
//! (`connection.rs`), followed here.

use std::time::Duration;

use pop3_proto::client::{Capabilities, ClientEvent, CommandKind};
use pop3_proto::response::capability::Expire;
use pop3_proto::sasl::SaslMechanism;

use crate::connection::{self, Steps};
use crate::failure::{fail, step_fail, Exit, Failure, Res, StepFailure};
use crate::options::{Keep, Options};

/// The longest a check waits for a connection or a first reply: a check should answer
/// quickly, whatever `--timeout` a long fetch wants.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Prints one step's line.
fn ok(step: &str, what: impl std::fmt::Display) {
    println!("{step:<9} ok    {what}");
}

/// Prints a failed step with its hint, and returns its failure.
fn failed(step: &str, f: StepFailure) -> Failure {
    println!("{step:<9} FAIL  {}", f.what);
    if !f.hint.is_empty() {
        println!("{:<9}       hint: {}", "", f.hint);
    }
    fail(f.exit, format!("check failed at {step}: {}", f.what))
}

/// A check's steps: a line each, the short wait, and the capabilities judged.
struct Printed;

impl Steps for Printed {
    fn wait(&self, o: &Options) -> Duration {
        o.limits.timeout.min(STEP_TIMEOUT)
    }

    fn probe_plaintext(&self) -> bool {
        true
    }

    fn passed(&mut self, step: &str, what: &dyn Fn() -> String) {
        ok(step, what());
    }

    fn failed(&mut self, step: &str, mut f: StepFailure) -> Failure {
        f.exit = step_exit(step, f.exit);
        failed(step, f)
    }

    fn capabilities(
        &mut self,
        o: &Options,
        caps: &Capabilities,
        refused: bool,
    ) -> Result<(), StepFailure> {
        capabilities(o, caps, refused)
    }
}

/// The exit code of a failing step, by the step's class as `--help` lists them for
/// `--check` (a fetch classes the same errors by what went wrong): a busy server
/// (7) whatever the step; 4 for a greeting or STLS that fails; 5 for CAPA; 3 for a
/// login; else the failure's own (4 name, connection, TLS; 6 the --ca-file).
fn step_exit(step: &str, exit: Exit) -> Exit {
    match (step, exit) {
        (_, Exit::Busy) => Exit::Busy,
        ("greeting" | "stls", _) => Exit::Network,
        ("capa", _) => Exit::Protocol,
        ("login", _) => Exit::Auth,
        (_, exit) => exit,
    }
}

/// Runs the check.
pub fn check(o: &Options) -> Res<()> {
    let mut conn = connection::open(o, &mut Printed)?;

    // STAT, and UIDL when mail is to be kept.
    let mut stat = None;
    let mut uidl_refused = false;
    conn.client().stat().map_err(|e| fail(Exit::Protocol, e))?;
    if o.keep != Keep::Nothing {
        conn.client()
            .uidl(None)
            .map_err(|e| fail(Exit::Protocol, e))?;
    }
    let ran = conn.run(|ev| match ev {
        ClientEvent::Stat(s) => stat = Some((s.count, s.size)),
        ClientEvent::Error {
            command: CommandKind::Uidl,
            ..
        } => uidl_refused = true,
        _ => {}
    });
    if let Err(e) = ran {
        // STAT answered and UIDL did not: the UIDL listing failed (a bad line of a
        // whole listing ends the session), so that is the step to name.
        if let Some((count, size)) = stat.filter(|_| o.keep != Keep::Nothing) {
            ok("stat", format!("{count} messages, {size} octets"));
            return Err(failed(
                "uidl",
                step_fail(
                    Exit::Protocol,
                    e,
                    "the server's UIDL listing cannot be believed, so --keep and --keep-for \
                     could not tell a kept message from a new one",
                ),
            ));
        }
        return Err(failed(
            "stat",
            step_fail(Exit::Protocol, e, "the server's reply cannot be believed"),
        ));
    }
    let (count, size) = stat.ok_or_else(|| {
        failed(
            "stat",
            step_fail(
                Exit::Protocol,
                "STAT refused",
                "the server refuses STAT after login",
            ),
        )
    })?;
    ok("stat", format!("{count} messages, {size} octets"));
    if uidl_refused {
        return Err(failed(
            "uidl",
            step_fail(
                Exit::Protocol,
                "the server refuses UIDL",
                "without UIDL, --keep and --keep-for cannot tell a kept message from a new \
                 one: fetch without them (every message is then deleted once delivered)",
            ),
        ));
    }
    conn.client().quit().map_err(|e| fail(Exit::Protocol, e))?;
    let _ = conn.run(|_| {});
    println!("check passed: nothing was fetched or deleted");
    Ok(())
}

/// The capabilities line, and the options the server cannot serve.
fn capabilities(o: &Options, c: &Capabilities, refused: bool) -> Result<(), StepFailure> {
    if refused || !c.known {
        ok(
            "capa",
            "refused (an RFC 1939 server): USER/PASS, no STLS, UIDL only if it answers it",
        );
        return Ok(());
    }
    let mut seen = Vec::new();
    for (on, name) in [
        (c.stls, "STLS"),
        (c.user, "USER"),
        (c.uidl, "UIDL"),
        (c.top, "TOP"),
        (c.pipelining, "PIPELINING"),
        (c.resp_codes, "RESP-CODES"),
    ] {
        if on {
            seen.push(name.to_string());
        }
    }
    let mechanisms: Vec<&str> = SaslMechanism::ALL
        .iter()
        .filter(|m| c.mechanisms.contains(m.bit()))
        .map(|m| m.name())
        .collect();
    if !mechanisms.is_empty() {
        seen.push(format!("SASL {}", mechanisms.join(" ")));
    }
    if let Some(d) = c.login_delay {
        seen.push(format!("LOGIN-DELAY {d}"));
    }
    match c.expire {
        Some(Expire::Never) => seen.push("EXPIRE NEVER".into()),
        Some(Expire::Days(d)) => seen.push(format!("EXPIRE {d}")),
        None => {}
    }
    ok("capa", seen.join(", "));
    if o.keep != Keep::Nothing && c.expire == Some(Expire::Days(0)) {
        return Err(step_fail(
            Exit::Protocol,
            "EXPIRE 0: the server deletes every message once it was retrieved",
            "--keep and --keep-for cannot keep mail on this server",
        ));
    }
    if o.keep != Keep::Nothing && !c.uidl {
        return Err(step_fail(
            Exit::Protocol,
            "no UIDL in CAPA",
            "without UIDL, --keep and --keep-for cannot tell a kept message from a new one",
        ));
    }
    Ok(())
}
