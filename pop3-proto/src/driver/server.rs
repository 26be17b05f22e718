//! [`ServerDriver`]: a [`Server`] with the caller's buffers and the one loop rule.

use crate::driver::buf::{Rx, Tx};
use crate::driver::ServerPoll as Poll;
use crate::server::{Marks, Server, ServerError, ServerEvent};
use crate::time::Instant;

/// A [`Server`] with a receive buffer `R` and a transmit buffer `T` of the caller's
/// choosing, driven by [`poll`](Self::poll).
///
/// `R` must hold the longest command line ([`MIN_SERVER_RECEIVE`]: 255 octets); a SASL line longer than `R`
/// is refused whatever [`ServerConfig::max_sasl_line`](crate::server::ServerConfig::max_sasl_line)
/// says, and SASL messages are decoded in place in `R` (a 16 KiB OAuth token needs
/// 24 KiB). `T` may be small ([`MIN_SERVER_TRANSMIT`]: 32 octets; replies are copied
/// out in pieces), but
/// message bodies are encoded straight into it, so its size is the size of the
/// writes while a message is sent (64 KiB serves a 50 MB message in 780 writes).
/// Smaller buffers make every [`poll`](Self::poll) fail with
/// [`ServerError::BuffersTooSmall`].
///
/// [`MIN_SERVER_RECEIVE`]: super::MIN_SERVER_RECEIVE
/// [`MIN_SERVER_TRANSMIT`]: super::MIN_SERVER_TRANSMIT
#[derive(Debug, Clone)]
pub struct ServerDriver<M: Marks, R, T> {
    server: Server<M>,
    rx: Rx<R>,
    tx: Tx<T>,
    /// Input consumed by the pending event's line, dropped at the next `poll` after
    /// the event is answered (the event may borrow it).
    held: usize,
    /// Bytes were written since the last `poll`: the client is reading.
    progressed: bool,
    /// See [`set_write_batch`](Self::set_write_batch); 0: transmit at once.
    batch: usize,
}

