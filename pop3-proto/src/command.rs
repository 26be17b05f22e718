//! Client commands (RFC 1939, 2449, 5034, 2595, 6856) and the lines a client sends
//! inside an `AUTH` exchange.
//!
//! Parsing is what a server does with a received line; encoding is what a client does
//! before sending. Both sides refuse what could break framing: the encoder rejects CR,
//! LF and NUL in any argument (command injection) and lines over
//! [`MAX_COMMAND_LINE`] octets.

use core::fmt;

use crate::codec::client::Expect;
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
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
fn is_arg_byte(b: u8) -> bool {
    b > 0x20 && b != 0x7f
}

/// Bytes allowed inside a PASS string: like [`is_arg_byte`], plus SP and HT.
fn is_pass_byte(b: u8) -> bool {
    is_arg_byte(b) || b == b' ' || b == b'\t'
}

/// RFC 5034 mechanism names: 1–20 of `A-Z 0-9 - _` (any case accepted on input).
pub(crate) fn is_mechanism_name(name: &[u8]) -> bool {
    (1..=20).contains(&name.len())
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// Parses a decimal number of at most 10 digits into a `u32`.
pub(crate) fn parse_u32(arg: &[u8]) -> Result<u32, CommandError> {
    if arg.is_empty() || !arg.iter().all(u8::is_ascii_digit) {
        return Err(CommandError::InvalidNumber);
    }
    arg.iter()
        .try_fold(0u32, |n, d| {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
        .ok_or(CommandError::InvalidNumber)
}

/// Parses a decimal number of any length, saturating at `u32::MAX` (a count, where
/// "more than there is" means "all").
fn parse_count(arg: &[u8]) -> Result<u32, CommandError> {
    if arg.is_empty() || !arg.iter().all(u8::is_ascii_digit) {
        return Err(CommandError::InvalidNumber);
    }
    Ok(arg.iter().fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    }))
}

/// Splits a line into SP-separated arguments (runs of SP or HT count as one).
struct Args<'a> {
    rest: &'a [u8],
}

impl<'a> Args<'a> {
    fn next_arg(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|b| *b != b' ' && *b != b'\t')?;
        let rest = &self.rest[start..];
        let end = rest
            .iter()
            .position(|b| *b == b' ' || *b == b'\t')
            .unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }

    fn required(&mut self) -> Result<&'a [u8], CommandError> {
        let arg = self.next_arg().ok_or(CommandError::MissingArgument)?;
        if arg.iter().all(|b| is_arg_byte(*b)) {
            Ok(arg)
        } else {
            Err(CommandError::InvalidArgument)
        }
    }

    fn optional(&mut self) -> Result<Option<&'a [u8]>, CommandError> {
        match self.required() {
            Ok(arg) => Ok(Some(arg)),
            Err(CommandError::MissingArgument) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn number(&mut self) -> Result<u32, CommandError> {
        parse_u32(self.required()?)
    }

    fn count(&mut self) -> Result<u32, CommandError> {
        parse_count(self.required()?)
    }

    fn optional_number(&mut self) -> Result<Option<u32>, CommandError> {
        self.optional()?.map(parse_u32).transpose()
    }

    /// Succeeds when nothing but white space is left.
    fn end(mut self) -> Result<(), CommandError> {
        match self.next_arg() {
            None => Ok(()),
            Some(_) => Err(CommandError::TooManyArguments),
        }
    }
}

impl<'a> Command<'a> {
    /// Parses one command line, without its line terminator.
    ///
    /// Keywords are matched case-insensitively. Arguments are separated by one or
    /// more spaces, and trailing white space is ignored (some clients send `LIST `),
    /// except for `PASS`, whose argument is the rest of the line verbatim so that
    /// passwords may contain (and end in) spaces.
    pub fn parse(line: &'a [u8]) -> Result<Command<'a>, CommandError> {
        if line.len() + 2 > MAX_COMMAND_LINE {
            return Err(CommandError::LineTooLong);
        }
        let kw_end = line
            .iter()
            .position(|b| *b == b' ' || *b == b'\t')
            .unwrap_or(line.len());
        let keyword = &line[..kw_end];
        let rest = &line[kw_end..];
        let mut args = Args { rest };
        if keyword.is_empty() {
            return Err(if line.iter().all(|b| *b == b' ' || *b == b'\t') {
                CommandError::Empty
            } else {
                CommandError::UnknownCommand
            });
        }
        let kw = |name: &str| keyword.eq_ignore_ascii_case(name.as_bytes());
        let command = if kw("USER") {
            Command::User(args.required()?)
        } else if kw("PASS") {
            // The separator is exactly one SP; everything after it is the password.
            let password = rest.get(1..).ok_or(CommandError::MissingArgument)?;
            if password.is_empty() {
                return Err(CommandError::MissingArgument);
            }
            if !password.iter().all(|b| is_pass_byte(*b)) {
                return Err(CommandError::InvalidArgument);
            }
            return Ok(Command::Pass(password));
        } else if kw("APOP") {
            Command::Apop {
                name: args.required()?,
                digest: args.required()?,
            }
        } else if kw("AUTH") {
            let mechanism = match args.optional()? {
                None => None,
                Some(m) if is_mechanism_name(m) => {
                    // Checked ASCII just above.
                    Some(core::str::from_utf8(m).map_err(|_| CommandError::InvalidArgument)?)
                }
                Some(_) => return Err(CommandError::InvalidArgument),
            };
            let initial_response = match mechanism {
                Some(_) => args.optional()?,
                None => None,
            };
            Command::Auth {
                mechanism,
                initial_response,
            }
        } else if kw("STLS") {
            Command::Stls
        } else if kw("CAPA") {
            Command::Capa
        } else if kw("UTF8") {
            Command::Utf8
        } else if kw("LANG") {
            Command::Lang(args.optional()?)
        } else if kw("STAT") {
            Command::Stat
        } else if kw("LIST") {
            Command::List(args.optional_number()?)
        } else if kw("RETR") {
            Command::Retr(args.number()?)
        } else if kw("DELE") {
            Command::Dele(args.number()?)
        } else if kw("NOOP") {
            Command::Noop
        } else if kw("RSET") {
            Command::Rset
        } else if kw("TOP") {
            Command::Top {
                msg: args.number()?,
                lines: args.count()?,
            }
        } else if kw("UIDL") {
            Command::Uidl(args.optional_number()?)
        } else if kw("QUIT") {
            Command::Quit
        } else {
            return Err(CommandError::UnknownCommand);
        };
        args.end()?;
        Ok(command)
    }

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
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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

impl<'a> SaslResponse<'a> {
    /// Parses a line received during an `AUTH` exchange (without its terminator).
    ///
    /// Base64 validity is checked by the mechanism, not here; trailing white space is
    /// not part of base64 and is dropped.
    pub fn parse(line: &'a [u8]) -> SaslResponse<'a> {
        let end = line
            .iter()
            .rposition(|b| *b != b' ' && *b != b'\t')
            .map_or(0, |i| i + 1);
        match &line[..end] {
            b"*" => SaslResponse::Cancel,
            data => SaslResponse::Data(data),
        }
    }

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
