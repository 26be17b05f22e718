//! Typed server replies: status lines with response codes, greetings, and the lines
//! of STAT, LIST, UIDL, CAPA and LANG.
//!
//! Parsers are lenient where real servers differ harmlessly (extra spaces, trailing
//! text, unknown capability tags, unknown response-code levels) and encoders are strict,
//! so that what this crate sends always satisfies the RFCs.
//!
//! These files hold the types and their encoders; each type's `parse` is defined
//! with its rule in the crate's `nom` grammar (one module per RFC), which builds
//! these types and so stands above them.

pub mod capability;
pub mod code;
pub mod greeting;
pub mod listing;
pub mod status;

/// Trims SP and HT from both ends.
pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}
