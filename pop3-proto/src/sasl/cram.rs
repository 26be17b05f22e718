//! CRAM-MD5 (RFC 2195): `user SP hex(HMAC-MD5(secret, challenge))`.

use hmac::{Hmac, Mac};
use md5::Md5;

/// The 32 lower-case hex digits of HMAC-MD5(secret, challenge).
pub fn digest(secret: &[u8], challenge: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(challenge);
    let mut out = [0u8; 32];
    crate::sasl::hex_into(&mac.finalize().into_bytes(), &mut out);
    out
}
