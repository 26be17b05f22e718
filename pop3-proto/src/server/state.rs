//! The session's states (RFC 1939 §3: AUTHORIZATION, TRANSACTION, UPDATE), with
//! what the server waits for or works on in each.

use super::sasl::SaslServer;
use super::top::TopFilter;
use crate::BodyEncoder;

/// What the server waits for or works on.
///
/// The SASL variant is large (its fixed buffers); without an allocator the session
/// owns that memory in any case, so boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(super) enum State {
    /// AUTHORIZATION; `user` holds a name accepted by USER (PASS may follow).
    Authorization { user_given: bool },
    /// Waiting for `answer_password` for USER/PASS with this password.
    CheckingPassword { password: heapless::Vec<u8, 255> },
    /// Waiting for `answer_secret` for APOP with this digest.
    ApopSecret { digest: [u8; 32] },
    /// A SASL exchange is running.
    Sasl(SaslServer),
    /// Credentials are good; OpenMaildrop is to be emitted.
    Open { emitted: bool },
    /// TRANSACTION, idle.
    Transaction,
    /// Asking for sizes or uids for a listing, next message `next`.
    Listing {
        kind: ListingKind,
        next: u32,
        emitted: bool,
    },
    /// `+OK` to STLS was queued; waiting for `tls_started`.
    StartingTls,
    /// Sending a message body.
    Sending {
        msg: u32,
        lines: Option<u32>,
        encoder: BodyEncoder,
        top: Option<TopFilter>,
        /// Whether the `+OK` line was queued (it waits for the first body bytes, so
        /// that an unreadable message can still get `-ERR`).
        started: bool,
    },
    /// Waiting for `answer_update`.
    Update { emitted: bool },
    /// The session is over.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListingKind {
    /// `LIST n`: one size, single-line reply.
    ListOne,
    /// `LIST`: sizes of every undeleted message.
    ListAll,
    /// `UIDL n`.
    UidlOne,
    /// `UIDL`.
    UidlAll,
    /// `DELE n`: the size is needed to keep STAT right.
    Dele,
}

// `Debug` as derived, but the password being checked and the APOP digest print
// redacted.
impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::debug::Redacted;
        match self {
            State::Authorization { user_given } => f
                .debug_struct("Authorization")
                .field("user_given", user_given)
                .finish(),
            State::CheckingPassword { password } => f
                .debug_struct("CheckingPassword")
                .field("password", &Redacted(password.len()))
                .finish(),
            State::ApopSecret { digest } => f
                .debug_struct("ApopSecret")
                .field("digest", &Redacted(digest.len()))
                .finish(),
            State::Sasl(sasl) => f.debug_tuple("Sasl").field(sasl).finish(),
            State::Open { emitted } => f.debug_struct("Open").field("emitted", emitted).finish(),
            State::Transaction => f.write_str("Transaction"),
            State::Listing {
                kind,
                next,
                emitted,
            } => f
                .debug_struct("Listing")
                .field("kind", kind)
                .field("next", next)
                .field("emitted", emitted)
                .finish(),
            State::StartingTls => f.write_str("StartingTls"),
            State::Sending {
                msg,
                lines,
                encoder,
                top,
                started,
            } => f
                .debug_struct("Sending")
                .field("msg", msg)
                .field("lines", lines)
                .field("encoder", encoder)
                .field("top", top)
                .field("started", started)
                .finish(),
            State::Update { emitted } => {
                f.debug_struct("Update").field("emitted", emitted).finish()
            }
            State::Closed => f.write_str("Closed"),
        }
    }
}
