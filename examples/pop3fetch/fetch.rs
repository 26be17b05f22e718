//! The protocol loop: RETRs pipelined (several in flight), each message handed to
//! delivery as it arrives, DELEs sent only for what a group commit made durable, then
//! QUIT, whose UPDATE applies the deletions.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use pop3_proto::client::{ClientEvent, CommandKind};

use crate::connection::Conn;
use crate::delivery::{write_out, Commits, Item, Out, ToLf};
use crate::failure::{fail, queue_err, text, wire_err, Exit, Failure, Res};
use crate::fetch_state::State;
use crate::listing::{unique_uids, Listing};
use crate::options::{Keep, Options, Sink};
use crate::progress::progress_bar;
use crate::report::Stats;
use crate::state::{forget_deleted, unix_now};

/// RETRs in flight at once.
const DEPTH: usize = 16;
/// A group commit closes when the commit thread is idle, or else at this many
/// messages, bytes or seconds.
const BATCH_MESSAGES: usize = 256;
const BATCH_BYTES: u64 = 32 << 20;
const BATCH_AGE: Duration = Duration::from_secs(2);

/// What happens to each message, decided before the first RETR.
#[derive(Default)]
struct Plan {
    fetch: VecDeque<u32>,
    /// DELEs for messages already delivered (or oversized, with --delete-oversized).
    dele: VecDeque<u32>,
}

fn plan(o: &Options, state: &State, listing: &Listing, stats: &mut Stats) -> Plan {
    let unique = unique_uids(listing);
    let now = unix_now();
    let mut plan = Plan::default();
    for n in 1..=listing.count {
        let size = listing.sizes.get(&n).copied();
        let uid = unique.get(&n);
        if size.is_some_and(|s| s > o.max_size) {
            if o.delete_oversized {
                plan.dele.push_back(n);
            } else {
                stats.too_large += 1;
                eprintln!(
                    "pop3fetch: message {n} ({} bytes) is over --max-size {}: left on the server",
                    size.unwrap_or(0),
                    o.max_size
                );
            }
            continue;
        }
        match uid {
            Some(uid) if state.has(uid, size) => {
                stats.skipped += 1;
                let due = match o.keep {
                    Keep::Nothing => true,
                    Keep::All => false,
                    Keep::For(d) => state
                        .get(uid)
                        .is_some_and(|r| now.saturating_sub(r.at) >= d.as_secs()),
                };
                if due {
                    plan.dele.push_back(n);
                }
            }
            None if o.keep != Keep::Nothing => {
                // Kept on the server, it would be fetched again on every run.
                stats.untracked += 1;
                eprintln!(
                    "pop3fetch: message {n} has no UID of its own (missing, or shared with \
                     another message): not fetched, as --keep could not tell it apart later"
                );
            }
            _ => plan.fetch.push_back(n),
        }
    }
    plan
}

/// The RETRs in flight and what they bring: the message arriving now, written out
/// as it comes, and the messages complete since the last group commit.
struct Arrivals<'a> {
    o: &'a Options,
    listing: &'a Listing,
    /// The UIDs that identify one message each (recorded in the journal).
    uids: HashMap<u32, Vec<u8>>,
    in_flight: usize,
    /// The message arriving: its number, where it goes, its bytes so far.
    current: Option<(u32, Out, u64)>,
    lf: ToLf,
    buf: Vec<u8>,
    /// Delivered, not yet sent to be committed.
    group: Vec<Item>,
    group_bytes: u64,
    group_started: Instant,
    /// What the server said it deleted (applied at QUIT).
    deleted: Vec<u32>,
}

impl Arrivals<'_> {
    /// Takes in one event of the session.
    fn take_in(&mut self, ev: ClientEvent<'_>, stats: &mut Stats, bar: &ProgressBar) -> Res<()> {
        let (o, listing) = (self.o, self.listing);
        match ev {
            ClientEvent::MessageStart { msg } => {
                self.lf = ToLf { cr: false };
                self.current = Some((msg, Out::start(&o.sink)?, 0));
            }
            ClientEvent::MessageData { msg, data } => {
                stats.bytes += data.len() as u64;
                bar.inc(data.len() as u64);
                let Some((_, out, bytes)) = self.current.as_mut() else {
                    return Ok(());
                };
                *bytes += data.len() as u64;
                if *bytes > o.max_size {
                    return Err(fail(
                        Exit::Protocol,
                        format!(
                            "message {msg} grew past --max-size {} bytes while arriving (LIST \
                             said {}); stopped receiving it",
                            o.max_size,
                            listing
                                .sizes
                                .get(&msg)
                                .map_or("nothing".to_string(), |s| s.to_string())
                        ),
                    ));
                }
                self.lf.convert(data, &mut self.buf);
                write_out(o, out, &self.buf)?;
            }
            ClientEvent::MessageEnd { msg } => {
                self.in_flight -= 1;
                self.lf.finish(&mut self.buf);
                let Some((_, mut out, bytes)) = self.current.take() else {
                    return Ok(());
                };
                write_out(o, &mut out, &self.buf)?;
                let written = out.finish(msg)?;
                self.group_bytes += bytes;
                if self.group.is_empty() {
                    self.group_started = Instant::now();
                }
                self.group.push(Item {
                    msg,
                    uid: self.uids.get(&msg).cloned(),
                    size: listing.sizes.get(&msg).copied(),
                    written,
                });
            }
            ClientEvent::Error {
                command: CommandKind::Retr,
                msg,
                text: t,
                ..
            } => {
                self.in_flight -= 1;
                stats.failed += 1;
                eprintln!(
                    "pop3fetch: message {}: RETR refused: -ERR {}",
                    msg.unwrap_or(0),
                    text(t)
                );
            }
            ClientEvent::Error {
                command: CommandKind::Dele,
                msg,
                text: t,
                ..
            } => {
                stats.dele_refused += 1;
                eprintln!(
                    "pop3fetch: message {}: DELE refused: -ERR {} (kept on the server; the \
                     next run deletes it)",
                    msg.unwrap_or(0),
                    text(t)
                );
            }
            ClientEvent::Deleted { msg } => self.deleted.push(msg),
            ClientEvent::Error {
                command, text: t, ..
            } => {
                return Err(fail(
                    Exit::Protocol,
                    format!("{command:?}: -ERR {}", text(t)),
                ))
            }
            ClientEvent::Invalid {
                command, reason, ..
            } => return Err(fail(Exit::Protocol, format!("{command:?}: {reason}"))),
            _ => {}
        }
        Ok(())
    }

    /// Whether the group goes to be committed now: as soon as the commit thread is
    /// idle (while it syncs one group, the next grows with what arrives meanwhile),
    /// when nothing more is coming, or at a bound.
    fn group_due(&self, nothing_more: bool, committer_idle: bool) -> bool {
        !self.group.is_empty()
            && (nothing_more
                || committer_idle
                || self.group.len() >= BATCH_MESSAGES
                || self.group_bytes >= BATCH_BYTES
                || self.group_started.elapsed() >= BATCH_AGE)
    }

    /// The group, to be committed; a new one starts.
    fn take_group(&mut self) -> Vec<Item> {
        self.group_bytes = 0;
        std::mem::take(&mut self.group)
    }
}

