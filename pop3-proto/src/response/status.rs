//! Status lines: `+OK [code] text` and `-ERR [code] text`.

use crate::encode::{is_line_breaking, EncodeError, Writer};
use crate::limits::MAX_STATUS_LINE;
use crate::response::code::ResponseCode;

/// The status indicator of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status {
    /// `+OK`
    Ok,
    /// `-ERR`
    Err,
}

/// A single-line reply, or the first line of a multi-line one.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusLine<'a> {
    /// `+OK` or `-ERR`.
    pub status: Status,
    /// The RFC 2449 response code in brackets, when the text starts with one.
    pub code: Option<ResponseCode<'a>>,
    /// The rest of the text, without the code and the space after it. Free-form octets
    /// (not necessarily UTF-8); empty for a bare `+OK`.
    pub text: &'a [u8],
}

impl core::fmt::Debug for StatusLine<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StatusLine")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("text", &crate::debug::Bytes(self.text))
            .finish()
    }
}

impl<'a> StatusLine<'a> {
    /// A `+OK` line with this text and no code.
    pub fn ok(text: &'a [u8]) -> Self {
        StatusLine {
            status: Status::Ok,
            code: None,
            text,
        }
    }

    /// An `-ERR` line with this code and text.
    pub fn err(code: Option<ResponseCode<'a>>, text: &'a [u8]) -> Self {
        StatusLine {
            status: Status::Err,
            code,
            text,
        }
    }

    /// True for `+OK`.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// Writes the line, CRLF included, into `out` and returns its length.
    ///
    /// Refuses CR, LF or NUL in the text, text starting with `[` when there is no code
    /// (a client would read it as one), and lines over 512 octets.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out);
        self.encode_into(&mut w)?;
        Ok(w.len())
    }

    pub(crate) fn encode_into(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let start = w.len();
        if self.text.iter().any(|b| is_line_breaking(*b))
            || (self.code.is_none() && self.text.first() == Some(&b'['))
        {
            return Err(EncodeError::InvalidArgument);
        }
        w.put(match self.status {
            Status::Ok => b"+OK",
            Status::Err => b"-ERR",
        })?;
        if let Some(code) = &self.code {
            w.put(b" ")?;
            code.encode(w)?;
        }
        if !self.text.is_empty() {
            w.put(b" ")?;
            w.put(self.text)?;
        }
        w.end_line(start, MAX_STATUS_LINE)
    }
}
