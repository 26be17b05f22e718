//! RFC 5802 (SCRAM), §7 formal syntax: the attributes of SCRAM messages, the
//! GS2 header of client-first, `saslname` escaping and the iteration count.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till};
use nom::character::complete::char;
use nom::combinator::{opt, value, verify};
use nom::number::complete::u8 as octet;
use nom::sequence::{preceded, separated_pair, terminated};
use nom::Parser;

use super::rfc1939::number;
use super::{whole, Res};

/// `attr-val = ALPHA "=" value`, with `value = *value-char` as read (an empty
/// value is kept: the caller decides whether it may be empty); returns the
/// attribute letter and the value.
fn attr_val(i: &[u8]) -> Res<'_, (u8, &[u8])> {
    separated_pair(
        verify(octet, u8::is_ascii_alphabetic),
        char('='),
        take_till(|b| b == b','),
    )
    .parse(i)
}

/// The value of attribute `key` in a message of `attr-val *("," attr-val)`
/// (client-first-message-bare, server-first-message, client-final-message,
/// server-final-message): the first `attr-val` with that letter. Elements that
/// are not `attr-val`s (the GS2 header's empty authzid) are skipped, as before.
pub(crate) fn attribute(msg: &[u8], key: u8) -> Option<&[u8]> {
    let mut rest = msg;
    loop {
        let (after, element) = take_till::<_, _, ()>(|b| b == b',').parse(rest).ok()?;
        if let Ok((b"", (k, v))) = attr_val(element) {
            if k == key {
                return Some(v);
            }
        }
        rest = match after {
            [b',', tail @ ..] => tail,
            _ => return None,
        };
    }
}

/// `iteration-count = posit-number` (the `i=` value), read as `["+"] number`
/// (the `+` was accepted before and still is).
pub(crate) fn iteration_count(i: &[u8]) -> Option<u32> {
    whole(signed_number, i)
}

fn signed_number(i: &[u8]) -> Res<'_, u32> {
    preceded(opt(char('+')), number).parse(i)
}

// Octets are taken with `nom::number::complete::u8`, not `satisfy`: on `&[u8]`,
// nom 8's `satisfy` advances by the UTF-8 length of the octet read as a char, two
// for 0x80-0xFF, and panics at the end of the input (found by the
// `client_first_message` property test).

/// `saslname = 1*(value-safe-char / "=2C" / "=3D")`: one octet, unescaped
/// (`=2C` is `,`, `=3D` is `=`, any other `=` fails). The SCRAM code unescapes a
/// whole name with it, octet by octet, into its own bounded buffer.
pub(crate) fn saslname_char(i: &[u8]) -> Res<'_, u8> {
    alt((
        value(b',', tag(&b"=2C"[..])),
        value(b'=', tag(&b"=3D"[..])),
        verify(octet, |b| *b != b'='),
    ))
    .parse(i)
}

/// `gs2-header = gs2-cbind-flag "," [ authzid ] ","` at the start of
/// client-first-message; returns the flag, the authzid element as sent (empty,
/// or `a=saslname`) and client-first-message-bare. The flag and authzid are
/// checked by the caller (their errors depend on the server's binding).
pub(crate) fn gs2_header(message: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let field = |i| take_till::<_, _, ()>(|b| b == b',').parse(i);
    let (bare, (flag, _, authzid, _)) = (field, char(','), field, char(',')).parse(message).ok()?;
    Some((flag, authzid, bare))
}

/// `authzid = "a=" saslname` (the element after the flag, non-empty).
pub(crate) fn authzid(element: &[u8]) -> Option<&[u8]> {
    preceded(tag::<_, _, ()>(&b"a="[..]), take_till(|_| false))
        .parse(element)
        .ok()
        .map(|(_, name)| name)
}

/// `username = "n=" saslname` at the start of client-first-message-bare, up to
/// the next `,` (which must follow).
pub(crate) fn username(bare: &[u8]) -> Option<&[u8]> {
    terminated(
        preceded(tag::<_, _, ()>(&b"n="[..]), take_till(|b| b == b',')),
        char(','),
    )
    .parse(bare)
    .ok()
    .map(|(_, name)| name)
}
