//! Adapters for `embedded-io` (blocking) and `embedded-io-async` transports: a
//! UART, an embassy-net socket, or tokio through `embedded-io-adapters`. Generic over
//! the traits, fixed buffers, no allocator.
//!
//! Both are the [`crate::driver`] loop over the same [`ClientDriver`]: each adapter
//! is only its I/O.

use core::fmt;

use crate::client::{Client, ClientError, ClientEvent};
use crate::driver::{ClientDriver, Poll};

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

/// A [`Client`] over an `embedded_io` (blocking) transport: the
/// [`ClientDriver`] loop over fixed buffers of `RX` and `TX` bytes. `RX` must hold a
/// status line (512 octets; message bodies stream through any size), `TX` the longest
/// command (255 octets, more for long SASL responses).
#[cfg(feature = "embedded-io")]
pub struct ClientConn<S, const RX: usize, const TX: usize> {
    driver: ClientDriver<[u8; RX], [u8; TX]>,
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
            driver: ClientDriver::new(client, [0; RX], [0; TX]),
            stream,
        }
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        self.driver.client()
    }

    /// Sends what is queued and hands the next event to `f`, reading as needed.
    /// `Ok(None)` once nothing is queued or in flight.
    pub fn next<R>(
        &mut self,
        f: impl FnOnce(ClientEvent<'_>) -> R,
    ) -> Result<Option<R>, Error<S::Error>> {
        loop {
            match self.driver.poll()? {
                Poll::Transmit => {
                    let out = self.driver.transmit();
                    self.stream.write_all(out).map_err(Error::Io)?;
                    self.stream.flush().map_err(Error::Io)?;
                    let n = out.len();
                    self.driver.transmitted(n);
                }
                Poll::Event => break,
                Poll::NeedInput { .. } => {
                    let n = self.stream.read(self.driver.input()).map_err(Error::Io)?;
                    if n == 0 {
                        return Err(Error::Eof);
                    }
                    self.driver.received(n);
                }
                Poll::Idle | Poll::Closed => return Ok(None),
            }
        }
        Ok(self.driver.event().map(f))
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error<S::Error>> {
        while self.next(&mut f)?.is_some() {}
        Ok(())
    }
}

/// A [`Client`] over an `embedded_io_async` transport (embassy, or tokio through
/// `embedded-io-adapters`): the [`ClientDriver`] loop over fixed buffers.
#[cfg(feature = "embedded-io-async")]
pub struct AsyncClientConn<S, const RX: usize, const TX: usize> {
    driver: ClientDriver<[u8; RX], [u8; TX]>,
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
            driver: ClientDriver::new(client, [0; RX], [0; TX]),
            stream,
        }
    }

    /// The state machine, to queue commands.
    pub fn client(&mut self) -> &mut Client {
        self.driver.client()
    }

    /// Sends what is queued and returns the next event, reading as needed: the
    /// event borrows the receive buffer until the next call, and the caller may
    /// `.await` anything in between. `Ok(None)` once nothing is queued or in flight.
    pub async fn next(&mut self) -> Result<Option<ClientEvent<'_>>, Error<S::Error>> {
        loop {
            match self.driver.poll()? {
                Poll::Transmit => {
                    let out = self.driver.transmit();
                    self.stream.write_all(out).await.map_err(Error::Io)?;
                    self.stream.flush().await.map_err(Error::Io)?;
                    let n = out.len();
                    self.driver.transmitted(n);
                }
                Poll::Event => break,
                Poll::NeedInput { .. } => {
                    let n = self
                        .stream
                        .read(self.driver.input())
                        .await
                        .map_err(Error::Io)?;
                    if n == 0 {
                        return Err(Error::Eof);
                    }
                    self.driver.received(n);
                }
                Poll::Idle | Poll::Closed => return Ok(None),
            }
        }
        Ok(self.driver.event())
    }

    /// Runs queued commands to completion, handing every event to `f`.
    pub async fn run(&mut self, mut f: impl FnMut(ClientEvent<'_>)) -> Result<(), Error<S::Error>> {
        while let Some(event) = self.next().await? {
            f(event);
        }
        Ok(())
    }
}
