//! Where the password (or OAuth token) comes from: `--password-command` (run with a
//! time limit), `--password-file` or `POP3_PASSWORD`; never the command line.

use std::io::{self, IsTerminal, Read};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::ArgMatches;

use crate::failure::{fail, Exit, Res};

fn trim_newlines(mut p: Vec<u8>) -> Vec<u8> {
    while p.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        p.pop();
    }
    p
}

/// The most a --password-command may print (a long OAuth token is a few KiB).
const MAX_PASSWORD_OUTPUT: u64 = 64 * 1024;

/// Runs `sh -c cmd` for the password, killed if it has not finished within
/// `timeout`. Where standard input is not a terminal the command runs in a process
/// group of its own, so that what it started dies with it; one that asks at a
/// terminal stays in the terminal's group (a background group could not read it).
fn password_command(cmd: &str, timeout: Duration) -> Res<Vec<u8>> {
    use std::os::unix::process::CommandExt;
    let failed = |what: String| fail(Exit::Auth, format!("--password-command {what}"));
    let own_group = !io::stdin().is_terminal();
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if own_group {
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| failed(format!(": {e}")))?;
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout
            .take(MAX_PASSWORD_OUTPUT + 1)
            .read_to_end(&mut out)
            .map(|_| out)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| failed(format!(": {e}")))? {
            break status;
        }
        if Instant::now() >= deadline {
            if own_group {
                let group = rustix::process::Pid::from_child(&child);
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed(format!(
                "did not finish within {} s: killed (--password-timeout)",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        return Err(failed(format!("failed ({status})")));
    }
    let out = reader
        .join()
        .map_err(|_| failed("output unreadable".into()))?
        .map_err(|e| failed(format!("output: {e}")))?;
    if out.len() as u64 > MAX_PASSWORD_OUTPUT {
        return Err(failed(format!("printed over {MAX_PASSWORD_OUTPUT} bytes")));
    }
    Ok(trim_newlines(out))
}

pub fn password(m: &ArgMatches) -> Res<Vec<u8>> {
    if let Some(cmd) = m.get_one::<String>("password-command") {
        let timeout = Duration::from_secs(*m.get_one::<u64>("password-timeout").expect("default"));
        return password_command(cmd, timeout);
    }
    if let Some(f) = m.get_one::<PathBuf>("password-file") {
        let p = std::fs::read(f).map_err(|e| fail(Exit::Auth, format!("{}: {e}", f.display())))?;
        return Ok(trim_newlines(p));
    }
    match std::env::var_os("POP3_PASSWORD") {
        Some(p) => Ok(p.into_encoded_bytes()),
        None => Err(fail(
            Exit::Usage,
            "no password: set POP3_PASSWORD, or use --password-file or --password-command",
        )),
    }
}
