//! SASL for both roles (RFC 4422, RFC 5034): the mechanism table
//! ([`SaslMechanism`], [`MechanismSet`]), strict base64, a streaming base64 writer,
//! and the mechanisms' cryptography (`cram`, `scram`). This module knows neither
//! role: each role runs its side of an exchange in its own `sasl` module
//! (`client/sasl.rs`, `server/sasl.rs`) on top of what is here, so adding a
//! mechanism touches the table, the mechanism's code here and those two steps.

pub mod cram;
mod mechanism;
pub mod scram;

pub(crate) use mechanism::mechanism_list;
pub use mechanism::{MechanismSet, SaslMechanism};

use base64::Engine;

use crate::encode::{EncodeError, Writer};

/// `name` as a `saslname` (RFC 5801 §4, RFC 5802 §5.1), in pieces to write one
/// after another: runs of octets as they are, `=` as `=3D`, `,` as `=2C`. Shared
/// by SCRAM's `n=`/`a=` and OAUTHBEARER's gs2 `a=`.
pub(crate) fn saslname_pieces(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    name.split_inclusive(|b| matches!(b, b',' | b'='))
        .flat_map(|part| match part.split_last() {
            Some((b',', head)) => [head, &b"=2C"[..]],
            Some((b'=', head)) => [head, &b"=3D"[..]],
            _ => [part, &b""[..]],
        })
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why base64 data was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Base64Error {
    /// Characters outside the alphabet, bad padding or a misplaced `=`.
    Invalid,
    /// The decoded data does not fit the buffer.
    TooLong,
}

impl core::fmt::Display for Base64Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Base64Error::Invalid => "invalid base64",
            Base64Error::TooLong => "base64 data too long for the buffer",
        })
    }
}

impl core::error::Error for Base64Error {}

/// Decodes strict, padded base64 (RFC 4648 §4) into `out`; returns the length.
/// An empty input is empty data.
pub fn decode_base64(input: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
    if !input.len().is_multiple_of(4) {
        return Err(Base64Error::Invalid);
    }
    if input.len() / 4 * 3 > out.len() + 2 {
        return Err(Base64Error::TooLong);
    }
    B64.decode_slice(input, out).map_err(|e| match e {
        base64::DecodeSliceError::OutputSliceTooSmall => Base64Error::TooLong,
        base64::DecodeSliceError::DecodeError(_) => Base64Error::Invalid,
    })
}

/// True if `input` is strict, padded base64 (as [`decode_base64`] accepts), checked
/// in pieces so that input of any length needs no buffer for the whole.
#[cfg(feature = "sasl")]
pub(crate) fn base64_valid(input: &[u8]) -> bool {
    if !input.len().is_multiple_of(4) {
        return false;
    }
    let mut out = [0u8; 48];
    let mut chunks = input.chunks(64).peekable();
    while let Some(chunk) = chunks.next() {
        // Padding only at the very end.
        if chunks.peek().is_some() && chunk.ends_with(b"=") {
            return false;
        }
        if decode_base64(chunk, &mut out).is_err() {
            return false;
        }
    }
    true
}

/// Length of the base64 encoding of `n` bytes.
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Writes base64 of the concatenation of several slices, without a buffer for the
/// whole (credentials and tokens go straight from storage to the wire).
pub(crate) struct Base64Writer<'w, 'b> {
    w: &'w mut Writer<'b>,
    carry: [u8; 3],
    len: usize,
}

impl<'w, 'b> Base64Writer<'w, 'b> {
    pub(crate) fn new(w: &'w mut Writer<'b>) -> Self {
        Base64Writer {
            w,
            carry: [0; 3],
            len: 0,
        }
    }

    pub(crate) fn put(&mut self, mut data: &[u8]) -> Result<(), EncodeError> {
        while !data.is_empty() {
            let take = (3 - self.len).min(data.len());
            self.carry[self.len..self.len + take].copy_from_slice(&data[..take]);
            self.len += take;
            data = &data[take..];
            if self.len == 3 {
                let mut out = [0u8; 4];
                B64.encode_slice(self.carry, &mut out)
                    .map_err(|_| EncodeError::BufferTooSmall)?;
                self.w.put(&out)?;
                self.len = 0;
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<(), EncodeError> {
        if self.len > 0 {
            let mut out = [0u8; 4];
            let n = B64
                .encode_slice(&self.carry[..self.len], &mut out)
                .map_err(|_| EncodeError::BufferTooSmall)?;
            self.w.put(&out[..n])?;
        }
        Ok(())
    }
}

/// Writes `data` as base64.
pub(crate) fn write_base64(w: &mut Writer<'_>, data: &[u8]) -> Result<(), EncodeError> {
    let mut b = Base64Writer::new(w);
    b.put(data)?;
    b.finish()
}

/// Constant-time equality of two byte strings (length is not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lower-case hex of `bytes` into `out` (twice as long).
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
}

/// The APOP digest (RFC 1939 §7): lower-case hex of MD5(timestamp ‖ secret).
pub fn apop_digest(timestamp: &[u8], secret: &[u8]) -> [u8; 32] {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(timestamp);
    h.update(secret);
    let mut out = [0u8; 32];
    hex_into(&h.finalize(), &mut out);
    out
}
