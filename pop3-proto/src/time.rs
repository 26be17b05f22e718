//! Time as an input: the state machines never read a clock; the caller passes the
//! current time into every call that may depend on it.

use core::time::Duration;

/// A point in time, in milliseconds since an epoch the caller chooses (boot, UNIX
/// epoch, a test's zero). Only differences matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(pub u64);

impl Instant {
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// This instant plus `ms` milliseconds (saturating).
    pub const fn plus_millis(self, ms: u64) -> Self {
        Instant(self.0.saturating_add(ms))
    }

    /// The instant `d` after the epoch (milliseconds; saturating), e.g. from
    /// `std::time::Instant::elapsed` since a start, or `SystemTime::duration_since`.
    pub const fn from_duration(d: Duration) -> Self {
        let ms = d.as_millis();
        Instant(if ms > u64::MAX as u128 {
            u64::MAX
        } else {
            ms as u64
        })
    }

    /// Time since the epoch.
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.0)
    }

    /// How long after `earlier` this instant is (zero if it is not later): the
    /// time to wait for a deadline, `deadline.saturating_duration_since(now)`.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating, at millisecond resolution.
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(Instant::from_duration(d).0))
    }
}
