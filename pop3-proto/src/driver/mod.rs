//! The one loop that drives either role over any transport.
//!
//! [`ClientDriver`] and [`ServerDriver`] wrap the state machines with the caller's
//! receive and transmit buffers (any storage: `[u8; N]`, `Vec<u8>`, `&mut [u8]`; any
//! size from the role's minimum up: [`MIN_CLIENT_RECEIVE`], [`MIN_CLIENT_TRANSMIT`],
//! [`MIN_SERVER_RECEIVE`], [`MIN_SERVER_TRANSMIT`], checked at every `poll`) and answer a single question, [`poll`](ClientDriver::poll): *what
//! now?* The answer is a [`Poll`], and the rule is the same for both roles:
//!
//! > Call `poll` and do what it says — write [`Transmit`](Poll::Transmit) bytes,
//! > handle the [`Event`](Poll::Event), read on [`NeedInput`](Poll::NeedInput) (until
//! > its deadline) — then call `poll` again.
//!
//! `poll` drains in a fixed order: bytes to send first, then events, then input
//! (the client driver decodes what it received before it encodes its next command,
//! so that bytes no command asked for are never taken for the reply to a command
//! sent after they arrived). It asks for input only when nothing is left to send and
//! nothing can be decoded, so a loop that follows the rule can never wait for the
//! peer while owing it bytes (the deadlock of a lock-step client whose listing end
//! was never flushed cannot happen), and never misses an event.
//! One opt-in exception: a server driver with a write batch
//! ([`ServerDriver::set_write_batch`]) hands out the event of a pipelined RETR or TOP
//! before the bytes already pending, until the batch is full; it still transmits
//! them before asking for input or handing out any other event.
//!
//! One client event asks something back: [`ClientEvent::NeedCredentials`], when a
//! line that carries the login's credentials is due (USER, PASS, APOP, AUTH, the
//! answer to a SASL challenge). Answer it with [`ClientDriver::credentials`] before
//! the next `poll`; the client keeps no copy of them, so they stay where the caller
//! keeps them and may be of any length (a polled-again request without an answer is
//! [`ClientError::CredentialsNeeded`]).
//!
//! [`ClientEvent::NeedCredentials`]: crate::client::ClientEvent::NeedCredentials
//! [`ClientError::CredentialsNeeded`]: crate::client::ClientError::CredentialsNeeded
//!
//! `Poll` is `Copy` and borrows nothing, and the event is fetched separately
//! ([`ClientDriver::event`], [`ServerDriver::event`]), borrowing the receive buffer
//! until the next `poll`. So an async `next()` is a loop over `poll` that returns
//! after it, with nothing borrowed across an `.await`:
//!
//! ```
//! use pop3_proto::client::{Client, ClientConfig, ClientEvent};
//! use pop3_proto::driver::{ClientDriver, Poll};
//!
//! /// Any async byte stream: here, a canned server reply.
//! struct Wire(&'static [u8]);
//! impl Wire {
//!     async fn read(&mut self, buf: &mut [u8]) -> usize {
//!         let n = self.0.len().min(buf.len());
//!         buf[..n].copy_from_slice(&self.0[..n]);
//!         self.0 = &self.0[n..];
//!         n
//!     }
//!     async fn write(&mut self, bytes: &[u8]) -> usize { bytes.len() }
//! }
//!
//! struct Conn { driver: ClientDriver<[u8; 1024], [u8; 512]>, wire: Wire }
//!
//! impl Conn {
//!     /// The next event, awaiting I/O between events; `None` when idle or closed.
//!     async fn next(&mut self) -> Option<ClientEvent<'_>> {
//!         loop {
//!             // Your clock (the client's greeting and reply timeouts count on it).
//!             let now = pop3_proto::time::Instant::from_millis(0);
//!             match self.driver.poll(now).ok()? {
//!                 Poll::Transmit => {
//!                     let n = self.wire.write(self.driver.transmit()).await;
//!                     self.driver.transmitted(n);
//!                 }
//!                 Poll::Event => break,
//!                 Poll::NeedInput { .. } => {
//!                     let n = self.wire.read(self.driver.input()).await;
//!                     if n == 0 { return None; }
//!                     self.driver.received(n);
//!                 }
//!                 Poll::Idle | Poll::Closed => return None,
//!             }
//!         }
//!         self.driver.event()
//!     }
//! }
//!
//! # fn block_on<F: core::future::Future>(f: F) -> F::Output {
//! #     use core::task::{Context, Poll, Waker};
//! #     let mut f = core::pin::pin!(f);
//! #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(Waker::noop())) { return v; } }
//! # }
//! let client = Client::new(ClientConfig { auto_capa: false, ..Default::default() }, [7; 32]);
//! let mut conn = Conn {
//!     driver: ClientDriver::new(client, [0; 1024], [0; 512]),
//!     wire: Wire(b"+OK POP3 ready\r\n"),
//! };
//! block_on(async {
//!     let greeting = conn.next().await;
//!     assert!(matches!(greeting, Some(ClientEvent::Greeting { apop: false, .. })));
//!     // The event's borrow ended: queue a command and go on.
//!     conn.driver.client().noop().ok();
//! });
//! ```
//!
//! Every adapter of this crate (`blocking`, `tokio`, `embedded`, behind their
//! features) is such a loop over these drivers.

