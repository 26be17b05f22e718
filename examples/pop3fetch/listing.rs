//! What the server holds: STAT, UIDL and LIST, pipelined, checked against a hostile
//! server before anything is fetched or deleted.

use std::collections::HashMap;

use pop3_proto::client::{ClientEvent, CommandKind};

use crate::connection::Conn;
use crate::failure::{fail, queue_err, text, wire_err, Exit, Failure, Res};

/// Most messages a run takes on (each costs memory for its UID and size).
const MAX_MESSAGES: u32 = 1_000_000;

/// What the server holds.
pub struct Listing {
    pub count: u32,
    /// UIDs by message number.
    pub uids: HashMap<u32, Vec<u8>>,
    pub sizes: HashMap<u32, u64>,
    /// UIDL answered.
    pub uidl: bool,
}

/// STAT, UIDL and LIST. STAT's count is the only numbering trusted: the client
/// ends the session at an entry outside 1..=count or not above the one before it
/// (ClientError::InvalidListing), and at a line past the count; a listing that
/// names a message twice fails here too, as soon as it does.
pub fn list(conn: &mut Conn) -> Res<Listing> {
    let mut count: Option<u32> = None;
    let mut listing = Listing {
        count: 0,
        uids: HashMap::new(),
        sizes: HashMap::new(),
        uidl: true,
    };
    let mut error: Option<Failure> = None;
    let bad = |what: String| fail(Exit::Protocol, what);
    conn.client().stat().map_err(queue_err)?;
    conn.client().uidl(None).map_err(queue_err)?;
    conn.client().list(None).map_err(queue_err)?;
    let mut done = false;
    while !done {
        let got = conn
            .next(|ev| match ev {
                ClientEvent::Stat(s) if s.count > MAX_MESSAGES => {
                    error.get_or_insert(bad(format!(
                        "the server reports {} messages; pop3fetch takes at most {MAX_MESSAGES} \
                         in one run",
                        s.count
                    )));
                }
                ClientEvent::Stat(s) => count = Some(s.count),
                ClientEvent::Uidl(_) | ClientEvent::List(_) if count.is_none() => {
                    error.get_or_insert(bad("listing entry without STAT".into()));
                }
                ClientEvent::Uidl(e) => {
                    let again = listing.uids.insert(e.msg, e.uid.to_vec()).is_some();
                    if again {
                        error.get_or_insert(bad(format!(
                            "UIDL lists message {} twice (a listing longer than STAT's count)",
                            e.msg
                        )));
                    }
                }
                ClientEvent::List(e) => {
                    let again = listing.sizes.insert(e.msg, e.size).is_some();
                    if again {
                        error.get_or_insert(bad(format!(
                            "LIST lists message {} twice (a listing longer than STAT's count)",
                            e.msg
                        )));
                    }
                }
                ClientEvent::Error {
                    command: CommandKind::Uidl,
                    ..
                } => listing.uidl = false,
                ClientEvent::Error {
                    command: CommandKind::List,
                    ..
                } => {}
                ClientEvent::Error {
                    command, text: t, ..
                } => {
                    error.get_or_insert(bad(format!("{command:?}: -ERR {}", text(t))));
                }
                ClientEvent::Invalid {
                    command, reason, ..
                } => {
                    error.get_or_insert(bad(format!("{command:?}: {reason}")));
                }
                _ => {}
            })
            .map_err(wire_err)?;
        if let Some(e) = error.take() {
            return Err(e);
        }
        done = got.is_none();
        // Listings are bulk data: a trickle fails --speed-limit.
        conn.stream().set_bulk(count.is_some() && !done);
    }
    listing.count = count.ok_or(fail(Exit::Protocol, "no reply to STAT"))?;
    Ok(listing)
}

/// The UIDs that identify one message each: a UID the server gives to two messages
/// identifies neither (trusting it lost the second one after an interrupted run).
pub fn unique_uids(listing: &Listing) -> HashMap<u32, Vec<u8>> {
    let mut seen: HashMap<&[u8], u32> = HashMap::new();
    for uid in listing.uids.values() {
        *seen.entry(uid.as_slice()).or_insert(0) += 1;
    }
    listing
        .uids
        .iter()
        .filter(|(_, u)| seen.get(u.as_slice()) == Some(&1))
        .map(|(n, u)| (*n, u.clone()))
        .collect()
}
