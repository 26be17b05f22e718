//! The formal syntax, one `nom` parser per rule, one module per RFC.
//!
//! As in imap-codec, each function is named after the ABNF rule it parses and its
//! doc quotes the rule, so a reviewer can check the code against the RFC rule by
//! rule. Where this crate is more tolerant than the RFC on input (the policy table in
//! the README), the doc says how and the rule's name keeps the RFC's.
//!
//! Everything works on `&[u8]` (lines are octets, not UTF-8), in `complete` mode
//! (the codecs hand over whole lines: framing is theirs), with `()` as the error
//! type: no heap, no error positions kept.
//!
//! The grammar stands above the types it builds ([`Command`](crate::Command),
//! [`StatusLine`](crate::StatusLine), the listings, ...), whose files hold the
//! types and their encoders and never import the grammar. Each public `parse`
//! entry point is therefore an `impl` block here, beside the rule it calls
//! ([`Command::parse`](crate::Command::parse) beside `command`), mapping a failure
//! onto the type's own error enum. The octet classes that the encoders check
//! with (`is_arg_byte`, `is_rchar`, ...) live with those types, below, and the
//! grammar reads with the same ones.
//!
//! Body framing is not a grammar and stays in the `memchr`-based
//! [`BodyDecoder`](crate::BodyDecoder).

pub(crate) mod rfc1939;
pub(crate) mod rfc2449;
pub(crate) mod rfc5034;
pub(crate) mod rfc5802;
pub(crate) mod rfc5803;
pub(crate) mod rfc6856;

use nom::bytes::complete::{take_while, take_while1};
use nom::combinator::eof;
use nom::sequence::{preceded, terminated};
use nom::Parser;

/// What every rule returns: the rest of the input and the value, or `()`.
pub(crate) type Res<'a, O> = nom::IResult<&'a [u8], O, ()>;

/// `WSP = SP / HTAB` (RFC 5234 core rule).
pub(crate) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `*WSP`.
pub(crate) fn wsp0(i: &[u8]) -> Res<'_, &[u8]> {
    take_while(is_wsp).parse(i)
}

/// `*WSP word`, `word = 1*(%x00-08 / %x0A-1F / %x21-FF)`: the next run of octets
/// that are not white space. Listing and CAPA lines are read as such words
/// (extra white space tolerated); each field's own rule is then applied to its
/// whole word with [`whole`]. One function for every field keeps one copy of it
/// in the firmware.
#[inline(never)]
pub(crate) fn word(i: &[u8]) -> Res<'_, &[u8]> {
    preceded(wsp0, take_while1(|b: u8| !is_wsp(b))).parse(i)
}

/// Applies `rule` to a whole word: `7x` is not a `number`.
/// (A function pointer, not a generic parser: one copy per output type in the
/// firmware, not one per call site.)
pub(crate) fn whole<O>(rule: fn(&[u8]) -> Res<'_, O>, word: &[u8]) -> Option<O> {
    terminated(rule, eof).parse(word).ok().map(|(_, o)| o)
}

/// The input without `WSP` at either end (the tolerant "rest of the line").
pub(crate) fn trim_wsp(s: &[u8]) -> &[u8] {
    crate::response::trim(s)
}
