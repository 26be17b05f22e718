//! Failed logins, counted so that they slow a guesser without locking out the owner.
//!
//! Failures are counted per user name *and* source (the address; for IPv6 its
//! /64, which one subscriber usually holds whole). A source that failed
//! `max_per_source` times for a name within the window gets that name's logins
//! refused unchecked (`-ERR [SYS/TEMP]`) until the oldest failure leaves the window;
//! other sources are not affected, so the owner logging in from an address that
//! has not been guessing gets in. Against guessing spread over many addresses the
//! name also has a total: once `max_per_user` failures of the name lie within the
//! window, every source with a failure of its own for that name is refused, and
//! each further source gets its first guess checked (and then counts). The
//! trade-off, as in Dovecot's auth penalty: a guesser with many addresses gets
//! about one guess per address per window, and a right password from a clean
//! address always goes through; no one can lock a user out from elsewhere.
//!
//! Refusals are not failures: they do not extend a lock. Every name is counted,
//! known or not (an unknown name is refused the same way: no tell). Both tables are
//! bounded (`capacity` entries each): when full, entries whose failures all left the
//! window go first, then those with the fewest failures, the longest quiet first,
//! so that spraying other names or addresses does not flush out a locked one.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a login comes from, as counted: an IPv4 address, or an IPv6 /64.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Source(u128);

impl From<IpAddr> for Source {
    fn from(ip: IpAddr) -> Source {
        match ip {
            IpAddr::V4(v4) => Source(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(u128::from(u32::from(v4))),
                None => Source(u128::from(v6) & !((1u128 << 64) - 1) | 1 << 32),
            },
        }
    }
}

/// Recent failure times by key, at most `capacity` keys.
struct Table<K> {
    times: HashMap<K, VecDeque<Instant>>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone> Table<K> {
    /// `key`'s failures still in the window (older ones forgotten).
    fn recent(&mut self, key: &K, now: Instant, window: Duration) -> usize {
        let Some(times) = self.times.get_mut(key) else {
            return 0;
        };
        while times.front().is_some_and(|t| now - *t >= window) {
            times.pop_front();
        }
        times.len()
    }

    /// Records a failure of `key` at `now`, keeping at most `keep` times per key.
    fn add(&mut self, key: &K, now: Instant, window: Duration, keep: usize) {
        if let Some(times) = self.times.get_mut(key) {
            times.push_back(now);
            if times.len() > keep {
                times.pop_front();
            }
            return;
        }
        if self.times.len() >= self.capacity {
            self.times
                .retain(|_, times| times.back().is_some_and(|t| now - *t < window));
        }
        if self.times.len() >= self.capacity {
            let quietest = self
                .times
                .iter()
                .min_by_key(|(_, times)| (times.len(), times.back().copied()))
                .map(|(k, _)| k.clone());
            if let Some(k) = quietest {
                self.times.remove(&k);
            }
        }
        self.times.insert(key.clone(), VecDeque::from([now]));
    }

    /// Takes back the last failure of `key`.
    fn undo(&mut self, key: &K) {
        if let Some(times) = self.times.get_mut(key) {
            times.pop_back();
            if times.is_empty() {
                self.times.remove(key);
            }
        }
    }
}

struct Tables {
    by_source: Table<(Vec<u8>, Source)>,
    by_user: Table<Vec<u8>>,
}

/// The failed logins of every user name, by source and in all.
pub struct Guesses {
    max_per_source: usize,
    max_per_user: usize,
    window: Duration,
    tables: Mutex<Tables>,
}

impl Guesses {
    pub fn new(
        max_per_source: usize,
        max_per_user: usize,
        window: Duration,
        capacity: usize,
    ) -> Guesses {
        let capacity = capacity.max(1);
        Guesses {
            max_per_source: max_per_source.max(1),
            max_per_user: max_per_user.max(1),
            window,
            tables: Mutex::new(Tables {
                by_source: Table {
                    times: HashMap::new(),
                    capacity,
                },
                by_user: Table {
                    times: HashMap::new(),
                    capacity,
                },
            }),
        }
    }

    /// A login of `user` from `source` is about to be checked: `false` if it must be
    /// refused without checking. Otherwise the attempt counts as a failure until
    /// [`succeeded`](Self::succeeded) says it was not one (counted first, under the
    /// same lock as the check, so that parallel guesses cannot all slip through).
    pub fn attempt(&self, user: &[u8], source: Source) -> bool {
        let now = Instant::now();
        let mut t = self.tables.lock().unwrap();
        let pair = (user.to_vec(), source);
        let user = user.to_vec();
        let from_source = t.by_source.recent(&pair, now, self.window);
        let in_all = t.by_user.recent(&user, now, self.window);
        if from_source >= self.max_per_source || (from_source > 0 && in_all >= self.max_per_user) {
            return false;
        }
        t.by_source
            .add(&pair, now, self.window, self.max_per_source);
        t.by_user.add(&user, now, self.window, self.max_per_user);
        true
    }

    /// `user` logged in from `source`: its attempt was no failure, and that
    /// source's earlier failures for the name are forgiven.
    pub fn succeeded(&self, user: &[u8], source: Source) {
        let mut t = self.tables.lock().unwrap();
        t.by_user.undo(&user.to_vec());
        t.by_source.times.remove(&(user.to_vec(), source));
    }
}
