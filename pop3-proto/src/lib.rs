//! # pop3-proto: POP3 without I/O
//!
//! A sans-IO implementation of POP3 for both roles, client and server. This crate
//! never touches a socket, a clock or a thread: bytes go in, typed events come out;
//! typed commands and replies go in, bytes come out. It is `#![no_std]` and needs no
//! allocator, so the same code runs in a tokio service, a blocking tool and on a
//! microcontroller.
//!
//! ## The loop
//!
//! [`Client`](client::Client) and [`Server`](server::Server) are driven through
//! [`driver::ClientDriver`] and [`driver::ServerDriver`], with receive and transmit
//! buffers you own, by one rule for both roles: **call `poll`, do what it says
//! (transmit, handle the event, read input until the deadline), call `poll` again.**
//! `poll` hands out bytes to send before events and events before asking for input,
//! so output cannot be missed. Here both roles talk over an in-memory wire:
//!
//! ```
//! use pop3_proto::client::{Client, ClientConfig, ClientEvent, Login};
//! use pop3_proto::driver::{ClientDriver, Poll, ServerDriver, ServerPoll};
//! use pop3_proto::server::{Open, Server, ServerConfig, ServerEvent};
//! use pop3_proto::time::Instant;
//!
//! let now = Instant::from_millis(0);
//! let message: &[u8] = b"Subject: hi\n\n.dot\n";
//! let mut config = ServerConfig::new("pop.example.org");
//! config.allow_plaintext_auth = true; // a demo in memory, not the Internet
//! let server = Server::new(config, now, [1; 32]);
//! let mut server = ServerDriver::new(server, [0u8; 1024], [0u8; 4096]);
//! let config = ClientConfig { allow_plaintext: true, ..ClientConfig::default() };
//! let mut client = ClientDriver::new(Client::new(config, [2; 32]), [0u8; 1024], [0u8; 512]);
//! let (mut body, mut to_server) = (Vec::new(), Vec::new());
//! // The client keeps no credentials: it asks for them when their line is due.
//! let login = Login::UserPass { user: b"alice", password: b"secret" };
//!
//! for _ in 0..100 {
//!     // The server's turn: until it needs input.
//!     loop {
//!         match server.poll(now).unwrap() {
//!             ServerPoll::Transmit => {
//!                 let n = server.transmit().len();
//!                 client.input()[..n].copy_from_slice(server.transmit());
//!                 client.received(n);
//!                 server.transmitted(n);
//!             }
//!             ServerPoll::Event => match server.event() {
//!                 Some(ServerEvent::CheckPassword { user, password, .. }) => {
//!                     let ok = user == b"alice" && password == b"secret";
//!                     server.server().answer_password(ok, now).unwrap();
//!                 }
//!                 Some(ServerEvent::OpenMaildrop { .. }) => {
//!                     let open = Open::Opened { count: 1, size: 21 };
//!                     server.server().answer_open(open).unwrap();
//!                 }
//!                 Some(ServerEvent::Retrieve { .. }) => {
//!                     let taken = server.body(message).unwrap(); // into the transmit buffer
//!                     assert_eq!(taken, message.len());
//!                     server.server().body_end().unwrap();
//!                 }
//!                 Some(ServerEvent::Update) => server.server().answer_update(true).unwrap(),
//!                 other => panic!("not in this demo: {other:?}"),
//!             },
//!             ServerPoll::NeedInput { .. } => {
//!                 let n = to_server.len();
//!                 server.input()[..n].copy_from_slice(&to_server);
//!                 server.received(n);
//!                 to_server.clear();
//!                 if n == 0 {
//!                     break;
//!                 }
//!             }
//!             ServerPoll::Closed => break,
//!         }
//!     }
//!     // The client's turn: until it needs input.
//!     loop {
//!         match client.poll(now).unwrap() {
//!             Poll::Transmit => {
//!                 to_server.extend_from_slice(client.transmit());
//!                 let n = client.transmit().len();
//!                 client.transmitted(n);
//!             }
//!             Poll::Event => match client.event().unwrap() {
//!                 ClientEvent::Greeting { .. } => client.client().login(login).unwrap(),
//!                 ClientEvent::NeedCredentials { .. } => client.credentials(&login).unwrap(),
//!                 ClientEvent::LoggedIn => {
//!                     client.client().retr(1).unwrap();
//!                     client.client().quit().unwrap();
//!                 }
//!                 ClientEvent::MessageData { data, .. } => body.extend_from_slice(data),
//!                 _ => {}
//!             },
//!             Poll::NeedInput { .. } | Poll::Idle | Poll::Closed => break,
//!         }
//!     }
//!     if client.client_ref().is_closed() {
//!         break;
//!     }
//! }
//! assert_eq!(body, b"Subject: hi\r\n\r\n.dot\r\n"); // CRLF on the wire, unstuffed
//! assert!(client.client_ref().is_closed());
//! ```
//!
//! The adapters are this loop over a transport: `blocking` (feature `std`, with
//! rustls in `tls`) and `embedded` (features `embedded-io`, `embedded-io-async`).
//! The state machines can also be used without a driver, call by call
//! (`handle_input`, `poll_transmit`, `answer_*`), as the drivers do.
//!
//! ## The wire layer
//!
//! Usable on its own:
//!
//! - [`Command`] — every client command of RFC 1939, 2449, 5034, 2595 and 6856, with
//!   [`Command::parse`] (server side) and [`Command::encode`] (client side).
//! - [`SaslResponse`] — the client's lines inside an `AUTH` exchange, including `*`.
//! - [`StatusLine`], [`ResponseCode`], [`Stat`], [`ListEntry`], [`UidlEntry`],
//!   [`LangEntry`], [`Capability`] and [`apop_timestamp`] — typed replies.
//! - [`ResponseDecoder`] — the client's streaming decoder of everything a server
//!   sends, multi-line bodies leaving as borrowed, dot-unstuffed chunks.
//! - [`CommandDecoder`] — the server's streaming decoder of client lines.
//! - [`BodyDecoder`] / [`BodyEncoder`] — dot-unstuffing and dot-stuffing on their own.
//!
//! Memory use is bounded by the caller's buffers and a few bytes of state,
//! whatever the size of a message: framing ends only on `CRLF.CRLF`, never on sizes.
//!
//! ```
//! use pop3_proto::{Command, ResponseDecoder, ResponseEvent};
//!
//! let mut out = [0u8; 255];
//! let n = Command::Retr(1).encode(&mut out).unwrap();
//! assert_eq!(&out[..n], b"RETR 1\r\n");
//!
//! let mut decoder = ResponseDecoder::new();
//! decoder.expect(Command::Retr(1).expect());
//! let mut input: &[u8] = b"+OK\r\n..dot\r\n.\r\n";
//! let mut body = Vec::new();
//! loop {
//!     let d = decoder.decode(input).unwrap();
//!     match d.item {
//!         Some(ResponseEvent::Data(chunk)) => body.extend_from_slice(chunk),
//!         Some(ResponseEvent::End) => break,
//!         _ => {}
//!     }
//!     input = &input[d.consumed..];
//! }
//! assert_eq!(body, b".dot\r\n");
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod blocking;
pub mod client;
pub mod codec;
pub mod driver;
#[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "embedded-io", feature = "embedded-io-async")))
)]
pub mod embedded;
pub mod limits;
pub mod response;
pub mod sasl;
pub mod server;
pub mod time;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

