//! The TRANSACTION state (RFC 1939 §5): STAT, LIST, UIDL, RETR, TOP, DELE and
//! RSET, the application's answers (sizes, unique-ids, message bytes), and the
//! answer to UPDATE (§6).

use super::error::ServerError;
use super::event::BodyWrite;
use super::machine::Server;
use super::marks::Marks;
use super::state::{ListingKind, State};
use super::top::TopFilter;
use crate::command::Command;
use crate::encode::Writer;
use crate::response::code::ResponseCode;
use crate::response::listing::{is_valid_uid, ListEntry, Stat, UidlEntry};
use crate::response::status::StatusLine;
use crate::BodyEncoder;

impl<M: Marks> Server<M> {
    pub(super) fn transaction(&mut self, command: Command<'_>) {
        match command {
            Command::Stat => {
                let mut text = [0u8; 48];
                let stat = Stat {
                    count: self.current.0,
                    size: self.current.1,
                };
                if let Ok(n) = stat.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
            }
            Command::List(None) | Command::Uidl(None) => {
                let uidl = matches!(command, Command::Uidl(_));
                self.ok(if uidl {
                    b"Unique-ID listing follows"
                } else {
                    b"Scan listing follows"
                });
                self.state = State::Listing {
                    kind: if uidl {
                        ListingKind::UidlAll
                    } else {
                        ListingKind::ListAll
                    },
                    next: 1,
                    emitted: false,
                };
            }
            Command::List(Some(msg)) | Command::Uidl(Some(msg)) | Command::Dele(msg) => {
                let Some(msg) = self.message(msg) else {
                    return;
                };
                let kind = match command {
                    Command::List(_) => ListingKind::ListOne,
                    Command::Uidl(_) => ListingKind::UidlOne,
                    _ => ListingKind::Dele,
                };
                self.state = State::Listing {
                    kind,
                    next: msg,
                    emitted: true,
                };
            }
            Command::Retr(msg) | Command::Top { msg, .. } => {
                let Some(msg) = self.message(msg) else {
                    return;
                };
                let lines = match command {
                    Command::Top { lines, .. } => Some(lines),
                    _ => None,
                };
                self.state = State::Sending {
                    msg,
                    lines,
                    encoder: BodyEncoder::new(),
                    top: lines.map(TopFilter::new),
                    started: false,
                };
            }
            Command::Rset => {
                let _ = self.marks.reset(self.opened.0);
                self.current = self.opened;
                let mut text = [0u8; 48];
                let stat = Stat {
                    count: self.current.0,
                    size: self.current.1,
                };
                if let Ok(n) = stat.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
            }
            _ => self.bad_command(b"Not allowed in TRANSACTION state"),
        }
    }

    /// Checks a message number; on failure answers `-ERR` and returns `None`.
    pub(super) fn message(&mut self, msg: u32) -> Option<u32> {
        if msg == 0 || msg > self.opened.0 {
            let mut text = [0u8; 40];
            let mut w = Writer::new(&mut text);
            let _ = w.put(b"There's no message ");
            let _ = w.put_u64(u64::from(msg));
            let n = w.len();
            self.bad_command_quiet();
            self.err(None, &text[..n]);
            None
        } else if self.marks.get(msg) {
            self.err(None, b"Message is deleted");
            None
        } else {
            Some(msg)
        }
    }

    pub(super) fn stat_reply(&mut self, prefix: &[u8]) {
        let mut text = [0u8; 64];
        let mut w = Writer::new(&mut text);
        let _ = w.put(prefix);
        let _ = w.put_u64(u64::from(self.current.0));
        let _ = w.put(b" messages (");
        let _ = w.put_u64(self.current.1);
        let _ = w.put(b" octets)");
        let n = w.len();
        self.ok(&text[..n]);
    }

    /// Answers [`ServerEvent::Size`] with the message's size in octets.
    ///
    /// [`ServerEvent::Size`]: crate::server::ServerEvent::Size
    pub fn answer_size(&mut self, size: u64) -> Result<(), ServerError> {
        let State::Listing {
            kind,
            next,
            emitted: true,
        } = self.state
        else {
            return Err(ServerError::Unexpected);
        };
        let entry = ListEntry { msg: next, size };
        match kind {
            ListingKind::ListOne => {
                let mut text = [0u8; 40];
                if let Ok(n) = entry.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
                self.state = State::Transaction;
            }
            ListingKind::ListAll => {
                let _ = self.tx.write_with(|w| entry.encode_into(w));
                self.state = State::Listing {
                    kind,
                    next: next + 1,
                    emitted: false,
                };
            }
            ListingKind::Dele => {
                self.marks.set(next, true);
                self.current.0 -= 1;
                self.current.1 = self.current.1.saturating_sub(size);
                let mut text = [0u8; 40];
                let mut w = Writer::new(&mut text);
                let _ = w.put(b"Message ");
                let _ = w.put_u64(u64::from(next));
                let _ = w.put(b" deleted");
                let n = w.len();
                self.ok(&text[..n]);
                self.state = State::Transaction;
            }
            ListingKind::UidlOne | ListingKind::UidlAll => return Err(ServerError::Unexpected),
        }
        Ok(())
    }

