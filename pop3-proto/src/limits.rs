//! Protocol limits from the RFCs, in octets, line terminator included.

/// Longest command line a client may send, CRLF included (RFC 2449 §4).
pub const MAX_COMMAND_LINE: usize = 255;

/// Longest single-line response (status line or greeting), CRLF included (RFC 2449 §4).
pub const MAX_STATUS_LINE: usize = 512;

/// Longest line of a multi-line listing (CAPA, LIST, UIDL, LANG), CRLF included.
///
/// RFC 2449 bounds capability lines at 512 octets; we use the same bound for the
/// other listings, whose lines are far shorter in practice.
pub const MAX_LISTING_LINE: usize = 512;

/// Default bound on one SASL line (`+ challenge` or a client response), CRLF included.
///
/// RFC 5034 puts no limit on SASL lines; without an allocator we need one. It is
/// configurable on both decoders; 2048 octets holds every mechanism this crate
/// implements, OAuth bearer tokens included.
pub const DEFAULT_MAX_SASL_LINE: usize = 2048;

/// Longest unique-id an RFC 1939 server may send in a UIDL listing.
pub const MAX_UID: usize = 70;

/// Longest APOP timestamp a client accepts in a greeting, brackets included.
///
/// RFC 1939 sets no bound; real ones (`<pid.clock@hostname>`) are far shorter. A
/// bound keeps the printable-only timestamp short, part of the CVE-2007-1558
/// mitigation (see [`apop_timestamp`](crate::apop_timestamp)).
pub const MAX_APOP_TIMESTAMP: usize = 96;
