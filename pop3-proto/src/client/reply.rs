//! The receive side of the [`Client`]: replies decoded from the input, matched to
//! the commands in flight in order, and turned into events.

use super::caps::Capabilities;
use super::error::{ClientError, CommandKind, InvalidReply};
use super::event::{offset_in, ClientEvent, EventToken, Shape};
use super::machine::{Client, Phase};
use super::pending::{Entry, Pending};
use crate::codec::client::ResponseEvent;
use crate::codec::Decoded;
use crate::response::capability::Capability;
use crate::response::greeting::apop_timestamp;
use crate::response::listing::{LangEntry, ListEntry, Stat, UidlEntry};

/// Most lines a CAPA listing may have (Dovecot's has about ten): the client did not
/// ask for a stream, so a longer one is a server that never ends it, and fatal
/// ([`ClientError::Protocol`]).
pub const MAX_CAPA_LINES: u32 = 256;

/// Most lines a LANG listing may have (RFC 6856; servers list a few languages):
/// likewise not a stream, so a longer one is fatal ([`ClientError::Protocol`]).
pub const MAX_LANG_LINES: u32 = 256;

impl Client {
    /// Decodes the next reply event from `input` (the received bytes not yet
    /// consumed). No event and nothing consumed means: read more.
    ///
    /// The event borrows `input` only, never the client: commands may be queued
    /// while it is held. For a loop that must hold an event across `.await`, see
    /// [`handle_input_token`](Self::handle_input_token).
    ///
    /// Pass everything received before calling [`poll_transmit`](Self::poll_transmit)
    /// (the driver does): bytes that arrived while no command was in flight are
    /// refused as such only if the client sees them before the next command leaves.
    ///
    /// An error is fatal: the client is closed, and none of `input` nor anything
    /// later will be read (see the module docs). A reply that is wrong inside its own
    /// framing is not an error but a [`ClientEvent::Invalid`], except a bad line of a
    /// whole LIST or UIDL listing: [`ClientError::InvalidListing`] at that line.
    pub fn handle_input<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Decoded<ClientEvent<'a>>, ClientError> {
        let d = self.handle_input_token(input)?;
        Ok(Decoded {
            consumed: d.consumed,
            item: d.item.map(|token| token.event(input)),
        })
    }

    /// [`handle_input`](Self::handle_input) with the event as a `Copy`
    /// [`EventToken`] that borrows nothing; [`EventToken::event`] turns it into the
    /// [`ClientEvent`] given the same `input`. The driver ([`crate::driver`]) holds
    /// tokens so that its events can leave an async `next()`.
    pub fn handle_input_token(&mut self, input: &[u8]) -> Result<Decoded<EventToken>, ClientError> {
        if self.phase == Phase::Closed {
            return Ok(Decoded::need_more());
        }
        if self.awaiting_tls {
            // RFC 2595: nothing sent before the handshake is a reply.
            return Ok(Decoded {
                consumed: input.len(),
                item: None,
            });
        }
        if input.is_empty() {
            return Ok(Decoded::need_more());
        }
        if self.decoder.is_idle() {
            match self.queue.front() {
                Some(e) if e.sent && !self.sasl_line_ready => {
                    self.decoder.expect(e.pending.expect());
                }
                // Nothing in flight, or our SASL answer not sent yet: no reply is due.
                _ => {
                    return Err(self.fail(ClientError::Protocol(
                        "data from the server before a command",
                    )))
                }
            }
        }
        let decoded = match self.decoder.decode(input) {
            Ok(d) => d,
            Err(e) => return Err(self.fail(e.into())),
        };
        let consumed = decoded.consumed;
        let Some(event) = decoded.item else {
            return Ok(Decoded {
                consumed,
                item: None,
            });
        };
        let item = match self.reply(event, input) {
            Ok(item) => item,
            Err(e) => return Err(self.fail(e)),
        };
        // After `+OK` to STLS the rest of the input is plaintext nobody may act on.
        let consumed = if self.awaiting_tls {
            input.len()
        } else {
            consumed
        };
        Ok(Decoded { consumed, item })
    }

    fn finish_front(&mut self) {
        self.queue.pop_front();
        self.lines = 0;
    }

    // Out of line: inlined into the driver's `poll`, the fatal listing error
    // (`InvalidListing`) grew the USER/PASS firmware's .text by 508 bytes, over its
    // budget; out of line, by 172.
    #[inline(never)]
    fn reply(
        &mut self,
        event: ResponseEvent<'_>,
        input: &[u8],
    ) -> Result<Option<EventToken>, ClientError> {
        let token = |shape: Shape, part: &[u8]| EventToken::new(shape, input, part);
        if self.phase == Phase::Greeting {
            let ResponseEvent::Status(status) = event else {
                return Err(ClientError::Protocol("greeting is not a status line"));
            };
            if !status.is_ok() {
                return Err(ClientError::Rejected);
            }
            self.phase = Phase::Authorization;
            // At most 96 octets (apop_timestamp's bound): it always fits.
            let stamp = apop_timestamp(status.text)
                .filter(|stamp| self.timestamp.extend_from_slice(stamp).is_ok());
            if self.config.auto_capa {
                // Best effort: not possible if STLS was queued before the greeting.
                let _ = self.capa();
            }
            return Ok(Some(token(
                Shape::Greeting {
                    apop: stamp.is_some(),
                },
                status.text,
            )));
        }
        let Some(front) = self.queue.front().copied() else {
            return Err(ClientError::Protocol("reply without a command"));
        };
        let pending = front.pending;
        let kind = pending.kind();
        let msg = pending.msg().unwrap_or(0);
        match event {
            ResponseEvent::Status(status) if !status.is_ok() => {
                self.refused(pending);
                // The whole status line, so that the code and the text come back.
                Ok(Some(token(
                    Shape::Error {
                        command: kind,
                        msg: pending.msg(),
                    },
                    status_line(input, status.text),
                )))
            }
            ResponseEvent::Status(status) => self.accepted(pending, status.text, input),
            ResponseEvent::Challenge(challenge) => {
                let sasl = self
                    .sasl
                    .as_mut()
                    .ok_or(ClientError::Protocol("unexpected challenge"))?;
                let needs_credentials = sasl.challenge(challenge)?;
                self.sasl_line_ready = true;
                // The answer is computed from the challenge, which the event points at.
                Ok(needs_credentials.then(|| token(Shape::NeedCredentials, challenge)))
            }
            // A listing longer than it can be ends the session (else a server that
            // never ends it keeps the client reading for ever, failed or not).
            ResponseEvent::Line(_) if self.too_many_lines(pending) => {
                Err(ClientError::Protocol(match pending {
                    Pending::Capa => "CAPA listing too long",
                    Pending::Lang(_) => "LANG listing too long",
                    _ => "listing longer than STAT's count",
                }))
            }
            // The rest of a LANG listing that already failed.
            ResponseEvent::Line(_) if self.invalid.is_some() => Ok(None),
            ResponseEvent::Line(line) => {
                let shape = match pending {
                    Pending::Capa => {
                        self.caps.record(&Capability::parse(line));
                        return Ok(Some(token(Shape::Capability, line)));
                    }
                    Pending::List(_) => ListEntry::parse(line)
                        .map_err(InvalidReply::Malformed)
                        .and_then(|entry| {
                            self.check_msg(entry.msg, None)?;
                            Ok(token(Shape::List(entry), &[]))
                        }),
                    Pending::Uidl(_) => UidlEntry::parse(line)
                        .map_err(InvalidReply::Malformed)
                        .and_then(|entry| {
                            self.check_msg(entry.msg, None)?;
                            Ok(token(Shape::Uidl { msg: entry.msg }, entry.uid))
                        }),
                    Pending::Lang(_) => LangEntry::parse(line)
                        .map_err(InvalidReply::Malformed)
                        .map(|_| token(Shape::Lang, line)),
                    _ => return Err(ClientError::Protocol("unexpected listing line")),
                };
                match shape {
                    Ok(token) => Ok(Some(token)),
                    Err(reason) if matches!(pending, Pending::Lang(_)) => {
                        // Reported at the listing's end (at most MAX_LANG_LINES away).
                        self.invalid = Some(reason);
                        Ok(None)
                    }
                    // A whole LIST or UIDL known to be wrong is not read any further.
                    Err(reason) => Err(ClientError::InvalidListing(reason)),
                }
            }
            // A CR the body decoder held back from the previous input is its own
            // static byte, not a piece of this input.
            ResponseEvent::Data(data) if data == b"\r" && offset_in(input, data).is_none() => {
                Ok(Some(token(Shape::MessageCr { msg }, &[])))
            }
            ResponseEvent::Data(data) => Ok(Some(token(Shape::MessageData { msg }, data))),
            ResponseEvent::End => {
                self.finish_front();
                if let Some(reason) = self.invalid.take() {
                    return Ok(Some(token(
                        Shape::Invalid {
                            command: kind,
                            msg: pending.msg(),
                            reason,
                        },
                        &[],
                    )));
                }
                let shape = match kind {
                    CommandKind::Capa => {
                        self.caps.known = true;
                        Shape::CapabilitiesEnd
                    }
                    CommandKind::List => Shape::ListEnd,
                    CommandKind::Uidl => Shape::UidlEnd,
                    CommandKind::Lang => Shape::LangEnd,
                    _ => Shape::MessageEnd { msg },
                };
                Ok(Some(token(shape, &[])))
            }
        }
    }

    /// Counts a line of the reply to `pending`: true when it is one too many.
    fn too_many_lines(&mut self, pending: Pending) -> bool {
        self.lines = self.lines.saturating_add(1);
        let bound = match pending {
            Pending::Capa => Some(MAX_CAPA_LINES),
            Pending::Lang(_) => Some(MAX_LANG_LINES),
            Pending::List(None) | Pending::Uidl(None) => self.max_msg,
            _ => None,
        };
        bound.is_some_and(|max| self.lines > max)
    }

    /// A message number the server named: the one asked for (`asked`), within
    /// 1..=the highest STAT allows, and in a whole listing (`asked` is `None`) above
    /// the one before it.
    fn check_msg(&mut self, msg: u32, asked: Option<u32>) -> Result<(), InvalidReply> {
        if asked.is_some_and(|n| n != msg) {
            return Err(InvalidReply::OtherMessage { msg });
        }
        if msg == 0 || self.max_msg.is_some_and(|max| msg > max) {
            return Err(InvalidReply::NumberOutOfRange { msg });
        }
        if asked.is_none() {
            if msg <= self.last_msg {
                return Err(InvalidReply::OutOfOrder { msg });
            }
            self.last_msg = msg;
        }
        Ok(())
    }

    /// Bookkeeping after `-ERR` to the front command.
    fn refused(&mut self, pending: Pending) {
        self.finish_front();
        match pending {
            Pending::User => {
                // PASS must not follow a refused USER.
                if matches!(
                    self.queue.front(),
                    Some(Entry {
                        pending: Pending::Pass,
                        sent: false
                    })
                ) {
                    self.queue.pop_front();
                }
            }
            Pending::Auth { .. } => {
                self.sasl = None;
                self.sasl_line_ready = false;
            }
            Pending::Capa => self.caps = Capabilities::default(),
            // Nothing may be queued behind STLS; make sure nothing is.
            Pending::Stls => self.queue.clear(),
            _ => {}
        }
        if matches!(
            pending,
            Pending::User | Pending::Pass | Pending::Apop | Pending::Auth { .. }
        ) {
            self.creds_blocked = false;
            // Commands queued behind the failed login would only be refused.
            while let Some(e) = self.queue.back() {
                if e.sent || matches!(e.pending, Pending::Quit | Pending::Capa) {
                    break;
                }
                self.queue.pop_back();
            }
        }
    }

    fn accepted(
        &mut self,
        pending: Pending,
        text: &[u8],
        input: &[u8],
    ) -> Result<Option<EventToken>, ClientError> {
        let invalid = |reason: InvalidReply| Shape::Invalid {
            command: pending.kind(),
            msg: pending.msg(),
            reason,
        };
        let shape = match pending {
            Pending::Capa => {
                self.caps = Capabilities::default();
                self.invalid = None;
                return Ok(None);
            }
            Pending::List(None) | Pending::Uidl(None) | Pending::Lang(None) => {
                self.invalid = None;
                self.last_msg = 0;
                return Ok(None);
            }
            Pending::Retr(msg) | Pending::Top(msg, _) => Shape::MessageStart { msg },
            Pending::Stls => {
                self.finish_front();
                // Nothing was allowed behind it; nothing leaves before the handshake.
                self.queue.clear();
                self.awaiting_tls = true;
                Shape::StartTls
            }
            Pending::User => {
                self.finish_front();
                return Ok(None);
            }
            Pending::Pass | Pending::Apop => {
                self.finish_front();
                self.logged_in()
            }
            Pending::Auth { .. } => {
                self.finish_front();
                let sasl = self
                    .sasl
                    .take()
                    .ok_or(ClientError::Protocol("no SASL exchange"))?;
                // SCRAM: the server must have proved it knows the password.
                sasl.check_success()?;
                self.logged_in()
            }
            Pending::Stat => {
                self.finish_front();
                match Stat::parse(text) {
                    Ok(stat) => {
                        self.max_msg = Some(stat.count.saturating_add(self.deleted));
                        Shape::Stat(stat)
                    }
                    Err(e) => invalid(InvalidReply::Malformed(e)),
                }
            }
            Pending::List(Some(n)) => {
                self.finish_front();
                match ListEntry::parse(text).map_err(InvalidReply::Malformed) {
                    Ok(entry) => match self.check_msg(entry.msg, Some(n)) {
                        Ok(()) => Shape::List(entry),
                        Err(reason) => invalid(reason),
                    },
                    Err(reason) => invalid(reason),
                }
            }
            Pending::Uidl(Some(n)) => {
                self.finish_front();
                let entry = match UidlEntry::parse(text).map_err(InvalidReply::Malformed) {
                    Ok(entry) => entry,
                    Err(reason) => return Ok(Some(EventToken::new(invalid(reason), input, &[]))),
                };
                if let Err(reason) = self.check_msg(entry.msg, Some(n)) {
                    return Ok(Some(EventToken::new(invalid(reason), input, &[])));
                }
                return Ok(Some(EventToken::new(
                    Shape::Uidl { msg: entry.msg },
                    input,
                    entry.uid,
                )));
            }
            Pending::Dele(msg) => {
                self.finish_front();
                self.deleted = self.deleted.saturating_add(1);
                Shape::Deleted { msg }
            }
            Pending::Quit => {
                self.finish_front();
                self.phase = Phase::Closed;
                Shape::Closed
            }
            Pending::Noop | Pending::Rset | Pending::Utf8 | Pending::Lang(Some(_)) => {
                self.finish_front();
                if matches!(pending, Pending::Rset) {
                    self.deleted = 0;
                }
                return Ok(Some(EventToken::new(
                    Shape::Ok {
                        command: pending.kind(),
                    },
                    input,
                    text,
                )));
            }
        };
        Ok(Some(EventToken::new(shape, input, &[])))
    }

    fn logged_in(&mut self) -> Shape {
        self.phase = Phase::Transaction;
        self.max_msg = None;
        self.deleted = 0;
        if self.config.auto_capa {
            self.caps = Capabilities {
                pipelining: self.caps.pipelining,
                ..Capabilities::default()
            };
            // Best effort: not possible once QUIT is queued.
            let _ = self.capa();
        }
        Shape::LoggedIn
    }
}

/// The status line that ends with `text`: the decoder hands status lines out from the
/// start of the input, so the line is `input[..end of text]`.
fn status_line<'a>(input: &'a [u8], text: &[u8]) -> &'a [u8] {
    let end = offset_in(input, text).map_or(0, |start| start + text.len());
    &input[..end]
}
