//! RFC 1939 (POP3): commands, status lines, the STAT / LIST / UIDL replies and
//! their listing lines, and the numbers in them.
//!
//! RFC 1939 gives these forms in prose (§3, §5, §7); the rule names below are the
//! ones its text uses (`status indicator`, `drop listing`, `scan listing`,
//! `unique-id listing`), written as ABNF in each doc.

use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take, take_till, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{eof, map, map_opt, rest, value, verify};
use nom::sequence::{delimited, preceded};
use nom::Parser;

use super::{is_wsp, whole, word, wsp0, Res};
use crate::command::{is_arg_byte, is_pass_byte, Command, CommandError};
use crate::limits::{MAX_APOP_TIMESTAMP, MAX_COMMAND_LINE};
use crate::response::listing::{ListEntry, ListingError, Stat, UidlEntry};
use crate::response::status::Status;

/// `status = "+OK" / "-ERR"` (RFC 1939 §3; RFC 2449 §9), matched in any case
/// (`+ok` is accepted, see the README's policy table).
pub(crate) fn status(i: &[u8]) -> Res<'_, Status> {
    alt((
        value(Status::Ok, tag_no_case(&b"+OK"[..])),
        value(Status::Err, tag_no_case(&b"-ERR"[..])),
    ))
    .parse(i)
}

/// Folds decimal digits (any number of leading zeros) into a `u64`, `None` past
/// `u64::MAX`. One fold for both widths keeps one copy in the firmware.
#[inline(never)]
fn decimal(d: &[u8]) -> Option<u64> {
    d.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `msg = 1*DIGIT` fitting 32 bits (RFC 1939 §5: a message-number; also a count
/// and a LOGIN-DELAY or EXPIRE value). Leading zeros are allowed.
#[inline(never)]
pub(crate) fn number(i: &[u8]) -> Res<'_, u32> {
    map_opt(digit1, |d| u32::try_from(decimal(d)?).ok()).parse(i)
}

/// `size = 1*20DIGIT` fitting 64 bits (RFC 1939 §5: a size in octets).
pub(crate) fn size(i: &[u8]) -> Res<'_, u64> {
    map_opt(
        digit1,
        |d: &[u8]| if d.len() > 20 { None } else { decimal(d) },
    )
    .parse(i)
}

/// `msg SP size`, the shape of the drop and scan listings, read as two words
/// (extra white space and text after the size are tolerated); which field failed
/// becomes the [`ListingError`].
#[inline(never)]
fn number_and_size(i: &[u8]) -> Result<(u32, u64), ListingError> {
    let (i, n) = word(i).map_err(|_| ListingError::BadNumber)?;
    let n = whole(number, n).ok_or(ListingError::BadNumber)?;
    let size = word(i)
        .ok()
        .and_then(|(_, w)| whole(size, w))
        .ok_or(ListingError::BadSize)?;
    Ok((n, size))
}

/// `drop-listing = count SP size` (RFC 1939 §5, STAT), the text of its `+OK`.
pub(crate) fn drop_listing(text: &[u8]) -> Result<Stat, ListingError> {
    number_and_size(text).map(|(count, size)| Stat { count, size })
}

impl Stat {
    /// Parses the text of a `+OK` reply to STAT. Text after the size is ignored.
    pub fn parse(text: &[u8]) -> Result<Stat, ListingError> {
        drop_listing(text)
    }
}

/// `scan-listing = msg SP size` (RFC 1939 §5, LIST).
pub(crate) fn scan_listing(line: &[u8]) -> Result<ListEntry, ListingError> {
    number_and_size(line).map(|(msg, size)| ListEntry { msg, size })
}

impl ListEntry {
    /// Parses a scan listing `msg size`; extra white space and trailing text are
    /// tolerated (discouraged by RFC 1939 but seen in the wild).
    pub fn parse(line: &[u8]) -> Result<ListEntry, ListingError> {
        scan_listing(line)
    }
}

/// `unique-id-listing = msg SP unique-id` (RFC 1939 §7, UIDL), where
/// `unique-id = 1*70(%x21-7E)` is read as any `word` (servers send other octets;
/// a client only needs the id to be stable); extra white space and anything after
/// the id tolerated.
pub(crate) fn unique_id_listing(line: &[u8]) -> Result<UidlEntry<'_>, ListingError> {
    let (i, msg) = word(line).map_err(|_| ListingError::BadNumber)?;
    let msg = whole(number, msg).ok_or(ListingError::BadNumber)?;
    let (_, uid) = word(i).map_err(|_| ListingError::MissingField)?;
    Ok(UidlEntry { msg, uid })
}

