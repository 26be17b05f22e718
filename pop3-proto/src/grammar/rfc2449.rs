//! RFC 2449 (POP3 extension mechanism), §9 formal syntax: `resp-code` and the
//! lines of a CAPA reply (`capability`, `capa-tag`, `param`), with the capabilities
//! of RFC 2449 §6, RFC 2595, RFC 5034 and RFC 6856 read into [`Capability`].

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::char;
use nom::combinator::{eof, map};
use nom::multi::many0_count;
use nom::sequence::{delimited, preceded, terminated};
use nom::Parser;

use super::rfc1939::number;
use super::{trim_wsp, whole, word, Res};
use crate::response::capability::{Capability, Expire, SaslMechanisms};
use crate::response::code::ResponseCode;

/// `rchar = %x21-2E / %x30-5C / %x5E-7E` (any VCHAR but `/` and `]`).
pub(crate) fn is_rchar(b: u8) -> bool {
    matches!(b, 0x21..=0x2e | 0x30..=0x5c | 0x5e..=0x7e)
}

/// `resp-level = 1*rchar`.
fn resp_level(i: &[u8]) -> Res<'_, &[u8]> {
    take_while1(is_rchar).parse(i)
}

/// `resp-level *("/" resp-level)`: the text between the brackets.
pub(crate) fn resp_levels(i: &[u8]) -> Res<'_, &[u8]> {
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

/// True when `raw` is `resp-level *("/" resp-level)` and nothing else.
pub(crate) fn is_resp_levels(raw: &[u8]) -> bool {
    terminated(resp_levels, eof).parse(raw).is_ok()
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
