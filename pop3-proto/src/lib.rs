//! # pop3-proto: POP3 without I/O
//!
//! A sans-IO implementation of POP3 for both roles, client and server. This crate
//! never touches a socket, a clock or a thread: bytes go in, typed events come out;
//! typed commands and replies go in, bytes come out. It is `#![no_std]` and needs no
//! allocator, so the same code runs in a tokio service, a blocking tool and on a
//! microcontroller.
//!
//! The wire layer, usable on its own:
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
//! Memory use is bounded by the caller's input buffer and a few bytes of state,
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "std")]
pub mod blocking;
pub mod client;
pub mod codec;
#[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
pub mod embedded;
pub mod limits;
pub mod response;
pub mod sasl;
pub mod server;
pub mod time;
#[cfg(feature = "rustls")]
pub mod tls;

mod encode;
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
