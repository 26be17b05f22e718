//! RFC 5034 (POP3 SASL), §4 formal syntax: the `AUTH` command's arguments and the
//! client's lines inside an exchange.

use nom::bytes::complete::{tag, take_while_m_n};
use nom::combinator::{eof, map, rest};
use nom::sequence::terminated;
use nom::Parser;

use super::{is_wsp, word, Res};
use crate::command::{is_arg_byte, Command, CommandError, SaslResponse};

/// `sasl-mech = 1*20mech-char`, `mech-char = UPPER-ALPHA / DIGIT / "-" / "_"`
/// (RFC 4422 via RFC 5034 §4), any case accepted on input.
pub(crate) fn sasl_mech(i: &[u8]) -> Res<'_, &[u8]> {
    take_while_m_n(1, 20, |b: u8| {
        b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
    })
    .parse(i)
}

/// The arguments of `auth-command = "AUTH" SP sasl-mech [SP initial-response]`
/// (RFC 5034 §4), after the keyword; also the pre-standard bare `AUTH` (no
/// mechanism, a request for the list). `initial-response = base64 / "="` is kept
/// as sent (the mechanism checks the base64).
pub(crate) fn auth_command(args: &[u8]) -> Result<(&[u8], Command<'_>), CommandError> {
    let (rest, mech) = match word(args) {
        Err(_) => {
            return Ok((
                args,
                Command::Auth {
                    mechanism: None,
                    initial_response: None,
                },
            ))
        }
        Ok(found) => found,
    };
    if !mech.iter().all(|b| is_arg_byte(*b)) {
        return Err(CommandError::InvalidArgument);
    }
    let (_, mech) = terminated(sasl_mech, eof)
        .parse(mech)
        .map_err(|_| CommandError::InvalidArgument)?;
    // Checked ASCII by sasl-mech.
    let mechanism = core::str::from_utf8(mech).map_err(|_| CommandError::InvalidArgument)?;
    let (rest, initial_response) = match word(rest) {
        Err(_) => (rest, None),
        Ok((_, ir)) if !ir.iter().all(|b| is_arg_byte(*b)) => {
            return Err(CommandError::InvalidArgument)
        }
        Ok((after, ir)) => (after, Some(ir)),
    };
    Ok((
        rest,
        Command::Auth {
            mechanism: Some(mechanism),
            initial_response,
        },
    ))
}

/// `auth-response = *base64 / "*"` without its CRLF (RFC 5034 §4): `*` cancels
/// the exchange, anything else is the still-encoded response (base64 validity is
/// the mechanism's to check). Trailing white space is not part of base64 and is
/// dropped.
pub(crate) fn auth_response(line: &[u8]) -> SaslResponse<'_> {
    let end = line.len() - line.iter().rev().take_while(|b| is_wsp(**b)).count();
    let line = &line[..end];
    let cancel = map(terminated(tag::<_, _, ()>(&b"*"[..]), eof), |_| {
        SaslResponse::Cancel
    });
    let data = map(rest, SaslResponse::Data);
    nom::branch::alt((cancel, data))
        .parse(line)
        .map_or(SaslResponse::Data(line), |(_, r)| r)
}

impl<'a> SaslResponse<'a> {
    /// Parses a line received during an `AUTH` exchange (without its terminator).
    ///
    /// Base64 validity is checked by the mechanism, not here; trailing white space is
    /// not part of base64 and is dropped.
    pub fn parse(line: &'a [u8]) -> SaslResponse<'a> {
        auth_response(line)
    }
}
