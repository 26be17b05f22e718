//! The data-carrying replies: `STAT`, lines of `LIST` and `UIDL` (single and
//! multi-line forms), and lines of the `LANG` listing.

use core::fmt;

use crate::encode::{is_line_breaking, EncodeError, Writer};
use crate::limits::{MAX_LISTING_LINE, MAX_UID};
use crate::response::trim;

/// Why a STAT, LIST, UIDL or LANG line could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ListingError {
    /// The message number is missing or not a decimal number.
    BadNumber,
    /// The size or count is missing or not a decimal number.
    BadSize,
    /// The unique-id or language tag is missing.
    MissingField,
}

impl fmt::Display for ListingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListingError::BadNumber => "bad message number",
            ListingError::BadSize => "bad size",
            ListingError::MissingField => "missing field",
        })
    }
}

impl core::error::Error for ListingError {}

/// The reply to `STAT`: `+OK count size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stat {
    /// Number of messages not marked deleted.
    pub count: u32,
    /// Their total size in octets.
    pub size: u64,
}

impl Stat {
    /// The status-line text, e.g. `2 320`, written into `out`; returns its length.
    pub fn encode_text(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        w.put_u64(u64::from(self.count))?;
        w.put(b" ")?;
        w.put_u64(self.size)?;
        Ok(w.len())
    }
}

/// One line of a `LIST` reply (`msg size`); also the text of `+OK` to `LIST msg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ListEntry {
    /// The message number.
    pub msg: u32,
    /// The exact size in octets, as the message would be sent (CRLF line ends, no stuffing).
    pub size: u64,
}

impl ListEntry {
    /// Writes `msg size` (no line terminator) into `out`; returns its length.
    pub fn encode_text(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.put(&mut w)?;
        Ok(w.len())
    }

    fn put(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u64(u64::from(self.msg))?;
        w.put(b" ")?;
        w.put_u64(self.size)
    }

    /// Writes the line of a multi-line listing, CRLF included; returns its length.
    pub fn encode_line(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.encode_into(&mut w)?;
        Ok(w.len())
    }

    pub(crate) fn encode_into(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let start = w.len();
        self.put(w)?;
        w.end_line(start, MAX_LISTING_LINE)
    }
}

/// One line of a `UIDL` reply (`msg uid`); also the text of `+OK` to `UIDL msg`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UidlEntry<'a> {
    /// The message number.
    pub msg: u32,
    /// The unique-id. RFC 1939 allows 1–70 octets of 0x21–0x7E; when reading we accept
    /// any octets but white space and line breaks, because servers in the wild send
    /// others (and clients only need the id to be stable).
    pub uid: &'a [u8],
}

impl core::fmt::Debug for UidlEntry<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UidlEntry")
            .field("msg", &self.msg)
            .field("uid", &crate::debug::Bytes(self.uid))
            .finish()
    }
}

/// True when `uid` is a unique-id RFC 1939 allows: 1–70 octets in 0x21–0x7E.
pub fn is_valid_uid(uid: &[u8]) -> bool {
    (1..=MAX_UID).contains(&uid.len()) && uid.iter().all(|b| (0x21..=0x7e).contains(b))
}

impl<'a> UidlEntry<'a> {
    fn put(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if !is_valid_uid(self.uid) {
            return Err(EncodeError::InvalidArgument);
        }
        w.put_u64(u64::from(self.msg))?;
        w.put(b" ")?;
        w.put(self.uid)
    }

    /// Writes `msg uid` (no line terminator) into `out`; the uid must be valid per RFC 1939.
    pub fn encode_text(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.put(&mut w)?;
        Ok(w.len())
    }

    /// Writes the line of a multi-line listing, CRLF included; returns its length.
    pub fn encode_line(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.encode_into(&mut w)?;
        Ok(w.len())
    }

    pub(crate) fn encode_into(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let start = w.len();
        self.put(w)?;
        w.end_line(start, MAX_LISTING_LINE)
    }
}

/// One line of a `LANG` listing (RFC 6856): `tag SP description`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LangEntry<'a> {
    /// The language tag (RFC 5646), e.g. `en`.
    pub tag: &'a [u8],
    /// Its description, in UTF-8 (may be empty).
    pub description: &'a [u8],
}

impl core::fmt::Debug for LangEntry<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LangEntry")
            .field("tag", &crate::debug::Bytes(self.tag))
            .field("description", &crate::debug::Bytes(self.description))
            .finish()
    }
}

impl<'a> LangEntry<'a> {
    /// Writes the line, CRLF included; returns its length.
    pub fn encode_line(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        if self.tag.is_empty()
            || !self.tag.iter().all(|b| b.is_ascii_graphic())
            || self.tag[0] == b'.'
            || self.description.iter().any(|b| is_line_breaking(*b))
            || trim(self.description) != self.description
        {
            return Err(EncodeError::InvalidArgument);
        }
        let mut w = Writer::new(out);
        w.put(self.tag)?;
        if !self.description.is_empty() {
            w.put(b" ")?;
            w.put(self.description)?;
        }
        w.end_line(0, MAX_LISTING_LINE)?;
        Ok(w.len())
    }
}
