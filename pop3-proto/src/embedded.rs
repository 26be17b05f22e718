//! Adapters for `embedded-io` (blocking) and `embedded-io-async` transports: a
//! UART, an embassy-net socket, or tokio through `embedded-io-adapters`. Generic over
//! the traits, fixed buffers, no allocator.
//!
//! Both drive the same [`Client`]; [`ClientIo`] holds the buffers and the logic
//! they share, so each adapter is only its I/O loop.

use core::fmt;

use crate::client::{Client, ClientError, ClientEvent};

/// Why an embedded session failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error<E> {
    /// The transport failed (a UART timeout, a closed socket, …).
    Io(E),
    /// The peer closed the connection before the session ended.
    Eof,
    /// The client state machine refused (protocol violation, bad SASL, …).
    Client(ClientError),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O: {e:?}"),
            Error::Eof => f.write_str("connection closed"),
            Error::Client(e) => write!(f, "{e}"),
        }
    }
}

impl<E> From<ClientError> for Error<E> {
    fn from(e: ClientError) -> Self {
        Error::Client(e)
    }
}

/// One decoding step of [`ClientIo`].
enum Step<R> {
    Event(R),
    Progress,
    NeedInput,
}

/// The state machine with its receive (`RX` bytes) and transmit (`TX` bytes)
/// buffers. `RX` must hold a status line (512 octets; message bodies stream through
/// any size), `TX` the longest command (255 octets, more for long SASL responses).
pub struct ClientIo<const RX: usize, const TX: usize> {
    client: Client,
    rx: [u8; RX],
    start: usize,
    end: usize,
    tx: [u8; TX],
}

impl<const RX: usize, const TX: usize> ClientIo<RX, TX> {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        ClientIo {
            client,
            rx: [0; RX],
            start: 0,
            end: 0,
            tx: [0; TX],
        }
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The next bytes to send (empty when nothing is queued).
    fn transmit(&mut self) -> Result<&[u8], ClientError> {
        let n = self.client.poll_transmit(&mut self.tx)?;
        Ok(&self.tx[..n])
    }

    /// Decodes one step from what was received. `Step::Event` when `f` saw an
    /// event, `Step::Progress` when bytes were used without one (the client may now
    /// have something to send, such as a SASL response), `Step::NeedInput` otherwise.
    fn decode<R>(
        &mut self,
        f: &mut Option<impl FnOnce(ClientEvent<'_>) -> R>,
    ) -> Result<Step<R>, ClientError> {
        let d = self.client.handle_input(&self.rx[self.start..self.end])?;
        let consumed = d.consumed;
        let step = match d.item {
            Some(event) => match f.take() {
                Some(f) => Step::Event(f(event)),
                None => Step::Progress,
            },
            None if consumed > 0 => Step::Progress,
            None => Step::NeedInput,
        };
        self.start += consumed;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        Ok(step)
    }

    /// True when nothing is queued or in flight.
    fn done(&self) -> bool {
        self.client.is_idle() || self.client.is_closed()
    }

    /// Free receive space (after compacting); an error when a line does not fit
    /// the receive buffer at all.
    fn spare(&mut self) -> Result<&mut [u8], ClientError> {
        if self.end == RX && self.start > 0 {
            self.rx.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == RX {
            return Err(ClientError::Decode(crate::DecodeError::LineTooLong {
                limit: RX,
            }));
        }
        Ok(&mut self.rx[self.end..])
    }

    fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(RX);
    }
}

/// A [`Client`] over an `embedded_io` (blocking) transport.
#[cfg(feature = "embedded-io")]
pub struct ClientConn<S, const RX: usize, const TX: usize> {
    io: ClientIo<RX, TX>,
    stream: S,
}

#[cfg(feature = "embedded-io")]
impl<S: embedded_io::Read + embedded_io::Write, const RX: usize, const TX: usize>
    ClientConn<S, RX, TX>
{
    /// Wraps a connected transport; the greeting is read by the first
    /// [`next`](Self::next).
    pub fn new(stream: S, client: Client) -> Self {
        ClientConn {
            io: ClientIo::new(client),
            stream,
        }
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        self.io.client()
    }

    /// Sends what is queued and hands the next event to `f`, reading as needed.
    /// `Ok(None)` once nothing is queued or in flight.
    pub fn next<R>(
        &mut self,
        f: impl FnOnce(ClientEvent<'_>) -> R,
    ) -> Result<Option<R>, Error<S::Error>> {
        let mut f = Some(f);
        loop {
            let out = self.io.transmit()?;
            if !out.is_empty() {
                self.stream.write_all(out).map_err(Error::Io)?;
                self.stream.flush().map_err(Error::Io)?;
                continue;
            }
            match self.io.decode(&mut f)? {
                Step::Event(r) => return Ok(Some(r)),
                Step::Progress => continue,
                Step::NeedInput => {}
            }
            if self.io.done() {
                return Ok(None);
            }
            let n = self.stream.read(self.io.spare()?).map_err(Error::Io)?;
            if n == 0 {
                return Err(Error::Eof);
            }
            self.io.filled(n);
        }
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error<S::Error>> {
        while self.next(&mut f)?.is_some() {}
        Ok(())
    }
}

/// A [`Client`] over an `embedded_io_async` transport (embassy, or tokio through
/// `embedded-io-adapters`).
#[cfg(feature = "embedded-io-async")]
pub struct AsyncClientConn<S, const RX: usize, const TX: usize> {
    io: ClientIo<RX, TX>,
    stream: S,
}

#[cfg(feature = "embedded-io-async")]
impl<S: embedded_io_async::Read + embedded_io_async::Write, const RX: usize, const TX: usize>
    AsyncClientConn<S, RX, TX>
{
    /// Wraps a connected transport; the greeting is read by the first
    /// [`next`](Self::next).
    pub fn new(stream: S, client: Client) -> Self {
        AsyncClientConn {
            io: ClientIo::new(client),
            stream,
        }
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        self.io.client()
    }

    /// Sends what is queued and hands the next event to `f`, reading as needed.
    /// `Ok(None)` once nothing is queued or in flight.
    pub async fn next<R>(
        &mut self,
        f: impl FnOnce(ClientEvent<'_>) -> R,
    ) -> Result<Option<R>, Error<S::Error>> {
        let mut f = Some(f);
        loop {
            let out = self.io.transmit()?;
            if !out.is_empty() {
                self.stream.write_all(out).await.map_err(Error::Io)?;
                self.stream.flush().await.map_err(Error::Io)?;
                continue;
            }
            match self.io.decode(&mut f)? {
                Step::Event(r) => return Ok(Some(r)),
                Step::Progress => continue,
                Step::NeedInput => {}
            }
            if self.io.done() {
                return Ok(None);
            }
            let n = self
                .stream
                .read(self.io.spare()?)
                .await
                .map_err(Error::Io)?;
            if n == 0 {
                return Err(Error::Eof);
            }
            self.io.filled(n);
        }
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub async fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error<S::Error>> {
        while self.next(&mut f).await?.is_some() {}
        Ok(())
    }
}