mod buf;
mod client;
mod server;

pub use client::ClientDriver;
pub use server::ServerDriver;

/// The smallest receive buffer of a [`ClientDriver`]: one status or listing line
/// (512 octets, RFC 2449); message bodies stream through it whatever their size.
/// A smaller one makes `poll` fail with
/// [`ClientError::BuffersTooSmall`](crate::client::ClientError::BuffersTooSmall).
pub const MIN_CLIENT_RECEIVE: usize = crate::limits::MAX_STATUS_LINE;
/// The smallest transmit buffer of a [`ClientDriver`]: one command line (255
/// octets); a SASL response longer than the buffer is
/// [`ClientError::BufferTooSmall`](crate::client::ClientError::BufferTooSmall) when due.
pub const MIN_CLIENT_TRANSMIT: usize = crate::limits::MAX_COMMAND_LINE;
/// The smallest receive buffer of a [`ServerDriver`]: one command line (255
/// octets); SASL lines longer than the buffer are refused. A smaller one makes
/// `poll` fail with [`ServerError::BuffersTooSmall`](crate::server::ServerError::BuffersTooSmall).
pub const MIN_SERVER_RECEIVE: usize = crate::limits::MAX_COMMAND_LINE;
/// The smallest transmit buffer of a [`ServerDriver`]: 32 octets (replies are
/// copied out in pieces; a message's `+OK` line, 21 octets, must fit whole). Its
/// size is the size of the writes while a message is sent.
pub const MIN_SERVER_TRANSMIT: usize = 32;

use crate::time::Instant;

/// What a [`ClientDriver`] needs next (a [`ServerDriver`] answers [`ServerPoll`]).
/// After doing it, call `poll` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Poll {
    /// Write `transmit()` to the connection (all of it or a part), then call
    /// `transmitted(n)`.
    Transmit,
    /// An event is ready: `event()`. It stays available until the next `poll` (or
    /// `input()`).
    Event,
    /// Read from the connection into `input()` and call `received(n)`. If
    /// `deadline` passes first, call `poll` again anyway (it then fails with the
    /// greeting or reply timeout); `None`: no deadline.
    NeedInput {
        /// When to call `poll` again even if nothing was received.
        deadline: Option<Instant>,
    },
    /// Nothing is queued or in flight. Queue commands and poll again.
    Idle,
    /// The session is over and everything was transmitted: close the connection.
    Closed,
}

/// What a [`ServerDriver`] needs next: [`Poll`] without `Idle` (a server always
/// waits for its client, so its `match` has no dead arm). After doing it, call
/// `poll` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerPoll {
    /// Write `transmit()` to the connection (all of it or a part), then call
    /// `transmitted(n)`.
    Transmit,
    /// An event is ready: `event()`. It stays until it is answered (its `answer_*`
    /// call, or for [`Retrieve`](crate::server::ServerEvent::Retrieve) `body_end`):
    /// polled again unanswered, the same event comes back.
    Event,
    /// Read from the connection into `input()` and call `received(n)`. If
    /// `deadline` passes first, call `poll` again anyway (the idle timer, a
    /// failed-login delay); `None`: no deadline.
    NeedInput {
        /// When to call `poll` again even if nothing was received.
        deadline: Option<Instant>,
    },
    /// The session is over and everything was transmitted: close the connection.
    Closed,
}
