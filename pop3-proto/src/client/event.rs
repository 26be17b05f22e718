//! What the client reports: [`ClientEvent`], and the [`EventToken`] that stands
//! for one without borrowing the input.

use core::fmt;

use super::error::{CommandKind, InvalidReply};
use crate::response::capability::Capability;
use crate::response::code::ResponseCode;
use crate::response::listing::{LangEntry, ListEntry, Stat, UidlEntry};
use crate::response::status::StatusLine;

/// What the server said, typed by the command it answers. `Debug` prints byte
/// fields as byte strings (`b"000001"`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientEvent<'a> {
    /// The next line carries the login's credentials (USER, PASS, APOP, AUTH with
    /// an initial response, or the answer to a SASL challenge): answer with the
    /// [`Login`] that was queued, through [`Client::write_credentials`] (or
    /// [`ClientDriver::credentials`](crate::driver::ClientDriver::credentials)),
    /// before anything else. The client keeps no credentials between lines, so it
    /// may ask more than once per login (PASS after USER without PIPELINING; LOGIN,
    /// CRAM-MD5 and SCRAM after their challenges).
    ///
    /// [`Login`]: crate::client::Login
    /// [`Client::write_credentials`]: crate::client::Client::write_credentials
    NeedCredentials {
        /// The SASL challenge the answer is computed from (base64 text, as
        /// received), to pass to [`Client::write_credentials`]; empty when the
        /// credentials go with a command.
        ///
        /// [`Client::write_credentials`]: crate::client::Client::write_credentials
        challenge: &'a [u8],
    },
    /// The `+OK` greeting; `apop` tells whether it had a valid APOP timestamp.
    Greeting {
        /// The greeting text.
        text: &'a [u8],
        /// APOP is possible.
        apop: bool,
    },
    /// One capability line (all are also recorded in [`Client::capabilities`]).
    ///
    /// [`Client::capabilities`]: crate::client::Client::capabilities
    Capability(Capability<'a>),
    /// The end of the CAPA listing.
    CapabilitiesEnd,
    /// `+OK` to STLS: run the TLS handshake now, then call [`Client::tls_started`].
    ///
    /// [`Client::tls_started`]: crate::client::Client::tls_started
    StartTls,
    /// Logged in: TRANSACTION state.
    LoggedIn,
    /// The reply to STAT.
    Stat(Stat),
    /// A scan listing line (LIST, or LIST n).
    List(ListEntry),
    /// The end of a LIST listing.
    ListEnd,
    /// A unique-id line (UIDL, or UIDL n).
    Uidl(UidlEntry<'a>),
    /// The end of a UIDL listing.
    UidlEnd,
    /// A language line of LANG.
    Lang(LangEntry<'a>),
    /// The end of a LANG listing.
    LangEnd,
    /// The message (RETR or TOP) starts.
    MessageStart {
        /// The message number.
        msg: u32,
    },
    /// Message bytes, dot-unstuffed, CRLF line ends as received.
    MessageData {
        /// The message number.
        msg: u32,
        /// The bytes (borrowed from the input).
        data: &'a [u8],
    },
    /// The message is complete (its terminator was received).
    MessageEnd {
        /// The message number.
        msg: u32,
    },
    /// DELE succeeded.
    Deleted {
        /// The message number.
        msg: u32,
    },
    /// `+OK` to NOOP, RSET, UTF8 or LANG tag.
    Ok {
        /// The command answered.
        command: CommandKind,
        /// The text after `+OK`.
        text: &'a [u8],
    },
    /// `+OK` to QUIT: in TRANSACTION state the deletions were applied. Close.
    Closed,
    /// A reply the client refuses although its framing was intact (see the module
    /// docs): a malformed STAT, LIST n or UIDL n reply or LANG listing line, or a
    /// message number out of range or other than the one asked for. The command
    /// failed, its reply was consumed to its end (this event takes the place of a
    /// LANG listing's end; its lines after the bad one are not reported), and the
    /// session goes on. A bad line of a whole LIST or UIDL listing is fatal instead
    /// ([`ClientError::InvalidListing`](crate::client::ClientError::InvalidListing)).
    Invalid {
        /// The command whose reply was refused.
        command: CommandKind,
        /// The message the command named (LIST n, UIDL n), if any.
        msg: Option<u32>,
        /// What was wrong.
        reason: InvalidReply,
    },
    /// `-ERR` to a command. The session goes on (unless the server closes).
    Error {
        /// The command refused.
        command: CommandKind,
        /// The message the refused command named (RETR, TOP, DELE, LIST n, UIDL n), so
        /// that pipelined refusals need no bookkeeping by the caller.
        msg: Option<u32>,
        /// The response code, if any (IN-USE, LOGIN-DELAY, SYS/TEMP, AUTH, …).
        code: Option<ResponseCode<'a>>,
        /// The server's text.
        text: &'a [u8],
    },
}

impl fmt::Debug for ClientEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::debug::Bytes;
        match *self {
            ClientEvent::NeedCredentials { challenge } => f
                .debug_struct("NeedCredentials")
                .field("challenge", &Bytes(challenge))
                .finish(),
            ClientEvent::Greeting { text, apop } => f
                .debug_struct("Greeting")
                .field("text", &Bytes(text))
                .field("apop", &apop)
                .finish(),
            ClientEvent::Capability(c) => f.debug_tuple("Capability").field(&c).finish(),
            ClientEvent::CapabilitiesEnd => f.write_str("CapabilitiesEnd"),
            ClientEvent::StartTls => f.write_str("StartTls"),
            ClientEvent::LoggedIn => f.write_str("LoggedIn"),
            ClientEvent::Stat(s) => f.debug_tuple("Stat").field(&s).finish(),
            ClientEvent::List(e) => f.debug_tuple("List").field(&e).finish(),
            ClientEvent::ListEnd => f.write_str("ListEnd"),
            ClientEvent::Uidl(e) => f.debug_tuple("Uidl").field(&e).finish(),
            ClientEvent::UidlEnd => f.write_str("UidlEnd"),
            ClientEvent::Lang(e) => f.debug_tuple("Lang").field(&e).finish(),
            ClientEvent::LangEnd => f.write_str("LangEnd"),
            ClientEvent::MessageStart { msg } => {
                f.debug_struct("MessageStart").field("msg", &msg).finish()
            }
            ClientEvent::MessageData { msg, data } => f
                .debug_struct("MessageData")
                .field("msg", &msg)
                .field("data", &Bytes(data))
                .finish(),
            ClientEvent::MessageEnd { msg } => {
                f.debug_struct("MessageEnd").field("msg", &msg).finish()
            }
            ClientEvent::Deleted { msg } => f.debug_struct("Deleted").field("msg", &msg).finish(),
            ClientEvent::Ok { command, text } => f
                .debug_struct("Ok")
                .field("command", &command)
                .field("text", &Bytes(text))
                .finish(),
            ClientEvent::Closed => f.write_str("Closed"),
            ClientEvent::Invalid {
                command,
                msg,
                reason,
            } => f
                .debug_struct("Invalid")
                .field("command", &command)
                .field("msg", &msg)
                .field("reason", &reason)
                .finish(),
            ClientEvent::Error {
                command,
                msg,
                code,
                text,
            } => f
                .debug_struct("Error")
                .field("command", &command)
                .field("msg", &msg)
                .field("code", &code)
                .field("text", &Bytes(text))
                .finish(),
        }
    }
}

