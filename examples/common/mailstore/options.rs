//! The servers' options (the same for `pop3d` and `tokio_pop3d`), as `cli.rs` parses
//! them.

use std::path::PathBuf;
use std::time::Duration;

/// Command-line options, the same for both servers.
pub struct Options {
    pub listen: String,
    pub listen_tls: Option<String>,
    pub root: Option<PathBuf>,
    pub users: Option<PathBuf>,
    /// Lines `name:token`: bearer tokens accepted for XOAUTH2 and OAUTHBEARER.
    pub tokens: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub allow_plaintext: bool,
    /// Do not offer SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS (for clients that
    /// mishandle them: mutt 2.2, neomutt).
    pub no_scram_plus: bool,
    /// A write that makes no progress this long ends the session.
    pub send_timeout: Duration,
    /// A TLS handshake that takes longer ends the connection.
    pub handshake_timeout: Duration,
    /// A client that has not logged in this long after connecting is closed.
    pub login_timeout: Duration,
    /// Sessions at once, in all and from one address.
    pub max_connections: usize,
    pub max_per_ip: usize,
    /// Failed logins of one user name from one address (IPv6: /64), within
    /// `login_failure_window`, after which its logins from there are refused
    /// unchecked (`-ERR [SYS/TEMP]`) until the window passes.
    pub max_login_failures: usize,
    /// Failed logins of one user name from all addresses within the window, after
    /// which every address that failed for it is refused (others still checked).
    pub max_user_failures: usize,
    pub login_failure_window: Duration,
    /// User names whose failures are remembered at most (the table's bound).
    pub login_failure_users: usize,
}
