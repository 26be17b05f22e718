//! The caller's receive and transmit buffers, as the drivers use them: any storage
//! that is a byte slice (`[u8; N]`, `&mut [u8]`, `Vec<u8>`, `Box<[u8]>`).

/// Bytes `start..end` of `buf` are received and not yet consumed.
#[derive(Clone)]
pub(crate) struct Rx<B> {
    buf: B,
    start: usize,
    end: usize,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Rx<B> {
    pub(crate) fn new(buf: B) -> Self {
        Rx {
            buf,
            start: 0,
            end: 0,
        }
    }

    /// The buffer's size.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.as_ref().len()
    }

    /// Received bytes not yet consumed.
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf.as_ref()[self.start..self.end]
    }

    /// Received bytes not yet consumed, to decode in place.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[self.start..self.end]
    }

    /// Drops the first `n` unconsumed bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free room at the end, after moving unconsumed bytes to the front when the
    /// end is reached.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        let len = self.buf.as_ref().len();
        if self.end == len && self.start > 0 {
            compact(self.buf.as_mut(), self.start, self.end);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf.as_mut()[self.end..]
    }

    /// True when no byte can be received without consuming some first.
    pub(crate) fn is_full(&self) -> bool {
        self.start == 0 && self.end == self.buf.as_ref().len()
    }

    /// `n` bytes were written into [`spare`](Self::spare).
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.as_ref().len());
    }

    /// Forgets everything received (plaintext after STLS).
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// Bytes `start..end` of `buf` wait to be sent.
#[derive(Clone)]
pub(crate) struct Tx<B> {
    buf: B,
    start: usize,
    end: usize,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Tx<B> {
    pub(crate) fn new(buf: B) -> Self {
        Tx {
            buf,
            start: 0,
            end: 0,
        }
    }

    /// Bytes waiting to be sent.
    /// The buffer's size.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.as_ref().len()
    }

    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf.as_ref()[self.start..self.end]
    }

    /// The first `n` pending bytes were sent.
    pub(crate) fn sent(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free room at the end, after moving pending bytes to the front.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 {
            compact(self.buf.as_mut(), self.start, self.end);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf.as_mut()[self.end..]
    }

    /// `n` bytes were written into [`spare`](Self::spare).
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.as_ref().len());
    }
}

/// Moves `buf[start..end]` to the front with non-overlapping copies (`memcpy`), in
/// pieces of at most `start` bytes: `copy_within` would link `memmove`, 1.6 KB of
/// code on a Cortex-M for this one use.
fn compact(buf: &mut [u8], start: usize, end: usize) {
    if start == 0 {
        return;
    }
    let len = end - start;
    let mut moved = 0;
    while moved < len {
        let n = start.min(len - moved);
        let (front, back) = buf.split_at_mut(start + moved);
        front[moved..moved + n].copy_from_slice(&back[..n]);
        moved += n;
    }
}

// `Debug` shows where the bytes are, never the bytes: a received `PASS` line or a
// queued `AUTH` answer may be among them.
impl<B> core::fmt::Debug for Rx<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Rx")
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl<B> core::fmt::Debug for Tx<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tx")
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}
