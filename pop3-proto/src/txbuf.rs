//! The outgoing byte queue of the state machines: replies or commands are written
//! here and the caller drains it with `poll_transmit` / `transmitted`.

use crate::encode::{EncodeError, Writer};

/// A fixed-capacity FIFO of bytes waiting to be sent.
#[derive(Clone)]
pub(crate) struct TxBuf<const N: usize> {
    buf: [u8; N],
    start: usize,
    end: usize,
}

impl<const N: usize> TxBuf<N> {
    pub(crate) const fn new() -> Self {
        TxBuf {
            buf: [0; N],
            start: 0,
            end: 0,
        }
    }

    /// Bytes waiting to be sent.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Drops the first `n` pending bytes (they were sent).
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Free room after compacting.
    pub(crate) fn room(&self) -> usize {
        N - (self.end - self.start)
    }

    /// The free tail, after moving pending bytes to the front.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as written.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(N);
    }

    /// Appends what `f` writes, or nothing if it fails.
    pub(crate) fn write_with(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let mut w = Writer::new(self.spare());
        f(&mut w)?;
        let n = w.len();
        self.commit(n);
        Ok(())
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.write_with(|w| w.put(bytes))
    }
}

// `Debug` shows the queue's positions, never its bytes (a queued command may carry a
// password).
impl<const N: usize> core::fmt::Debug for TxBuf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TxBuf")
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}
