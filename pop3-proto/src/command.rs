//! Client commands (RFC 1939, 2449, 5034, 2595, 6856) and the lines a client sends
//! inside an `AUTH` exchange.
//!
//! Parsing is what a server does with a received line; encoding is what a client does
//! before sending. Both sides refuse what could break framing: the encoder rejects CR,
//! LF and NUL in any argument (command injection) and lines over
//! [`MAX_COMMAND_LINE`] octets.
//!
//! This file holds the types, their encoders and the octet classes both sides
//! check with; [`Command::parse`] and [`SaslResponse::parse`] are defined with
//! their rules in the crate's `nom` grammar, which builds these types.

use core::fmt;

use crate::encode::{is_line_breaking, EncodeError, Writer};
use crate::limits::MAX_COMMAND_LINE;

/// One POP3 command, borrowing its arguments from the line it was parsed from (or
/// from the caller, when built to be sent).
///
/// Message numbers are `u32`; whether a number names an existing, undeleted message
/// is for the server state machine to decide, so `RETR 0` parses.
///
/// `Debug` prints arguments as byte strings, and the password of `PASS`, the
/// digest of `APOP` and the initial response of `AUTH` as `<redacted N bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `USER name` (RFC 1939): the mailbox name for a following `PASS`.
    User(&'a [u8]),
    /// `PASS string` (RFC 1939): the password; it may contain spaces.
    Pass(&'a [u8]),
    /// `APOP name digest` (RFC 1939): login with the MD5 digest of greeting timestamp and secret.
    Apop {
        /// The mailbox name.
        name: &'a [u8],
        /// 32 lower-case hex digits (checked by the server, not by the parser).
        digest: &'a [u8],
    },
    /// `AUTH [mechanism [initial-response]]` (RFC 5034).
    ///
    /// A bare `AUTH` (no mechanism) is the pre-standard probe some clients send to list
    /// mechanisms; its reply is a multi-line listing.
    Auth {
        /// The SASL mechanism name, as sent (case is not normalised).
        mechanism: Option<&'a str>,
        /// The initial response, still base64-encoded; `=` stands for an empty one.
        initial_response: Option<&'a [u8]>,
    },
    /// `STLS` (RFC 2595): start TLS on this connection.
    Stls,
    /// `CAPA` (RFC 2449): list capabilities.
    Capa,
    /// `UTF8` (RFC 6856): enter UTF-8 mode.
    Utf8,
    /// `LANG [tag]` (RFC 6856): list languages (no tag) or choose one (`*` = server default).
    Lang(Option<&'a [u8]>),
    /// `STAT` (RFC 1939): message count and total size.
    Stat,
    /// `LIST [msg]` (RFC 1939): scan listing of all messages or of one.
    List(Option<u32>),
    /// `RETR msg` (RFC 1939): the whole message.
    Retr(u32),
    /// `DELE msg` (RFC 1939): mark a message deleted (applied at UPDATE).
    Dele(u32),
    /// `NOOP` (RFC 1939).
    Noop,
    /// `RSET` (RFC 1939): unmark all messages marked deleted.
    Rset,
    /// `TOP msg n` (RFC 1939): the headers and the first `n` body lines.
    Top {
        /// The message number.
        msg: u32,
        /// How many body lines to send after the headers. RFC 1939 allows any
        /// non-negative number; a larger one than `u32::MAX` parses as `u32::MAX`,
        /// which asks for the whole message.
        lines: u32,
    },
    /// `UIDL [msg]` (RFC 1939): unique-id listing of all messages or of one.
    Uidl(Option<u32>),
    /// `QUIT` (RFC 1939): end the session; in TRANSACTION state this enters UPDATE.
    Quit,
}

impl fmt::Debug for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::debug::{opt, Bytes, Redacted};
        match *self {
            Command::User(name) => f.debug_tuple("User").field(&Bytes(name)).finish(),
            Command::Pass(p) => f.debug_tuple("Pass").field(&Redacted(p.len())).finish(),
            Command::Apop { name, digest } => f
                .debug_struct("Apop")
                .field("name", &Bytes(name))
                .field("digest", &Redacted(digest.len()))
                .finish(),
            Command::Auth {
                mechanism,
                initial_response,
            } => f
                .debug_struct("Auth")
                .field("mechanism", &mechanism)
                .field(
                    "initial_response",
                    &initial_response.map(|r| Redacted(r.len())),
                )
                .finish(),
            Command::Stls => f.write_str("Stls"),
            Command::Capa => f.write_str("Capa"),
            Command::Utf8 => f.write_str("Utf8"),
            Command::Lang(tag) => f.debug_tuple("Lang").field(&opt(tag)).finish(),
            Command::Stat => f.write_str("Stat"),
            Command::List(m) => f.debug_tuple("List").field(&m).finish(),
            Command::Retr(m) => f.debug_tuple("Retr").field(&m).finish(),
            Command::Dele(m) => f.debug_tuple("Dele").field(&m).finish(),
            Command::Noop => f.write_str("Noop"),
            Command::Rset => f.write_str("Rset"),
            Command::Top { msg, lines } => f
                .debug_struct("Top")
                .field("msg", &msg)
                .field("lines", &lines)
                .finish(),
            Command::Uidl(m) => f.debug_tuple("Uidl").field(&m).finish(),
            Command::Quit => f.write_str("Quit"),
        }
    }
}

