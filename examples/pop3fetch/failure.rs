//! Why a run stopped: the exit codes, a failure with its message, and the class of
//! each kind of error (network, protocol, local, ...).

use std::io;
use std::path::Path;

use pop3_proto::blocking;
use pop3_proto::client::ClientError;

/// The exit codes (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Some messages were not fetched or not deleted; the next run retries.
    Partial = 1,
    Usage = 2,
    Auth = 3,
    Network = 4,
    Protocol = 5,
    Local = 6,
    Busy = 7,
    /// Another run holds this account.
    Locked = 8,
}

/// Why a run stopped.
pub struct Failure {
    pub exit: Exit,
    pub msg: String,
}

pub fn fail(exit: Exit, msg: impl std::fmt::Display) -> Failure {
    Failure {
        exit,
        msg: msg.to_string(),
    }
}

pub type Res<T> = Result<T, Failure>;

/// A step of opening the connection that failed: what happened, and what most
/// likely fixes it (empty: nothing to add).
pub struct StepFailure {
    pub exit: Exit,
    pub what: String,
    pub hint: String,
}

pub fn step_fail(exit: Exit, what: impl std::fmt::Display, hint: impl Into<String>) -> StepFailure {
    StepFailure {
        exit,
        what: what.to_string(),
        hint: hint.into(),
    }
}

/// Text the server sent, for messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A session error from the blocking adapter.
pub fn wire_err(e: blocking::Error) -> Failure {
    match e {
        blocking::Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            fail(Exit::Network, "the server closed the connection")
        }
        blocking::Error::Io(e) => fail(Exit::Network, e),
        blocking::Error::Client(ClientError::Sasl(what)) => {
            fail(Exit::Auth, format!("authentication: {what}"))
        }
        blocking::Error::Client(ClientError::Rejected) => fail(
            Exit::Busy,
            "the server refused the connection (-ERR greeting)",
        ),
        e => fail(Exit::Protocol, e),
    }
}

/// A command the client would not queue.
pub fn queue_err(e: ClientError) -> Failure {
    fail(Exit::Protocol, e)
}

/// A local file or directory that failed.
pub fn local_err(what: &Path, e: io::Error) -> Failure {
    fail(Exit::Local, format!("{}: {e}", what.display()))
}