mod debug;
mod encode;
mod grammar;
mod txbuf;

pub use codec::body::{BareLf, BodyChunk, BodyDecoder, BodyEncoder};
pub use codec::client::{Expect, ResponseDecoder, ResponseEvent};
pub use codec::server::{ClientLine, CommandDecoder};
pub use codec::{DecodeError, Decoded};
pub use command::{Command, CommandError, SaslResponse};
pub use encode::EncodeError;
pub use response::capability::{Capability, Expire, SaslMechanisms};
pub use response::code::ResponseCode;
pub use response::greeting::apop_timestamp;
pub use response::listing::{LangEntry, ListEntry, ListingError, Stat, UidlEntry};
pub use response::status::{Status, StatusLine};

pub mod command;

/// The `heapless` crate this crate's bounded strings come from
/// ([`ClientConfig::host`](client::ClientConfig::host),
/// [`ServerConfig::hostname`](server::ServerConfig::hostname),
/// [`ServerConfig::implementation`](server::ServerConfig::implementation)), re-exported so
/// that no caller needs to depend on the same version of it. The `&str` setters
/// ([`ClientConfig::with_host`](client::ClientConfig::with_host),
/// [`ServerConfig::new`](server::ServerConfig::new),
/// [`ServerConfig::with_implementation`](server::ServerConfig::with_implementation)) need
/// neither.
pub use heapless;

/// A string of at most 64 bytes, as the configuration's names are.
pub type ShortString = heapless::String<64>;

/// `text` as a [`ShortString`], cut at the last whole character that fits 64 bytes.
pub fn short_string(text: &str) -> ShortString {
    let mut s = ShortString::new();
    for c in text.chars() {
        if s.push(c).is_err() {
            break;
        }
    }
    s
}