/// The shape of the next reply, which only the command that caused it tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Expect {
    /// One status line (most commands, and the greeting).
    Status,
    /// A status line; after `+OK`, lines of a listing up to `.` (CAPA, LIST, UIDL, LANG).
    Listing,
    /// A status line; after `+OK`, a dot-stuffed message body up to `.` (RETR, TOP).
    Body,
    /// Inside AUTH: a `+ ` challenge or a final status line.
    Sasl,
}

/// Why a command line was refused. Each kind has a short [`text`](Self::text) a server
/// can put after `-ERR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CommandError {
    /// The line is empty.
    Empty,
    /// The keyword is not a command this crate knows.
    UnknownCommand,
    /// A required argument is missing.
    MissingArgument,
    /// More arguments than the command takes.
    TooManyArguments,
    /// A message number is not a decimal number that fits in 32 bits, or a line
    /// count is not a decimal number.
    InvalidNumber,
    /// An argument contains a forbidden byte (control characters, or an invalid
    /// mechanism name).
    InvalidArgument,
    /// The line is longer than the protocol limit; it was discarded.
    LineTooLong,
}

impl CommandError {
    /// A short human-readable reason, suitable after `-ERR `.
    pub fn text(&self) -> &'static str {
        match self {
            CommandError::Empty => "Empty command",
            CommandError::UnknownCommand => "Unknown command",
            CommandError::MissingArgument => "Missing argument",
            CommandError::TooManyArguments => "Too many arguments",
            CommandError::InvalidNumber => "Invalid number",
            CommandError::InvalidArgument => "Invalid argument",
            CommandError::LineTooLong => "Line too long",
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl core::error::Error for CommandError {}

/// Bytes allowed inside an argument (everything but SP and control characters).
pub(crate) fn is_arg_byte(b: u8) -> bool {
    b > 0x20 && b != 0x7f
}

/// Bytes allowed inside a PASS string: like [`is_arg_byte`], plus SP and HT.
pub(crate) fn is_pass_byte(b: u8) -> bool {
    is_arg_byte(b) || b == b' ' || b == b'\t'
}

/// RFC 5034 mechanism names: 1–20 of `A-Z 0-9 - _` (any case accepted on input).
pub(crate) fn is_mechanism_name(name: &[u8]) -> bool {
    (1..=20).contains(&name.len())
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

impl<'a> Command<'a> {
    /// The canonical (upper-case) keyword of this command.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop { .. } => "APOP",
            Command::Auth { .. } => "AUTH",
            Command::Stls => "STLS",
            Command::Capa => "CAPA",
            Command::Utf8 => "UTF8",
            Command::Lang(_) => "LANG",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Noop => "NOOP",
            Command::Rset => "RSET",
            Command::Top { .. } => "TOP",
            Command::Uidl(_) => "UIDL",
            Command::Quit => "QUIT",
        }
    }

    /// The shape of the server's reply to this command, for [`ResponseDecoder::expect`](crate::ResponseDecoder::expect).
    pub fn expect(&self) -> Expect {
        match self {
            Command::Capa | Command::List(None) | Command::Uidl(None) | Command::Lang(None) => {
                Expect::Listing
            }
            Command::Auth {
                mechanism: None, ..
            } => Expect::Listing,
            Command::Auth { .. } => Expect::Sasl,
            Command::Retr(_) | Command::Top { .. } => Expect::Body,
            _ => Expect::Status,
        }
    }

    /// Checks that the command can be encoded (see [`encode`](Self::encode)),
    /// without keeping the line.
    pub(crate) fn check(&self) -> Result<(), EncodeError> {
        let mut scratch = [0u8; MAX_COMMAND_LINE];
        self.encode(&mut scratch).map(|_| ())
    }

    /// Writes the command line, CRLF included, into `out` and returns its length.
    ///
    /// Fails with [`EncodeError::InvalidArgument`] when an argument is empty or
    /// contains a byte its field forbids (CR, LF, NUL always; SP everywhere but in
    /// `PASS`), and with [`EncodeError::LineTooLong`] past 255 octets.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        w.put(self.keyword().as_bytes())?;
        let arg = |w: &mut Writer<'_>, a: &[u8]| -> Result<(), EncodeError> {
            if a.is_empty() || !a.iter().all(|b| is_arg_byte(*b)) {
                return Err(EncodeError::InvalidArgument);
            }
            w.put(b" ")?;
            w.put(a)
        };
        let number = |w: &mut Writer<'_>, n: u32| -> Result<(), EncodeError> {
            w.put(b" ")?;
            w.put_u32(n)
        };
        match *self {
            Command::User(name) => arg(&mut w, name)?,
            Command::Pass(password) => {
                if password.is_empty()
                    || password.iter().any(|b| is_line_breaking(*b))
                    || !password.iter().all(|b| is_pass_byte(*b))
                {
                    return Err(EncodeError::InvalidArgument);
                }
                w.put(b" ")?;
                w.put(password)?;
            }
            Command::Apop { name, digest } => {
                arg(&mut w, name)?;
                arg(&mut w, digest)?;
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => match mechanism {
                Some(m) => {
                    if !is_mechanism_name(m.as_bytes()) {
                        return Err(EncodeError::InvalidArgument);
                    }
                    arg(&mut w, m.as_bytes())?;
                    if let Some(ir) = initial_response {
                        arg(&mut w, ir)?;
                    }
                }
                None if initial_response.is_some() => return Err(EncodeError::InvalidArgument),
                None => {}
            },
            Command::Lang(Some(tag)) => arg(&mut w, tag)?,
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n) => number(&mut w, n)?,
            Command::Top { msg, lines } => {
                number(&mut w, msg)?;
                number(&mut w, lines)?;
            }
            Command::Stls
            | Command::Capa
            | Command::Utf8
            | Command::Lang(None)
            | Command::Stat
            | Command::List(None)
            | Command::Noop
            | Command::Rset
            | Command::Uidl(None)
            | Command::Quit => {}
        }
        w.end_line(0, MAX_COMMAND_LINE)?;
        Ok(w.len())
    }
}

