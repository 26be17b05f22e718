//! RFC 6856 (POP3 support for UTF-8): the lines of the `LANG` listing.

use super::{trim_wsp, word};
use crate::response::listing::{LangEntry, ListingError};

/// A line of the LANG listing (RFC 6856 §3), `language-tag SP description`,
/// without its CRLF: the tag, then its description with white space trimmed (may
/// be empty; the separator may be any `WSP`). Only a missing tag is refused.
pub(crate) fn language_listing(line: &[u8]) -> Result<LangEntry<'_>, ListingError> {
    // `language-tag` (RFC 5646) as read: one word, any octets but `WSP`.
    let (description, tag) = word(line).map_err(|_| ListingError::MissingField)?;
    Ok(LangEntry {
        tag,
        description: trim_wsp(description),
    })
}

impl<'a> LangEntry<'a> {
    /// Parses one line of a LANG listing.
    pub fn parse(line: &'a [u8]) -> Result<LangEntry<'a>, ListingError> {
        language_listing(line)
    }
}
