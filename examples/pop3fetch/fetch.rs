//! The protocol loop: RETRs pipelined (several in flight), each message handed to
//! delivery as it arrives, DELEs sent only for what a group commit made durable, then
//! QUIT, whose UPDATE applies the deletions.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pop3_proto::client::{ClientEvent, CommandKind};

use crate::connection::Conn;
use crate::delivery::{committer, write_out, Item, Out, ToLf};
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
    let unique_uids = unique_uids(&listing);
    let deleting = o.keep == Keep::Nothing;
    let maildir = match &o.sink {
        Sink::Maildir(d) => Some(d.clone()),
        Sink::Mda(_) | Sink::Nowhere => None,
    };
    let (jobs, job_rx) = mpsc::channel::<Vec<Item>>();
    let (done_tx, done) = mpsc::channel();
    let commit_thread = std::thread::spawn(move || committer(maildir, state, job_rx, done_tx));

    let bar = progress_bar(o, &to_fetch, &listing);
    let mut deleted_msgs: Vec<u32> = Vec::new();
    let mut batch: Vec<Item> = Vec::new();
    let mut batch_bytes = 0u64;
    let mut batch_started = Instant::now();
    let mut outstanding = 0usize;

    let mut session = || -> Res<()> {
        let mut in_flight = 0usize;
        let mut current: Option<(u32, Out, u64)> = None;
        let mut lf = ToLf { cr: false };
        let mut buf = Vec::new();
        let mut failure: Option<Failure> = None;
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
            while let Ok(r) = done.try_recv() {
                outstanding -= 1;
                absorb(r, stats, &mut dele_queue)?;
            }
            while conn.client().queue_room() > 1 {
                let Some(n) = dele_queue.pop_front() else {
                    break;
                };
                conn.client().dele(n).map_err(queue_err)?;
            }
            while in_flight < DEPTH && conn.client().queue_room() > 1 {
                let Some(n) = to_fetch.pop_front() else {
                    break;
                };
                conn.client().retr(n).map_err(queue_err)?;
                in_flight += 1;
            }
            let got = conn
                .next(|ev| {
                    let r: Result<(), Failure> = (|| {
                        match ev {
                            ClientEvent::MessageStart { msg } => {
                                lf = ToLf { cr: false };
                                current = Some((msg, Out::start(&o.sink)?, 0));
                            }
                            ClientEvent::MessageData { msg, data } => {
                                stats.bytes += data.len() as u64;
                                bar.inc(data.len() as u64);
                                let Some((_, out, bytes)) = current.as_mut() else {
                                    return Ok(());
                                };
                                *bytes += data.len() as u64;
                                if *bytes > o.max_size {
                                    return Err(fail(
                                        Exit::Protocol,
                                        format!(
                                            "message {msg} grew past --max-size {} bytes while \
                                             arriving (LIST said {}); stopped receiving it",
                                            o.max_size,
                                            listing
                                                .sizes
                                                .get(&msg)
                                                .map_or("nothing".to_string(), |s| s.to_string())
                                        ),
                                    ));
                                }
                                lf.convert(data, &mut buf);
                                write_out(o, out, &buf)?;
                            }
                            ClientEvent::MessageEnd { msg } => {
                                in_flight -= 1;
                                lf.finish(&mut buf);
                                let Some((_, mut out, bytes)) = current.take() else {
                                    return Ok(());
                                };
                                write_out(o, &mut out, &buf)?;
                                let written = out.finish(msg)?;
                                batch_bytes += bytes;
                                if batch.is_empty() {
                                    batch_started = Instant::now();
                                }
                                batch.push(Item {
                                    msg,
                                    uid: unique_uids.get(&msg).cloned(),
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
                                in_flight -= 1;
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
                                    "pop3fetch: message {}: DELE refused: -ERR {} (kept on the \
                                     server; the next run deletes it)",
                                    msg.unwrap_or(0),
                                    text(t)
                                );
                            }
                            ClientEvent::Deleted { msg } => deleted_msgs.push(msg),
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
                            } => {
                                return Err(fail(Exit::Protocol, format!("{command:?}: {reason}")))
                            }
                            _ => {}
                        }
                        Ok(())
                    })();
                    if let Err(f) = r {
                        failure.get_or_insert(f);
                    }
                })
                .map_err(wire_err)?;
            if let Some(f) = failure.take() {
                return Err(f);
            }
            conn.stream().set_bulk(current.is_some());
            // A group commit starts as soon as the commit thread is idle: while it
            // syncs one group, the next grows with what arrives meanwhile.
            let drained = in_flight == 0 && to_fetch.is_empty();
            if !batch.is_empty()
                && (drained
                    || outstanding == 0
                    || batch.len() >= BATCH_MESSAGES
                    || batch_bytes >= BATCH_BYTES
                    || batch_started.elapsed() >= BATCH_AGE)
            {
                jobs.send(std::mem::take(&mut batch))
                    .map_err(|_| fail(Exit::Local, "the commit thread stopped"))?;
                batch_bytes = 0;
                outstanding += 1;
            }
            if got.is_none() {
                // Nothing queued or in flight.
                if outstanding > 0 {
                    let r = done
                        .recv()
                        .map_err(|_| fail(Exit::Local, "the commit thread stopped"))?;
                    outstanding -= 1;
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
    if !batch.is_empty() {
        let _ = jobs.send(std::mem::take(&mut batch));
    }
    drop(jobs);
    // (After a clean run every batch was accounted for in the session.)
    for msgs in done.iter().flatten() {
        stats.fetched += msgs.len() as u64;
    }
    let mut state = commit_thread
        .join()
        .map_err(|_| fail(Exit::Local, "the commit thread panicked"))?;
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
    stats.deleted += deleted_msgs.len() as u64;
    forget_deleted(&mut state, &listing, &deleted_msgs)
}