/// Where `part` starts inside `input`, if it is a piece of it.
pub(super) fn offset_in(input: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
    (start + part.len() <= input.len()).then_some(start)
}

/// What an [`EventToken`] stands for; its bytes are a range of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Range: the SASL challenge (empty when a command needs the credentials).
    NeedCredentials,
    /// Range: the greeting text.
    Greeting {
        apop: bool,
    },
    /// Range: the capability line.
    Capability,
    CapabilitiesEnd,
    StartTls,
    LoggedIn,
    Stat(Stat),
    List(ListEntry),
    ListEnd,
    /// Range: the unique-id.
    Uidl {
        msg: u32,
    },
    UidlEnd,
    /// Range: the language line.
    Lang,
    LangEnd,
    MessageStart {
        msg: u32,
    },
    /// Range: the data.
    MessageData {
        msg: u32,
    },
    /// No range: one CR held back by the body decoder from earlier input.
    MessageCr {
        msg: u32,
    },
    MessageEnd {
        msg: u32,
    },
    Deleted {
        msg: u32,
    },
    /// Range: the text after `+OK`.
    Ok {
        command: CommandKind,
    },
    Closed,
    /// Range: the whole status line (code and text are parsed again).
    Error {
        command: CommandKind,
        msg: Option<u32>,
    },
    Invalid {
        command: CommandKind,
        msg: Option<u32>,
        reason: InvalidReply,
    },
}

