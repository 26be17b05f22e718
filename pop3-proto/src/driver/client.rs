//! [`ClientDriver`]: a [`Client`] with the caller's buffers and the one loop rule.

use crate::client::{Client, ClientError, ClientEvent, EventToken, Login};
use crate::codec::DecodeError;
use crate::driver::buf::{Rx, Tx};
use crate::driver::Poll;
use crate::time::Instant;

/// A [`Client`] with a receive buffer `R` and a transmit buffer `T` of the caller's
/// choosing (`[u8; N]`, `&mut [u8]`, `Vec<u8>`, …), driven by [`poll`](Self::poll).
///
/// `R` must hold the longest status or listing line ([`MIN_CLIENT_RECEIVE`]: 512
/// octets); message bodies stream through it whatever their size. `T` must hold
/// the longest command ([`MIN_CLIENT_TRANSMIT`]: 255 octets, more for long SASL
/// responses such as OAuth tokens). Smaller buffers make every
/// [`poll`](Self::poll) fail with [`ClientError::BuffersTooSmall`].
///
/// [`MIN_CLIENT_RECEIVE`]: super::MIN_CLIENT_RECEIVE
/// [`MIN_CLIENT_TRANSMIT`]: super::MIN_CLIENT_TRANSMIT
#[derive(Debug, Clone)]
pub struct ClientDriver<R, T> {
    client: Client,
    rx: Rx<R>,
    tx: Tx<T>,
    /// The event handed out by the last `poll`, and the input it consumed (dropped
    /// at the next `poll`, so that the event can borrow it until then).
    held: Option<(EventToken, usize)>,
    /// [`ClientEvent::NeedCredentials`] was handed out and not answered yet.
    asked: bool,
    /// When the server last showed life (or the driver was first polled, or a
    /// command left): the reply and greeting timeouts count from here.
    since: Instant,
    /// `since` was set (by the first `poll`).
    started: bool,
    /// Bytes were sent or received since the last `poll`.
    progressed: bool,
}