impl<M, R, T> ServerDriver<M, R, T>
where
    M: Marks,
    R: AsRef<[u8]> + AsMut<[u8]>,
    T: AsRef<[u8]> + AsMut<[u8]>,
{
    /// Wraps a new session (its greeting is queued).
    pub fn new(mut server: Server<M>, rx: R, tx: T) -> Self {
        server.set_input_capacity(rx.as_ref().len());
        ServerDriver {
            server,
            rx: Rx::new(rx),
            tx: Tx::new(tx),
            held: 0,
            progressed: false,
            batch: 0,
        }
    }

    /// Lets the replies to pipelined RETR and TOP commands collect in the transmit
    /// buffer until `bytes` are pending, so that a client fetching many messages
    /// gets them in large writes: one system call, and one wakeup of its reader,
    /// per `bytes` rather than per message. While fewer are pending and the next
    /// command, already received, is a RETR or TOP, [`poll`](Self::poll) hands out
    /// its event before [`Poll::Transmit`]. Everything pending is still transmitted
    /// before `poll` asks for input, closes, or hands out any other event (a
    /// password check, STLS), so no reply waits on the client or on a slow answer.
    ///
    /// Default 0: transmit as soon as anything is pending. The blocking and tokio
    /// adapters use half their 128 KiB transmit buffer (pop3d serves a pipelined
    /// client about 10% faster than with a write per message).
    pub fn set_write_batch(&mut self, bytes: usize) {
        self.batch = bytes;
    }

    /// Pending output may wait for the next message (see [`set_write_batch`](Self::set_write_batch)):
    /// less than the batch, and nothing more that did not fit.
    fn may_defer(&self) -> bool {
        self.tx.pending().len() < self.batch && !self.server.has_transmit()
    }

    /// Pending output may wait while the next command is read: it may defer, the
    /// session is open, and no event was handed out (a batch grows only by the next
    /// command's message; an event already out is transmitted for first, as without
    /// batching).
    fn batch_grows(&self) -> bool {
        self.may_defer() && !self.server.is_closed() && self.event().is_none()
    }

    /// The state machine, to answer its events (`answer_*`) and read its state.
    pub fn server(&mut self) -> &mut Server<M> {
        &mut self.server
    }

    /// The state machine, to read its state.
    pub fn server_ref(&self) -> &Server<M> {
        &self.server
    }

    /// What to do next at time `now`; call it again after doing it. Drains in this
    /// order: bytes to transmit, then the pending event (until it is answered), then
    /// a request for input with the deadline of the server's timers;
    /// [`Poll::Closed`] once the session is over and everything was sent. Timers
    /// that are due are handled here: a failed-login delay ends first thing; the
    /// idle timer only while the server waits for the client (a long message being
    /// sent and read is activity).
    ///
    /// An error means the application misused the server (an answer that does not
    /// match the event); the client's bytes never cause one.
    pub fn poll(&mut self, now: Instant) -> Result<crate::driver::ServerPoll, ServerError> {
        if self.rx.capacity() < super::MIN_SERVER_RECEIVE
            || self.tx.capacity() < super::MIN_SERVER_TRANSMIT
        {
            return Err(ServerError::BuffersTooSmall);
        }
        if self.held > 0 && self.event().is_none() {
            self.rx.consume(self.held);
            self.held = 0;
        }
        if core::mem::take(&mut self.progressed) {
            self.server.handle_progress(now);
        }
        loop {
            if self.server.holds_output() && self.server.poll_timeout().is_some_and(|t| now >= t) {
                self.server.handle_timeout(now);
            }
            let n = self.server.poll_transmit(self.tx.spare());
            self.tx.commit(n);
            // (The event is looked up only with bytes pending, not at every turn.)
            if !self.tx.pending().is_empty() && !self.batch_grows() {
                return Ok(Poll::Transmit);
            }
            if self.server.is_closed() {
                if self.server.holds_output() {
                    // The last failed login's reply waits for its delay.
                    return Ok(Poll::NeedInput {
                        deadline: self.server.poll_timeout(),
                    });
                }
                return Ok(Poll::Closed);
            }
            if self.event().is_some() {
                return Ok(Poll::Event);
            }
            let d = self.server.handle_input_in_place(self.rx.data_mut(), now)?;
            let (consumed, event) = (d.consumed, d.item.is_some());
            if event {
                self.held = consumed;
                // Bytes first: a reply queued with the event (`+OK` to STLS before
                // the handshake) goes out before the event is handed out.
                let n = self.server.poll_transmit(self.tx.spare());
                self.tx.commit(n);
                let message = matches!(self.event(), Some(ServerEvent::Retrieve { .. }));
                let batched = message && self.may_defer();
                if !self.tx.pending().is_empty() && !batched {
                    return Ok(Poll::Transmit);
                }
                return Ok(Poll::Event);
            }
            self.rx.consume(consumed);
            if consumed > 0 || self.server.has_transmit() {
                continue;
            }
            if !self.tx.pending().is_empty() {
                // A deferred batch: the client's next command is not here yet.
                return Ok(Poll::Transmit);
            }
            // Waiting for the client: now the idle timer (or a delay) may be due.
            if self.server.poll_timeout().is_some_and(|t| now >= t) {
                self.server.handle_timeout(now);
                continue;
            }
            return Ok(Poll::NeedInput {
                deadline: self.server.poll_timeout(),
            });
        }
    }

    /// After [`Poll::Event`]: the event to answer, until it is answered. It may
    /// borrow the receive buffer (a SASL message is decoded in place there).
    pub fn event(&self) -> Option<ServerEvent<'_>> {
        self.server.event_in(self.rx.data())
    }

    /// After [`Poll::Transmit`]: the bytes to write to the connection.
    pub fn transmit(&self) -> &[u8] {
        self.tx.pending()
    }

    /// The first `n` bytes of [`transmit`](Self::transmit) were written. Writing is
    /// the client's activity too: the next `poll` restarts the idle timer.
    pub fn transmitted(&mut self, n: usize) {
        self.tx.sent(n);
        self.progressed |= n > 0;
    }

    /// After [`Poll::NeedInput`]: where to read received bytes into; then call
    /// [`received`](Self::received). Empty while the buffer is full of unanswered
    /// input (a client pipelining faster than it reads): wait for the deadline.
    /// Like `poll`, it drops the bytes of the line that raised the last event.
    pub fn input(&mut self) -> &mut [u8] {
        if self.held > 0 && self.event().is_none() {
            self.rx.consume(self.held);
            self.held = 0;
        }
        self.rx.spare()
    }

    /// `n` bytes were read into [`input`](Self::input).
    pub fn received(&mut self, n: usize) {
        self.rx.filled(n);
    }

    /// For [`ServerEvent::Retrieve`]: encodes message bytes into the transmit
    /// buffer (see [`Server::body`]) and returns how many of `chunk` were taken.
    /// 0 means the buffer is full: [`poll`](Self::poll) (it answers
    /// [`Poll::Transmit`]), send, then go on with the rest of the chunk.
    pub fn body(&mut self, chunk: &[u8]) -> Result<usize, ServerError> {
        let n = self.server.poll_transmit(self.tx.spare());
        self.tx.commit(n);
        let empty = self.tx.pending().is_empty();
        let w = self.server.body(chunk, self.tx.spare())?;
        self.tx.commit(w.written);
        if w.taken == 0 && w.written == 0 && empty && !chunk.is_empty() {
            // Nothing fits an empty buffer: transmitting would not make room.
            return Err(ServerError::BufferTooSmall);
        }
        Ok(w.taken)
    }

    /// After [`ServerEvent::StartTls`] was answered by a successful handshake:
    /// drops any plaintext received after the STLS line (RFC 2595) and tells the
    /// server.
    pub fn tls_started(&mut self) -> Result<(), ServerError> {
        self.held = 0;
        self.rx.clear();
        self.server.tls_started()
    }

    /// Unwraps the server.
    pub fn into_server(self) -> Server<M> {
        self.server
    }
}
