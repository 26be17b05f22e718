//! A message a session serves: its UID, its size on the wire, and where its bytes are.

use std::sync::Arc;

use super::maildrop;

/// A message a session can serve.
#[derive(Clone)]
pub enum Source {
    Memory(Arc<[u8]>),
    /// A Maildir file as listed when the maildrop was opened (opened and removed
    /// without following symlinks, and only while it is the file listed).
    File(maildrop::MsgFile),
}

#[derive(Clone)]
pub struct Msg {
    pub uid: String,
    pub size: u64,
    pub source: Source,
}
