//! Storage for the "marked as deleted" flags of an open maildrop.
//!
//! RFC 1939 keeps message numbers fixed for a session and deleted messages answer
//! `-ERR` until UPDATE; the server state machine enforces that itself, so it needs one
//! bit per message. Without an allocator the caller chooses a fixed capacity (a byte
//! array); with `std` a `Vec<u8>` grows to any maildrop.

/// A set of message numbers (1-based) marked as deleted.
pub trait Marks {
    /// Makes room for messages `1..=count` and clears every mark. Returns `false`
    /// when this storage cannot hold that many messages.
    fn reset(&mut self, count: u32) -> bool;
    /// True if `msg` is marked.
    fn get(&self, msg: u32) -> bool;
    /// Marks or unmarks `msg` (numbers outside the capacity are ignored).
    fn set(&mut self, msg: u32, marked: bool);
}

fn locate(msg: u32) -> (usize, u8) {
    let bit = msg.saturating_sub(1) as usize;
    (bit / 8, 1 << (bit % 8))
}

fn get_bit(bytes: &[u8], msg: u32) -> bool {
    let (byte, mask) = locate(msg);
    msg > 0 && bytes.get(byte).is_some_and(|b| b & mask != 0)
}

fn set_bit(bytes: &mut [u8], msg: u32, marked: bool) {
    let (byte, mask) = locate(msg);
    if let (true, Some(b)) = (msg > 0, bytes.get_mut(byte)) {
        if marked {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// A fixed bitmap: `[u8; N]` holds `8 * N` messages.
impl<const N: usize> Marks for [u8; N] {
    fn reset(&mut self, count: u32) -> bool {
        self.fill(0);
        (count as usize) <= N * 8
    }

    fn get(&self, msg: u32) -> bool {
        get_bit(self, msg)
    }

    fn set(&mut self, msg: u32, marked: bool) {
        set_bit(self, msg, marked)
    }
}

/// A growable bitmap for servers with an allocator: any maildrop size.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Marks for std::vec::Vec<u8> {
    fn reset(&mut self, count: u32) -> bool {
        self.clear();
        self.resize((count as usize).div_ceil(8), 0);
        true
    }

    fn get(&self, msg: u32) -> bool {
        get_bit(self, msg)
    }

    fn set(&mut self, msg: u32, marked: bool) {
        set_bit(self, msg, marked)
    }
}
