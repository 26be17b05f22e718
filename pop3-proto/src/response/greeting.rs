//! The server greeting and its APOP timestamp (RFC 1939 §7).

/// Finds the APOP timestamp (`<...>`, brackets included) in a greeting's text.
///
/// APOP is based on MD5 and broken since 2007 (CVE-2007-1558), so the timestamp is
/// validated strictly: msg-id syntax, printable ASCII, exactly one `@`, no spaces or
/// brackets inside. A greeting without a valid timestamp means "no APOP".
pub fn apop_timestamp(text: &[u8]) -> Option<&[u8]> {
    let start = text.iter().position(|b| *b == b'<')?;
    let len = text[start..].iter().position(|b| *b == b'>')?;
    let stamp = &text[start..=start + len];
    let inner = &stamp[1..stamp.len() - 1];
    let valid = !inner.is_empty()
        && inner
            .iter()
            .all(|b| (0x21..=0x7e).contains(b) && *b != b'<')
        && inner.iter().filter(|b| **b == b'@').count() == 1
        && inner.first() != Some(&b'@')
        && inner.last() != Some(&b'@');
    valid.then_some(stamp)
}
