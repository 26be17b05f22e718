//! CRAM-MD5 (RFC 2195): `user SP hex(HMAC-MD5(secret, challenge))`, and the stored
//! form a server keeps instead of the password ([`CramMd5Context`]).

use core::fmt;

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

/// The 32 lower-case hex digits of HMAC-MD5(secret, challenge).
pub fn digest(secret: &[u8], challenge: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(challenge);
    let mut out = [0u8; 32];
    crate::sasl::hex_into(&mac.finalize().into_bytes(), &mut out);
    out
}

/// What a server stores instead of a password for CRAM-MD5, as Dovecot's
/// `CRAM-MD5` password scheme does: the two MD5 states HMAC-MD5 reaches after its
/// key block (`key ⊕ ipad`, `key ⊕ opad`, RFC 2104). They answer every challenge
/// like the password, and check a password given in clear (USER/PASS, PLAIN), but
/// the password is not in them.
///
/// They are still a secret: whoever has them can log in with CRAM-MD5 (as with any
/// CRAM-MD5 server, which must be able to compute the digest). `Debug` does not
/// print them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CramMd5Context {
    inner: [u32; 4],
    outer: [u32; 4],
}

/// Why a stored CRAM-MD5 context could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ContextFormatError;

impl core::fmt::Display for ContextFormatError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("malformed CRAM-MD5 context")
    }
}

impl core::error::Error for ContextFormatError {}

impl fmt::Debug for CramMd5Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CramMd5Context { .. }")
    }
}

/// The prefix of the text form, Dovecot's scheme name.
const PREFIX: &[u8] = b"{CRAM-MD5}";

impl CramMd5Context {
    /// Length of [`encode`](Self::encode)'s text: `{CRAM-MD5}` and 64 hex digits.
    pub const ENCODED_LEN: usize = PREFIX.len() + 64;

    /// The context of `password` (a key over 64 octets is hashed first, as HMAC
    /// does).
    pub fn compute(password: &[u8]) -> CramMd5Context {
        let mut key = [0u8; 64];
        if password.len() > key.len() {
            key[..16].copy_from_slice(&Md5::digest(password));
        } else {
            key[..password.len()].copy_from_slice(password);
        }
        let state_after = |pad: u8| {
            let mut block = [0u8; 64];
            for (b, k) in block.iter_mut().zip(key) {
                *b = k ^ pad;
            }
            let mut state = MD5_INIT;
            compress(&mut state, &block);
            state
        };
        CramMd5Context {
            inner: state_after(0x36),
            outer: state_after(0x5c),
        }
    }

    /// The 32 lower-case hex digits of HMAC-MD5(password, challenge), from the
    /// context: what [`digest`] computes from the password.
    pub fn digest(&self, challenge: &[u8]) -> [u8; 32] {
        let inner = md5_after_block(self.inner, challenge);
        let outer = md5_after_block(self.outer, &inner);
        let mut out = [0u8; 32];
        crate::sasl::hex_into(&outer, &mut out);
        out
    }

    /// True if `password` is the one this context was computed from (for USER/PASS
    /// or PLAIN against stored contexts).
    pub fn check_password(&self, password: &[u8]) -> bool {
        crate::sasl::ct_eq(&Self::compute(password).to_bytes(), &self.to_bytes())
    }

    /// The 32 octets Dovecot stores: the outer state, then the inner one, each as
    /// four little-endian 32-bit words.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, word) in out
            .chunks_exact_mut(4)
            .zip(self.outer.iter().chain(&self.inner))
        {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8; 32]) -> CramMd5Context {
        let mut words = [0u32; 8];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        CramMd5Context {
            outer: [words[0], words[1], words[2], words[3]],
            inner: [words[4], words[5], words[6], words[7]],
        }
    }

    /// The text form Dovecot stores (`doveadm pw -s CRAM-MD5`): `{CRAM-MD5}` and the
    /// 64 lower-case hex digits of [`to_bytes`](Self::to_bytes).
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[..PREFIX.len()].copy_from_slice(PREFIX);
        crate::sasl::hex_into(&self.to_bytes(), &mut out[PREFIX.len()..]);
        out
    }

    /// Reads the text form of [`encode`](Self::encode) (hex digits of either case).
    pub fn parse(text: &[u8]) -> Result<CramMd5Context, ContextFormatError> {
        let hex = text.strip_prefix(PREFIX).ok_or(ContextFormatError)?;
        if hex.len() != 64 {
            return Err(ContextFormatError);
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(ContextFormatError),
        };
        let mut bytes = [0u8; 32];
        for (b, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            *b = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Ok(CramMd5Context::from_bytes(&bytes))
    }
}

/// MD5's initial state (RFC 1321 §3.3).
const MD5_INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// MD5 of (one 64-octet block that led to `state`) ‖ `data`: the rest of an
/// HMAC-MD5 hash from a stored state. The `md-5` crate cannot start from a state,
/// hence this, on its own compression function below.
fn md5_after_block(mut state: [u32; 4], data: &[u8]) -> [u8; 16] {
    let bits = (64 + data.len() as u64).wrapping_mul(8);
    let mut blocks = data.chunks_exact(64);
    for block in &mut blocks {
        let mut b = [0u8; 64];
        b.copy_from_slice(block);
        compress(&mut state, &b);
    }
    let rest = blocks.remainder();
    let mut last = [0u8; 64];
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] = 0x80;
    if rest.len() >= 56 {
        compress(&mut state, &last);
        last = [0; 64];
    }
    last[56..].copy_from_slice(&bits.to_le_bytes());
    compress(&mut state, &last);
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// The per-step shifts of MD5 (RFC 1321 §3.4).
const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// `floor(abs(sin(i + 1)) × 2^32)` (RFC 1321 §3.4).
const SINES: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// MD5's compression function (RFC 1321 §3.4): `state` after one 64-octet block.
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut m = [0u32; 16];
    for (word, chunk) in m.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let rotated = a
            .wrapping_add(f)
            .wrapping_add(SINES[i])
            .wrapping_add(m[g])
            .rotate_left(SHIFTS[i / 16 * 4 + i % 4]);
        (a, b, c, d) = (d, b.wrapping_add(rotated), b, c);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}