    /// Answers [`ServerEvent::Uid`] with the message's unique-id (1–70 octets of
    /// 0x21–0x7E, stable across sessions).
    ///
    /// [`ServerEvent::Uid`]: crate::server::ServerEvent::Uid
    pub fn answer_uid(&mut self, uid: &[u8]) -> Result<(), ServerError> {
        let State::Listing {
            kind,
            next,
            emitted: true,
        } = self.state
        else {
            return Err(ServerError::Unexpected);
        };
        if !is_valid_uid(uid) {
            return Err(ServerError::InvalidUid);
        }
        let entry = UidlEntry { msg: next, uid };
        match kind {
            ListingKind::UidlOne => {
                let mut text = [0u8; 100];
                if let Ok(n) = entry.encode_text(&mut text) {
                    self.ok(&text[..n]);
                }
                self.state = State::Transaction;
            }
            ListingKind::UidlAll => {
                let _ = self.tx.write_with(|w| entry.encode_into(w));
                self.state = State::Listing {
                    kind,
                    next: next + 1,
                    emitted: false,
                };
            }
            _ => return Err(ServerError::Unexpected),
        }
        Ok(())
    }

    /// Sends message bytes for [`ServerEvent::Retrieve`] (raw, as stored: line ends
    /// may be LF or CRLF), dot-stuffed and with CRLF line ends, straight into `out`,
    /// the caller's transmit buffer (the first call also writes the `+OK` line).
    ///
    /// Returns how many bytes of `chunk` were taken and how many bytes of `out` were
    /// written. Nothing taken means `out` is too small (send what it holds first;
    /// stuffing may double the input, so room for `2 × chunk` takes all of it) or
    /// reply bytes still wait in [`poll_transmit`](Self::poll_transmit), which must
    /// be sent first to keep the order.
    ///
    /// [`ServerEvent::Retrieve`]: crate::server::ServerEvent::Retrieve
    pub fn body(&mut self, chunk: &[u8], out: &mut [u8]) -> Result<BodyWrite, ServerError> {
        let State::Sending {
            encoder,
            top,
            started,
            ..
        } = &mut self.state
        else {
            return Err(ServerError::Unexpected);
        };
        let nothing = BodyWrite {
            taken: 0,
            written: 0,
        };
        if !self.tx.pending().is_empty() {
            return Ok(nothing);
        }
        let mut written = 0;
        if !*started {
            let mut w = Writer::new(out);
            if StatusLine::ok(b"Message follows")
                .encode_into(&mut w)
                .is_err()
            {
                return Ok(nothing);
            }
            written = w.len();
            *started = true;
        }
        if top.as_ref().is_some_and(TopFilter::done) {
            return Ok(BodyWrite {
                taken: chunk.len(),
                written,
            });
        }
        // Stuffing at most doubles the input: take what surely fits.
        let n = chunk.len().min((out.len() - written) / 2);
        if n == 0 {
            return Ok(BodyWrite { taken: 0, written });
        }
        let pass = match top {
            Some(filter) => filter.pass(&chunk[..n]),
            None => n,
        };
        let (_, encoded) = encoder.encode(&chunk[..pass], &mut out[written..]);
        written += encoded;
        let taken = if top.as_ref().is_some_and(TopFilter::done) {
            chunk.len()
        } else {
            n
        };
        Ok(BodyWrite { taken, written })
    }

    /// True when the rest of the message would be discarded (TOP has its lines):
    /// the application may stop reading and call [`body_end`](Self::body_end).
    pub fn body_done(&self) -> bool {
        matches!(&self.state, State::Sending { top: Some(f), .. } if f.done())
    }

    /// Ends the message sent with [`body`](Self::body).
    pub fn body_end(&mut self) -> Result<(), ServerError> {
        let State::Sending {
            encoder, started, ..
        } = &mut self.state
        else {
            return Err(ServerError::Unexpected);
        };
        if !*started {
            let _ = self
                .tx
                .write_with(|w| StatusLine::ok(b"Message follows").encode_into(w));
        }
        // The terminator goes to the reply queue: nothing else is queued while a
        // message is sent, so it always has room, and it follows the body bytes.
        let spare = self.tx.spare();
        let n = encoder.finish(spare).ok_or(ServerError::Unexpected)?;
        self.tx.commit(n);
        self.state = State::Transaction;
        Ok(())
    }

    /// Answers [`ServerEvent::Retrieve`] when the message cannot be read: `-ERR
    /// [SYS/TEMP]` if nothing was sent yet; otherwise the reply is already partly
    /// sent and the connection is closed, so that the client never takes a truncated
    /// message for a whole one.
    ///
    /// [`ServerEvent::Retrieve`]: crate::server::ServerEvent::Retrieve
    pub fn body_failed(&mut self) -> Result<(), ServerError> {
        let State::Sending { started, .. } = self.state else {
            return Err(ServerError::Unexpected);
        };
        if started {
            self.state = State::Closed;
        } else {
            self.err(Some(ResponseCode::SysTemp), b"Message unavailable");
            self.state = State::Transaction;
        }
        Ok(())
    }

    /// Answers [`ServerEvent::Update`]: `true` if every marked message was removed.
    ///
    /// [`ServerEvent::Update`]: crate::server::ServerEvent::Update
    pub fn answer_update(&mut self, removed: bool) -> Result<(), ServerError> {
        if !matches!(self.state, State::Update { emitted: true }) {
            return Err(ServerError::Unexpected);
        }
        if removed {
            self.ok(b"Logging out");
        } else {
            self.err(
                Some(ResponseCode::SysTemp),
                b"Some deleted messages not removed",
            );
        }
        self.state = State::Closed;
        Ok(())
    }
}
