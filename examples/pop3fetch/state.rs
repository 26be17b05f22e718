//! The account's journal (`common/fetch_state.rs`) as a run uses it: opened and
//! locked before connecting, the server's LOGIN-DELAY kept and honoured, and the UIDs
//! of messages the server deleted dropped after QUIT.

use std::collections::HashSet;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::failure::{fail, local_err, Exit, Res};
use crate::fetch_state::{self, Account, State};
use crate::listing::Listing;
use crate::options::Options;

/// The longest LOGIN-DELAY honoured (and kept in the journal), in seconds: a day.
const MAX_LOGIN_DELAY: u32 = 86_400;

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The account a run fetches, as the journal names it.
pub fn account(o: &Options) -> Account {
    Account {
        user: o.url.user.clone(),
        host: o.url.host.clone(),
        port: o.url.port,
        name: o.account.clone(),
    }
}

/// Opens (and locks) the account's journal in `--state-dir`, saying what it repaired.
pub fn open(o: &Options) -> Res<State> {
    let account = account(o);
    std::fs::create_dir_all(&o.state_dir).map_err(|e| local_err(&o.state_dir, e))?;
    let state = State::open(&o.state_dir, &account).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock => fail(Exit::Locked, e),
        _ => local_err(&fetch_state::path_for(&o.state_dir, &account), e),
    })?;
    if state.repaired {
        eprintln!(
            "pop3fetch: {}: dropped a partial last line (an interrupted run)",
            state.path().display()
        );
    }
    if state.ignored > 0 {
        eprintln!(
            "pop3fetch: {}: ignored {} damaged lines",
            state.path().display(),
            state.ignored
        );
    }
    Ok(state)
}

/// Seconds until the server's LOGIN-DELAY of the last login has passed, if it has not.
pub fn login_delayed(state: &State) -> Option<u64> {
    let (at, delay) = state.last_login?;
    let now = unix_now();
    // A journal written before the cap may hold more than a day.
    let next = at.saturating_add(u64::from(delay.min(MAX_LOGIN_DELAY)));
    (now < next).then(|| next - now)
}

/// Keeps the LOGIN-DELAY the server announced after this login (none: nothing kept).
pub fn record_login(state: &mut State, login_delay: Option<u32>) -> Res<()> {
    if let Some(delay) = login_delay.filter(|d| *d > 0) {
        // A hostile or broken LOGIN-DELAY (4294967295 s is 136 years) must not stop
        // this account's fetching for ever: at most a day is honoured or kept.
        if delay > MAX_LOGIN_DELAY {
            eprintln!(
                "pop3fetch: the server's LOGIN-DELAY of {delay} s is over a day: \
                 honouring {MAX_LOGIN_DELAY} s"
            );
        }
        let delay = delay.min(MAX_LOGIN_DELAY);
        state
            .record_login(unix_now(), delay)
            .map_err(|e| local_err(state.path(), e))?;
    }
    Ok(())
}

/// After QUIT: the server deleted `deleted`, so their UIDs will not come back, nor
/// will those it no longer lists. UIDs whose DELE was refused stay, so the next run
/// retries.
pub fn forget_deleted(state: &mut State, listing: &Listing, deleted: &[u32]) -> Res<()> {
    let gone: HashSet<&[u8]> = deleted
        .iter()
        .filter_map(|n| listing.uids.get(n).map(Vec::as_slice))
        .collect();
    let listed: HashSet<&[u8]> = listing.uids.values().map(Vec::as_slice).collect();
    let complete = listing.uidl;
    state
        .retain(|u| !gone.contains(u) && (!complete || listed.contains(u)))
        .map_err(|e| fail(Exit::Local, format!("{}: {e}", state.path().display())))?;
    Ok(())
}
