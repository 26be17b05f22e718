//! RFC 1939 (POP3): status lines, the STAT / LIST / UIDL replies and their listing
//! lines, and the numbers in them.
//!
//! RFC 1939 gives these forms in prose (§3, §5, §7); the rule names below are the
//! ones its text uses (`status indicator`, `drop listing`, `scan listing`,
//! `unique-id listing`), written as ABNF in each doc.

use nom::branch::alt;
use nom::bytes::complete::tag_no_case;
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{eof, map_opt, opt, value};
use nom::sequence::terminated;
use nom::Parser;

use super::rfc2449::resp_code;
use super::{whole, word, Res};
use crate::response::code::ResponseCode;
use crate::response::listing::{ListEntry, ListingError, Stat, UidlEntry};
use crate::response::status::{Status, StatusLine};

/// `status = "+OK" / "-ERR"` (RFC 1939 §3; RFC 2449 §9), matched in any case
/// (`+ok` is accepted, see the README's policy table).
pub(crate) fn status(i: &[u8]) -> Res<'_, Status> {
    alt((
        value(Status::Ok, tag_no_case(&b"+OK"[..])),
        value(Status::Err, tag_no_case(&b"-ERR"[..])),
    ))
    .parse(i)
}

/// `single-line = status [SP text]` without its CRLF (RFC 2449 §9), where
/// `text` may start with `resp-code [SP]`:
///
/// ```text
/// single-line = status [WSP [resp-code [SP]] text]
/// ```
///
/// HTAB is accepted as well as SP after the indicator, and a bare `+OK` (RFC 1957)
/// has empty text. A `[` that does not open a well-formed `resp-code` is text.
pub(crate) fn single_line(i: &[u8]) -> Res<'_, StatusLine<'_>> {
    let (i, status) = terminated(
        status,
        alt((value((), eof), value((), one_of(&b" \t"[..])))),
    )
    .parse(i)?;
    let (text, code) = opt(resp_code_sp).parse(i)?;
    Ok((&text[text.len()..], StatusLine { status, code, text }))
}

/// A status line as [`StatusLine::parse`] reads it: `single-line`, or `None`.
pub(crate) fn status_line(line: &[u8]) -> Option<StatusLine<'_>> {
    single_line(line).ok().map(|(_, s)| s)
}

/// A response code at the start of a status line's text, and the text after it
/// (one SP dropped): `resp-code [SP]`.
pub(crate) fn resp_code_prefix(text: &[u8]) -> Option<(ResponseCode<'_>, &[u8])> {
    resp_code_sp(text).ok().map(|(rest, code)| (code, rest))
}

/// `resp-code [SP]`.
fn resp_code_sp(i: &[u8]) -> Res<'_, ResponseCode<'_>> {
    terminated(resp_code, opt(char(' '))).parse(i)
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

/// `scan-listing = msg SP size` (RFC 1939 §5, LIST).
pub(crate) fn scan_listing(line: &[u8]) -> Result<ListEntry, ListingError> {
    number_and_size(line).map(|(msg, size)| ListEntry { msg, size })
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
