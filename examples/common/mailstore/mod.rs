//! The mailbox side of the example servers (`pop3d`, `tokio_pop3d`): options, users,
//! the demo mailbox or a Maildir per user, locks, sizes, UIDs and deletion at UPDATE.
//! Each server maps its adapter's events onto a [`Session`].
//!
//! - `options.rs`, `cli.rs`: the servers' command line;
//! - `setup.rs`: the options made into the state every session shares, the TLS and
//!   session settings, and the banner;
//! - `users.rs`: the users file and the bearer tokens file, the stored forms of a
//!   secret (password, SCRAM verifier, CRAM-MD5 context);
//! - `session.rs`: one session's logins, locks and UPDATE;
//! - `message.rs`: a message a session serves; `demo.rs`: the in-memory demo
//!   mailbox; `maildirs.rs`: a Maildir per user and its messages' wire sizes, over
//!   `maildrop.rs` (Maildir without following symlinks);
//! - `guesses.rs`: failed logins counted; `connections.rs`: the listener, the
//!   admission limits and the accept loop's backoff.
#![allow(dead_code)]

pub mod cli;
pub mod connections;
pub mod demo;
pub mod guesses;
pub mod maildirs;
pub mod maildrop;
pub mod message;
pub mod options;
pub mod session;
pub mod setup;
pub mod shared;
pub mod users;

// What the servers take from here, under the names they had before the split.
pub use connections::{listen, random32, AcceptErrors};
pub use message::Source;
pub use session::{Check, Session};
pub use setup::{banner, setup, Setup};
