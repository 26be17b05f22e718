//! RFC 2449 (POP3 extension mechanism), §9 formal syntax: `resp-code` and the
//! lines of a CAPA reply (`capability`, `capa-tag`, `param`), with the capabilities
//! of RFC 2449 §6, RFC 2595, RFC 5034 and RFC 6856 read into [`Capability`].

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{char, one_of};
use nom::combinator::{eof, map, opt, value};
use nom::multi::many0_count;
use nom::sequence::{delimited, preceded, terminated};
use nom::Parser;

use super::rfc1939::{number, status};
use super::{trim_wsp, whole, word, Res};
use crate::response::capability::{Capability, Expire, SaslMechanisms};
use crate::response::code::{is_rchar, ResponseCode};
use crate::response::status::StatusLine;

/// `resp-level = 1*rchar`.
fn resp_level(i: &[u8]) -> Res<'_, &[u8]> {
    take_while1(is_rchar).parse(i)
}

/// `resp-level *("/" resp-level)`: the text between the brackets.
fn resp_levels(i: &[u8]) -> Res<'_, &[u8]> {
    // What `recognize` does, without running the rule a second time in nom's
    // "check" mode (a second copy of it in the firmware).
    let (rest, _) = (resp_level, many0_count(preceded(char('/'), resp_level))).parse(i)?;
    Ok((rest, &i[..i.len() - rest.len()]))
}

/// `resp-code = "[" resp-level *("/" resp-level) "]"`. Known codes are matched in
/// any case on their leading levels; deeper unknown levels are ignored
/// (`[SYS/TEMP/X]` is [`ResponseCode::SysTemp`]).
pub(crate) fn resp_code(i: &[u8]) -> Res<'_, ResponseCode<'_>> {
    let (rest, levels) = delimited(char('['), resp_levels, char(']')).parse(i)?;
    let code = match known_code(levels) {
        Some(code) => code,
        // rchar is ASCII, so this cannot fail.
        None => ResponseCode::Other(core::str::from_utf8(levels).map_err(|_| nom::Err::Error(()))?),
    };
    Ok((rest, code))
}

/// The codes this crate names, by their leading levels (RFC 2449 §8, RFC 3206,
/// RFC 6856), in any case.
const KNOWN_CODES: [(&[u8], ResponseCode<'static>); 6] = [
    (b"IN-USE", ResponseCode::InUse),
    (b"LOGIN-DELAY", ResponseCode::LoginDelay),
    (b"SYS/TEMP", ResponseCode::SysTemp),
    (b"SYS/PERM", ResponseCode::SysPerm),
    (b"AUTH", ResponseCode::Auth),
    (b"UTF8", ResponseCode::Utf8),
];

/// `known-code ("/" / end)`: the leading levels of a known code, ended by another
/// level or by the end; unknown deeper levels are ignored (RFC 2449 §8).
fn known_code(levels: &[u8]) -> Option<ResponseCode<'static>> {
    KNOWN_CODES.iter().find_map(|(name, code)| {
        terminated(tag_no_case(*name), level_end)
            .parse(levels)
            .ok()
            .map(|_| *code)
    })
}

/// `"/" / end`: where a level ends.
fn level_end(i: &[u8]) -> Res<'_, &[u8]> {
    alt((eof, tag(&b"/"[..]))).parse(i)
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