/// Fetches what the plan says, commits in groups, sends DELEs for what is safe, QUITs
/// and drops from the state what the server deleted.
pub fn fetch(
    o: &Options,
    mut conn: Conn,
    state: State,
    listing: Listing,
    stats: &mut Stats,
) -> Res<()> {
    let Plan {
        fetch: mut to_fetch,
        dele: mut dele_queue,
    } = plan(o, &state, &listing, stats);
    let deleting = o.keep == Keep::Nothing;
    let maildir = match &o.sink {
        Sink::Maildir(d) => Some(d.clone()),
        Sink::Mda(_) | Sink::Nowhere => None,
    };
    let mut commits = Commits::start(maildir, state);
    let bar = progress_bar(o, &to_fetch, &listing);
    let mut arrivals = Arrivals {
        o,
        listing: &listing,
        uids: unique_uids(&listing),
        in_flight: 0,
        current: None,
        lf: ToLf { cr: false },
        buf: Vec::new(),
        group: Vec::new(),
        group_bytes: 0,
        group_started: Instant::now(),
        deleted: Vec::new(),
    };

    let mut session = || -> Res<()> {
        let mut failure: Option<Failure> = None;
        // A committed group: counted, and its DELEs may go.
        let absorb = |r: Result<Vec<u32>, String>,
                      stats: &mut Stats,
                      dele_queue: &mut VecDeque<u32>|
         -> Res<()> {
            let msgs = r.map_err(|e| fail(Exit::Local, e))?;
            stats.fetched += msgs.len() as u64;
            if deleting {
                dele_queue.extend(msgs);
            }
            bar.set_message(format!("{} messages", stats.fetched));
            Ok(())
        };
        loop {
            while let Some(r) = commits.try_done() {
                absorb(r, stats, &mut dele_queue)?;
            }
            while conn.client().queue_room() > 1 {
                let Some(n) = dele_queue.pop_front() else {
                    break;
                };
                conn.client().dele(n).map_err(queue_err)?;
            }
            while arrivals.in_flight < DEPTH && conn.client().queue_room() > 1 {
                let Some(n) = to_fetch.pop_front() else {
                    break;
                };
                conn.client().retr(n).map_err(queue_err)?;
                arrivals.in_flight += 1;
            }
            let got = conn
                .next(|ev| {
                    if let Err(f) = arrivals.take_in(ev, stats, &bar) {
                        failure.get_or_insert(f);
                    }
                })
                .map_err(wire_err)?;
            if let Some(f) = failure.take() {
                return Err(f);
            }
            conn.stream().set_bulk(arrivals.current.is_some());
            let nothing_more = arrivals.in_flight == 0 && to_fetch.is_empty();
            if arrivals.group_due(nothing_more, commits.outstanding() == 0) {
                commits.send(arrivals.take_group())?;
            }
            if got.is_none() {
                // Nothing queued or in flight.
                if commits.outstanding() > 0 {
                    let r = commits.wait_done()?;
                    absorb(r, stats, &mut dele_queue)?;
                } else if dele_queue.is_empty() && to_fetch.is_empty() {
                    return Ok(());
                }
            }
        }
    };
    let result = session();
    // Whatever happened, messages complete on disk are committed and recorded (the
    // next run deletes them without fetching them again); a half-received one was
    // removed when it was dropped.
    let mut state = commits.finish(arrivals.take_group(), &mut stats.fetched)?;
    bar.finish_and_clear();
    result?;

    // UPDATE: only now are the deletions applied.
    conn.client().quit().map_err(queue_err)?;
    let mut closed = false;
    let mut update_error = None;
    conn.run(|ev| match ev {
        ClientEvent::Closed => closed = true,
        ClientEvent::Error { text: t, .. } => update_error = Some(text(t)),
        _ => {}
    })
    .map_err(wire_err)?;
    if !closed {
        return Err(fail(
            Exit::Partial,
            format!(
                "QUIT failed, the server did not delete anything: {} (the next run deletes \
                 what was delivered)",
                update_error.unwrap_or_default()
            ),
        ));
    }
    stats.deleted += arrivals.deleted.len() as u64;
    forget_deleted(&mut state, &listing, &arrivals.deleted)
}