/// A line the client sends while an `AUTH` exchange is in progress (RFC 5034 §4).
/// `Debug` redacts the data: it carries credentials.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SaslResponse<'a> {
    /// A response to a challenge, still base64-encoded (may be empty).
    Data(&'a [u8]),
    /// `*`: the client cancels the exchange; the server must answer `-ERR`.
    Cancel,
}

impl fmt::Debug for SaslResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SaslResponse::Data(d) => f
                .debug_tuple("Data")
                .field(&crate::debug::Redacted(d.len()))
                .finish(),
            SaslResponse::Cancel => f.write_str("Cancel"),
        }
    }
}

// defmt as `Debug`: names as text, the password, the APOP digest, an initial
// response and SASL data by their length only.
#[cfg(feature = "defmt")]
impl defmt::Format for Command<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            Command::User(name) => defmt::write!(f, "User({=[u8]:a})", name),
            Command::Pass(p) => defmt::write!(f, "Pass(<redacted {=usize} bytes>)", p.len()),
            Command::Apop { name, digest } => defmt::write!(
                f,
                "Apop {{ name: {=[u8]:a}, digest: <redacted {=usize} bytes> }}",
                name,
                digest.len()
            ),
            Command::Auth {
                mechanism,
                initial_response,
            } => match initial_response {
                Some(r) => defmt::write!(
                    f,
                    "Auth {{ mechanism: {}, initial_response: <redacted {=usize} bytes> }}",
                    mechanism,
                    r.len()
                ),
                None => defmt::write!(f, "Auth {{ mechanism: {} }}", mechanism),
            },
            Command::Stls => defmt::write!(f, "Stls"),
            Command::Capa => defmt::write!(f, "Capa"),
            Command::Utf8 => defmt::write!(f, "Utf8"),
            Command::Lang(Some(tag)) => defmt::write!(f, "Lang({=[u8]:a})", tag),
            Command::Lang(None) => defmt::write!(f, "Lang"),
            Command::Stat => defmt::write!(f, "Stat"),
            Command::List(m) => defmt::write!(f, "List({})", m),
            Command::Retr(m) => defmt::write!(f, "Retr({=u32})", m),
            Command::Dele(m) => defmt::write!(f, "Dele({=u32})", m),
            Command::Noop => defmt::write!(f, "Noop"),
            Command::Rset => defmt::write!(f, "Rset"),
            Command::Top { msg, lines } => {
                defmt::write!(f, "Top {{ msg: {=u32}, lines: {=u32} }}", msg, lines)
            }
            Command::Uidl(m) => defmt::write!(f, "Uidl({})", m),
            Command::Quit => defmt::write!(f, "Quit"),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SaslResponse<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            SaslResponse::Data(d) => defmt::write!(f, "Data(<redacted {=usize} bytes>)", d.len()),
            SaslResponse::Cancel => defmt::write!(f, "Cancel"),
        }
    }
}

impl<'a> SaslResponse<'a> {
    /// Writes the line, CRLF included, into `out` and returns its length.
    ///
    /// `max_line` bounds the line (CRLF included); RFC 5034 sets none, so the caller
    /// chooses (see [`DEFAULT_MAX_SASL_LINE`](crate::limits::DEFAULT_MAX_SASL_LINE)).
    pub fn encode(&self, out: &mut [u8], max_line: usize) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        match *self {
            SaslResponse::Cancel => w.put(b"*")?,
            SaslResponse::Data(data) => {
                if data == b"*" || !data.iter().all(|b| is_arg_byte(*b)) {
                    return Err(EncodeError::InvalidArgument);
                }
                w.put(data)?;
            }
        }
        w.end_line(0, max_line)?;
        Ok(w.len())
    }
}