impl<'a> StatusLine<'a> {
    /// Parses a status line without its terminator.
    ///
    /// The indicator is matched case-insensitively and may be followed by nothing
    /// (a bare `+OK`, RFC 1957) or by white space and text. Returns `None` when the line
    /// is not a status line.
    pub fn parse(line: &'a [u8]) -> Option<StatusLine<'a>> {
        status_line(line)
    }
}

/// A response code at the start of a status line's text, and the text after it
/// (one SP dropped): `resp-code [SP]`.
pub(crate) fn resp_code_prefix(text: &[u8]) -> Option<(ResponseCode<'_>, &[u8])> {
    resp_code_sp(text).ok().map(|(rest, code)| (code, rest))
}

impl<'a> ResponseCode<'a> {
    /// Parses a response code at the start of `text`; returns it and the text after it
    /// (one following space dropped). Text that does not start with a well-formed code
    /// gives `None`, and the caller keeps the whole text.
    pub fn parse_prefix(text: &'a [u8]) -> Option<(ResponseCode<'a>, &'a [u8])> {
        resp_code_prefix(text)
    }
}

/// `resp-code [SP]`.
fn resp_code_sp(i: &[u8]) -> Res<'_, ResponseCode<'_>> {
    terminated(resp_code, opt(char(' '))).parse(i)
}

/// `["USER"]`, the per-user flag after LOGIN-DELAY, EXPIRE and UTF8
/// (RFC 2449 §6.5, §6.7; RFC 6856 §2): the rest of the line is empty or `USER`.
fn user_flag(params: &[u8]) -> Option<bool> {
    match trim_wsp(params) {
        b"" => Some(false),
        // The whole rest is the token `"USER"`, any case.
        p => p.eq_ignore_ascii_case(b"USER").then_some(true),
    }
}

/// `expire-policy = "NEVER" / number` (RFC 2449 §6.7).
fn expire_policy(i: &[u8]) -> Res<'_, Expire> {
    alt((
        map(tag_no_case(&b"NEVER"[..]), |_| Expire::Never),
        map(number, Expire::Days),
    ))
    .parse(i)
}

/// `capability = capa-tag *(SP param)` without its CRLF (RFC 2449 §9). Never
/// fails: a line whose tag is unknown, or whose parameters a known tag does not
/// take, is [`Capability::Other`] with the tag and the trimmed parameters.
pub(crate) fn capability(line: &[u8]) -> Capability<'_> {
    // `capa-tag = 1*cchar` as read: one word, any octets but `WSP` (a `.` or an
    // 8-bit octet in an unknown tag is kept, never refused).
    let (tag, params) = match word(line) {
        Ok((rest, tag)) => (tag, trim_wsp(rest)),
        Err(_) => (&line[..0], &line[..0]),
    };
    let is = |name: &[u8]| tag.eq_ignore_ascii_case(name);
    let other = Capability::Other { tag, params };
    let flag = |cap| if params.is_empty() { cap } else { other };
    if is(b"TOP") {
        flag(Capability::Top)
    } else if is(b"USER") {
        flag(Capability::User)
    } else if is(b"SASL") {
        Capability::Sasl(SaslMechanisms::new(params))
    } else if is(b"RESP-CODES") {
        flag(Capability::RespCodes)
    } else if is(b"PIPELINING") {
        flag(Capability::Pipelining)
    } else if is(b"UIDL") {
        flag(Capability::Uidl)
    } else if is(b"STLS") {
        flag(Capability::Stls)
    } else if is(b"LANG") {
        flag(Capability::Lang)
    } else if is(b"AUTH-RESP-CODE") {
        flag(Capability::AuthRespCode)
    } else if is(b"IMPLEMENTATION") {
        Capability::Implementation(params)
    } else if is(b"UTF8") {
        user_flag(params).map_or(other, |user| Capability::Utf8 { user })
    } else if is(b"LOGIN-DELAY") {
        // `"LOGIN-DELAY" SP number [SP "USER"]` (RFC 2449 §6.5).
        match word(params).map(|(rest, w)| (rest, whole(number, w))) {
            Ok((rest, Some(seconds))) => user_flag(rest).map_or(other, |per_user| {
                Capability::LoginDelay { seconds, per_user }
            }),
            _ => other,
        }
    } else if is(b"EXPIRE") {
        // `"EXPIRE" SP expire-policy [SP "USER"]` (RFC 2449 §6.7).
        match word(params).map(|(rest, w)| (rest, whole(expire_policy, w))) {
            Ok((rest, Some(policy))) => {
                user_flag(rest).map_or(other, |per_user| Capability::Expire { policy, per_user })
            }
            _ => other,
        }
    } else {
        other
    }
}

impl<'a> Capability<'a> {
    /// Parses one line of a CAPA listing (without its terminator). Tags are
    /// case-insensitive. Never fails: anything unrecognised is [`Capability::Other`].
    pub fn parse(line: &'a [u8]) -> Capability<'a> {
        capability(line)
    }
}