impl<'a> UidlEntry<'a> {
    /// Parses `msg uid`. Several spaces before the uid are tolerated; anything after
    /// the uid is ignored.
    pub fn parse(line: &'a [u8]) -> Result<UidlEntry<'a>, ListingError> {
        unique_id_listing(line)
    }
}

/// `arg = 1*(%x21-7E / %x80-FF)`: an argument word with no control octet
/// (RFC 1939 §3: arguments are printable; 8-bit octets are let through for
/// RFC 6856's UTF-8 names). A missing one is [`CommandError::MissingArgument`],
/// a control octet [`CommandError::InvalidArgument`].
fn arg(i: &[u8]) -> Result<(&[u8], &[u8]), CommandError> {
    let (rest, w) = word(i).map_err(|_| CommandError::MissingArgument)?;
    verify(rest_all, |w: &[u8]| w.iter().all(|b| is_arg_byte(*b)))
        .parse(w)
        .map_err(|_| CommandError::InvalidArgument)?;
    Ok((rest, w))
}

/// The whole input (used to check a word already split off).
fn rest_all(i: &[u8]) -> Res<'_, &[u8]> {
    rest.parse(i)
}

/// `[SP arg]`: an optional argument.
fn opt_arg(i: &[u8]) -> Result<(&[u8], Option<&[u8]>), CommandError> {
    match arg(i) {
        Ok((rest, a)) => Ok((rest, Some(a))),
        Err(CommandError::MissingArgument) => Ok((i, None)),
        Err(e) => Err(e),
    }
}

/// `SP msg`: a message number that fits 32 bits.
fn msg_arg(i: &[u8]) -> Result<(&[u8], u32), CommandError> {
    let (rest, a) = arg(i)?;
    Ok((rest, whole(number, a).ok_or(CommandError::InvalidNumber)?))
}

/// `[SP msg]`.
fn opt_msg_arg(i: &[u8]) -> Result<(&[u8], Option<u32>), CommandError> {
    match opt_arg(i)? {
        (rest, Some(a)) => Ok((
            rest,
            Some(whole(number, a).ok_or(CommandError::InvalidNumber)?),
        )),
        (rest, None) => Ok((rest, None)),
    }
}

/// `count = 1*DIGIT`, saturating at `u32::MAX` (TOP's line count: "more than
/// there is" means "all").
fn count(i: &[u8]) -> Res<'_, u32> {
    map(digit1, |d: &[u8]| {
        d.iter().fold(0u32, |n, d| {
            n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
        })
    })
    .parse(i)
}

/// `keyword = 3*4VCHAR` as read: the octets up to the first `WSP`.
fn keyword(i: &[u8]) -> Res<'_, &[u8]> {
    take_till(is_wsp).parse(i)
}

