//! RFC 5803 (SCRAM secrets in LDAP), §3: a stored SCRAM verifier in the
//! `authPassword` form of RFC 3112, and the same fields in Dovecot's form.
//!
//! RFC 5803 §3 gives the parts; RFC 3112 §2.2 joins them with `$` (its optional
//! spaces around `$` are not accepted):
//!
//! ```text
//! authPassword-value = scram-mech "$" scram-authInfo "$" scram-authValue
//! scram-authInfo     = iter-count ":" salt
//! scram-authValue    = stored-key ":" server-key
//! ```
//!
//! The salt and the keys are read as the octets up to the next separator; their
//! base64 and their lengths are checked by
//! [`ScramVerifier::parse`](crate::sasl::scram::ScramVerifier::parse), which
//! decodes them.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till};
use nom::character::complete::char;
use nom::combinator::{eof, opt, rest, verify};
use nom::sequence::{delimited, preceded, terminated};
use nom::Parser;

use super::rfc1939::number;
use super::Res;

/// The fields of a stored SCRAM verifier as written: the mechanism name, the
/// iteration count, and the salt and keys still in base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredVerifier<'a> {
    /// `SCRAM-SHA-1` or `SCRAM-SHA-256`.
    pub(crate) mech: &'a [u8],
    /// The iteration count (at least 1).
    pub(crate) iterations: u32,
    /// The salt, base64.
    pub(crate) salt: &'a [u8],
    /// StoredKey, base64.
    pub(crate) stored_key: &'a [u8],
    /// ServerKey, base64.
    pub(crate) server_key: &'a [u8],
}

/// `scram-mech = "SCRAM-SHA-1" / scram-mech-ext`, of which this crate knows
/// `"SCRAM-SHA-256"` (RFC 7677); matched in upper case only.
fn scram_mech(i: &[u8]) -> Res<'_, &[u8]> {
    alt((tag(&b"SCRAM-SHA-256"[..]), tag(&b"SCRAM-SHA-1"[..]))).parse(i)
}

/// `iter-count = %x31-39 *DIGIT`, read as `["+"] 1*DIGIT` fitting 32 bits and
/// not 0 (leading zeros and a `+` are accepted, as before this rule existed).
fn iter_count(i: &[u8]) -> Res<'_, u32> {
    verify(preceded(opt(char('+')), number), |n: &u32| *n > 0).parse(i)
}

/// `salt`, `stored-key`: a base64 value as read, the octets up to `sep`.
fn value_until(sep: u8) -> impl Fn(&[u8]) -> Res<'_, &[u8]> {
    move |i| take_till(|b| b == sep).parse(i)
}

/// The fields after `scram-mech`, separated by `auth_sep` (between the iteration
/// count and the salt, and between the keys) and `mid_sep` (between the salt and
/// StoredKey); ServerKey is the rest.
fn fields<'a>(
    mech: &'a [u8],
    auth_sep: u8,
    mid_sep: u8,
    i: &'a [u8],
) -> Res<'a, StoredVerifier<'a>> {
    let (i, iterations) = terminated(iter_count, char(char::from(auth_sep))).parse(i)?;
    let (i, salt) = terminated(value_until(mid_sep), char(char::from(mid_sep))).parse(i)?;
    let (i, stored_key) = terminated(value_until(auth_sep), char(char::from(auth_sep))).parse(i)?;
    let (i, server_key) = rest.parse(i)?;
    let verifier = StoredVerifier {
        mech,
        iterations,
        salt,
        stored_key,
        server_key,
    };
    Ok((i, verifier))
}

/// `authPassword-value = scram-mech "$" scram-authInfo "$" scram-authValue`,
/// that is `scram-mech "$" iter-count ":" salt "$" stored-key ":" server-key`
/// (RFC 5803 §3, RFC 3112 §2.2), as LDAP directories store it.
fn auth_password_value(i: &[u8]) -> Res<'_, StoredVerifier<'_>> {
    let (i, mech) = terminated(scram_mech, char('$')).parse(i)?;
    fields(mech, b':', b'$', i)
}

/// Dovecot's form of the same fields, as this crate's encoder writes them:
/// `"{" scram-mech "}" iter-count "," salt "," stored-key "," server-key`.
fn dovecot_value(i: &[u8]) -> Res<'_, StoredVerifier<'_>> {
    let (i, mech) = delimited(char('{'), scram_mech, char('}')).parse(i)?;
    fields(mech, b',', b',', i)
}

/// A stored verifier in either form, the whole input; `None` for anything else.
pub(crate) fn stored_verifier(text: &[u8]) -> Option<StoredVerifier<'_>> {
    terminated(alt((dovecot_value, auth_password_value)), eof)
        .parse(text)
        .ok()
        .map(|(_, v)| v)
}
