//! The server greeting and its APOP timestamp (RFC 1939 §7).
//!
//! The one entry point of `response` that stands above the grammar: a greeting is
//! a status line, and finding its timestamp is the grammar's `greeting-text` rule.

/// Finds the APOP timestamp (`<...>`, brackets included) in a greeting's text.
///
/// The policy, chosen on purpose:
///
/// - The timestamp runs from the first `<` to the next `>`, with 1 or more octets
///   between them, all printable ASCII (0x21–0x7E: no space, no control character,
///   no 8-bit octet, no second `<`), [`MAX_APOP_TIMESTAMP`](crate::limits::MAX_APOP_TIMESTAMP) octets at most in all.
/// - At most one per greeting: another `<` after it makes the greeting ambiguous
///   (which one would the server hash?), so there is no APOP.
/// - The msg-id syntax RFC 1939 asks for (`<process-ID.clock@hostname>`) is *not*
///   required: test servers and clients in use send `<timestamp>` (Python's
///   poplib tests) or `<a>` (K-9 Mail's tests), and every peer computes the digest
///   over whatever is between and including the brackets, so the `@` adds nothing.
///
/// APOP is based on MD5 and broken since 2007 (CVE-2007-1558: a server, or anyone
/// on the path, chooses timestamps that collide to recover the password). That
/// attack needs timestamps carrying arbitrary octets; printable ASCII of bounded
/// length is what clients adopted to stop it, and what is kept here. A greeting
/// without a valid timestamp means "no APOP".
pub fn apop_timestamp(text: &[u8]) -> Option<&[u8]> {
    crate::grammar::rfc1939::greeting_text(text)
}