/// A client event that borrows nothing: its kind and numbers, and where its bytes are
/// in the input it was decoded from. `Copy`, so an async loop can keep it across
/// `.await` points and turn it into a [`ClientEvent`] with [`event`](Self::event)
/// when the borrow of its receive buffer is free again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventToken {
    shape: Shape,
    start: usize,
    end: usize,
}

impl EventToken {
    pub(super) fn new(shape: Shape, input: &[u8], part: &[u8]) -> Self {
        let start = if part.is_empty() {
            None
        } else {
            offset_in(input, part)
        };
        let (start, end) = start.map_or((0, 0), |s| (s, s + part.len()));
        EventToken { shape, start, end }
    }

    /// The event, borrowing from `input`: the same bytes that were passed to
    /// [`Client::handle_input_token`] (later bytes may have been appended).
    ///
    /// [`Client::handle_input_token`]: crate::client::Client::handle_input_token
    pub fn event(self, input: &[u8]) -> ClientEvent<'_> {
        let bytes = input.get(self.start..self.end).unwrap_or(&[]);
        match self.shape {
            Shape::NeedCredentials => ClientEvent::NeedCredentials { challenge: bytes },
            Shape::Greeting { apop } => ClientEvent::Greeting { text: bytes, apop },
            Shape::Capability => ClientEvent::Capability(Capability::parse(bytes)),
            Shape::CapabilitiesEnd => ClientEvent::CapabilitiesEnd,
            Shape::StartTls => ClientEvent::StartTls,
            Shape::LoggedIn => ClientEvent::LoggedIn,
            Shape::Stat(stat) => ClientEvent::Stat(stat),
            Shape::List(entry) => ClientEvent::List(entry),
            Shape::ListEnd => ClientEvent::ListEnd,
            Shape::Uidl { msg } => ClientEvent::Uidl(UidlEntry { msg, uid: bytes }),
            Shape::UidlEnd => ClientEvent::UidlEnd,
            Shape::Lang => ClientEvent::Lang(LangEntry::parse(bytes).unwrap_or(LangEntry {
                tag: bytes,
                description: &[],
            })),
            Shape::LangEnd => ClientEvent::LangEnd,
            Shape::MessageStart { msg } => ClientEvent::MessageStart { msg },
            Shape::MessageData { msg } => ClientEvent::MessageData { msg, data: bytes },
            Shape::MessageCr { msg } => ClientEvent::MessageData { msg, data: b"\r" },
            Shape::MessageEnd { msg } => ClientEvent::MessageEnd { msg },
            Shape::Deleted { msg } => ClientEvent::Deleted { msg },
            Shape::Ok { command } => ClientEvent::Ok {
                command,
                text: bytes,
            },
            Shape::Closed => ClientEvent::Closed,
            Shape::Invalid {
                command,
                msg,
                reason,
            } => ClientEvent::Invalid {
                command,
                msg,
                reason,
            },
            Shape::Error { command, msg } => {
                let (code, text) =
                    StatusLine::parse(bytes).map_or((None, bytes), |s| (s.code, s.text));
                ClientEvent::Error {
                    command,
                    msg,
                    code,
                    text,
                }
            }
        }
    }

    /// [`ClientEvent::NeedCredentials`] for a command (no challenge).
    pub(crate) fn need_credentials() -> Self {
        EventToken {
            shape: Shape::NeedCredentials,
            start: 0,
            end: 0,
        }
    }

    /// True for [`ClientEvent::NeedCredentials`].
    pub fn is_need_credentials(self) -> bool {
        self.shape == Shape::NeedCredentials
    }

    /// The token's bytes in `input` (the challenge of `NeedCredentials`).
    pub(crate) fn bytes(self, input: &[u8]) -> &[u8] {
        input.get(self.start..self.end).unwrap_or(&[])
    }

    /// True for [`ClientEvent::MessageData`] (the driver uses it to hand out body
    /// bytes without parsing anything).
    pub fn is_message_data(self) -> bool {
        matches!(
            self.shape,
            Shape::MessageData { .. } | Shape::MessageCr { .. }
        )
    }
}
