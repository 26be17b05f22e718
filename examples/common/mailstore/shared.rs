//! What every session of a server shares: the users, the tokens, the mailboxes and
//! their locks, and the failed logins.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;

use super::demo::DemoMailbox;
use super::guesses::Guesses;
use super::maildirs::WireSizes;
use super::users::Credential;

/// What every session shares.
pub struct Shared {
    pub users: HashMap<String, Credential>,
    /// Bearer tokens accepted for XOAUTH2 and OAUTHBEARER, by user
    /// (`--bearer-tokens`).
    pub tokens: HashMap<String, String>,
    pub root: Option<PathBuf>,
    /// The demo mailbox, shared by all sessions (deletions last as long as the process).
    pub demo: DemoMailbox,
    /// The users whose maildrop a session holds.
    pub locks: Mutex<HashSet<String>>,
    /// Wire sizes of Maildir messages, computed once.
    pub sizes: WireSizes,
    /// Failed logins by user name and source (`--max-login-failures`,
    /// `--max-user-failures`, `--login-failure-window`).
    pub guesses: Guesses,
}
