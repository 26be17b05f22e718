//! The client role as a pure state machine.
//!
//! Commands are queued with methods ([`Client::stat`], [`Client::retr`], …) and
//! written by [`Client::poll_transmit`] into the caller's buffer: all at once when
//! the server offers PIPELINING, one at a time otherwise. Replies are decoded by
//! [`Client::handle_input`] from the caller's receive buffer and matched to the
//! commands in order; each produces typed [`ClientEvent`]s, message bodies as
//! borrowed, dot-unstuffed chunks.
//!
//! Drive it with [`crate::driver::ClientDriver`] and its one loop rule (call
//! `poll`, do what it says, call `poll` again). Events borrow only the received
//! bytes, never the client, so commands can be queued while one is held; as a `Copy`
//! [`EventToken`] an event can also be kept across `.await`.
//!
//! ## When the server's reply is wrong
//!
//! Two kinds of wrong, two outcomes:
//!
//! - **Malformed inside its own framing** — a status line or one LANG listing line
//!   that is framed correctly but cannot be believed: `+OK 7` to STAT, `LIST 1`
//!   answered for message 99, a message number 0 or above what STAT allows. Only that
//!   command fails: the reply is consumed to its end (a LANG listing up to its `.`,
//!   its later lines unreported) and [`ClientEvent::Invalid`] takes the place of its
//!   last event, with a typed [`InvalidReply`]. The next command reads its own reply.
//!   A bad line of a whole LIST or UIDL listing (not `msg size`, a number out of
//!   range, or not above the line before it) is fatal instead,
//!   [`ClientError::InvalidListing`] at that line: the listing is useless, and
//!   reading on to an end that may never come is what a hostile server wants.
//! - **Framing lost** — bytes when no reply is expected (no command in flight, or
//!   more bytes after a SASL challenge before our answer), a line that is not
//!   `+OK`/`-ERR` where one must be, a line too long to frame, a SASL exchange that
//!   fails on our side (a SCRAM server that did not prove the password). Then
//!   [`handle_input`](Client::handle_input) returns the error and the client is
//!   closed: [`is_closed`](Client::is_closed), every later command refused with
//!   [`ClientError::WrongState`], nothing more read as a reply (all input is
//!   consumed from then on, in the sense that none of it will ever be used).
//!
//! Either way the caller knows how much input was used: an event's
//! [`Decoded::consumed`], or, after an error, all of it.
//!
//! ## STLS
//!
//! Nothing can be queued behind STLS (RFC 2595: what follows depends on its
//! outcome): until it is answered, commands are refused with
//! [`ClientError::WrongState`]. After `+OK` ([`ClientEvent::StartTls`]) nothing is
//! sent or read until [`Client::tls_started`]: the event consumes all the input it
//! was decoded from, and later input is consumed and ignored, so plaintext the server
//! (or anyone on the path) put behind its `+OK` is never read as a reply.
//!
//! [`Decoded::consumed`]: crate::codec::Decoded::consumed

// One job per file, each importing only files listed above it:
// config, error, caps      the settings, what can go wrong, what CAPA taught
// event, pending, sasl     the events, the command queue, AUTH's client side
// login                    the credentials (asked for when due, never kept)
// machine                  the Client: state, queries, what leaves on the wire
// commands, reply          the methods that queue commands; the replies read
pub mod caps;
mod commands;
mod config;
mod error;
mod event;
mod login;
mod machine;
mod pending;
mod reply;
#[cfg(feature = "sasl")]
mod sasl;
#[cfg(not(feature = "sasl"))]
#[path = "sasl_off.rs"]
mod sasl;

pub use caps::Capabilities;
pub use config::{ClientConfig, DEFAULT_TIMEOUT_MS};
pub use error::{ClientError, CommandKind, InvalidReply};
pub use event::{ClientEvent, EventToken};
pub use login::Login;
pub use machine::Client;
pub use pending::MAX_QUEUED;
pub use reply::{MAX_CAPA_LINES, MAX_LANG_LINES};

pub use crate::sasl::SaslMechanism;