impl<R, T> ClientDriver<R, T>
where
    R: AsRef<[u8]> + AsMut<[u8]>,
    T: AsRef<[u8]> + AsMut<[u8]>,
{
    /// Wraps a client about to receive the greeting.
    pub fn new(client: Client, rx: R, tx: T) -> Self {
        ClientDriver {
            client,
            rx: Rx::new(rx),
            tx: Tx::new(tx),
            held: None,
            asked: false,
            since: Instant::from_millis(0),
            started: false,
            progressed: false,
        }
    }

    /// The state machine, to queue commands ([`Client::retr`], [`Client::quit`], …).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The state machine, to read its state.
    pub fn client_ref(&self) -> &Client {
        &self.client
    }

    /// What to do next; call it again after doing it. Drains in this order: bytes
    /// already encoded for transmission, then events from the bytes received, then
    /// the next queued commands to transmit, then a request for input;
    /// [`Poll::Idle`] once nothing is queued or in flight, [`Poll::Closed`] once the
    /// session is over.
    ///
    /// Received bytes are decoded before new commands leave, so that bytes the server
    /// sent when no reply was due are seen as such (and close the session) instead of
    /// being read as the reply to a command sent after they arrived. Every command
    /// still leaves before the driver asks for input.
    ///
    /// A reply that is wrong inside its own framing is an event
    /// ([`ClientEvent::Invalid`]), its bytes consumed like any other, except a bad
    /// line of a whole LIST or UIDL, which ends the session there
    /// ([`ClientError::InvalidListing`]). An error from
    /// the received bytes is fatal: the client is closed, the received bytes are
    /// dropped, and later polls say [`Poll::Closed`]. An error while encoding the
    /// next command ([`ClientError::BufferTooSmall`]: the transmit buffer cannot
    /// hold it) consumes nothing and leaves the session as it was.
    ///
    /// `now` runs the client's timers: while a greeting or a reply is due,
    /// [`Poll::NeedInput`] carries the deadline after which the server counts as
    /// silent ([`ClientConfig::greeting_timeout_ms`], [`ClientConfig::reply_timeout_ms`],
    /// counted from the first `poll` and from the last byte sent or received); a
    /// `poll` at or after it fails with [`ClientError::GreetingTimeout`] or
    /// [`ClientError::ReplyTimeout`] (fatal: the client is closed).
    ///
    /// [`ClientConfig::greeting_timeout_ms`]: crate::client::ClientConfig::greeting_timeout_ms
    /// [`ClientConfig::reply_timeout_ms`]: crate::client::ClientConfig::reply_timeout_ms
    pub fn poll(&mut self, now: Instant) -> Result<Poll, ClientError> {
        if let Some((_, consumed)) = self.held.take() {
            self.rx.consume(consumed);
        }
        if self.rx.capacity() < super::MIN_CLIENT_RECEIVE
            || self.tx.capacity() < super::MIN_CLIENT_TRANSMIT
        {
            return Err(self.client.fail(ClientError::BuffersTooSmall));
        }
        if core::mem::take(&mut self.progressed) || !self.started {
            self.since = now;
            self.started = true;
        }
        loop {
            if !self.tx.pending().is_empty() {
                return Ok(Poll::Transmit);
            }
            let d = match self.client.handle_input_token(self.rx.data()) {
                Ok(d) => d,
                Err(e) => {
                    self.rx.clear();
                    return Err(e);
                }
            };
            if let Some(token) = d.item {
                self.held = Some((token, d.consumed));
                self.asked = token.is_need_credentials();
                return Ok(Poll::Event);
            }
            if d.consumed > 0 {
                self.rx.consume(d.consumed);
                continue;
            }
            let n = self.client.poll_transmit(self.tx.spare())?;
            if n > 0 {
                self.tx.commit(n);
                return Ok(Poll::Transmit);
            }
            if self.client.wants_credentials() {
                if self.asked {
                    // Asked and polled again without an answer: the login cannot go on.
                    self.asked = false;
                    self.rx.clear();
                    return Err(self.client.fail(ClientError::CredentialsNeeded));
                }
                self.asked = true;
                self.held = Some((EventToken::need_credentials(), 0));
                return Ok(Poll::Event);
            }
            if self.client.is_closed() {
                return Ok(Poll::Closed);
            }
            if self.client.is_idle() {
                return Ok(Poll::Idle);
            }
            if self.rx.is_full() {
                // A line longer than the receive buffer: it can never be decoded.
                let limit = self.rx.data().len();
                self.rx.clear();
                return Err(self
                    .client
                    .fail(ClientError::Decode(DecodeError::LineTooLong { limit })));
            }
            let deadline = self
                .client
                .silence_limit_ms()
                .map(|ms| self.since.plus_millis(ms));
            if deadline.is_some_and(|d| now >= d) {
                self.rx.clear();
                let e = self.client.timeout_error();
                return Err(self.client.fail(e));
            }
            return Ok(Poll::NeedInput { deadline });
        }
    }

    /// After [`Poll::Event`]: the event, borrowing the receive buffer until the
    /// next [`poll`](Self::poll). `None` at any other time.
    pub fn event(&self) -> Option<ClientEvent<'_>> {
        self.held.map(|(token, _)| token.event(self.rx.data()))
    }

    /// After [`Poll::Event`]: the event as a `Copy` token (see [`EventToken`]).
    pub fn event_token(&self) -> Option<EventToken> {
        self.held.map(|(token, _)| token)
    }

    /// After [`ClientEvent::NeedCredentials`]: writes the line with the login's
    /// credentials (the [`Login`] given to [`Client::login`]) into the transmit
    /// buffer, computed from the event's challenge if it has one; the next
    /// [`poll`](Self::poll) says [`Poll::Transmit`]. Nothing of `login` is kept.
    /// Errors are fatal (see [`Client::write_credentials`]); the transmit buffer must
    /// hold the whole line (a 16 KiB token needs about 22 KiB).
    pub fn credentials(&mut self, login: &Login<'_>) -> Result<(), ClientError> {
        let challenge = match self.held {
            Some((token, _)) if token.is_need_credentials() => token.bytes(self.rx.data()),
            _ => &[],
        };
        let n = self
            .client
            .write_credentials(login, challenge, self.tx.spare())?;
        self.tx.commit(n);
        self.asked = false;
        Ok(())
    }

    /// After [`Poll::Transmit`]: the bytes to write to the connection.
    pub fn transmit(&self) -> &[u8] {
        self.tx.pending()
    }

    /// The first `n` bytes of [`transmit`](Self::transmit) were written.
    pub fn transmitted(&mut self, n: usize) {
        self.tx.sent(n);
        self.progressed |= n > 0;
    }

    /// After [`Poll::NeedInput`]: where to read received bytes into; then call
    /// [`received`](Self::received) with their number. Like `poll`, it ends the
    /// event handed out last (its bytes may be moved).
    pub fn input(&mut self) -> &mut [u8] {
        if let Some((_, consumed)) = self.held.take() {
            self.rx.consume(consumed);
        }
        self.rx.spare()
    }

    /// `n` bytes were read into [`input`](Self::input).
    pub fn received(&mut self, n: usize) {
        self.rx.filled(n);
        self.progressed |= n > 0;
    }

    /// After [`ClientEvent::StartTls`] and a successful handshake: drops any
    /// plaintext received after the `+OK` (RFC 2595: nothing the server sent before
    /// TLS may be read as a reply after it; the client ignores it too) and tells the
    /// client, which forgets what it learnt and queues CAPA again. Refused with
    /// [`ClientError::WrongState`] when no STLS was accepted.
    pub fn tls_started(&mut self) -> Result<(), ClientError> {
        self.held = None;
        self.rx.clear();
        self.client.tls_started()
    }

    /// Unwraps the client.
    pub fn into_client(self) -> Client {
        self.client
    }
}
