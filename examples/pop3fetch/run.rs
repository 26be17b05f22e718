//! One account's fetch from start to end: the local side made ready (the Maildir,
//! the journal, LOGIN-DELAY), the connection opened, the mailbox listed, and the
//! messages fetched, delivered and deleted.

use crate::connection::{self, Quiet};
use crate::failure::{fail, local_err, Exit, Res};
use crate::fetch::fetch;
use crate::listing::list;
use crate::maildir;
use crate::options::{Keep, Options, Sink};
use crate::report::Stats;
use crate::state;

/// Fetches the account of `o`, counting in `stats`.
pub fn run(o: &Options, stats: &mut Stats) -> Res<()> {
    // The local side first: a Maildir or a state that cannot be written fails here,
    // before the server is even contacted.
    if let Sink::Maildir(dir) = &o.sink {
        maildir::create(dir).map_err(|e| local_err(dir, e))?;
        let legacy = dir.join(".pop3fetch-uids");
        if legacy.exists() {
            eprintln!(
                "pop3fetch: note: ignoring {} (written by an older pop3fetch, not tied to \
                 an account); mail kept on the server may be fetched once more",
                legacy.display()
            );
        }
    }
    let mut state = state::open(o)?;
    if let Some(secs) = state::login_delayed(&state) {
        stats.login_delayed = Some(secs);
        return Ok(());
    }
    let mut conn = connection::open(o, &mut Quiet)?;
    let login_delay = conn.client().capabilities().login_delay;
    state::record_login(&mut state, login_delay)?;
    let listing = list(&mut conn)?;
    if o.keep != Keep::Nothing && !listing.uidl {
        return Err(fail(
            Exit::Protocol,
            "--keep and --keep-for need UIDL, which the server refuses",
        ));
    }
    fetch(o, conn, state, listing, stats)
}