/// `command = keyword *(SP arg)` without its CRLF (RFC 1939 §3, with the
/// commands of RFC 2449, RFC 2595, RFC 5034 and RFC 6856). Keywords in any case;
/// runs of `WSP` separate arguments and trailing white space is ignored (`LIST `),
/// except after `PASS`, whose `string` is the rest of the line after exactly one
/// SP, verbatim (RFC 1939 §7: passwords may contain spaces).
pub(crate) fn command(line: &[u8]) -> Result<Command<'_>, CommandError> {
    if line.len() + 2 > MAX_COMMAND_LINE {
        return Err(CommandError::LineTooLong);
    }
    let (args, kw) = keyword(line).map_err(|_| CommandError::UnknownCommand)?;
    if kw.is_empty() {
        return Err(match (wsp0, eof).parse(line) {
            Ok(_) => CommandError::Empty,
            Err(_) => CommandError::UnknownCommand,
        });
    }
    let is = |name: &[u8]| kw.eq_ignore_ascii_case(name);
    let (rest, command) = if is(b"USER") {
        let (rest, name) = arg(args)?;
        (rest, Command::User(name))
    } else if is(b"PASS") {
        return pass_string(args).map(Command::Pass);
    } else if is(b"APOP") {
        let (rest, name) = arg(args)?;
        let (rest, digest) = arg(rest)?;
        (rest, Command::Apop { name, digest })
    } else if is(b"AUTH") {
        super::rfc5034::auth_command(args)?
    } else if is(b"STLS") {
        (args, Command::Stls)
    } else if is(b"CAPA") {
        (args, Command::Capa)
    } else if is(b"UTF8") {
        (args, Command::Utf8)
    } else if is(b"LANG") {
        let (rest, tag) = opt_arg(args)?;
        (rest, Command::Lang(tag))
    } else if is(b"STAT") {
        (args, Command::Stat)
    } else if is(b"LIST") {
        let (rest, n) = opt_msg_arg(args)?;
        (rest, Command::List(n))
    } else if is(b"RETR") {
        let (rest, n) = msg_arg(args)?;
        (rest, Command::Retr(n))
    } else if is(b"DELE") {
        let (rest, n) = msg_arg(args)?;
        (rest, Command::Dele(n))
    } else if is(b"NOOP") {
        (args, Command::Noop)
    } else if is(b"RSET") {
        (args, Command::Rset)
    } else if is(b"TOP") {
        let (rest, msg) = msg_arg(args)?;
        let (rest, lines) = arg(rest)?;
        let lines = whole(count, lines).ok_or(CommandError::InvalidNumber)?;
        (rest, Command::Top { msg, lines })
    } else if is(b"UIDL") {
        let (rest, n) = opt_msg_arg(args)?;
        (rest, Command::Uidl(n))
    } else if is(b"QUIT") {
        (args, Command::Quit)
    } else {
        return Err(CommandError::UnknownCommand);
    };
    // Nothing but white space may follow the last argument.
    match word(rest) {
        Ok(_) => Err(CommandError::TooManyArguments),
        Err(_) => Ok(command),
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
        command(line)
    }
}

/// `SP string` after `PASS` (RFC 1939 §7): exactly one SP (or HTAB), then the
/// password, the rest of the line verbatim: 1 or more octets, none a control
/// octet but SP and HTAB.
fn pass_string(args: &[u8]) -> Result<&[u8], CommandError> {
    let (_, password) = preceded(take(1usize), rest_all)
        .parse(args)
        .map_err(|_| CommandError::MissingArgument)?;
    if password.is_empty() {
        return Err(CommandError::MissingArgument);
    }
    verify(rest_all, |p: &[u8]| p.iter().all(|b| is_pass_byte(*b)))
        .parse(password)
        .map_err(|_| CommandError::InvalidArgument)?;
    Ok(password)
}

/// An octet of a timestamp between its brackets: printable ASCII but `<` and `>`
/// (`%x21-3B / %x3D / %x3F-7E`).
fn is_timestamp_char(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && b != b'<' && b != b'>'
}

/// `timestamp = msg-id` (RFC 1939 §7: "The syntax of the timestamp corresponds to
/// the `msg-id' in [RFC822]"), `msg-id = "<" addr-spec ">"` (RFC 822 §6.1), read
/// as `"<" 1*(%x21-3B / %x3D / %x3F-7E) ">"` of at most [`MAX_APOP_TIMESTAMP`]
/// octets, brackets included: any printable ASCII between the brackets, no
/// `addr-spec` asked for (see [`apop_timestamp`](crate::apop_timestamp) for why).
/// Returns the timestamp, brackets included.
fn timestamp(i: &[u8]) -> Res<'_, &[u8]> {
    let (after, _) = delimited(char('<'), take_while1(is_timestamp_char), char('>')).parse(i)?;
    let stamp = &i[..i.len() - after.len()];
    if stamp.len() > MAX_APOP_TIMESTAMP {
        return Err(nom::Err::Error(()));
    }
    Ok((after, stamp))
}

/// `greeting-text = *(%x00-3B / %x3D-FF) timestamp *(%x00-3B / %x3D-FF)`: the text
/// of a greeting that offers APOP (RFC 1939 §7), with exactly one `<`, the one
/// that opens its timestamp; returns the timestamp. Another `<` anywhere makes
/// the greeting ambiguous, and `None`.
///
/// Not inlined: inside the client's reply handling, where its one caller is,
/// the rule inlined costs the USER/PASS firmware 116 bytes more than a call.
#[inline(never)]
pub(crate) fn greeting_text(text: &[u8]) -> Option<&[u8]> {
    let (_, (_, stamp, _)) = (
        take_till(|b| b == b'<'),
        timestamp,
        verify(rest, |r: &[u8]| !r.contains(&b'<')),
    )
        .parse(text)
        .ok()?;
    Some(stamp)
}
